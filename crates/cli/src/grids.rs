//! `grassroots grids design`: propose contiguous, compact grids of balanced workload for a unit, beside today's.
//!
//! Reads the unit's grids (their H3 cells) and its located case history from the store, counts the cases of each
//! cell as its expected workload (uniform when the unit has no history), and hands them to `cadre::grid_design`.

use anyhow::{Context, Result, bail};
use cadre::grid_design::{CellGraph, Figures, design};
use domain::UnitCode;
use domain::grid::cell_of;
use std::collections::HashMap;
use store::Store;

#[derive(clap::Subcommand, Debug)]
pub enum GridsCommand {
    /// Propose grids with balanced workload for a unit and compare them with today's.
    Design(DesignArgs),
}

#[derive(clap::Args, Debug)]
pub struct DesignArgs {
    /// The unit whose cells are divided (a prefecture, county, township or village code).
    #[arg(long)]
    pub unit: String,
    /// How many grids [default: today's number of grids in the unit].
    #[arg(long)]
    pub grids: Option<usize>,
    /// Passes of boundary refinement after the growing.
    #[arg(long, default_value_t = 8)]
    pub passes: usize,
    #[arg(long)]
    pub json: bool,
    /// Also write every cell as CSV (`cell,workload,current_grid,proposed_grid,neighbours`), e.g. for
    /// bench/grids/run.sh to give another regionaliser the same cells.
    #[arg(long)]
    pub cells_csv: Option<std::path::PathBuf>,
}

pub async fn run(db: &str, command: &GridsCommand) -> Result<()> {
    let store = Store::connect(db).await?;
    match command {
        GridsCommand::Design(args) => design_command(&store, args).await,
    }
}

async fn design_command(store: &Store, args: &DesignArgs) -> Result<()> {
    let unit = UnitCode::parse(&args.unit).context("--unit")?;
    let current = store.load_grids_under(&unit).await?;
    if current.is_empty() {
        bail!("unit {unit} has no grids in the store");
    }
    let mut cells = Vec::new();
    let mut current_grid_of = Vec::new();
    for (grid, g) in current.iter().enumerate() {
        for &cell in &g.cells {
            cells.push(cell);
            current_grid_of.push(grid as u32);
        }
    }
    let index: HashMap<u64, usize> = cells.iter().enumerate().map(|(at, &cell)| (cell, at)).collect();
    let mut workload = vec![0.0; cells.len()];
    let mut located = 0usize;
    for (lat, lon) in store.case_points_under(&unit).await? {
        if let Some(&at) = cell_of(lat, lon).ok().and_then(|cell| index.get(&u64::from(cell))) {
            workload[at] += 1.0;
            located += 1;
        }
    }
    let basis = if located == 0 {
        workload.iter_mut().for_each(|w| *w = 1.0);
        "uniform (no case history in the unit)"
    } else {
        "cases located in each cell"
    };
    let grids = args.grids.unwrap_or(current.len());
    let started = std::time::Instant::now();
    let graph = CellGraph::new(&cells, &workload)?;
    let proposal = design(&graph, grids, args.passes)?;
    let seconds = started.elapsed().as_secs_f64();
    let today = graph.figures(&current_grid_of, current.len());
    let proposed = graph.figures(&proposal.grid_of, grids);
    let moved = cells_changing_grid(&current_grid_of, &proposal.grid_of, grids);
    let ids: Vec<String> = (0..grids).map(|g| format!("{unit}-P{:04}", g + 1)).collect();
    if let Some(path) = &args.cells_csv {
        write_cells_csv(path, &graph, &cells, &workload, &current_grid_of, &proposal.grid_of)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let mut members: Vec<Vec<String>> = vec![Vec::new(); grids];
        for (at, &grid) in proposal.grid_of.iter().enumerate() {
            members[grid as usize].push(format!("{:x}", cells[at]));
        }
        let proposed_grids: Vec<serde_json::Value> = members
            .into_iter()
            .enumerate()
            .map(|(g, cells)| {
                serde_json::json!({
                    "id": ids[g],
                    "cells": cells,
                    "workload": proposed.workload[g],
                    "compactness": round3(proposed.compactness[g]),
                })
            })
            .collect();
        let output = serde_json::json!({
            "unit": unit.as_str(),
            "cells": cells.len(),
            "workload_basis": basis,
            "cases_located": located,
            "seconds": seconds,
            "cells_changing_grid": moved,
            "current": summary(&today, current.len()),
            "proposed": summary(&proposed, grids),
            "grids": proposed_grids,
        });
        println!("{}", serde_json::to_string_pretty(&output)?);
        return Ok(());
    }
    println!(
        "unit {unit}: {} cells, workload from {basis} ({located} cases)",
        cells.len()
    );
    println!(
        "{:<10} {:>6} {:>10} {:>10} {:>10} {:>9} {:>12}",
        "", "grids", "min work", "max work", "max/min", "mean cv", "compactness"
    );
    for (name, figures, count) in [("current", &today, current.len()), ("proposed", &proposed, grids)] {
        let (min, max) = min_max(&figures.workload);
        println!(
            "{name:<10} {count:>6} {min:>10.1} {max:>10.1} {:>10.2} {:>9.3} {:>12.3}",
            figures.max_min_ratio,
            coefficient_of_variation(&figures.workload),
            figures.mean_compactness
        );
    }
    println!(
        "{moved} of {} cells change grid; designed in {:.3} s (ids {} … {})",
        cells.len(),
        seconds,
        ids[0],
        ids[grids - 1]
    );
    Ok(())
}

fn write_cells_csv(
    path: &std::path::Path,
    graph: &CellGraph,
    cells: &[u64],
    workload: &[f64],
    current: &[u32],
    proposed: &[u32],
) -> Result<()> {
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record(["cell", "workload", "current_grid", "proposed_grid", "neighbours"])?;
    for at in 0..cells.len() {
        let neighbours: Vec<String> = graph
            .neighbours(at)
            .iter()
            .map(|&n| format!("{:x}", cells[n as usize]))
            .collect();
        writer.write_record([
            format!("{:x}", cells[at]),
            workload[at].to_string(),
            current[at].to_string(),
            proposed[at].to_string(),
            neighbours.join(";"),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

fn summary(figures: &Figures, count: usize) -> serde_json::Value {
    let (min, max) = min_max(&figures.workload);
    serde_json::json!({
        "grids": count,
        "min_workload": min,
        "max_workload": max,
        "max_min_ratio": if figures.max_min_ratio.is_finite() { serde_json::json!(round3(figures.max_min_ratio)) } else { serde_json::Value::Null },
        "workload_cv": round3(coefficient_of_variation(&figures.workload)),
        "mean_compactness": round3(figures.mean_compactness),
    })
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// Standard deviation over mean: a balance figure that, unlike max/min, is not ruled by one outlying grid.
fn coefficient_of_variation(values: &[f64]) -> f64 {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    if mean > 0.0 { variance.sqrt() / mean } else { 0.0 }
}

/// Cells whose proposed grid is not the successor of their current grid, each proposed grid succeeding the current
/// grid it shares most cells with.
fn cells_changing_grid(current: &[u32], proposed: &[u32], proposed_count: usize) -> usize {
    let mut overlap: HashMap<(u32, u32), usize> = HashMap::new();
    for (&old, &new) in current.iter().zip(proposed) {
        *overlap.entry((new, old)).or_default() += 1;
    }
    let mut successor_of = vec![u32::MAX; proposed_count];
    let mut best = vec![0usize; proposed_count];
    let mut pairs: Vec<_> = overlap.into_iter().collect();
    pairs.sort_unstable();
    for ((new, old), shared) in pairs {
        if shared > best[new as usize] {
            best[new as usize] = shared;
            successor_of[new as usize] = old;
        }
    }
    current
        .iter()
        .zip(proposed)
        .filter(|&(&old, &new)| successor_of[new as usize] != old)
        .count()
}
