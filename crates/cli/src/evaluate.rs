//! `grassroots evaluate`: staggered difference-in-differences on a CSV panel.
//!
//! A thin front over the `stats` crate: read the CSV (one row per unit and period),
//! build a `stats::Panel`, estimate, print the table or the JSON, write the chart.

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use std::collections::HashMap;
use std::path::PathBuf;

mod panel_csv;

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
    // Write through a handle so that a closed pipe (`| head`) is an error, not a panic.
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        out.write_all(report.render_text().as_bytes())
    };
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the report")?,
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

/// Column positions of the fields we read.
struct Positions {
    unit: usize,
    time: usize,
    group: usize,
    outcome: usize,
    covariates: Vec<usize>,
    cluster: Option<usize>,
}

/// The parsed columns of a run of CSV lines.
#[derive(Default)]
struct Columns {
    unit: Vec<i64>,
    time: Vec<i64>,
    group: Vec<i64>,
    outcome: Vec<f64>,
    covariates: Vec<Vec<f64>>,
    cluster: Vec<Vec<u8>>,
}

/// Parses CSV lines without a header. `first_line` numbers the first line for error
/// messages. Unit ids are numbers unless `intern` is given, which numbers each new
/// name (the fallback for non-numeric ids).
fn parse_lines(
    body: &[u8],
    first_line: u64,
    pos: &Positions,
    args: &EvaluateArgs,
    file: &str,
    mut intern: Option<&mut HashMap<Vec<u8>, i64>>,
) -> Result<Columns> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(body);
    let mut out = Columns {
        covariates: vec![Vec::new(); pos.covariates.len()],
        ..Columns::default()
    };
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => bail!("{file}: {e}"),
        }
        let line = first_line + record.position().map_or(1, |p| p.line()) - 1;
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
        let u = get(pos.unit, &args.unit)?;
        let id = match intern.as_deref_mut() {
            Some(names) => {
                let next = names.len() as i64 + 1;
                *names.entry(u.to_vec()).or_insert(next)
            }
            None => parse_i64(u).ok_or_else(|| bad(&args.unit, u))?,
        };
        out.unit.push(id);
        let t = get(pos.time, &args.time)?;
        out.time.push(parse_i64(t).ok_or_else(|| bad(&args.time, t))?);
        let g = get(pos.group, &args.group)?;
        out.group.push(parse_i64(g).ok_or_else(|| bad(&args.group, g))?);
        let y = get(pos.outcome, &args.outcome)?;
        out.outcome.push(parse_f64(y).ok_or_else(|| bad(&args.outcome, y))?);
        for (k, &i) in pos.covariates.iter().enumerate() {
            let x = get(i, &args.covariates[k])?;
            out.covariates[k].push(parse_f64(x).ok_or_else(|| bad(&args.covariates[k], x))?);
        }
        if let (Some(i), Some(name)) = (pos.cluster, args.cluster.as_deref()) {
            out.cluster.push(get(i, name)?.to_vec());
        }
    }
    Ok(out)
}

/// The fast path for plain numeric CSV without a cluster column: the body is cut at
/// newlines into one chunk per thread, each chunk's lines are counted, and each chunk is
/// parsed straight into its part of the final columns (see [`panel_csv`]). `None`
/// sends the file to [`parse_lines`].
fn fast_columns(body: &[u8], pos: &Positions, fields: usize) -> Option<Columns> {
    use panel_csv::{Outputs, Role};
    if pos.cluster.is_some() {
        return None;
    }
    let mut roles = vec![Role::Skip; fields];
    let assigned = [
        (pos.unit, Role::Int(0)),
        (pos.time, Role::Int(1)),
        (pos.group, Role::Int(2)),
        (pos.outcome, Role::Float(0)),
    ]
    .into_iter()
    .chain(pos.covariates.iter().enumerate().map(|(k, &p)| (p, Role::Float(1 + k))));
    for (p, role) in assigned {
        let slot = roles.get_mut(p)?;
        // A column used twice: leave it to the general path.
        if *slot != Role::Skip {
            return None;
        }
        *slot = role;
    }

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let parts = if body.len() < (1 << 20) { 1 } else { threads };
    let mut cuts = vec![0];
    for c in 1..parts {
        let target = body.len() * c / parts;
        let cut = body[target..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(body.len(), |p| target + p + 1);
        if cut > *cuts.last().unwrap_or(&0) && cut < body.len() {
            cuts.push(cut);
        }
    }
    cuts.push(body.len());
    let chunks: Vec<&[u8]> = cuts.windows(2).map(|w| &body[w[0]..w[1]]).collect();
    let lines: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|&chunk| scope.spawn(move || panel_csv::count_lines(chunk)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    let total: usize = lines.iter().sum();

    let mut ints = vec![vec![0i64; total]; 3];
    let mut floats = vec![vec![0f64; total]; 1 + pos.covariates.len()];
    /// Cuts `column` into consecutive parts of the given lengths.
    fn split<'a, T>(mut column: &'a mut [T], lengths: &[usize]) -> Vec<&'a mut [T]> {
        lengths
            .iter()
            .map(|&len| {
                let (head, tail) = std::mem::take(&mut column).split_at_mut(len);
                column = tail;
                head
            })
            .collect()
    }
    let mut int_parts: Vec<_> = ints.iter_mut().map(|c| split(c, &lines).into_iter()).collect();
    let mut float_parts: Vec<_> = floats.iter_mut().map(|c| split(c, &lines).into_iter()).collect();
    let outputs: Vec<Outputs<'_>> = (0..chunks.len())
        .map(|_| Outputs {
            ints: int_parts.iter_mut().filter_map(Iterator::next).collect(),
            floats: float_parts.iter_mut().filter_map(Iterator::next).collect(),
        })
        .collect();
    let roles = &roles;
    let rows: Vec<Option<usize>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .zip(outputs)
            .map(|(&chunk, mut out)| scope.spawn(move || panel_csv::parse_into(chunk, roles, &mut out)))
            .collect();
        handles.into_iter().map(|h| h.join().ok().flatten()).collect()
    });
    let rows: Vec<usize> = rows.into_iter().collect::<Option<_>>()?;

    // Empty lines leave gaps at the end of their chunk's part: close them.
    if rows != lines {
        let mut kept = 0;
        let mut start = 0;
        for (&r, &l) in rows.iter().zip(&lines) {
            for column in &mut ints {
                column.copy_within(start..start + r, kept);
            }
            for column in &mut floats {
                column.copy_within(start..start + r, kept);
            }
            kept += r;
            start += l;
        }
        ints.iter_mut().for_each(|c| c.truncate(kept));
        floats.iter_mut().for_each(|c| c.truncate(kept));
    }
    let mut floats = floats.into_iter();
    let mut ints = ints.into_iter();
    Some(Columns {
        unit: ints.next()?,
        time: ints.next()?,
        group: ints.next()?,
        outcome: floats.next()?,
        covariates: floats.collect(),
        cluster: Vec::new(),
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
    let body_start = reader.position().byte() as usize;
    let find = |name: &str| -> Result<usize> {
        headers
            .iter()
            .position(|h| h == name.as_bytes())
            .with_context(|| format!("{file}: no column `{name}` in the header"))
    };
    let pos = Positions {
        unit: find(&args.unit)?,
        time: find(&args.time)?,
        group: find(&args.group)?,
        outcome: find(&args.outcome)?,
        covariates: args.covariates.iter().map(|c| find(c)).collect::<Result<_>>()?,
        cluster: args.cluster.as_deref().map(find).transpose()?,
    };
    let body = &bytes[body_start.min(bytes.len())..];

    let columns = match fast_columns(body, &pos, headers.len()) {
        Some(columns) => columns,
        None => {
            let first_line = 1 + bytes[..body_start.min(bytes.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            match parse_lines(body, first_line, &pos, args, &file, None) {
                Ok(columns) => columns,
                Err(first_error) => {
                    // Non-numeric unit ids (e.g. codes): number them by first appearance.
                    let mut names = HashMap::new();
                    parse_lines(body, first_line, &pos, args, &file, Some(&mut names)).map_err(|_| first_error)?
                }
            }
        }
    };
    drop(bytes);

    let names = stats::ColumnNames {
        unit: args.unit.clone(),
        time: args.time.clone(),
        group: args.group.clone(),
        outcome: args.outcome.clone(),
    };
    let mut panel = stats::Panel::new(columns.unit, columns.time, columns.group, columns.outcome)
        .with_context(|| format!("{file}: building the panel"))?
        .with_names(names);
    for (name, values) in args.covariates.iter().zip(columns.covariates) {
        panel = panel.with_covariate(name.clone(), values)?;
    }
    if let Some(name) = &args.cluster {
        let mut labels: HashMap<Vec<u8>, i64> = HashMap::new();
        let cluster: Vec<i64> = columns
            .cluster
            .into_iter()
            .map(|c| {
                let next = labels.len() as i64;
                *labels.entry(c).or_insert(next)
            })
            .collect();
        panel = panel.with_cluster(name.clone(), cluster)?;
    }
    Ok(panel)
}
