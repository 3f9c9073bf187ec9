//! Peer inspection (issue 14, part 4): inspectors for each township drawn from the townships that adjoin it, never
//! from its own, and each month a sample of the township's closed cases for them to audit.
//!
//! Pure and seeded: adjacency comes from the grids' geometry (two townships adjoin when an H3 cell of a grid of one
//! touches a cell of a grid of the other), the draw and the sample from a caller's seed hashed with the township
//! and the month, so the same seed gives the same rota on every machine and a different month gives a new one.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use h3o::CellIndex;
use serde::{Deserialize, Serialize};

use crate::grid::Grid;
use crate::territory::{Level, UnitCode};

/// What an inspector found on a case they audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// Handled as the rules ask.
    Sound,
    /// A lapse of form (a late step, a thin reply) that did not harm the resident.
    MinorLapse,
    /// The resident was not served: the reply did not answer, the case was closed unresolved, a clock was missed.
    SeriousLapse,
}

impl Finding {
    pub const ALL: [Finding; 3] = [Finding::Sound, Finding::MinorLapse, Finding::SeriousLapse];

    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Sound => "sound",
            Finding::MinorLapse => "minor_lapse",
            Finding::SeriousLapse => "serious_lapse",
        }
    }

    pub fn parse(s: &str) -> Result<Finding, String> {
        Finding::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a finding; expected sound, minor_lapse or serious_lapse"))
    }
}

/// The township a unit lies in (the unit itself at township level), or `None` above township level.
pub fn township_of(unit: &UnitCode) -> Option<UnitCode> {
    unit.chain().into_iter().find(|u| u.level() == Level::Township)
}

/// Which townships adjoin which: two townships adjoin when a cell of one's grids is an H3 neighbour of a cell of the
/// other's. Every township with a grid is a key, with no neighbours when it has none. Cells that are not valid H3
/// indexes are skipped (the store only holds valid ones).
pub fn adjoining_townships(grids: &[Grid]) -> BTreeMap<UnitCode, BTreeSet<UnitCode>> {
    let mut owner: HashMap<u64, UnitCode> = HashMap::new();
    let mut adjacency: BTreeMap<UnitCode, BTreeSet<UnitCode>> = BTreeMap::new();
    for grid in grids {
        let Some(township) = township_of(&grid.unit) else {
            continue;
        };
        for &cell in &grid.cells {
            owner.insert(cell, township.clone());
        }
        adjacency.entry(township).or_default();
    }
    for (&cell, township) in &owner {
        let Ok(index) = CellIndex::try_from(cell) else {
            continue;
        };
        for neighbour in index.grid_disk::<Vec<_>>(1) {
            if let Some(other) = owner.get(&u64::from(neighbour))
                && other != township
            {
                adjacency.entry(township.clone()).or_default().insert(other.clone());
            }
        }
    }
    adjacency
}

/// A staff account that may be drawn as an inspector, with the township it works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub account: String,
    pub township: UnitCode,
}

/// One inspector drawn for a township and a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drawn {
    pub township: UnitCode,
    pub inspector: String,
    /// The adjoining township the inspector comes from.
    pub from: UnitCode,
}

/// Why no inspector can be drawn for a township.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("township {0} has no adjoining township on the grids' map")]
    NoNeighbours(UnitCode),
    #[error("no staff account of a township adjoining {0} may inspect")]
    NoCandidates(UnitCode),
    #[error("township {0} has no grids: its neighbours are unknown")]
    Unknown(UnitCode),
}

/// SplitMix64: a small, well-mixed, portable hash, so the draw is the same on every platform and Rust version.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seeded rank for one item of one draw: FNV-1a of the words, mixed with the seed.
fn rank(seed: u64, words: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for word in words {
        for b in word.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    mix(h ^ mix(seed))
}

/// Draws up to `per_township` inspectors for `township` in `month` (`YYYY-MM`) among the candidates of the
/// townships adjoining it — never its own — ranked by a hash of seed, township, month and account, so the draw is
/// reproducible and each month's is fresh.
pub fn draw_inspectors(
    adjacency: &BTreeMap<UnitCode, BTreeSet<UnitCode>>,
    candidates: &[Candidate],
    township: &UnitCode,
    month: &str,
    seed: u64,
    per_township: usize,
) -> Result<Vec<Drawn>, DrawError> {
    let neighbours = adjacency
        .get(township)
        .ok_or_else(|| DrawError::Unknown(township.clone()))?;
    if neighbours.is_empty() {
        return Err(DrawError::NoNeighbours(township.clone()));
    }
    let mut pool: Vec<(u64, &Candidate)> = candidates
        .iter()
        .filter(|c| &c.township != township && neighbours.contains(&c.township))
        .map(|c| (rank(seed, &[township.as_str(), month, &c.account]), c))
        .collect();
    if pool.is_empty() {
        return Err(DrawError::NoCandidates(township.clone()));
    }
    pool.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.account.cmp(&b.1.account)));
    Ok(pool
        .into_iter()
        .take(per_township.max(1))
        .map(|(_, c)| Drawn {
            township: township.clone(),
            inspector: c.account.clone(),
            from: c.township.clone(),
        })
        .collect())
}

/// The sample of a township's cases closed in `month` to audit: `size` of them (all when fewer), chosen by a hash
/// of seed, township, month and case id, returned in id order.
pub fn sample_closed_cases(closed: &[i64], township: &UnitCode, month: &str, seed: u64, size: usize) -> Vec<i64> {
    let mut ranked: Vec<(u64, i64)> = closed
        .iter()
        .map(|&id| (rank(seed, &[township.as_str(), month, "case", &id.to_string()]), id))
        .collect();
    ranked.sort_unstable();
    ranked.dedup_by_key(|(_, id)| *id);
    let mut sample: Vec<i64> = ranked.into_iter().take(size).map(|(_, id)| id).collect();
    sample.sort_unstable();
    sample
}

/// The inspection results of a township and month: cases sampled, audited, and findings by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InspectionResults {
    pub sampled: u32,
    pub audited: u32,
    pub findings: BTreeMap<Finding, u32>,
}

impl InspectionResults {
    /// Tallies a sample of `sampled` cases from the finding recorded on each audited one (the last, when several).
    pub fn tally(sampled: u32, findings: impl IntoIterator<Item = Finding>) -> InspectionResults {
        let mut results = InspectionResults {
            sampled,
            ..InspectionResults::default()
        };
        for finding in findings {
            results.audited += 1;
            *results.findings.entry(finding).or_default() += 1;
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::cell_of;

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).expect("code")
    }

    /// Three townships in a row from west to east, one grid each of one cell: A touches B, B touches C, A and C are
    /// apart.
    fn row_of_three() -> Vec<Grid> {
        let origin = cell_of(30.87, 120.08).expect("cell");
        let east = |cell: CellIndex| {
            cell.grid_disk::<Vec<_>>(1)
                .into_iter()
                .filter(|c| *c != cell)
                .max_by(|a, b| {
                    let (a, b) = (h3o::LatLng::from(*a), h3o::LatLng::from(*b));
                    a.lng().total_cmp(&b.lng())
                })
                .expect("a neighbour")
        };
        let b = east(origin);
        let c = east(b);
        [("330502001001", origin), ("330502002001", b), ("330502003001", c)]
            .into_iter()
            .map(|(unit, cell)| Grid {
                id: format!("{unit}-01"),
                unit: code(unit),
                cells: vec![u64::from(cell)],
            })
            .collect()
    }

    fn staff() -> Vec<Candidate> {
        ["330502001", "330502002", "330502003"]
            .iter()
            .flat_map(|t| {
                ["head", "caseworker"].map(|who| Candidate {
                    account: format!("{t}-{who}"),
                    township: code(t),
                })
            })
            .collect()
    }

    #[test]
    fn townships_adjoin_when_their_grids_touch() {
        let adjacency = adjoining_townships(&row_of_three());
        let neighbours = |t: &str| adjacency[&code(t)].iter().map(UnitCode::to_string).collect::<Vec<_>>();
        assert_eq!(neighbours("330502001"), ["330502002"]);
        assert_eq!(neighbours("330502002"), ["330502001", "330502003"]);
        assert_eq!(neighbours("330502003"), ["330502002"]);
    }

    #[test]
    fn inspectors_come_from_adjoining_townships_never_their_own() {
        let adjacency = adjoining_townships(&row_of_three());
        for month in ["2026-01", "2026-02", "2026-03", "2026-04"] {
            for seed in 0..20 {
                let drawn = draw_inspectors(&adjacency, &staff(), &code("330502001"), month, seed, 2).expect("drawn");
                assert_eq!(drawn.len(), 2);
                assert!(drawn.iter().all(|d| d.from == code("330502002")), "{drawn:?}");
                let middle = draw_inspectors(&adjacency, &staff(), &code("330502002"), month, seed, 3).expect("drawn");
                assert!(middle.iter().all(|d| d.from != code("330502002")), "{middle:?}");
            }
        }
    }

    #[test]
    fn the_draw_is_the_same_for_a_seed_and_changes_with_the_month() {
        let adjacency = adjoining_townships(&row_of_three());
        let draw = |month: &str, seed| {
            draw_inspectors(&adjacency, &staff(), &code("330502002"), month, seed, 1).expect("drawn")[0]
                .inspector
                .clone()
        };
        assert_eq!(draw("2026-01", 7), draw("2026-01", 7));
        let months: BTreeSet<String> = (1..=12).map(|m| draw(&format!("2026-{m:02}"), 7)).collect();
        assert!(months.len() > 1, "the rota rotates: {months:?}");
    }

    #[test]
    fn a_township_without_neighbours_or_candidates_is_an_error_naming_it() {
        let lone = vec![row_of_three().remove(0)];
        let adjacency = adjoining_townships(&lone);
        assert_eq!(
            draw_inspectors(&adjacency, &staff(), &code("330502001"), "2026-01", 1, 1),
            Err(DrawError::NoNeighbours(code("330502001")))
        );
        let adjacency = adjoining_townships(&row_of_three());
        let own_only: Vec<Candidate> = staff()
            .into_iter()
            .filter(|c| c.township == code("330502001"))
            .collect();
        let err = draw_inspectors(&adjacency, &own_only, &code("330502001"), "2026-01", 1, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no staff account of a township adjoining 330502001 may inspect"
        );
    }

    #[test]
    fn the_sample_is_seeded_bounded_and_drawn_from_the_closed_cases() {
        let closed: Vec<i64> = (100..140).collect();
        let t = code("330502001");
        let sample = sample_closed_cases(&closed, &t, "2026-01", 3, 5);
        assert_eq!(sample.len(), 5);
        assert!(sample.windows(2).all(|w| w[0] < w[1]));
        assert!(sample.iter().all(|id| closed.contains(id)));
        assert_eq!(sample, sample_closed_cases(&closed, &t, "2026-01", 3, 5));
        assert_ne!(sample, sample_closed_cases(&closed, &t, "2026-01", 4, 5));
        assert_eq!(sample_closed_cases(&closed[..3], &t, "2026-01", 3, 5), [100, 101, 102]);
    }

    #[test]
    fn results_count_findings_by_kind() {
        let r = InspectionResults::tally(5, [Finding::Sound, Finding::SeriousLapse, Finding::Sound]);
        assert_eq!((r.sampled, r.audited), (5, 3));
        assert_eq!(r.findings[&Finding::Sound], 2);
        assert_eq!(r.findings.get(&Finding::MinorLapse), None);
        assert_eq!(Finding::parse("minor_lapse"), Ok(Finding::MinorLapse));
        assert!(Finding::parse("fine").unwrap_err().contains("sound"));
    }
}
