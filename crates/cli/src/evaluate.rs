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

/// Powers of ten exactly representable as f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// Plain decimal integer (`-?[0-9]+`, at most 18 digits); anything else is `None`
/// and goes to [`parse_i64`].
fn fast_i64(field: &[u8]) -> Option<i64> {
    let (neg, digits) = match field.first() {
        Some(b'-') => (true, &field[1..]),
        Some(b'+') => (false, &field[1..]),
        _ => (false, field),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(if neg { -v } else { v })
}

/// Decimal number `-?digits[.digits][e±digits]` by Clinger's fast path: when the
/// digits form an integer m ≤ 2⁵³ and the decimal exponent |e| ≤ 22, m and 10^|e| are
/// exact doubles and one IEEE multiplication or division rounds correctly, so the
/// result is bit-identical to `str::parse::<f64>`. Anything else is `None` and goes
/// to [`parse_f64`].
fn fast_f64(field: &[u8]) -> Option<f64> {
    let (neg, rest) = match field.first() {
        Some(b'-') => (true, &field[1..]),
        Some(b'+') => (false, &field[1..]),
        _ => (false, field),
    };
    let mut m: u64 = 0;
    let mut digits = 0usize;
    let mut exp: i64 = 0;
    let mut i = 0;
    while i < rest.len() && rest[i].is_ascii_digit() {
        m = m * 10 + u64::from(rest[i] - b'0');
        digits += 1;
        i += 1;
        if digits > 19 {
            return None;
        }
    }
    let int_digits = digits;
    let mut frac_digits = 0usize;
    if i < rest.len() && rest[i] == b'.' {
        i += 1;
        while i < rest.len() && rest[i].is_ascii_digit() {
            m = m * 10 + u64::from(rest[i] - b'0');
            digits += 1;
            frac_digits += 1;
            i += 1;
            if digits > 19 {
                return None;
            }
        }
        exp -= frac_digits as i64;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if i < rest.len() && (rest[i] == b'e' || rest[i] == b'E') {
        i += 1;
        let (eneg, erest) = match rest.get(i) {
            Some(b'-') => (true, i + 1),
            Some(b'+') => (false, i + 1),
            _ => (false, i),
        };
        i = erest;
        let start = i;
        let mut e: i64 = 0;
        while i < rest.len() && rest[i].is_ascii_digit() {
            e = e * 10 + i64::from(rest[i] - b'0');
            i += 1;
            if i - start > 4 {
                return None;
            }
        }
        if i == start {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    if i != rest.len() || m > (1u64 << 53) || exp.abs() > 22 {
        return None;
    }
    let v = m as f64;
    let v = if exp >= 0 {
        v * POW10[exp as usize]
    } else {
        v / POW10[(-exp) as usize]
    };
    Some(if neg { -v } else { v })
}

/// The fast path of [`parse_lines`] for unquoted CSV: splits lines and fields by
/// hand and reads numbers with [`fast_i64`] / [`fast_f64`], without per-row
/// allocations. Returns `None` on anything unusual (a field count other than the
/// header's, a number it does not read, a non-numeric unit id, a cluster column),
/// and the caller then parses the chunk with [`parse_lines`], which also gives the
/// error messages.
fn fast_parse_lines(body: &[u8], pos: &Positions, fields: usize) -> Option<Columns> {
    if pos.cluster.is_some() {
        return None;
    }
    let rows = body.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut out = Columns {
        unit: Vec::with_capacity(rows),
        time: Vec::with_capacity(rows),
        group: Vec::with_capacity(rows),
        outcome: Vec::with_capacity(rows),
        covariates: vec![Vec::with_capacity(rows); pos.covariates.len()],
        cluster: Vec::new(),
    };
    // Which role each column plays: 0 none, 1 unit, 2 time, 3 group, 4 outcome,
    // 5 + k covariate k.
    let mut role = vec![0usize; fields];
    let roles = [(1, pos.unit), (2, pos.time), (3, pos.group), (4, pos.outcome)]
        .into_iter()
        .chain(pos.covariates.iter().enumerate().map(|(k, &p)| (5 + k, p)));
    for (r, p) in roles {
        let slot = role.get_mut(p)?;
        // A column used twice: leave it to the general path.
        if *slot != 0 {
            return None;
        }
        *slot = r;
    }
    // A lone carriage return also ends a record for the csv crate: general path.
    if body.contains(&b'\r') && body.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n') {
        return None;
    }
    let mut cov = vec![0.0; pos.covariates.len()];
    for line in body.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let (mut unit, mut time, mut group, mut outcome) = (0, 0, 0, 0.0);
        let mut count = 0;
        for field in line.split(|&b| b == b',') {
            match *role.get(count)? {
                0 => {}
                1 => unit = fast_i64(field)?,
                2 => time = fast_i64(field)?,
                3 => group = fast_i64(field)?,
                4 => outcome = fast_f64(field)?,
                r => cov[r - 5] = fast_f64(field)?,
            }
            count += 1;
        }
        if count != fields {
            return None;
        }
        out.unit.push(unit);
        out.time.push(time);
        out.group.push(group);
        out.outcome.push(outcome);
        for (c, &v) in out.covariates.iter_mut().zip(&cov) {
            c.push(v);
        }
    }
    Some(out)
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
    let header_fields = headers.len();
    let body = &bytes[body_start.min(bytes.len())..];
    let first_line = 1 + bytes[..body_start.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64;

    // Without quoted fields every newline ends a record: parse halves on two threads.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunks: Vec<(usize, usize)> = if body.contains(&b'"') || threads < 2 || body.len() < (1 << 20) {
        vec![(0, body.len())]
    } else {
        let mut cuts = vec![0];
        for c in 1..threads {
            let target = body.len() * c / threads;
            let cut = body[target..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(body.len(), |p| target + p + 1);
            if cut > *cuts.last().unwrap_or(&0) && cut < body.len() {
                cuts.push(cut);
            }
        }
        cuts.push(body.len());
        cuts.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let line_offsets: Vec<u64> = chunks
        .iter()
        .map(|&(a, _)| first_line + body[..a].iter().filter(|&&b| b == b'\n').count() as u64)
        .collect();
    let parsed: Vec<Result<Columns>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .zip(&line_offsets)
            .map(|(&(a, b), &line)| {
                let (pos, file) = (&pos, &file);
                scope.spawn(move || match fast_parse_lines(&body[a..b], pos, header_fields) {
                    Some(columns) => Ok(columns),
                    None => parse_lines(&body[a..b], line, pos, args, file, None),
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("{file}: parser thread failed")))
            })
            .collect()
    });
    let columns = match parsed.into_iter().collect::<Result<Vec<Columns>>>() {
        Ok(parts) if parts.len() == 1 => parts.into_iter().next().unwrap_or_default(),
        Ok(parts) => {
            let rows: usize = parts.iter().map(|p| p.unit.len()).sum();
            let mut all = Columns {
                unit: Vec::with_capacity(rows),
                time: Vec::with_capacity(rows),
                group: Vec::with_capacity(rows),
                outcome: Vec::with_capacity(rows),
                covariates: vec![Vec::with_capacity(rows); pos.covariates.len()],
                cluster: Vec::new(),
            };
            for part in parts {
                all.unit.extend(part.unit);
                all.time.extend(part.time);
                all.group.extend(part.group);
                all.outcome.extend(part.outcome);
                for (a, b) in all.covariates.iter_mut().zip(part.covariates) {
                    a.extend(b);
                }
                all.cluster.extend(part.cluster);
            }
            all
        }
        Err(first_error) => {
            // Non-numeric unit ids (e.g. codes): number them by first appearance.
            let mut names = HashMap::new();
            match parse_lines(body, first_line, &pos, args, &file, Some(&mut names)) {
                Ok(columns) => columns,
                Err(_) => return Err(first_error),
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
