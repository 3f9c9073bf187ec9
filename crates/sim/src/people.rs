//! Residents per unit and the grid workers of each grid.

use std::collections::HashMap;

use domain::grid::{Grid, GridWorker};
use domain::{Level, Territory, UnitCode};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal};

/// Residents of every village/community, and the sums for the units above.
#[derive(Debug, Clone, Default)]
pub struct Population {
    pub residents: HashMap<UnitCode, u64>,
}

impl Population {
    pub fn of(&self, code: &UnitCode) -> u64 {
        self.residents.get(code).copied().unwrap_or(0)
    }
}

/// Urban districts (区, county digits 01–20 under a prefecture) are denser than counties (县).
fn is_urban_district(code: &UnitCode) -> bool {
    let s = code.as_str();
    s.len() >= 6 && matches!(s[4..6].parse::<u32>(), Ok(1..=20))
}

/// Spreads `total` residents over the villages below `root`: residents' committees (village digits 001–199) hold
/// more people than village committees, urban districts more than rural counties, with log-normal variation.
pub fn population(territory: &Territory, root: &UnitCode, total: u64, seed: u64) -> Population {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x706f_7075_6c61_7465);
    let noise = LogNormal::new(0.0, 0.35).expect("constant log-normal parameters are valid");
    let villages: Vec<&UnitCode> = territory
        .at_level(Level::Village)
        .into_iter()
        .map(|u| &u.code)
        .filter(|c| c.is_within(root))
        .collect();
    let weights: Vec<f64> = villages
        .iter()
        .map(|code| {
            let community = code.as_str()[9..12].parse::<u32>().map(|n| n < 200).unwrap_or(false);
            let base = if community { 2.4 } else { 1.0 };
            let urban = if is_urban_district(code) { 1.3 } else { 1.0 };
            base * urban * noise.sample(&mut rng)
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    let mut residents = HashMap::new();
    for (code, w) in villages.iter().zip(&weights) {
        let n = (total as f64 * w / sum).round() as u64;
        for ancestor in code.chain() {
            *residents.entry(ancestor).or_insert(0) += n;
        }
    }
    Population { residents }
}

const SURNAMES: [&str; 16] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "沈", "朱", "钱", "姚",
];
const GIVEN: [&str; 16] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
];

/// A made-up but plausible Chinese name.
pub fn name(rng: &mut impl rand::Rng) -> String {
    let s = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let g1 = GIVEN[rng.random_range(0..GIVEN.len())];
    if rng.random_bool(0.5) {
        format!("{s}{g1}")
    } else {
        format!("{s}{g1}{}", GIVEN[rng.random_range(0..GIVEN.len())])
    }
}

/// One full-time grid worker per grid, and an auxiliary worker in one grid of three.
pub fn worker_roster(grids: &[Grid], seed: u64) -> Vec<GridWorker> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x6772_6964);
    let mut workers = Vec::with_capacity(grids.len() * 4 / 3);
    for grid in grids {
        workers.push(GridWorker {
            id: format!("{}-w1", grid.id),
            grid: grid.id.clone(),
            name: name(&mut rng),
            auxiliary: false,
        });
        if rng.random_bool(1.0 / 3.0) {
            workers.push(GridWorker {
                id: format!("{}-a1", grid.id),
                grid: grid.id.clone(),
                name: name(&mut rng),
                auxiliary: true,
            });
        }
    }
    workers
}
