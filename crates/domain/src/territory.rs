//! Administrative units (province → prefecture → county → township → village) keyed by their official codes.
//!
//! Codes follow GB/T 2260 (2/4/6 digits) and the statistical division codes (9/12 digits): a unit's code always
//! extends its parent's, which is checked in one place, [`Unit::new`].

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The five levels of the territory, from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    Prefecture,
    County,
    Township,
    Village,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Province,
        Level::Prefecture,
        Level::County,
        Level::Township,
        Level::Village,
    ];

    /// Number of digits of a code at this level.
    pub fn code_len(self) -> usize {
        match self {
            Level::Province => 2,
            Level::Prefecture => 4,
            Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
        }
    }

    pub fn from_code_len(len: usize) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.code_len() == len)
    }

    pub fn parent(self) -> Option<Level> {
        let i = Level::ALL.iter().position(|l| *l == self)?;
        i.checked_sub(1).map(|p| Level::ALL[p])
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::Prefecture => "prefecture",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Result<Level, TerritoryError> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| TerritoryError::UnknownLevel(s.to_string()))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An official division code: all digits, of one of the five level lengths.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(code: &str) -> Result<UnitCode, TerritoryError> {
        let code = code.trim();
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TerritoryError::InvalidCode {
                code: code.to_string(),
                reason: "not all digits",
            });
        }
        if Level::from_code_len(code.len()).is_none() {
            return Err(TerritoryError::InvalidCode {
                code: code.to_string(),
                reason: "length is not 2, 4, 6, 9 or 12 digits",
            });
        }
        Ok(UnitCode(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> Level {
        // The constructor guarantees the length is one of the five.
        Level::from_code_len(self.0.len()).unwrap_or(Level::Village)
    }

    /// The code of the level above, by truncation (`330502` → `3305`); `None` for a province.
    pub fn parent_code(&self) -> Option<UnitCode> {
        self.level()
            .parent()
            .map(|p| UnitCode(self.0[..p.code_len()].to_string()))
    }

    /// True when `self` is `ancestor` or lies below it.
    pub fn is_within(&self, ancestor: &UnitCode) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    /// The codes from the province down to this unit, this unit last.
    pub fn chain(&self) -> Vec<UnitCode> {
        Level::ALL
            .into_iter()
            .map(|l| l.code_len())
            .filter(|len| *len <= self.0.len())
            .map(|len| UnitCode(self.0[..len].to_string()))
            .collect()
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for UnitCode {
    type Error = TerritoryError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        UnitCode::parse(&s)
    }
}

impl From<UnitCode> for String {
    fn from(c: UnitCode) -> String {
        c.0
    }
}

/// One administrative unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    pub level: Level,
    pub parent: Option<UnitCode>,
}

impl Unit {
    /// Builds a unit whose parent is given explicitly (as the source data does) and checks that it agrees with the code.
    pub fn new(code: UnitCode, name: &str, parent: Option<UnitCode>) -> Result<Unit, TerritoryError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(TerritoryError::EmptyName(code));
        }
        let expected = code.parent_code();
        if parent != expected {
            return Err(TerritoryError::ParentMismatch { code, parent, expected });
        }
        Ok(Unit {
            level: code.level(),
            code,
            name: name.to_string(),
            parent,
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TerritoryError {
    #[error("invalid division code {code:?}: {reason}")]
    InvalidCode { code: String, reason: &'static str },
    #[error("unknown level {0:?} (expected province, prefecture, county, township or village)")]
    UnknownLevel(String),
    #[error("unit {0} has an empty name")]
    EmptyName(UnitCode),
    #[error("unit {code} names parent {parent:?}, but its code extends {expected:?}")]
    ParentMismatch {
        code: UnitCode,
        parent: Option<UnitCode>,
        expected: Option<UnitCode>,
    },
    #[error("duplicate division code {0}")]
    Duplicate(UnitCode),
    #[error("unit {code} has unknown parent {parent}")]
    UnknownParent { code: UnitCode, parent: UnitCode },
    #[error("unknown unit {0}")]
    UnknownUnit(String),
}

/// An in-memory territory: units by code with a child index. Built by [`Territory::build`], which rejects duplicates
/// and orphans, so every unit's parent chain is complete up to the topmost units given.
#[derive(Debug, Default, Clone)]
pub struct Territory {
    units: HashMap<UnitCode, Unit>,
    children: HashMap<UnitCode, Vec<UnitCode>>,
    roots: Vec<UnitCode>,
}

impl Territory {
    /// Builds a territory. Units whose parent is absent are accepted only if no unit of a higher level is present at
    /// all (a subtree import, e.g. `--under 3305` keeps 33 and 3305 as context); otherwise an orphan is an error.
    pub fn build(units: impl IntoIterator<Item = Unit>) -> Result<Territory, TerritoryError> {
        let mut t = Territory::default();
        for u in units {
            if t.units.contains_key(&u.code) {
                return Err(TerritoryError::Duplicate(u.code));
            }
            t.units.insert(u.code.clone(), u);
        }
        let top = t.units.values().map(|u| u.level).min();
        let mut codes: Vec<&UnitCode> = t.units.keys().collect();
        codes.sort();
        for code in codes {
            let unit = &t.units[code];
            match &unit.parent {
                Some(p) if t.units.contains_key(p) => t.children.entry(p.clone()).or_default().push(code.clone()),
                Some(p) if Some(unit.level) != top => {
                    return Err(TerritoryError::UnknownParent {
                        code: code.clone(),
                        parent: p.clone(),
                    });
                }
                _ => t.roots.push(code.clone()),
            }
        }
        Ok(t)
    }

    pub fn get(&self, code: &UnitCode) -> Option<&Unit> {
        self.units.get(code)
    }

    pub fn lookup(&self, code: &str) -> Result<&Unit, TerritoryError> {
        UnitCode::parse(code)
            .ok()
            .and_then(|c| self.units.get(&c))
            .ok_or_else(|| TerritoryError::UnknownUnit(code.to_string()))
    }

    pub fn children(&self, code: &UnitCode) -> &[UnitCode] {
        self.children.get(code).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn roots(&self) -> &[UnitCode] {
        &self.roots
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// All units, sorted by code (parents before children).
    pub fn units_sorted(&self) -> Vec<&Unit> {
        let mut v: Vec<&Unit> = self.units.values().collect();
        v.sort_by(|a, b| a.code.cmp(&b.code));
        v
    }

    pub fn at_level(&self, level: Level) -> Vec<&Unit> {
        let mut v: Vec<&Unit> = self.units.values().filter(|u| u.level == level).collect();
        v.sort_by(|a, b| a.code.cmp(&b.code));
        v
    }

    /// The units from the top of this territory down to `code`, inclusive.
    pub fn ancestry(&self, code: &UnitCode) -> Vec<&Unit> {
        code.chain().iter().filter_map(|c| self.units.get(c)).collect()
    }

    /// The unit at `level` above (or equal to) `code`, if the territory holds it.
    pub fn ancestor_at(&self, code: &UnitCode, level: Level) -> Option<&Unit> {
        self.ancestry(code).into_iter().find(|u| u.level == level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, parent: Option<&str>) -> Result<Unit, TerritoryError> {
        let code = UnitCode::parse(code)?;
        let parent = parent.map(UnitCode::parse).transpose()?;
        Unit::new(code, "x", parent)
    }

    #[test]
    fn codes_have_levels_and_chains() {
        let c = UnitCode::parse("330502001001").unwrap();
        assert_eq!(c.level(), Level::Village);
        assert_eq!(c.parent_code().unwrap().as_str(), "330502001");
        let chain: Vec<String> = c.chain().into_iter().map(String::from).collect();
        assert_eq!(chain, ["33", "3305", "330502", "330502001", "330502001001"]);
        assert!(UnitCode::parse("3305a").is_err());
        assert!(UnitCode::parse("33050").is_err());
    }

    #[test]
    fn a_child_code_must_extend_its_parent() {
        let err = unit("330502", Some("3306")).unwrap_err();
        assert!(matches!(err, TerritoryError::ParentMismatch { .. }), "{err}");
        assert!(unit("330502", Some("3305")).is_ok());
    }

    #[test]
    fn duplicates_and_orphans_are_rejected() {
        let dup = Territory::build([unit("33", None).unwrap(), unit("33", None).unwrap()]);
        assert_eq!(
            dup.unwrap_err(),
            TerritoryError::Duplicate(UnitCode::parse("33").unwrap())
        );
        let orphan = Territory::build([unit("33", None).unwrap(), unit("330502", Some("3305")).unwrap()]);
        assert!(matches!(orphan.unwrap_err(), TerritoryError::UnknownParent { .. }));
        let subtree = Territory::build([unit("3305", Some("33")).unwrap(), unit("330502", Some("3305")).unwrap()]);
        assert_eq!(subtree.unwrap().roots().len(), 1);
    }
}
