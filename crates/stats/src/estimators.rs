//! The two-period, two-group panel DiD estimators applied to each (g,t) cell:
//! outcome regression (`DRDID::reg_did_panel`), standardized IPW
//! (`DRDID::std_ipw_did_panel`) and doubly robust (`DRDID::drdid_panel`), each
//! returning the ATT and its influence function over the cell's units.
//!
//! The formulas follow DRDID as csdid 0.4.3 ports it: unit weights are all one,
//! propensity scores are capped at 1 − 1e-6, controls with a score ≥ 0.995 are
//! trimmed, and the logit's Hessian is rebuilt from the final (capped) scores.

use crate::linalg::{inverse, mat_vec, rcond1};
use crate::logit::{GlmRule, fit_logit};

/// Which 2×2 estimator to use in each cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Improved doubly robust (Sant'Anna & Zhao 2020), did's default.
    #[default]
    Dr,
    /// Standardized inverse probability weighting.
    Ipw,
    /// Outcome regression.
    Or,
}

/// Controls with a propensity score at or above this are dropped (DRDID `trim.level`).
const TRIM_LEVEL: f64 = 0.995;
/// The overlap guard of did: a cell fails when the largest score reaches this.
const OVERLAP_LIMIT: f64 = 0.999;

/// One cell's estimate: the ATT and its influence function (one value per unit of
/// the cell, before the n / n₁ rescaling to the whole panel).
pub(crate) struct CellEstimate {
    pub att: f64,
    pub inf: Vec<f64>,
}

/// A cell that cannot be estimated; the text becomes a did-style warning.
pub(crate) struct CellFailure(pub String);

fn mean(v: impl Iterator<Item = f64>, m: usize) -> f64 {
    v.sum::<f64>() / m as f64
}

/// The unconditional 2×2 DiD: difference of mean changes. All three methods reduce
/// to it with an intercept-only design (the constant propensity score cancels), so
/// no logit is fitted and the result is exact to rounding.
pub(crate) fn unconditional(dy: &[f64], d: &[bool], method: Method) -> Result<CellEstimate, CellFailure> {
    let m = dy.len();
    let n_t = d.iter().filter(|&&t| t).count();
    let n_c = m - n_t;
    if n_t == 0 || n_c == 0 {
        return Err(CellFailure("no treated or no comparison units".into()));
    }
    let share = n_t as f64 / m as f64;
    if method != Method::Or && share >= OVERLAP_LIMIT {
        return Err(CellFailure("overlap condition violated".into()));
    }
    if method != Method::Or && share >= TRIM_LEVEL {
        return Err(CellFailure("all comparison units trimmed".into()));
    }
    let mean_t = dy.iter().zip(d).filter(|(_, t)| **t).map(|(y, _)| y).sum::<f64>() / n_t as f64;
    let mean_c = dy.iter().zip(d).filter(|(_, t)| !**t).map(|(y, _)| y).sum::<f64>() / n_c as f64;
    let p_t = n_t as f64 / m as f64;
    let p_c = n_c as f64 / m as f64;
    let inf = dy
        .iter()
        .zip(d)
        .map(|(&y, &t)| if t { (y - mean_t) / p_t } else { -(y - mean_c) / p_c })
        .collect();
    Ok(CellEstimate {
        att: mean_t - mean_c,
        inf,
    })
}

/// Cross-product `Σ w_i x_i x_i'` over rows where `w_i ≠ 0`, divided by `scale`.
#[allow(clippy::needless_range_loop)] // rows index several columns at once
fn gram(columns: &[&[f64]], w: impl Fn(usize) -> f64, m: usize, scale: f64) -> Vec<f64> {
    let k = columns.len();
    let mut g = vec![0.0; k * k];
    for i in 0..m {
        let wi = w(i);
        if wi == 0.0 {
            continue;
        }
        for a in 0..k {
            let xa = wi * columns[a][i];
            for b in 0..=a {
                g[a * k + b] += xa * columns[b][i];
            }
        }
    }
    for a in 0..k {
        for b in 0..=a {
            g[a * k + b] /= scale;
            g[b * k + a] = g[a * k + b];
        }
    }
    g
}

fn row_dot(columns: &[&[f64]], i: usize, v: &[f64]) -> f64 {
    columns.iter().zip(v).map(|(c, vv)| c[i] * vv).sum()
}

/// `(X_c'X_c / m)⁻¹` over the controls of a cell, behind did's regression-feasibility
/// guard.
fn control_gram_inverse(d: &[bool], columns: &[&[f64]]) -> Result<Vec<f64>, CellFailure> {
    let k = columns.len();
    let m = d.len();
    let xtx = gram(columns, |i| if d[i] { 0.0 } else { 1.0 }, m, m as f64);
    if rcond1(&xtx, k) < f64::EPSILON {
        return Err(CellFailure(
            "Covariate matrix for control units is singular or numerically ill-conditioned".into(),
        ));
    }
    inverse(&xtx, k).ok_or_else(|| CellFailure("singular control design".into()))
}

/// Coefficients of the outcome regression of Δy on the design among controls, given
/// `(X_c'X_c / m)⁻¹`.
fn control_coefficients(inv: &[f64], dy: &[f64], d: &[bool], columns: &[&[f64]]) -> Vec<f64> {
    let k = columns.len();
    let m = dy.len();
    // A column at a time: each sum runs over the controls in order.
    let (dy, d) = (&dy[..m], &d[..m]);
    let xty: Vec<f64> = columns
        .iter()
        .take(k)
        .map(|column| {
            let mut s = 0.0;
            for ((&x, &y), &treated) in column[..m].iter().zip(dy).zip(d) {
                if !treated {
                    s += x * y;
                }
            }
            s / m as f64
        })
        .collect();
    mat_vec(inv, &xty, k)
}

/// A fitted propensity score: scores (capped), trimming indicator, `n · (X'WX)⁻¹`
/// and whether IRLS converged.
#[derive(Clone)]
pub(crate) struct Pscore {
    ps: Vec<f64>,
    keep: Vec<bool>,
    hessian: Vec<f64>,
    converged: bool,
}

/// Fits the propensity score of a cell (did/DRDID rules: overlap guard, cap, trim).
pub(crate) fn propensity(d: &[bool], columns: &[&[f64]], rule: GlmRule) -> Result<Pscore, CellFailure> {
    let k = columns.len();
    let m = d.len();
    let y: Vec<f64> = d.iter().map(|&t| if t { 1.0 } else { 0.0 }).collect();
    let fit = fit_logit(columns, &y, rule)
        .ok_or_else(|| CellFailure("the propensity score model could not be fitted".into()))?;
    // did's overlap guard (unweighted logit on the cell, max score ≥ 0.999).
    if fit.fitted.iter().cloned().fold(0.0, f64::max) >= OVERLAP_LIMIT {
        return Err(CellFailure("overlap condition violated".into()));
    }
    let ps: Vec<f64> = fit.fitted.iter().map(|&p| p.min(1.0 - 1e-6)).collect();
    let keep: Vec<bool> = (0..m).map(|i| d[i] || ps[i] < TRIM_LEVEL).collect();
    let info = gram(columns, |i| ps[i] * (1.0 - ps[i]), m, 1.0);
    if rcond1(&info, k) < f64::EPSILON {
        return Err(CellFailure("the propensity score design matrix is singular".into()));
    }
    let mut hessian = inverse(&info, k).ok_or_else(|| CellFailure("singular propensity information".into()))?;
    hessian.iter_mut().for_each(|v| *v *= m as f64);
    Ok(Pscore {
        ps,
        keep,
        hessian,
        converged: fit.converged,
    })
}

/// What a cell's estimate needs beyond its outcome changes: the propensity score (IPW,
/// DR) and the inverse control Gram matrix (OR, DR). Cells with the same units and
/// design share it (with never-treated controls and time-invariant covariates, all the
/// cells of a group; csdid caches the score the same way).
pub(crate) struct Design {
    pscore: Option<Result<Pscore, CellFailure>>,
    control_inverse: Option<Result<Vec<f64>, CellFailure>>,
}

impl Design {
    /// Fits what `method` needs on a cell's units (`d`: treated) and design
    /// (`columns[0]` is the intercept).
    pub(crate) fn new(d: &[bool], columns: &[&[f64]], method: Method, rule: GlmRule) -> Design {
        Design {
            pscore: (method != Method::Or).then(|| propensity(d, columns, rule)),
            control_inverse: (method != Method::Ipw).then(|| control_gram_inverse(d, columns)),
        }
    }

    fn pscore(&self) -> Result<&Pscore, CellFailure> {
        match &self.pscore {
            Some(Ok(p)) => Ok(p),
            Some(Err(CellFailure(why))) => Err(CellFailure(why.clone())),
            None => Err(CellFailure("no propensity score was fitted".into())),
        }
    }

    fn control_inverse(&self) -> Result<&[f64], CellFailure> {
        match &self.control_inverse {
            Some(Ok(inv)) => Ok(inv),
            Some(Err(CellFailure(why))) => Err(CellFailure(why.clone())),
            None => Err(CellFailure("no outcome regression was fitted".into())),
        }
    }
}

/// Per-unit scratch of [`with_covariates`], reused across the cells a thread estimates.
#[derive(Default)]
pub(crate) struct Scratch {
    resid: Vec<f64>,
    w_treat: Vec<f64>,
    w_cont: Vec<f64>,
    dots: [Vec<f64>; 3],
}

/// `out[i] = x_i'v` for the first `m` rows of the design, computed a column at a time
/// with the additions of each row in the order of `row_dot`.
fn row_dots(columns: &[&[f64]], v: &[f64], m: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(m, -0.0);
    for (column, &va) in columns.iter().zip(v) {
        for (o, &x) in out.iter_mut().zip(&column[..m]) {
            *o += x * va;
        }
    }
}

/// `Σ a_i b_i`, in order.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The 2×2 estimator with covariates; `columns[0]` is the intercept and `design` was
/// fitted on the same units and design. Writes the influence function (one value per
/// unit of the cell) to `inf` and returns the ATT and whether the logit converged.
///
/// Each sum runs over the units in order, as in DRDID's formulas written one vector at
/// a time; the loops are only fused.
#[allow(clippy::too_many_arguments)]
pub(crate) fn with_covariates(
    dy: &[f64],
    d: &[bool],
    columns: &[&[f64]],
    method: Method,
    design: &Design,
    inf: &mut [f64],
    scratch: &mut Scratch,
) -> Result<(f64, bool), CellFailure> {
    let m = dy.len();
    let k = columns.len();
    let n_t = d.iter().filter(|&&t| t).count();
    if n_t == 0 || n_t == m {
        return Err(CellFailure("no treated or no comparison units".into()));
    }
    let dd = |i: usize| if d[i] { 1.0 } else { 0.0 };
    match method {
        Method::Or => {
            let xpx_inv = design.control_inverse()?;
            let beta = control_coefficients(xpx_inv, dy, d, columns);
            let out: Vec<f64> = (0..m).map(|i| row_dot(columns, i, &beta)).collect();
            let mean_d = n_t as f64 / m as f64;
            let eta_treat = mean((0..m).map(|i| dd(i) * dy[i]), m) / mean_d;
            let eta_cont = mean((0..m).map(|i| dd(i) * out[i]), m) / mean_d;
            let moment: Vec<f64> = (0..k).map(|a| mean((0..m).map(|i| dd(i) * columns[a][i]), m)).collect();
            let v = mat_vec(xpx_inv, &moment, k);
            for (i, slot) in inf.iter_mut().enumerate().take(m) {
                let inf_treat = (dd(i) * dy[i] - dd(i) * eta_treat) / mean_d;
                let alr = (1.0 - dd(i)) * (dy[i] - out[i]) * row_dot(columns, i, &v);
                let inf_control = (dd(i) * out[i] - dd(i) * eta_cont + alr) / mean_d;
                *slot = inf_treat - inf_control;
            }
            Ok((eta_treat - eta_cont, true))
        }
        Method::Ipw => {
            let Pscore {
                ps,
                keep,
                hessian,
                converged,
            } = design.pscore()?;
            let tr = |i: usize| if keep[i] { 1.0 } else { 0.0 };
            let w_treat: Vec<f64> = (0..m).map(|i| tr(i) * dd(i)).collect();
            let w_cont: Vec<f64> = (0..m).map(|i| tr(i) * ps[i] * (1.0 - dd(i)) / (1.0 - ps[i])).collect();
            let mw_t = mean(w_treat.iter().copied(), m);
            let mw_c = mean(w_cont.iter().copied(), m);
            if mw_c == 0.0 {
                return Err(CellFailure("all comparison units trimmed".into()));
            }
            let eta_treat = mean((0..m).map(|i| w_treat[i] * dy[i]), m) / mw_t;
            let eta_cont = mean((0..m).map(|i| w_cont[i] * dy[i]), m) / mw_c;
            let m2: Vec<f64> = (0..k)
                .map(|a| mean((0..m).map(|i| w_cont[i] * (dy[i] - eta_cont) * columns[a][i]), m))
                .collect();
            let hm2 = mat_vec(hessian, &m2, k);
            for (i, slot) in inf.iter_mut().enumerate().take(m) {
                let inf_treat = (w_treat[i] * dy[i] - w_treat[i] * eta_treat) / mw_t;
                let cont1 = w_cont[i] * dy[i] - w_cont[i] * eta_cont;
                let cont2 = (dd(i) - ps[i]) * row_dot(columns, i, &hm2);
                *slot = inf_treat - (cont1 + cont2) / mw_c;
            }
            Ok((eta_treat - eta_cont, *converged))
        }
        Method::Dr => {
            let Pscore {
                ps,
                keep,
                hessian,
                converged,
            } = design.pscore()?;
            let xpx_inv = design.control_inverse()?;
            let beta = control_coefficients(xpx_inv, dy, d, columns);
            let (dy, d, ps, keep) = (&dy[..m], &d[..m], &ps[..m], &keep[..m]);
            let Scratch {
                resid,
                w_treat,
                w_cont,
                dots: [dot1, dot2, dot3],
            } = scratch;
            // Vector by vector as DRDID writes it; each sum runs over the units in order.
            row_dots(columns, &beta, m, resid);
            resid.iter_mut().zip(dy).for_each(|(r, &y)| *r = y - *r);
            w_treat.clear();
            w_treat.extend(keep.iter().zip(d).map(|(&kp, &t)| {
                let tr = if kp { 1.0 } else { 0.0 };
                tr * if t { 1.0 } else { 0.0 }
            }));
            w_cont.clear();
            w_cont.extend(keep.iter().zip(d).zip(ps).map(|((&kp, &t), &p)| {
                let tr = if kp { 1.0 } else { 0.0 };
                tr * p * (1.0 - if t { 1.0 } else { 0.0 }) / (1.0 - p)
            }));
            let (mut sum_wt, mut sum_wc, mut sum_wt_r, mut sum_wc_r) = (-0.0, -0.0, -0.0, -0.0);
            for i in 0..m {
                sum_wt += w_treat[i];
                sum_wc += w_cont[i];
                sum_wt_r += w_treat[i] * resid[i];
                sum_wc_r += w_cont[i] * resid[i];
            }
            let mw_t = sum_wt / m as f64;
            let mw_c = sum_wc / m as f64;
            if mw_c == 0.0 {
                return Err(CellFailure("all comparison units trimmed".into()));
            }
            let eta_treat = sum_wt_r / m as f64 / mw_t;
            let eta_cont = sum_wc_r / m as f64 / mw_c;
            let m1: Vec<f64> = columns.iter().map(|x| dot(w_treat, &x[..m]) / m as f64).collect();
            let m3: Vec<f64> = columns.iter().map(|x| dot(w_cont, &x[..m]) / m as f64).collect();
            // w_cont · (Δy − out − η_cont), in the scratch of the third dot product.
            dot3.clear();
            dot3.extend(w_cont.iter().zip(resid.iter()).map(|(w, r)| w * (r - eta_cont)));
            let m2: Vec<f64> = columns.iter().map(|x| dot(dot3, &x[..m]) / m as f64).collect();
            row_dots(columns, &mat_vec(xpx_inv, &m1, k), m, dot1);
            row_dots(columns, &mat_vec(hessian, &m2, k), m, dot2);
            row_dots(columns, &mat_vec(xpx_inv, &m3, k), m, dot3);
            for (i, slot) in inf[..m].iter_mut().enumerate() {
                let dd = if d[i] { 1.0 } else { 0.0 };
                let resid = resid[i];
                let wols = (1.0 - dd) * resid;
                let treat1 = w_treat[i] * resid - w_treat[i] * eta_treat;
                let treat2 = wols * dot1[i];
                let inf_treat = (treat1 - treat2) / mw_t;
                let cont1 = w_cont[i] * resid - w_cont[i] * eta_cont;
                let cont2 = (dd - ps[i]) * dot2[i];
                let cont3 = wols * dot3[i];
                let inf_control = (cont1 + cont2 - cont3) / mw_c;
                *slot = inf_treat - inf_control;
            }
            Ok((eta_treat - eta_cont, *converged))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unconditional_did_is_the_difference_of_mean_changes() {
        let dy = [3.0, 5.0, 1.0, 2.0, 3.0];
        let d = [true, true, false, false, false];
        let est = unconditional(&dy, &d, Method::Dr).unwrap_or_else(|_| CellEstimate {
            att: f64::NAN,
            inf: vec![],
        });
        assert!((est.att - 2.0).abs() < 1e-15);
        // influence functions of a difference of means sum to zero
        assert!(est.inf.iter().sum::<f64>().abs() < 1e-12);
    }

    #[test]
    fn all_three_methods_agree_with_an_uninformative_covariate() {
        let dy = [3.0, 5.0, 4.0, 1.0, 2.0, 3.0, 2.5, 1.5];
        let d = [true, true, true, false, false, false, false, false];
        let ones = [1.0; 8];
        let x = [0.1, 0.5, 0.3, 0.2, 0.4, 0.6, 0.3, 0.9];
        for method in [Method::Or, Method::Ipw, Method::Dr] {
            let columns: [&[f64]; 2] = [&ones, &x];
            let design = Design::new(&d, &columns, method, GlmRule::R);
            let mut inf = [0.0; 8];
            let r = with_covariates(&dy, &d, &columns, method, &design, &mut inf, &mut Scratch::default());
            let att = r.map(|(att, _)| att).unwrap_or(f64::NAN);
            assert!(att.is_finite(), "{method:?}");
        }
    }
}
