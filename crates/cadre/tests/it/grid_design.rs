//! Grid design on hand-made territories: contiguity, balance, determinism.

use cadre::grid_design::{CellGraph, design};
use h3o::{CellIndex, LatLng, Resolution};
use std::collections::{HashSet, VecDeque};

fn disk(lat: f64, lon: f64, radius: u32) -> Vec<u64> {
    let centre = LatLng::new(lat, lon).expect("valid").to_cell(Resolution::Nine);
    let mut cells: Vec<u64> = centre
        .grid_disk::<Vec<CellIndex>>(radius)
        .into_iter()
        .map(u64::from)
        .collect();
    cells.sort_unstable();
    cells
}

fn connected(cells: &[u64]) -> bool {
    let set: HashSet<u64> = cells.iter().copied().collect();
    let mut seen = HashSet::from([cells[0]]);
    let mut queue = VecDeque::from([cells[0]]);
    while let Some(cell) = queue.pop_front() {
        let index = CellIndex::try_from(cell).expect("valid");
        for next in index.grid_disk::<Vec<CellIndex>>(1) {
            let next = u64::from(next);
            if set.contains(&next) && seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    seen.len() == cells.len()
}

/// Designs `grids` grids and checks every grid is non-empty and contiguous; returns the max/min workload ratio.
fn check(cells: &[u64], workload: &[f64], grids: usize) -> f64 {
    let graph = CellGraph::new(cells, workload).expect("valid cells");
    let proposal = design(&graph, grids, 8).expect("designable");
    assert_eq!(proposal, design(&graph, grids, 8).expect("designable"), "deterministic");
    for grid in 0..grids as u32 {
        let members: Vec<u64> = cells
            .iter()
            .zip(&proposal.grid_of)
            .filter(|(_, g)| **g == grid)
            .map(|(c, _)| *c)
            .collect();
        assert!(!members.is_empty(), "grid {grid} is empty");
        assert!(connected(&members), "grid {grid} is not contiguous");
    }
    graph.figures(&proposal.grid_of, grids).max_min_ratio
}

#[test]
fn uniform_work_on_a_disk_divides_evenly() {
    let cells = disk(30.87, 120.09, 12);
    let ratio = check(&cells, &vec![1.0; cells.len()], 12);
    assert!(ratio < 1.35, "max/min workload {ratio}");
}

#[test]
fn a_busy_centre_gets_smaller_grids() {
    let cells = disk(30.87, 120.09, 12);
    let centre = disk(30.87, 120.09, 3);
    let workload: Vec<f64> = cells
        .iter()
        .map(|c| if centre.contains(c) { 20.0 } else { 1.0 })
        .collect();
    let ratio = check(&cells, &workload, 10);
    assert!(ratio < 2.0, "max/min workload {ratio}");
}

#[test]
fn too_many_grids_are_refused() {
    let cells = disk(30.87, 120.09, 1);
    let graph = CellGraph::new(&cells, &[1.0; 7]).expect("valid");
    assert!(design(&graph, 8, 1).is_err());
    assert!(design(&graph, 0, 1).is_err());
}
