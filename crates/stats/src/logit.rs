//! Logistic regression by iteratively reweighted least squares, reproducing the
//! iteration (start values, stopping rule, clamps) of R's `glm.fit` or of
//! statsmodels' `GLM.fit` (what csdid 0.4.3 calls), so that propensity scores agree
//! with the reference to rounding rather than to the 1e-8 deviance tolerance.

use crate::linalg::{inverse, mat_vec};

/// Whose IRLS to reproduce. They converge to the same maximum; they differ in when
/// they stop (hence in the last ~1e-9 of the scores).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GlmRule {
    /// R `glm.fit`: stop when |dev − dev_old| / (|dev| + 0.1) < 1e-8, at most 25
    /// iterations, linear predictor clamped to ±30 in the inverse link.
    #[default]
    R,
    /// statsmodels `GLM.fit` (IRLS): stop when |dev − dev_old| ≤ 1e-8, at most 100
    /// iterations, probabilities clipped to [ε, 1 − ε].
    Statsmodels,
}

/// A fitted logit: the fitted probabilities and whether IRLS converged.
#[derive(Debug, Clone)]
pub(crate) struct LogitFit {
    pub fitted: Vec<f64>,
    pub converged: bool,
}

const EPS: f64 = f64::EPSILON;

/// R's `binomial()$linkinv` (C `logit_linkinv`).
fn r_linkinv(eta: f64) -> f64 {
    let t = if eta < -30.0 {
        EPS
    } else if eta > 30.0 {
        1.0 / EPS
    } else {
        eta.exp()
    };
    t / (1.0 + t)
}

/// R's `binomial()$mu.eta` (C `logit_mu_eta`).
fn r_mu_eta(eta: f64) -> f64 {
    let opexp = 1.0 + eta.exp();
    if !(-30.0..=30.0).contains(&eta) {
        EPS
    } else {
        eta.exp() / (opexp * opexp)
    }
}

fn clip(p: f64) -> f64 {
    p.clamp(EPS, 1.0 - EPS)
}

fn deviance(rule: GlmRule, y: &[f64], mu: &[f64]) -> f64 {
    match rule {
        GlmRule::R => y
            .iter()
            .zip(mu)
            .map(|(&y, &m)| {
                if y > 0.5 {
                    2.0 * (1.0 / m).ln()
                } else {
                    2.0 * (1.0 / (1.0 - m)).ln()
                }
            })
            .sum(),
        GlmRule::Statsmodels => y
            .iter()
            .zip(mu)
            .map(|(&y, &m)| {
                if y > 0.5 {
                    2.0 * (1.0 / (m + 1e-20)).max(EPS).ln()
                } else {
                    2.0 * (1.0 / (1.0 - m + 1e-20)).max(EPS).ln()
                }
            })
            .sum(),
    }
}

/// Fits `P(y = 1 | x) = logistic(x'β)` where `columns[0]` is the intercept.
pub(crate) fn fit_logit(columns: &[&[f64]], y: &[f64], rule: GlmRule) -> Option<LogitFit> {
    let k = columns.len();
    let m = y.len();
    let max_iter = match rule {
        GlmRule::R => 25,
        GlmRule::Statsmodels => 100,
    };
    // Both start from mu = (y + 0.5) / 2 (R: (w·y + 0.5) / (w + 1) with w = 1).
    let mut mu: Vec<f64> = y.iter().map(|&v| (v + 0.5) / 2.0).collect();
    let mut eta: Vec<f64> = mu
        .iter()
        .map(|&p| match rule {
            GlmRule::R => (p / (1.0 - p)).ln(),
            GlmRule::Statsmodels => {
                let p = clip(p);
                (p / (1.0 - p)).ln()
            }
        })
        .collect();
    if rule == GlmRule::R {
        mu = eta.iter().map(|&e| r_linkinv(e)).collect();
    }
    let mut dev_old = deviance(rule, y, &mu);
    let mut converged = false;
    let mut beta = vec![0.0; k];
    let mut xtwx = vec![0.0; k * k];
    let mut xtwz = vec![0.0; k];
    for _ in 0..max_iter {
        xtwx.iter_mut().for_each(|v| *v = 0.0);
        xtwz.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..m {
            let (w, z) = match rule {
                GlmRule::R => {
                    let d = r_mu_eta(eta[i]);
                    let var = mu[i] * (1.0 - mu[i]);
                    (d * d / var, eta[i] + (y[i] - mu[i]) / d)
                }
                GlmRule::Statsmodels => {
                    let p = clip(mu[i]);
                    let deriv = 1.0 / (p * (1.0 - p));
                    let var = p * (1.0 - p);
                    (1.0 / (deriv * deriv * var), eta[i] + deriv * (y[i] - mu[i]))
                }
            };
            for a in 0..k {
                let wa = w * columns[a][i];
                xtwz[a] += wa * z;
                for b in 0..=a {
                    xtwx[a * k + b] += wa * columns[b][i];
                }
            }
        }
        for a in 0..k {
            for b in 0..a {
                xtwx[b * k + a] = xtwx[a * k + b];
            }
        }
        let inv = inverse(&xtwx, k)?;
        beta = mat_vec(&inv, &xtwz, k);
        for i in 0..m {
            let e: f64 = (0..k).map(|a| columns[a][i] * beta[a]).sum();
            eta[i] = e;
            mu[i] = match rule {
                GlmRule::R => r_linkinv(e),
                GlmRule::Statsmodels => 1.0 / (1.0 + (-e).exp()),
            };
        }
        let dev = deviance(rule, y, &mu);
        if !dev.is_finite() {
            return None;
        }
        let done = match rule {
            GlmRule::R => (dev - dev_old).abs() / (dev.abs() + 0.1) < 1e-8,
            GlmRule::Statsmodels => (dev - dev_old).abs() <= 1e-8,
        };
        dev_old = dev;
        if done {
            converged = true;
            break;
        }
    }
    if beta.iter().any(|b| !b.is_finite()) {
        return None;
    }
    Some(LogitFit { fitted: mu, converged })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intercept_only_logit_fits_the_share() {
        let ones = vec![1.0; 8];
        let y = vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        for rule in [GlmRule::R, GlmRule::Statsmodels] {
            let fit = fit_logit(&[&ones], &y, rule);
            let fit = fit.map(|f| f.fitted[0]).unwrap_or(f64::NAN);
            assert!((fit - 3.0 / 8.0).abs() < 1e-9, "{rule:?}: {fit}");
        }
    }
}
