//! Benchmarks of the spine (run with `cargo bench -p app --bench spine`): point → grid lookups per second on the
//! Huzhou layout, and simulating 12 months of Huzhou in memory. The import benchmark is `bench/spine/run.sh`.

use std::hint::black_box;
use std::time::Instant;

use app::demo_region::{HUZHOU_RESIDENTS, huzhou_layout, huzhou_territory};
use app::region::huzhou_root;
use domain::grid::GridIndex;

fn main() {
    let territory = huzhou_territory().expect("embedded Huzhou");
    let started = Instant::now();
    let layout = huzhou_layout(&territory).expect("layout");
    println!(
        "layout: {} grids over {} cells in {:.2}s",
        layout.grids.len(),
        layout.grids.iter().map(|g| g.cells.len()).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    let index = GridIndex::build(layout.grids.clone()).expect("index");

    // Points spread over Huzhou's bounding box (a deterministic low-discrepancy sequence).
    let n = 2_000_000;
    let points: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let a = (i as f64 * 0.618_033_988_749_895).fract();
            let b = (i as f64 * 0.754_877_666_246_693).fract();
            (30.35 + a * 0.85, 119.2 + b * 1.25)
        })
        .collect();
    let started = Instant::now();
    let mut found = 0usize;
    for (lat, lon) in &points {
        if let Ok(Some(g)) = index.locate(*lat, *lon) {
            found += black_box(g.cells.len()).min(1);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "point → grid: {:.0} lookups/s ({n} points, {found} inside a grid, {:.3}s)",
        n as f64 / secs,
        secs
    );

    let config = sim::SimConfig {
        root: huzhou_root(),
        start: time::macros::date!(2025 - 01 - 01),
        months: 12,
        seed: 2024,
        residents: HUZHOU_RESIDENTS,
        rate_scale: 1.0,
        pilots: Vec::new(),
    };
    let started = Instant::now();
    let simulation = sim::simulate(&territory, &layout.grids, &config);
    let secs = started.elapsed().as_secs_f64();
    let events: usize = simulation.cases.iter().map(|c| c.events.len()).sum();
    println!(
        "simulate 12 months of Huzhou ({HUZHOU_RESIDENTS} residents): {} cases, {events} events in {secs:.2}s",
        simulation.cases.len()
    );
}
