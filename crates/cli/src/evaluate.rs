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

/// Bytes read for the header row; a longer header line makes the whole file be read.
const HEAD_BYTES: u64 = 1 << 16;
/// Bytes per read of the fast path (a buffer that stays in cache, instead of the file).
const BLOCK_BYTES: usize = 1 << 18;

/// The fast path for plain numeric CSV without a cluster column: the body (from byte
/// `body_start` of a file of `file_len` bytes) is cut at newlines into one range per
/// thread; each thread counts its range's lines, then parses the range block by block
/// straight into its part of the final columns (see [`panel_csv`]), so the file is never
/// held in memory. `Ok(None)` sends the file to [`parse_lines`].
fn fast_columns(
    path: &std::path::Path,
    body_start: u64,
    file_len: u64,
    pos: &Positions,
    fields: usize,
) -> std::io::Result<Option<Columns>> {
    use panel_csv::{Outputs, Role};
    use std::io::{Read, Seek, SeekFrom};
    if pos.cluster.is_some() {
        return Ok(None);
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
        let Some(slot) = roles.get_mut(p) else { return Ok(None) };
        // A column used twice: leave it to the general path.
        if *slot != Role::Skip {
            return Ok(None);
        }
        *slot = role;
    }
    /// Calls `each` on the bytes of `[start, end)` of the file, a block at a time.
    fn blocks(
        path: &std::path::Path,
        start: u64,
        end: u64,
        mut each: impl FnMut(&[u8]) -> Option<()>,
    ) -> std::io::Result<Option<()>> {
        let mut f = std::fs::File::open(path)?;
        f.seek(SeekFrom::Start(start))?;
        let mut f = f.take(end.saturating_sub(start));
        let mut buf = vec![0u8; BLOCK_BYTES];
        loop {
            let got = f.read(&mut buf)?;
            if got == 0 {
                return Ok(Some(()));
            }
            if each(&buf[..got]).is_none() {
                return Ok(None);
            }
        }
    }

    // Ranges cut just after a newline near each thread's share.
    let body_len = file_len.saturating_sub(body_start);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8) as u64;
    let parts = if body_len < (1 << 20) { 1 } else { threads };
    let mut cuts = vec![body_start];
    for c in 1..parts {
        let target = body_start + body_len * c / parts;
        let mut window = Vec::new();
        let mut f = std::fs::File::open(path)?;
        f.seek(SeekFrom::Start(target))?;
        f.take(HEAD_BYTES).read_to_end(&mut window)?;
        let Some(p) = window.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let cut = target + p as u64 + 1;
        if cut > *cuts.last().unwrap_or(&0) && cut < file_len {
            cuts.push(cut);
        }
    }
    cuts.push(file_len);
    let ranges: Vec<(u64, u64)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();

    let lines: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .map(|&(start, end)| {
                scope.spawn(move || -> std::io::Result<usize> {
                    let (mut newlines, mut last) = (0, b'\n');
                    blocks(path, start, end, |block| {
                        newlines += panel_csv::count_newlines(block);
                        last = *block.last()?;
                        Some(())
                    })?;
                    Ok(newlines + usize::from(last != b'\n'))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("line counter failed")))
            })
            .collect::<std::io::Result<_>>()
    })?;
    let total: usize = lines.iter().sum();

    // Fresh zeroed columns (not clones of one, which would write every page twice).
    let mut ints: Vec<Vec<i64>> = (0..3).map(|_| vec![0; total]).collect();
    let mut floats: Vec<Vec<f64>> = (0..1 + pos.covariates.len()).map(|_| vec![0.0; total]).collect();
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
    let outputs: Vec<Outputs<'_>> = (0..ranges.len())
        .map(|_| Outputs {
            ints: int_parts.iter_mut().filter_map(Iterator::next).collect(),
            floats: float_parts.iter_mut().filter_map(Iterator::next).collect(),
        })
        .collect();
    let roles = &roles;
    let rows: Vec<Option<usize>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .zip(outputs)
            .map(|(&(start, end), mut out)| {
                scope.spawn(move || -> std::io::Result<Option<usize>> {
                    // Whole lines are parsed; the tail of a block waits for the next one.
                    let mut pending: Vec<u8> = Vec::with_capacity(2 * BLOCK_BYTES);
                    let mut row = 0;
                    let mut parse = |text: &[u8], row: &mut usize| -> Option<()> {
                        let mut rest = Outputs {
                            ints: out.ints.iter_mut().map(|c| c.get_mut(*row..)).collect::<Option<_>>()?,
                            floats: out
                                .floats
                                .iter_mut()
                                .map(|c| c.get_mut(*row..))
                                .collect::<Option<_>>()?,
                        };
                        *row += panel_csv::parse_into(text, roles, &mut rest)?;
                        Some(())
                    };
                    let done = blocks(path, start, end, |block| {
                        pending.extend_from_slice(block);
                        let whole = pending.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                        parse(&pending[..whole], &mut row)?;
                        pending.drain(..whole);
                        Some(())
                    })?;
                    if done.is_none() || parse(&pending, &mut row).is_none() {
                        return Ok(None);
                    }
                    Ok(Some(row))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("parser thread failed")))
            })
            .collect::<std::io::Result<_>>()
    })?;
    let Some(rows) = rows.into_iter().collect::<Option<Vec<usize>>>() else {
        return Ok(None);
    };

    // Empty lines leave gaps at the end of their range's part: close them.
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
    Ok((|| {
        Some(Columns {
            unit: ints.next()?,
            time: ints.next()?,
            group: ints.next()?,
            outcome: floats.next()?,
            covariates: floats.collect(),
            cluster: Vec::new(),
        })
    })())
}

fn read_panel(args: &EvaluateArgs) -> Result<stats::Panel> {
    let file = args.data.display().to_string();
    // The header row from the start of the file (the whole file only if it is needed).
    let mut handle = std::fs::File::open(&args.data).with_context(|| format!("reading {file}"))?;
    let mut head = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut handle, HEAD_BYTES), &mut head)
        .with_context(|| format!("reading {file}"))?;
    let file_len = handle.metadata().with_context(|| format!("reading {file}"))?.len();
    let mut whole = None;
    if !head.contains(&b'\n') && (head.len() as u64) < file_len {
        whole = Some(std::fs::read(&args.data).with_context(|| format!("reading {file}"))?);
    }
    let prefix = whole.as_deref().unwrap_or(&head);
    let mut reader = csv::ReaderBuilder::new().from_reader(prefix);
    let headers = reader
        .byte_headers()
        .with_context(|| format!("{file}: reading the header row"))?
        .clone();
    let body_start = reader.position().byte();
    drop(reader);
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

    let fast = match whole {
        Some(_) => None,
        None => fast_columns(&args.data, body_start, file_len, &pos, headers.len())
            .with_context(|| format!("reading {file}"))?,
    };
    let columns = match fast {
        Some(columns) => columns,
        None => {
            let bytes = match whole {
                Some(bytes) => bytes,
                None => std::fs::read(&args.data).with_context(|| format!("reading {file}"))?,
            };
            let body_start = (body_start as usize).min(bytes.len());
            let body = &bytes[body_start..];
            let first_line = 1 + bytes[..body_start].iter().filter(|&&b| b == b'\n').count() as u64;
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
