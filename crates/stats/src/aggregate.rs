//! Aggregations of ATT(g,t) (did's `aggte`): simple, group, dynamic (event study)
//! and calendar, each with its influence function, including the part that comes
//! from estimating the group shares (did's `wif`).
//!
//! Every aggregated influence function is kept as a linear combination [`Lin`] of
//! the cells' influence functions plus a value per unit group (the `wif` part), so
//! bootstrap draws of an aggregation are the same combination of the cells' draws.
//!
//! Cells whose ATT could not be estimated are left out (did's `na.rm = TRUE`) with a
//! warning, rather than failing the whole evaluation.

use crate::att_gt::{AttGtResult, analytic_se, normal_quantile};
use crate::bootstrap::summarize;
use crate::error::StatsError;
use faer::Mat;

/// Which aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregationKind {
    Simple,
    Group,
    Dynamic,
    Calendar,
}

impl AggregationKind {
    fn name(self) -> &'static str {
        match self {
            AggregationKind::Simple => "simple",
            AggregationKind::Group => "group",
            AggregationKind::Dynamic => "dynamic",
            AggregationKind::Calendar => "calendar",
        }
    }
}

/// Event-time window and balancing of the dynamic aggregation (and the window of
/// simple and group).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AggregationOptions {
    pub min_e: f64,
    pub max_e: f64,
    pub balance_e: Option<i64>,
}

impl Default for AggregationOptions {
    fn default() -> Self {
        AggregationOptions {
            min_e: f64::NEG_INFINITY,
            max_e: f64::INFINITY,
            balance_e: None,
        }
    }
}

/// One estimate in an aggregation's breakdown (by group, event time or period).
#[derive(Debug, Clone, PartialEq)]
pub struct AggregatePoint {
    /// The group, event time or period.
    pub key: i64,
    pub att: f64,
    pub se: Option<f64>,
}

/// An aggregated effect with its breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub kind: AggregationKind,
    pub att: f64,
    pub se: Option<f64>,
    pub by: Vec<AggregatePoint>,
    /// Critical value for the breakdown's band (sup-t with a bootstrap).
    pub critical_value: f64,
    pub warnings: Vec<String>,
}

/// `ψ_i = Σ_k w_k Ψ_ik + c[group of unit i]`: an influence function as a
/// combination of the cells' influence functions and a function of the group.
#[derive(Debug, Clone)]
struct Lin {
    w: Vec<f64>,
    c: Vec<f64>,
}

impl Lin {
    fn zeros(k: usize, ng: usize) -> Lin {
        Lin {
            w: vec![0.0; k],
            c: vec![0.0; ng],
        }
    }

    fn add_scaled(&mut self, other: &Lin, s: f64) {
        self.w.iter_mut().zip(&other.w).for_each(|(a, b)| *a += s * b);
        self.c.iter_mut().zip(&other.c).for_each(|(a, b)| *a += s * b);
    }

    /// The influence function over units.
    fn materialize(&self, res: &AttGtResult) -> Vec<f64> {
        let mut psi: Vec<f64> = res.unit_group_index.iter().map(|&q| self.c[q]).collect();
        for (k, &w) in self.w.iter().enumerate() {
            if w != 0.0 {
                psi.iter_mut().zip(res.influence(k)).for_each(|(p, v)| *p += w * v);
            }
        }
        psi
    }

    /// Bootstrap draws of this influence function.
    fn draws(&self, res: &AttGtResult) -> Vec<f64> {
        let Some(d) = &res.draws else { return vec![] };
        let k = self.w.len();
        let mut out = vec![0.0; d.mat.nrows()];
        let terms = self
            .w
            .iter()
            .enumerate()
            .chain(self.c.iter().enumerate().map(|(q, c)| (k + q, c)));
        for (col, &w) in terms {
            if w != 0.0 {
                out.iter_mut().enumerate().for_each(|(r, o)| *o += w * d.mat[(r, col)]);
            }
        }
        out
    }
}

struct Input<'a> {
    group: Vec<i64>,
    time: Vec<i64>,
    att: Vec<f64>,
    /// Column (cell index) of each retained cell.
    cols: Vec<usize>,
    res: &'a AttGtResult,
    /// Share of units in each cell's group.
    pg: Vec<f64>,
}

impl Input<'_> {
    fn zero(&self) -> Lin {
        Lin::zeros(self.res.cells.len(), self.res.group_values.len())
    }

    /// `Σ_j weight_j Ψ_{cols[j]}`.
    fn combine(&self, which: &[usize], weights: &[f64]) -> Lin {
        let mut lin = self.zero();
        for (&j, &w) in which.iter().zip(weights) {
            lin.w[self.cols[j]] += w;
        }
        lin
    }

    /// Adds did's `wif` (influence of the estimated group shares) for `keepers`,
    /// times their ATTs: a function of the unit's group only.
    fn add_wif(&self, lin: &mut Lin, keepers: &[usize], pg: &[f64], key_group: &[i64], att: &[f64]) {
        let sum_pg: f64 = keepers.iter().map(|&k| pg[k]).sum();
        let sum_pg_att: f64 = keepers.iter().map(|&k| pg[k] * att[k]).sum();
        // if1[i,k] = (1{G_i = g_k} − pg_k) / Σpg ; if2[i,k] = (Σ_k' 1{G_i=g_k'} − pg_k') · pg_k / Σpg²
        for (q, &gv) in self.res.group_values.iter().enumerate() {
            let mut row_sum = 0.0;
            let mut if1 = 0.0;
            for &k in keepers {
                let num = if gv == key_group[k] { 1.0 } else { 0.0 } - pg[k];
                row_sum += num;
                if1 += num / sum_pg * att[k];
            }
            lin.c[q] += if1 - row_sum * sum_pg_att / (sum_pg * sum_pg);
        }
    }
}

/// An aggregation before inference: the overall effect and its influence function, with the breakdown's.
struct Combined {
    att: f64,
    psi: Lin,
    keys: Vec<i64>,
    by_att: Vec<f64>,
    by_psi: Vec<Lin>,
    warnings: Vec<String>,
}

/// Computes one aggregation of `res`.
pub fn aggregate(res: &AttGtResult, kind: AggregationKind, opts: &AggregationOptions) -> Result<Aggregate, StatsError> {
    let Combined {
        att,
        psi,
        keys,
        by_att,
        by_psi,
        mut warnings,
    } = combine(res, kind, opts)?;
    let prep = &res.prepared;
    let cfg = &res.config;
    let cluster = if cfg.cluster { prep.cluster.as_deref() } else { None };
    let pointwise = normal_quantile(1.0 - cfg.alpha / 2.0);
    let mut critical_value = pointwise;
    let (se, by_se): (Option<f64>, Vec<Option<f64>>) = match &res.draws {
        None => (
            analytic_se(&psi.materialize(res), cluster),
            by_psi
                .iter()
                .map(|p| analytic_se(&p.materialize(res), cluster))
                .collect(),
        ),
        Some(d) => {
            let reps = d.mat.nrows();
            let columns = |lins: &[&Lin]| -> Mat<f64> {
                let cols: Vec<Vec<f64>> = lins.iter().map(|l| l.draws(res)).collect();
                Mat::from_fn(reps, cols.len(), |r, j| cols[j][r])
            };
            let overall = summarize(columns(&[&psi]).as_ref(), d.rows, d.n, cfg.alpha);
            let by_se = if by_psi.is_empty() {
                vec![]
            } else {
                let refs: Vec<&Lin> = by_psi.iter().collect();
                let br = summarize(columns(&refs).as_ref(), d.rows, d.n, cfg.alpha);
                // did's checks on the simultaneous critical value.
                if !br.crit_val.is_finite() {
                    warnings.push("Simultaneous critical value is NA. This probably happened because we cannot compute t-statistic (std errors are NA). We then report pointwise conf. intervals.".into());
                } else if br.crit_val < pointwise {
                    warnings.push("Simultaneous conf. band is somehow smaller than pointwise one using normal approximation. Since this is unusual, we are reporting pointwise confidence intervals".into());
                } else {
                    if br.crit_val >= 7.0 {
                        warnings.push("Simultaneous critical value is arguably 'too large' to be reliable. This usually happens when the number of observations per group is small and/or there is not much variation in outcomes.".into());
                    }
                    critical_value = br.crit_val;
                }
                br.se
            };
            (overall.se[0], by_se)
        }
    };
    let by = keys
        .iter()
        .zip(&by_att)
        .zip(by_se)
        .map(|((&key, &att), se)| AggregatePoint { key, att, se })
        .collect();
    Ok(Aggregate {
        kind,
        att,
        se,
        by,
        critical_value,
        warnings,
    })
}

/// The overall effect of one aggregation with its influence function over the units of `res` (in
/// [`AttGtResult::unit_groups`] order), for inference beyond did's, e.g. [`crate::small_sample`].
pub fn overall_influence(
    res: &AttGtResult,
    kind: AggregationKind,
    opts: &AggregationOptions,
) -> Result<(f64, Vec<f64>), StatsError> {
    let combined = combine(res, kind, opts)?;
    Ok((combined.att, combined.psi.materialize(res)))
}

fn combine(res: &AttGtResult, kind: AggregationKind, opts: &AggregationOptions) -> Result<Combined, StatsError> {
    let err = |reason: &str| StatsError::Aggregation {
        kind: kind.name(),
        reason: reason.to_string(),
    };
    let prep = &res.prepared;
    let n = prep.n();
    let mut warnings = Vec::new();
    let all_cells = &res.cells;
    let cols: Vec<usize> = (0..all_cells.len()).filter(|&c| all_cells[c].att.is_finite()).collect();
    if cols.len() < all_cells.len() {
        warnings.push(format!(
            "{} ATT(g,t) could not be estimated and are left out of the {} aggregation.",
            all_cells.len() - cols.len(),
            kind.name()
        ));
    }
    let group: Vec<i64> = cols.iter().map(|&c| all_cells[c].group).collect();
    let time: Vec<i64> = cols.iter().map(|&c| all_cells[c].time).collect();
    let att: Vec<f64> = cols.iter().map(|&c| all_cells[c].att).collect();
    let mut sizes = vec![0usize; res.group_values.len()];
    for &q in &res.unit_group_index {
        sizes[q] += 1;
    }
    let share = |g: i64| res.group_values.binary_search(&g).map_or(0, |q| sizes[q]) as f64 / n as f64;
    let pg: Vec<f64> = group.iter().map(|&g| share(g)).collect();
    let input = Input {
        group,
        time,
        att,
        cols,
        res,
        pg,
    };
    if !input.group.iter().zip(&input.time).any(|(g, t)| g <= t) {
        return Err(err("no post-treatment ATT(g,t) cells are available"));
    }
    let m = input.att.len();
    let in_window: Vec<bool> = (0..m)
        .map(|j| {
            let e = (input.time[j] - input.group[j]) as f64;
            input.group[j] <= input.time[j] && e >= opts.min_e && e <= opts.max_e
        })
        .collect();

    // (overall att, overall IF, breakdown keys, breakdown atts, breakdown IFs)
    let (att, psi, keys, by_att, by_psi) = match kind {
        AggregationKind::Simple => {
            let keep: Vec<usize> = (0..m).filter(|&j| in_window[j]).collect();
            if keep.is_empty() {
                return Err(err("no ATT(g,t) in the requested window"));
            }
            let sum_pg: f64 = keep.iter().map(|&j| input.pg[j]).sum();
            let w: Vec<f64> = keep.iter().map(|&j| input.pg[j] / sum_pg).collect();
            let att = keep.iter().map(|&j| input.att[j] * input.pg[j]).sum::<f64>() / sum_pg;
            let mut lin = input.combine(&keep, &w);
            input.add_wif(&mut lin, &keep, &input.pg, &input.group, &input.att);
            (att, lin, vec![], vec![], vec![])
        }
        AggregationKind::Group => {
            let mut glist: Vec<i64> = input.group.clone();
            glist.sort_unstable();
            glist.dedup();
            let mut by_att = Vec::new();
            let mut by_psi = Vec::new();
            for &g in &glist {
                let which: Vec<usize> = (0..m).filter(|&j| input.group[j] == g && in_window[j]).collect();
                if which.is_empty() {
                    return Err(err(&format!("no ATT(g,t) within the requested window for group {g}")));
                }
                let a = which.iter().map(|&j| input.att[j]).sum::<f64>() / which.len() as f64;
                let sum_pg: f64 = which.iter().map(|&j| input.pg[j]).sum();
                let w: Vec<f64> = which.iter().map(|&j| input.pg[j] / sum_pg).collect();
                by_att.push(a);
                by_psi.push(input.combine(&which, &w));
            }
            let pgg: Vec<f64> = glist.iter().map(|&g| share(g)).collect();
            let sum_pgg: f64 = pgg.iter().sum();
            let att = by_att.iter().zip(&pgg).map(|(a, p)| a * p).sum::<f64>() / sum_pgg;
            let keep: Vec<usize> = (0..glist.len()).collect();
            let mut lin = input.zero();
            for (p, col) in pgg.iter().zip(&by_psi) {
                lin.add_scaled(col, p / sum_pgg);
            }
            input.add_wif(&mut lin, &keep, &pgg, &glist, &by_att);
            (att, lin, glist, by_att, by_psi)
        }
        AggregationKind::Dynamic => {
            let event: Vec<i64> = (0..m).map(|j| input.time[j] - input.group[j]).collect();
            let mut include = vec![true; m];
            let mut eseq: Vec<i64> = event.clone();
            if let Some(balance_e) = opts.balance_e {
                // did's balance_e: keep groups observed at every event time 0..=balance_e.
                let all_t: Vec<i64> = all_cells.iter().map(|c| c.time).collect();
                let all_g: Vec<i64> = all_cells.iter().map(|c| c.group).collect();
                let max_t = all_t.iter().copied().max().unwrap_or(0);
                let mut eligible_g: Vec<i64> = all_g.iter().copied().filter(|&g| max_t - g >= balance_e).collect();
                eligible_g.sort_unstable();
                eligible_g.dedup();
                let mut required: Vec<i64> = all_g
                    .iter()
                    .zip(&all_t)
                    .filter(|(g, _)| max_t - **g >= balance_e)
                    .map(|(g, t)| t - g)
                    .filter(|&e| e >= 0 && e <= balance_e)
                    .collect();
                required.sort_unstable();
                required.dedup();
                let complete: Vec<i64> = eligible_g
                    .iter()
                    .copied()
                    .filter(|&g| {
                        !required.is_empty()
                            && required
                                .iter()
                                .all(|&e| (0..m).any(|j| input.group[j] == g && event[j] == e))
                    })
                    .collect();
                if complete.is_empty() {
                    return Err(err("no group has ATT(g,t) at every event time up to balance_e"));
                }
                include = (0..m).map(|j| complete.contains(&input.group[j])).collect();
                let first_t = prep
                    .periods
                    .first()
                    .copied()
                    .unwrap_or(0)
                    .min(prep.groups.first().copied().unwrap_or(i64::MAX));
                eseq = (0..m).filter(|&j| include[j]).map(|j| event[j]).collect();
                eseq.retain(|&e| e <= balance_e && e >= balance_e - max_t + first_t);
            }
            eseq.sort_unstable();
            eseq.dedup();
            eseq.retain(|&e| (e as f64) >= opts.min_e && (e as f64) <= opts.max_e);
            if eseq.is_empty() {
                return Err(err("no event times fall within the requested window"));
            }
            let mut by_att = Vec::new();
            let mut by_psi = Vec::new();
            for &e in &eseq {
                let which: Vec<usize> = (0..m).filter(|&j| event[j] == e && include[j]).collect();
                let sum_pg: f64 = which.iter().map(|&j| input.pg[j]).sum();
                let w: Vec<f64> = which.iter().map(|&j| input.pg[j] / sum_pg).collect();
                by_att.push(which.iter().zip(&w).map(|(&j, w)| input.att[j] * w).sum::<f64>());
                let mut lin = input.combine(&which, &w);
                input.add_wif(&mut lin, &which, &input.pg, &input.group, &input.att);
                by_psi.push(lin);
            }
            let post: Vec<usize> = (0..eseq.len()).filter(|&i| eseq[i] >= 0).collect();
            if post.is_empty() {
                return Err(err("no post-treatment event times in the window"));
            }
            let att = post.iter().map(|&i| by_att[i]).sum::<f64>() / post.len() as f64;
            let mut lin = input.zero();
            for &i in &post {
                lin.add_scaled(&by_psi[i], 1.0 / post.len() as f64);
            }
            (att, lin, eseq, by_att, by_psi)
        }
        AggregationKind::Calendar => {
            let min_g = input.group.iter().copied().min().unwrap_or(0);
            let mut tlist: Vec<i64> = input.time.iter().copied().filter(|&t| t >= min_g).collect();
            tlist.sort_unstable();
            tlist.dedup();
            tlist.retain(|&t1| (0..m).any(|j| input.time[j] == t1 && input.group[j] <= t1));
            if tlist.is_empty() {
                return Err(err("no calendar period has a post-treatment ATT(g,t)"));
            }
            let mut by_att = Vec::new();
            let mut by_psi = Vec::new();
            for &t1 in &tlist {
                let which: Vec<usize> = (0..m)
                    .filter(|&j| input.time[j] == t1 && input.group[j] <= t1)
                    .collect();
                let sum_pg: f64 = which.iter().map(|&j| input.pg[j]).sum();
                let w: Vec<f64> = which.iter().map(|&j| input.pg[j] / sum_pg).collect();
                by_att.push(which.iter().zip(&w).map(|(&j, w)| input.att[j] * w).sum::<f64>());
                let mut lin = input.combine(&which, &w);
                input.add_wif(&mut lin, &which, &input.pg, &input.group, &input.att);
                by_psi.push(lin);
            }
            let k = tlist.len() as f64;
            let att = by_att.iter().sum::<f64>() / k;
            let mut lin = input.zero();
            for col in &by_psi {
                lin.add_scaled(col, 1.0 / k);
            }
            (att, lin, tlist, by_att, by_psi)
        }
    };
    Ok(Combined {
        att,
        psi,
        keys,
        by_att,
        by_psi,
        warnings,
    })
}
