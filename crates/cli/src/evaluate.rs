//! `grassroots evaluate`: staggered difference-in-differences on a CSV panel.
//!
//! A thin front over the `stats` crate: read the CSV (one row per unit and period),
//! build a `stats::Panel`, estimate, print the table or the JSON, write the chart.

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ControlArg {
    Never,
    NotYet,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MethodArg {
    Dr,
    Ipw,
    Or,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BaseArg {
    Varying,
    Universal,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GlmArg {
    /// R's glm.fit stopping rule (as R `did`/DRDID).
    R,
    /// statsmodels' GLM.fit stopping rule (as csdid 0.4.3).
    Statsmodels,
}

/// Arguments of `grassroots evaluate`.
#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// CSV file, one row per unit and period, with a header row.
    #[arg(long)]
    pub data: PathBuf,
    /// Unit id column.
    #[arg(long)]
    pub unit: String,
    /// Period column (integers).
    #[arg(long)]
    pub time: String,
    /// First treated period column (0 = never treated).
    #[arg(long)]
    pub group: String,
    /// Outcome column.
    #[arg(long)]
    pub outcome: String,
    /// Covariate columns, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub covariates: Vec<String>,
    /// Comparison units.
    #[arg(long, value_enum, default_value = "never")]
    pub control: ControlArg,
    /// 2×2 estimator in each cell.
    #[arg(long, value_enum, default_value = "dr")]
    pub method: MethodArg,
    /// Periods of anticipation.
    #[arg(long, default_value_t = 0)]
    pub anticipation: i64,
    /// Base period of pre-treatment cells.
    #[arg(long, value_enum, default_value = "varying")]
    pub base_period: BaseArg,
    /// Multiplier-bootstrap draws (standard errors and uniform bands); analytic if absent.
    #[arg(long)]
    pub bootstrap: Option<usize>,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Cluster column (time-invariant, coarser than the unit).
    #[arg(long)]
    pub cluster: Option<String>,
    /// Significance level.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Drop units not observed in every period instead of failing.
    #[arg(long)]
    pub allow_unbalanced: bool,
    /// Whose logit iteration to reproduce for propensity scores.
    #[arg(long, value_enum, default_value = "r")]
    pub glm: GlmArg,
    /// Earliest event time in the aggregations.
    #[arg(long, allow_hyphen_values = true)]
    pub min_e: Option<i64>,
    /// Latest event time in the aggregations.
    #[arg(long, allow_hyphen_values = true)]
    pub max_e: Option<i64>,
    /// Balance the event study over groups observed through this event time.
    #[arg(long)]
    pub balance_e: Option<i64>,
    /// Write an event-study chart (SVG) with the uniform band to this file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print the JSON report instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the subcommand.
pub fn run(args: &EvaluateArgs) -> Result<()> {
    let panel = read_panel(args)?;
    let config = stats::AttGtConfig {
        control: match args.control {
            ControlArg::Never => stats::ControlGroup::NeverTreated,
            ControlArg::NotYet => stats::ControlGroup::NotYetTreated,
        },
        method: match args.method {
            MethodArg::Dr => stats::Method::Dr,
            MethodArg::Ipw => stats::Method::Ipw,
            MethodArg::Or => stats::Method::Or,
        },
        anticipation: args.anticipation,
        base_period: match args.base_period {
            BaseArg::Varying => stats::BasePeriod::Varying,
            BaseArg::Universal => stats::BasePeriod::Universal,
        },
        covariates: args.covariates.clone(),
        bootstrap: args.bootstrap.map(|reps| stats::Bootstrap { reps, seed: args.seed }),
        cluster: args.cluster.is_some(),
        allow_unbalanced: args.allow_unbalanced,
        alpha: args.alpha,
        glm_rule: match args.glm {
            GlmArg::R => stats::GlmRule::R,
            GlmArg::Statsmodels => stats::GlmRule::Statsmodels,
        },
    };
    let options = stats::AggregationOptions {
        min_e: args.min_e.map_or(f64::NEG_INFINITY, |e| e as f64),
        max_e: args.max_e.map_or(f64::INFINITY, |e| e as f64),
        balance_e: args.balance_e,
    };
    let report =
        stats::evaluate(&panel, &config, &options).with_context(|| format!("evaluating {}", args.data.display()))?;
    if let Some(path) = &args.plot {
        std::fs::write(path, report.event_study_svg()).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(())
}

/// Parses a number; an empty field is a missing value (NaN), which `stats` reports
/// by column and unit.
fn parse_f64(field: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(field).ok()?.trim();
    if s.is_empty() || s == "NA" || s == "NaN" {
        return Some(f64::NAN);
    }
    s.parse().ok()
}

/// Parses an integer, accepting whole floats such as `2004.0`.
fn parse_i64(field: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(field).ok()?.trim();
    s.parse::<i64>().ok().or_else(|| {
        let v: f64 = s.parse().ok()?;
        (v.fract() == 0.0 && v.abs() < 9e15).then_some(v as i64)
    })
}

fn read_panel(args: &EvaluateArgs) -> Result<stats::Panel> {
    let file = args.data.display().to_string();
    let bytes = std::fs::read(&args.data).with_context(|| format!("reading {file}"))?;
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let headers = reader
        .byte_headers()
        .with_context(|| format!("{file}: reading the header row"))?
        .clone();
    let find = |name: &str| -> Result<usize> {
        headers
            .iter()
            .position(|h| h == name.as_bytes())
            .with_context(|| format!("{file}: no column `{name}` in the header"))
    };
    let (iu, it, ig, iy) = (
        find(&args.unit)?,
        find(&args.time)?,
        find(&args.group)?,
        find(&args.outcome)?,
    );
    let ix: Vec<usize> = args.covariates.iter().map(|c| find(c)).collect::<Result<_>>()?;
    let ic = args.cluster.as_deref().map(find).transpose()?;

    let mut unit = Vec::new();
    let mut unit_names: HashMap<Vec<u8>, i64> = HashMap::new();
    let mut numeric_units = true;
    let mut raw_units: Vec<Vec<u8>> = Vec::new();
    let mut time = Vec::new();
    let mut group = Vec::new();
    let mut outcome = Vec::new();
    let mut covs: Vec<Vec<f64>> = vec![Vec::new(); ix.len()];
    let mut cluster = Vec::new();
    let mut cluster_names: HashMap<Vec<u8>, i64> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => bail!("{file}: {e}"),
        }
        let line = record.position().map_or(0, |p| p.line());
        let get = |i: usize, name: &str| -> Result<&[u8]> {
            record
                .get(i)
                .with_context(|| format!("{file}:{line}: column `{name}` is missing"))
        };
        let bad = |name: &str, v: &[u8]| {
            anyhow::anyhow!(
                "{file}:{line}: column `{name}`: cannot read {:?} as a number",
                String::from_utf8_lossy(v)
            )
        };
        let u = get(iu, &args.unit)?;
        if numeric_units {
            match parse_i64(u) {
                Some(v) => unit.push(v),
                None => {
                    numeric_units = false;
                }
            }
        }
        raw_units.push(u.to_vec());
        let t = get(it, &args.time)?;
        time.push(parse_i64(t).ok_or_else(|| bad(&args.time, t))?);
        let g = get(ig, &args.group)?;
        group.push(parse_i64(g).ok_or_else(|| bad(&args.group, g))?);
        let y = get(iy, &args.outcome)?;
        outcome.push(parse_f64(y).ok_or_else(|| bad(&args.outcome, y))?);
        for (k, &i) in ix.iter().enumerate() {
            let x = get(i, &args.covariates[k])?;
            covs[k].push(parse_f64(x).ok_or_else(|| bad(&args.covariates[k], x))?);
        }
        if let (Some(i), Some(name)) = (ic, args.cluster.as_deref()) {
            let c = get(i, name)?;
            let next = cluster_names.len() as i64;
            cluster.push(*cluster_names.entry(c.to_vec()).or_insert(next));
        }
        if numeric_units {
            raw_units.pop();
        }
    }
    if !numeric_units {
        // Non-numeric unit ids: number them in sorted order of their names.
        let mut names: Vec<Vec<u8>> = raw_units.clone();
        names.sort();
        names.dedup();
        for (k, name) in names.into_iter().enumerate() {
            unit_names.insert(name, k as i64 + 1);
        }
        // Rows read before the first non-numeric id were kept as numbers; rebuild.
        unit = read_unit_strings(&bytes, iu)?
            .iter()
            .map(|u| unit_names.get(u).copied().unwrap_or(0))
            .collect();
    }
    let names = stats::ColumnNames {
        unit: args.unit.clone(),
        time: args.time.clone(),
        group: args.group.clone(),
        outcome: args.outcome.clone(),
    };
    let mut panel = stats::Panel::new(unit, time, group, outcome)
        .with_context(|| format!("{file}: building the panel"))?
        .with_names(names);
    for (name, values) in args.covariates.iter().zip(covs) {
        panel = panel.with_covariate(name.clone(), values)?;
    }
    if let Some(name) = &args.cluster {
        panel = panel.with_cluster(name.clone(), cluster)?;
    }
    Ok(panel)
}

/// All unit-id fields as bytes (the slow path for non-numeric ids).
fn read_unit_strings(bytes: &[u8], column: usize) -> Result<Vec<Vec<u8>>> {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let mut out = Vec::new();
    for record in reader.byte_records() {
        let record = record?;
        out.push(record.get(column).unwrap_or_default().to_vec());
    }
    Ok(out)
}
