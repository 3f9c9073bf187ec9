//! Group-time average treatment effects ATT(g,t) (did's `att_gt`), their
//! influence functions, standard errors and the Wald pre-test of parallel trends.
//!
//! Where R `did` 2.5.1 and csdid 0.4.3 differ, this follows csdid (the reference of
//! our cross-check) and says so: with anticipation a > 0, cells with
//! g − a ≤ t < g use the long difference from the last period before g − a (csdid's
//! `plan_cell`), where R compares them with the period before; the pre-test uses the
//! cells with t < g − a.

use crate::bootstrap::{Bootstrap, Draws, draw, summarize};
use crate::error::StatsError;
use crate::estimators::{CellFailure, Design, Method, Scratch, unconditional, with_covariates};
use crate::logit::GlmRule;
use crate::panel::{Panel, Prepared};
use rayon::prelude::*;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// Comparison units for each cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlGroup {
    /// Units never treated (group 0).
    #[default]
    NeverTreated,
    /// Never-treated units plus units not yet treated by the cell's later period.
    NotYetTreated,
}

/// Base period of pre-treatment cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BasePeriod {
    /// Pre-treatment cells compare consecutive periods.
    #[default]
    Varying,
    /// Every cell compares with the last period before treatment (g − a − 1).
    Universal,
}

/// Settings of [`att_gt`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttGtConfig {
    pub control: ControlGroup,
    pub method: Method,
    /// Periods of anticipation (did's `anticipation`).
    pub anticipation: i64,
    pub base_period: BasePeriod,
    /// Names of covariate columns of the panel.
    pub covariates: Vec<String>,
    /// Multiplier bootstrap; `None` gives analytic standard errors.
    pub bootstrap: Option<Bootstrap>,
    /// Cluster by the panel's cluster column (in addition to the unit).
    pub cluster: bool,
    /// Drop units not observed in every period instead of failing.
    pub allow_unbalanced: bool,
    /// Significance level of intervals and bands.
    pub alpha: f64,
    /// Whose logit iteration to reproduce for propensity scores.
    pub glm_rule: GlmRule,
}

impl Default for AttGtConfig {
    fn default() -> Self {
        AttGtConfig {
            control: ControlGroup::NeverTreated,
            method: Method::Dr,
            anticipation: 0,
            base_period: BasePeriod::Varying,
            covariates: Vec::new(),
            bootstrap: None,
            cluster: false,
            allow_unbalanced: false,
            alpha: 0.05,
            glm_rule: GlmRule::R,
        }
    }
}

/// One ATT(g,t).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub group: i64,
    pub time: i64,
    /// NaN when the cell could not be estimated (see the warnings).
    pub att: f64,
    /// None where undefined (universal base cell, failed cell, zero variance).
    pub se: Option<f64>,
    /// Whether t ≥ g (a post-treatment cell).
    pub post: bool,
}

/// Wald test that all pre-treatment ATT(g,t) are zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pretest {
    pub statistic: f64,
    pub p_value: f64,
    pub df: usize,
}

/// Result of [`att_gt`]: cells, influence functions and inference.
#[derive(Debug, Clone)]
pub struct AttGtResult {
    pub cells: Vec<Cell>,
    /// Influence functions, units × cells, column-major (`inf[c * n + i]`).
    pub(crate) inf: Vec<f64>,
    pub(crate) prepared: Prepared,
    pub config: AttGtConfig,
    /// Critical value of the ATT(g,t) intervals: sup-t with a bootstrap, else normal.
    pub critical_value: f64,
    pub pretest: Option<Pretest>,
    pub warnings: Vec<String>,
    /// Distinct unit groups (including 0) and each unit's index into them.
    pub(crate) group_values: Vec<i64>,
    pub(crate) unit_group_index: Vec<usize>,
    /// Bootstrap draws of the cells' influence functions followed by those of the
    /// group indicators (from which every aggregation's draws are combined).
    pub(crate) draws: Option<Draws>,
}

impl AttGtResult {
    /// Number of units in the estimation sample.
    pub fn n_units(&self) -> usize {
        self.prepared.n()
    }

    /// Each unit's group (first treated period, 0 for never treated), in the order of the influence functions.
    pub fn unit_groups(&self) -> &[i64] {
        &self.prepared.unit_group
    }

    /// Periods of the estimation sample.
    pub fn periods(&self) -> &[i64] {
        &self.prepared.periods
    }

    /// The influence function of cell `c` (one value per unit).
    pub fn influence(&self, c: usize) -> &[f64] {
        let n = self.prepared.n();
        &self.inf[c * n..(c + 1) * n]
    }
}

/// What to do in one (g,t) cell.
struct Plan {
    group: i64,
    time_idx: usize,
    base_idx: usize,
    control_threshold: Option<i64>,
    base_zero: bool,
}

/// The last period index with t + a < g (R: `tail(which(tlist + a < g), 1)`).
fn last_pre_index(g: i64, periods: &[i64], anticipation: i64) -> Option<usize> {
    periods.iter().rposition(|&t| t + anticipation < g)
}

fn plan_cells(prep: &Prepared, cfg: &AttGtConfig, warnings: &mut Vec<String>) -> Vec<Plan> {
    let periods = &prep.periods;
    let a = cfg.anticipation;
    let universal = cfg.base_period == BasePeriod::Universal;
    let tfac = if universal { 0 } else { 1 };
    let t_len = if universal { periods.len() } else { periods.len() - 1 };
    let mut plans = Vec::new();
    for &g in &prep.groups {
        let pre_g = last_pre_index(g, periods, a);
        for t_i in 0..t_len {
            let tn = periods[t_i + tfac];
            let mut base = t_i;
            if universal || g - a <= tn {
                match pre_g {
                    Some(p) => base = p,
                    None => {
                        warnings.push(format!(
                            "There are no pre-treatment periods for the group first treated at {g}. Units from this group are dropped."
                        ));
                        break;
                    }
                }
            }
            let control_threshold = match cfg.control {
                ControlGroup::NeverTreated => None,
                ControlGroup::NotYetTreated => Some(periods[t_i.max(base) + tfac] + a),
            };
            plans.push(Plan {
                group: g,
                time_idx: t_i + tfac,
                base_idx: base,
                control_threshold,
                base_zero: universal && periods[base] == tn,
            });
        }
    }
    plans
}

struct CellOut {
    att: f64,
    warning: Option<String>,
}

/// Estimates ATT(g,t) for every group and period.
pub fn att_gt(panel: &Panel, cfg: &AttGtConfig) -> Result<AttGtResult, StatsError> {
    if !(cfg.alpha > 0.0 && cfg.alpha < 1.0) {
        return Err(StatsError::Config(format!(
            "alpha must be strictly between 0 and 1, got {}",
            cfg.alpha
        )));
    }
    if cfg.anticipation < 0 {
        return Err(StatsError::Config("anticipation must be non-negative".into()));
    }
    if cfg.bootstrap.is_some_and(|b| b.reps == 0) {
        return Err(StatsError::Config("bootstrap needs at least one draw".into()));
    }
    if cfg.cluster && panel.cluster.is_none() {
        return Err(StatsError::Config(
            "clustering asked for, but the panel has no cluster column".into(),
        ));
    }
    let prep = Prepared::new(
        panel,
        &cfg.covariates,
        cfg.control == ControlGroup::NeverTreated,
        cfg.anticipation,
        cfg.allow_unbalanced,
    )?;
    let mut warnings = prep.warnings.clone();
    let plans = plan_cells(&prep, cfg, &mut warnings);
    let n = prep.n();
    let k = plans.len();
    let mut inf = vec![0.0; n * k];
    let ones = vec![1.0; n];

    // With never-treated controls every cell of a group has the same units, and with
    // time-invariant covariates the same design, hence the same propensity score and
    // control regression matrix: gather and fit them once per group.
    let time_invariant = prep.x.iter().all(|x| {
        let first = &x[..n];
        x.chunks(n.max(1)).all(|period| period == first)
    });
    let shared: Vec<(i64, GroupCells)> = if cfg.control == ControlGroup::NeverTreated {
        prep.groups
            .par_iter()
            .map(|&g| {
                let members: Vec<usize> = (0..n)
                    .filter(|&i| prep.unit_group[i] == g || prep.unit_group[i] == 0)
                    .collect();
                let d: Vec<bool> = members.iter().map(|&i| prep.unit_group[i] == g).collect();
                let mut cells = GroupCells {
                    members,
                    d,
                    x: Vec::new(),
                    design: None,
                };
                if time_invariant && !prep.x.is_empty() {
                    cells.x = prep
                        .x
                        .iter()
                        .map(|x| cells.members.iter().map(|&i| x[i]).collect())
                        .collect();
                    let mut columns: Vec<&[f64]> = vec![&ones[..cells.members.len()]];
                    columns.extend(cells.x.iter().map(|v| v.as_slice()));
                    cells.design = Some(Design::new(&cells.d, &columns, cfg.method, cfg.glm_rule));
                }
                (g, cells)
            })
            .collect()
    } else {
        Vec::new()
    };
    let outs: Vec<CellOut> = inf
        .par_chunks_mut(n.max(1))
        .zip(plans.par_iter())
        .map_init(CellScratch::default, |scratch, (column, plan)| {
            let shared = shared.iter().find(|(g, _)| *g == plan.group).map(|(_, s)| s);
            estimate_cell(&prep, cfg, plan, column, &ones, shared, scratch)
        })
        .collect();

    let mut cells = Vec::with_capacity(k);
    for (plan, out) in plans.iter().zip(&outs) {
        if let Some(w) = &out.warning {
            warnings.push(w.clone());
        }
        cells.push(Cell {
            group: plan.group,
            time: prep.periods[plan.time_idx],
            att: out.att,
            se: None,
            post: plan.group <= prep.periods[plan.time_idx],
        });
    }

    let cluster = if cfg.cluster { prep.cluster.as_deref() } else { None };
    let pointwise = normal_quantile(1.0 - cfg.alpha / 2.0);
    let mut critical_value = pointwise;
    let mut group_values: Vec<i64> = prep.unit_group.clone();
    group_values.sort_unstable();
    group_values.dedup();
    let unit_group_index: Vec<usize> = prep
        .unit_group
        .iter()
        .map(|g| group_values.binary_search(g).unwrap_or(0))
        .collect();
    let mut draws = None;
    let ses: Vec<Option<f64>> = match cfg.bootstrap {
        Some(boot) => {
            // Basis: the cells' influence functions, then one indicator per group.
            let ng = group_values.len();
            let indicators: Vec<Vec<f64>> = (0..ng)
                .map(|q| {
                    unit_group_index
                        .iter()
                        .map(|&gi| if gi == q { 1.0 } else { 0.0 })
                        .collect()
                })
                .collect();
            let mut basis: Vec<&[f64]> = inf.chunks_exact(n.max(1)).take(k).collect();
            basis.extend(indicators.iter().map(Vec::as_slice));
            let d = draw(&basis, cluster, Some(&unit_group_index), boot);
            drop(basis);
            let br = summarize(d.mat.as_ref().subcols(0, k), d.rows, d.n, cfg.alpha);
            draws = Some(d);
            if br.crit_val.is_finite() {
                critical_value = br.crit_val;
            } else {
                warnings.push("Simultaneous critical value is not finite, likely because the standard errors could not be computed. Falling back to pointwise confidence intervals.".into());
            }
            br.se
        }
        None => (0..k).map(|c| analytic_se(&inf[c * n..(c + 1) * n], cluster)).collect(),
    };
    for (c, se) in ses.into_iter().enumerate() {
        let valid = se.filter(|s| s.is_finite() && *s > 0.0);
        cells[c].se = if plans[c].base_zero || !cells[c].att.is_finite() {
            None
        } else {
            valid
        };
    }

    let pretest = wald_pretest(&cells, &plans, &inf, n, cfg, cluster, &unit_group_index, &mut warnings);

    Ok(AttGtResult {
        cells,
        inf,
        prepared: prep,
        config: cfg.clone(),
        critical_value,
        pretest,
        warnings,
        group_values,
        unit_group_index,
        draws,
    })
}

pub(crate) fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// Analytic standard error of an influence function: `sqrt(mean(ψ²) / n)`, or
/// with clusters `sqrt(Σ_c S_c²) / n` (did 2.5.1).
pub(crate) fn analytic_se(psi: &[f64], cluster: Option<&[usize]>) -> Option<f64> {
    let n = psi.len() as f64;
    let se = match cluster {
        None => (psi.iter().map(|v| v * v).sum::<f64>() / n / n).sqrt(),
        Some(labels) => {
            let nc = labels.iter().copied().max().map_or(0, |m| m + 1);
            let mut sums = vec![0.0; nc];
            for (v, &c) in psi.iter().zip(labels) {
                sums[c] += v;
            }
            sums.iter().map(|s| s * s).sum::<f64>().sqrt() / n
        }
    };
    (se.is_finite() && se > 0.0).then_some(se)
}

/// The units of the cells of one group, and with time-invariant covariates their
/// design and its fits (see [`Design`]).
struct GroupCells {
    members: Vec<usize>,
    d: Vec<bool>,
    /// Covariates over `members` (empty unless time-invariant).
    x: Vec<Vec<f64>>,
    design: Option<Design>,
}

/// Buffers one thread reuses across cells.
#[derive(Default)]
struct CellScratch {
    members: Vec<usize>,
    d: Vec<bool>,
    x: Vec<Vec<f64>>,
    dy: Vec<f64>,
    inf: Vec<f64>,
    estimator: Scratch,
}

fn estimate_cell(
    prep: &Prepared,
    cfg: &AttGtConfig,
    plan: &Plan,
    column: &mut [f64],
    ones: &[f64],
    shared: Option<&GroupCells>,
    scratch: &mut CellScratch,
) -> CellOut {
    let n = prep.n();
    let g = plan.group;
    let t = prep.periods[plan.time_idx];
    if plan.base_zero {
        return CellOut {
            att: 0.0,
            warning: None,
        };
    }
    let CellScratch {
        members,
        d,
        x,
        dy,
        inf,
        estimator,
    } = scratch;
    let (members, d): (&[usize], &[bool]) = match shared {
        Some(s) => (&s.members, &s.d),
        None => {
            members.clear();
            members.extend((0..n).filter(|&i| {
                let gi = prep.unit_group[i];
                gi == g || gi == 0 || plan.control_threshold.is_some_and(|th| gi > th && gi != g)
            }));
            d.clear();
            d.extend(members.iter().map(|&i| prep.unit_group[i] == g));
            (members, d)
        }
    };
    let fail = |column: &mut [f64], why: String| {
        column.iter_mut().for_each(|v| *v = f64::NAN);
        CellOut {
            att: f64::NAN,
            warning: Some(format!("{why} for group {g} in time period {t}; ATT(g,t) set to NA.")),
        }
    };
    if members.is_empty() {
        return fail(column, "No units".into());
    }
    let post = &prep.y[plan.time_idx * n..(plan.time_idx + 1) * n];
    let base = &prep.y[plan.base_idx * n..(plan.base_idx + 1) * n];
    dy.clear();
    dy.extend(members.iter().map(|&i| post[i] - base[i]));
    let result = if prep.x.is_empty() {
        unconditional(dy, d, cfg.method).map(|e| {
            inf.clear();
            inf.extend_from_slice(&e.inf);
            (e.att, true)
        })
    } else {
        inf.clear();
        inf.resize(members.len(), 0.0);
        let local;
        let (xs, design) = match shared.and_then(|s| s.design.as_ref().map(|design| (&s.x, design))) {
            Some((xs, design)) => (xs, design),
            None => {
                let earlier = plan.time_idx.min(plan.base_idx);
                x.resize_with(prep.x.len(), Vec::new);
                for (dst, src) in x.iter_mut().zip(&prep.x) {
                    let xp = &src[earlier * n..(earlier + 1) * n];
                    dst.clear();
                    dst.extend(members.iter().map(|&i| xp[i]));
                }
                let mut columns: Vec<&[f64]> = vec![&ones[..members.len()]];
                columns.extend(x.iter().map(|v| v.as_slice()));
                local = Design::new(d, &columns, cfg.method, cfg.glm_rule);
                (&*x, &local)
            }
        };
        let mut columns: Vec<&[f64]> = vec![&ones[..members.len()]];
        columns.extend(xs.iter().map(|v| v.as_slice()));
        with_covariates(dy, d, &columns, cfg.method, design, inf, estimator)
    };
    match result {
        Err(CellFailure(why)) => fail(column, why),
        Ok((att, converged)) if att.is_finite() => {
            let scale = n as f64 / members.len() as f64;
            for (&i, v) in members.iter().zip(inf.iter()) {
                column[i] = scale * v;
            }
            CellOut {
                att,
                warning: (!converged)
                    .then(|| format!("glm algorithm did not converge for group {g} in time period {t}.")),
            }
        }
        Ok(_) => fail(column, "ATT is not a number".into()),
    }
}

/// did's Wald pre-test: W = n · θ' V⁻¹ θ over pre-treatment cells with positive
/// variance, V = Ψ'Ψ / n (analytic, also with a bootstrap, as in did 2.5).
#[allow(clippy::too_many_arguments)]
fn wald_pretest(
    cells: &[Cell],
    plans: &[Plan],
    inf: &[f64],
    n: usize,
    cfg: &AttGtConfig,
    cluster: Option<&[usize]>,
    unit_group_index: &[usize],
    warnings: &mut Vec<String>,
) -> Option<Pretest> {
    // did suppresses the test when clustering beyond the unit with a bootstrap.
    if cluster.is_some() && cfg.bootstrap.is_some() {
        return None;
    }
    let column = |c: usize| &inf[c * n..(c + 1) * n];
    let cluster_sums = |c: usize| -> Vec<f64> {
        let labels = cluster.unwrap_or(&[]);
        let nc = labels.iter().copied().max().map_or(0, |m| m + 1);
        let mut s = vec![0.0; nc];
        for (v, &l) in column(c).iter().zip(labels) {
            s[l] += v;
        }
        s
    };
    let candidates: Vec<usize> = (0..cells.len())
        .filter(|&c| cells[c].group - cfg.anticipation > cells[c].time)
        .filter(|&c| !plans[c].base_zero)
        .collect();
    // A cell's influence function vanishes outside its group and its comparison units:
    // without clusters each covariance runs only over the units of the groups where
    // both cells can be non-zero, in unit order. The products left out are exact zeros,
    // so the sums are those over all units.
    let groups = unit_group_index.iter().copied().max().map_or(0, |m| m + 1);
    let sparse = cluster.is_none() && groups <= 64 && unit_group_index.len() == n;
    let support: Vec<u64> = candidates
        .par_iter()
        .map(|&c| {
            if !sparse {
                return u64::MAX;
            }
            let mut mask = 0u64;
            for (v, &q) in column(c).iter().zip(unit_group_index) {
                if *v != 0.0 || v.is_nan() {
                    mask |= 1 << q;
                }
            }
            mask
        })
        .collect();
    let mut masks: Vec<u64> = Vec::new();
    if sparse {
        for (a, &sa) in support.iter().enumerate() {
            for &sb in &support[..=a] {
                masks.push(sa & sb);
            }
        }
        masks.sort_unstable();
        masks.dedup();
    }
    let units_of: Vec<(u64, Vec<usize>)> = masks
        .par_iter()
        .map(|&mask| {
            let units = (0..n).filter(|&i| (mask >> unit_group_index[i]) & 1 == 1).collect();
            (mask, units)
        })
        .collect();
    let cov = |a: usize, b: usize, mask: u64| -> f64 {
        match cluster {
            None if sparse => {
                let units = units_of
                    .binary_search_by_key(&mask, |(m, _)| *m)
                    .map_or(&[][..], |k| &units_of[k].1[..]);
                let (ca, cb) = (column(a), column(b));
                units.iter().map(|&i| ca[i] * cb[i]).sum::<f64>() / n as f64
            }
            None => column(a).iter().zip(column(b)).map(|(x, y)| x * y).sum::<f64>() / n as f64,
            Some(_) => {
                let (sa, sb) = (cluster_sums(a), cluster_sums(b));
                sa.iter().zip(&sb).map(|(x, y)| x * y).sum::<f64>() / n as f64
            }
        }
    };
    let kept: Vec<(usize, u64)> = candidates
        .par_iter()
        .zip(&support)
        .filter(|&(&c, &mask)| {
            let v = cov(c, c, mask);
            v.is_finite() && v > 0.0
        })
        .map(|(&c, &mask)| (c, mask))
        .collect();
    let pre: Vec<usize> = kept.iter().map(|&(c, _)| c).collect();
    if pre.is_empty() {
        warnings.push("No pre-treatment periods available for the Wald pre-test of parallel trends.".into());
        return None;
    }
    let q = pre.len();
    let mut v = vec![0.0; q * q];
    let pairs: Vec<(usize, usize)> = (0..q).flat_map(|a| (0..=a).map(move |b| (a, b))).collect();
    let values: Vec<f64> = pairs
        .par_iter()
        .map(|&(a, b)| cov(pre[a], pre[b], kept[a].1 & kept[b].1))
        .collect();
    for (&(a, b), &x) in pairs.iter().zip(&values) {
        v[a * q + b] = x;
        v[b * q + a] = x;
    }
    let theta: Vec<f64> = pre.iter().map(|&c| cells[c].att).collect();
    if v.iter().chain(&theta).any(|x| !x.is_finite()) {
        warnings.push("Not returning pre-test Wald statistic due to NA pre-treatment values".into());
        return None;
    }
    if crate::linalg::rcond1(&v, q) <= f64::EPSILON {
        warnings.push("Not returning pre-test Wald statistic due to singular covariance matrix".into());
        return None;
    }
    let inv = crate::linalg::inverse(&v, q)?;
    let vt = crate::linalg::mat_vec(&inv, &theta, q);
    let statistic = n as f64 * theta.iter().zip(&vt).map(|(a, b)| a * b).sum::<f64>();
    let p_value = ChiSquared::new(q as f64)
        .map(|chi| 1.0 - chi.cdf(statistic))
        .unwrap_or(f64::NAN);
    Some(Pretest {
        statistic,
        p_value,
        df: q,
    })
}
