//! The verdict on a pilot as a pure function of its estimated effects, and the site-selection check.
//!
//! Rules, in order:
//! 1. **abandon** when the primary outcome got worse with its confidence interval clear of zero, or any guardrail
//!    outcome got worse with its interval clear of zero;
//! 2. **expand** when the primary outcome improved with its interval clear of zero (and, by 1, no guardrail outcome
//!    was harmed);
//! 3. otherwise **keep piloting**: not enough evidence, reported with the minimum detectable effect
//!    (MDE = (t₀.₉₇₅ + t₀.₈₀) × SE: the effect a two-sided 5% test detects with 80% power; 2.8 × SE with many units).
//!
//! Intervals use Student's t with the degrees of freedom the evaluation reports (few adopting units: few degrees of
//! freedom, wider intervals), or the normal quantile when they are unknown.
//!
//! "Better" depends on the outcome ([`Outcome::higher_is_better`]): fewer days to close is better, a higher response
//! rate is better.

use std::fmt;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::Outcome;

/// z(0.975) + z(0.80): the minimum detectable effect in standard errors for 80% power at a two-sided 5% level, with
/// many units (normal reference).
pub const MDE_MULTIPLIER: f64 = 2.8;

/// Standardised differences above this (in absolute value) are large enough to matter (the 0.25 rule of thumb,
/// Rubin 2001).
pub const STD_DIFF_WARNING: f64 = 0.25;

/// Family-wise level of the site-selection test: a difference is flagged when random siting would rarely produce it.
pub const SITE_SELECTION_ALPHA: f64 = 0.05;

/// Random sitings drawn for the site-selection test.
const PERMUTATIONS: usize = 4_999;

/// An estimated effect (ATT) with its standard error and 95% confidence interval, on the outcome's own scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    pub att: f64,
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Degrees of freedom of the t reference distribution (`None`: normal).
    pub df: Option<f64>,
}

impl Effect {
    /// An effect with a pointwise 95% normal interval.
    pub fn normal(att: f64, se: f64) -> Effect {
        Effect {
            att,
            se,
            ci_low: att - 1.96 * se,
            ci_high: att + 1.96 * se,
            df: None,
        }
    }

    /// An effect with a pointwise 95% interval from Student's t with `df` degrees of freedom.
    pub fn student(att: f64, se: f64, df: f64) -> Effect {
        let t = t_quantile(0.975, Some(df));
        Effect {
            att,
            se,
            ci_low: att - t * se,
            ci_high: att + t * se,
            df: Some(df),
        }
    }

    fn is_finite(&self) -> bool {
        self.att.is_finite() && self.se.is_finite() && self.ci_low.is_finite() && self.ci_high.is_finite()
    }

    fn clear_of_zero(&self) -> bool {
        self.ci_low > 0.0 || self.ci_high < 0.0
    }

    /// In standard errors: t₀.₉₇₅ + t₀.₈₀ (2.8 for the normal).
    pub fn mde_multiplier(&self) -> f64 {
        match self.df {
            None => MDE_MULTIPLIER,
            df => t_quantile(0.975, df) + t_quantile(0.80, df),
        }
    }

    /// The minimum detectable effect: what a two-sided 5% test detects with 80% power given this standard error.
    pub fn mde(&self) -> f64 {
        self.mde_multiplier() * self.se
    }

    /// The power of the two-sided 5% test against a true effect `truth`, given this standard error (the t
    /// distribution shifted by `truth / se`, the usual approximation to the noncentral t).
    pub fn power_against(&self, truth: f64) -> f64 {
        if !(self.se > 0.0 && self.se.is_finite()) {
            return f64::NAN;
        }
        let crit = t_quantile(0.975, self.df);
        let shift = truth.abs() / self.se;
        t_cdf(shift - crit, self.df) + t_cdf(-shift - crit, self.df)
    }
}

fn t_quantile(p: f64, df: Option<f64>) -> f64 {
    match df.map(|df| StudentsT::new(0.0, 1.0, df)) {
        Some(Ok(t)) => t.inverse_cdf(p),
        _ => Normal::standard().inverse_cdf(p),
    }
}

fn t_cdf(x: f64, df: Option<f64>) -> f64 {
    match df.map(|df| StudentsT::new(0.0, 1.0, df)) {
        Some(Ok(t)) => t.cdf(x),
        _ => Normal::standard().cdf(x),
    }
}

/// The estimated effect of a pilot on one outcome.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OutcomeEffect {
    pub outcome: Outcome,
    pub effect: Effect,
}

impl OutcomeEffect {
    fn good_direction(&self) -> bool {
        (self.effect.att > 0.0) == self.outcome.higher_is_better()
    }

    /// Better, with the interval clear of zero.
    pub fn improves(&self) -> bool {
        self.effect.is_finite() && self.effect.clear_of_zero() && self.good_direction() && self.effect.att != 0.0
    }

    /// Worse, with the interval clear of zero.
    pub fn harms(&self) -> bool {
        self.effect.is_finite() && self.effect.clear_of_zero() && !self.good_direction() && self.effect.att != 0.0
    }

    fn describe(&self) -> String {
        let e = &self.effect;
        let verb = if e.att >= 0.0 { "rose" } else { "fell" };
        format!(
            "{} {verb} by {:.3} (95% CI {:.3} to {:.3}, SE {:.3})",
            self.outcome,
            e.att.abs(),
            e.ci_low,
            e.ci_high,
            e.se
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Expand,
    Abandon,
    KeepPiloting,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Expand => "expand",
            Verdict::Abandon => "abandon",
            Verdict::KeepPiloting => "keep piloting",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding behind a verdict, with its numbers, so that each interface words it in its own language
/// ([`Finding::english`] for the CLI and the JSON's `reasons`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum Finding {
    /// The primary outcome improved, its interval clear of zero.
    PrimaryBetter {
        effect: OutcomeEffect,
    },
    /// The primary outcome worsened, its interval clear of zero.
    PrimaryWorse {
        effect: OutcomeEffect,
    },
    /// The primary outcome's interval includes zero.
    PrimaryInconclusive {
        effect: OutcomeEffect,
    },
    /// The primary outcome's effect, stated beside a harmed guardrail.
    Primary {
        effect: OutcomeEffect,
    },
    /// No finite estimate of the primary outcome yet.
    PrimaryNoEstimate {
        outcome: Outcome,
    },
    /// With these data, the smallest effect detectable with 80 % power at the 5 % level.
    NotEnoughEvidence {
        mde: f64,
        multiplier: f64,
    },
    GuardrailHarmed {
        effect: OutcomeEffect,
    },
    GuardrailNotHarmed {
        effect: OutcomeEffect,
    },
    GuardrailNoEstimate {
        outcome: Outcome,
    },
}

impl Finding {
    /// The finding as one English sentence.
    pub fn english(&self) -> String {
        match self {
            Finding::PrimaryBetter { effect } => {
                format!("primary outcome better: {}, clear of zero", effect.describe())
            }
            Finding::PrimaryWorse { effect } => format!("primary outcome worse: {}, clear of zero", effect.describe()),
            Finding::PrimaryInconclusive { effect } => {
                format!("primary outcome: {}; the interval includes zero", effect.describe())
            }
            Finding::Primary { effect } => format!("primary outcome: {}", effect.describe()),
            Finding::PrimaryNoEstimate { outcome } => format!("no finite estimate for {outcome} yet: not enough data"),
            Finding::NotEnoughEvidence { mde, multiplier } => format!(
                "not enough evidence: with these data the smallest effect detectable with 80% power at the 5% level \
                 is about {mde:.3} ({multiplier:.1} × SE)"
            ),
            Finding::GuardrailHarmed { effect } => {
                format!(
                    "guardrail outcome harmed: {}, worse and clear of zero",
                    effect.describe()
                )
            }
            Finding::GuardrailNotHarmed { effect } => format!("guardrail outcome not harmed: {}", effect.describe()),
            Finding::GuardrailNoEstimate { outcome } => {
                format!("guardrail outcome {outcome}: no finite estimate yet")
            }
        }
    }
}

/// A verdict with its reasons, one sentence each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictReport {
    pub verdict: Verdict,
    /// The findings in English, one sentence each ([`Finding::english`]).
    pub reasons: Vec<String>,
    /// The same findings with their numbers, for pages that word them in their own language.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// The minimum detectable effect on the primary outcome ((t₀.₉₇₅ + t₀.₈₀) × SE), when its SE is known.
    pub primary_mde: Option<f64>,
}

impl fmt::Display for VerdictReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "verdict: {}", self.verdict)?;
        for r in &self.reasons {
            writeln!(f, "  - {r}")?;
        }
        Ok(())
    }
}

/// The verdict on a pilot from the effect on its primary outcome and on its guardrail outcomes.
pub fn verdict(primary: &OutcomeEffect, guardrails: &[OutcomeEffect]) -> VerdictReport {
    let primary_mde = primary.effect.se.is_finite().then(|| primary.effect.mde());
    let harmed: Vec<Finding> = guardrails
        .iter()
        .filter(|g| g.harms())
        .map(|g| Finding::GuardrailHarmed { effect: *g })
        .collect();
    let effect = *primary;
    let (verdict, mut findings) = if !primary.effect.is_finite() {
        let mut f = harmed.clone();
        f.push(Finding::PrimaryNoEstimate {
            outcome: primary.outcome,
        });
        let verdict = if harmed.is_empty() {
            Verdict::KeepPiloting
        } else {
            Verdict::Abandon
        };
        (verdict, f)
    } else if primary.harms() {
        let f = std::iter::once(Finding::PrimaryWorse { effect }).chain(harmed.iter().copied());
        (Verdict::Abandon, f.collect())
    } else if !harmed.is_empty() {
        let f = std::iter::once(Finding::Primary { effect }).chain(harmed.iter().copied());
        (Verdict::Abandon, f.collect())
    } else if primary.improves() {
        (Verdict::Expand, vec![Finding::PrimaryBetter { effect }])
    } else {
        let f = vec![
            Finding::PrimaryInconclusive { effect },
            Finding::NotEnoughEvidence {
                mde: primary.effect.mde(),
                multiplier: primary.effect.mde_multiplier(),
            },
        ];
        (Verdict::KeepPiloting, f)
    };
    if harmed.is_empty() {
        findings.extend(guardrails.iter().map(|g| {
            if g.effect.is_finite() {
                Finding::GuardrailNotHarmed { effect: *g }
            } else {
                Finding::GuardrailNoEstimate { outcome: g.outcome }
            }
        }));
    }
    VerdictReport {
        verdict,
        reasons: findings.iter().map(Finding::english).collect(),
        findings,
        primary_mde,
    }
}

/// One pre-pilot characteristic of the adopting units and of the others (e.g. the pre-period mean of the outcome,
/// the population).
#[derive(Debug, Clone, PartialEq)]
pub struct Covariate {
    pub name: String,
    pub adopters: Vec<f64>,
    pub others: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    pub name: String,
    pub mean_adopters: f64,
    pub mean_others: f64,
    /// (mean of adopters − mean of others) / pooled standard deviation; infinite when the spread is zero but the
    /// means differ.
    pub std_diff: f64,
    /// The share of random sitings of as many units that differ at least as much (a permutation test).
    pub p_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSelection {
    pub balances: Vec<Balance>,
    /// The notes in English ([`SiteNote::english`]).
    pub warnings: Vec<String>,
    /// The same notes with their numbers, for pages that word them in their own language.
    #[serde(default)]
    pub notes: Vec<SiteNote>,
}

/// Something the site-selection check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum SiteNote {
    /// A characteristic has no values for the adopters (or for the other units) to compare.
    NoValues { name: String, adopters_missing: bool },
    /// The adopters differed before the pilot, more than random siting would make them.
    Differed {
        name: String,
        mean_adopters: f64,
        mean_others: f64,
        std_diff: f64,
        p_value: f64,
    },
}

impl SiteNote {
    pub fn english(&self) -> String {
        match self {
            SiteNote::NoValues { name, adopters_missing } => format!(
                "{name}: no values for {} to compare",
                if *adopters_missing { "adopters" } else { "other units" }
            ),
            SiteNote::Differed {
                name,
                mean_adopters,
                mean_others,
                std_diff,
                p_value,
            } => format!(
                "site selection: adopters differed before the pilot in {name}: mean {mean_adopters:.3} against \
                 {mean_others:.3} for the others (standardised difference {std_diff:+.2}; random siting differs this \
                 much with p = {p_value:.4}); the comparison may flatter or understate the pilot"
            ),
        }
    }
}

/// Compares adopters with the other units before the pilot. Most central pilots were sited in richer places, which
/// flatters them. A characteristic is flagged when the difference is both large (a standardised difference above
/// [`STD_DIFF_WARNING`]) and unlikely under random siting: a permutation test (the adopters' mean against that of
/// [`PERMUTATIONS`] random sets of as many units from the same pool) with a p-value below [`SITE_SELECTION_ALPHA`]
/// divided by the number of characteristics (Bonferroni), so that randomly sited pilots are flagged at most 5% of
/// the time. Missing values are skipped; a characteristic with no values on one side is reported as such.
pub fn site_selection(covariates: &[Covariate]) -> SiteSelection {
    let mut balances = Vec::new();
    let mut notes = Vec::new();
    let level = SITE_SELECTION_ALPHA / covariates.len().max(1) as f64;
    for (index, c) in covariates.iter().enumerate() {
        let a: Vec<f64> = c.adopters.iter().copied().filter(|x| x.is_finite()).collect();
        let o: Vec<f64> = c.others.iter().copied().filter(|x| x.is_finite()).collect();
        if a.is_empty() || o.is_empty() {
            notes.push(SiteNote::NoValues {
                name: c.name.clone(),
                adopters_missing: a.is_empty(),
            });
            continue;
        }
        let (ma, va) = mean_var(&a);
        let (mo, vo) = mean_var(&o);
        let pooled = ((va + vo) / 2.0).sqrt();
        let std_diff = if pooled > 0.0 {
            (ma - mo) / pooled
        } else if ma == mo {
            0.0
        } else {
            f64::INFINITY.copysign(ma - mo)
        };
        let p_value = permutation_p_value(&a, &o, index as u64);
        if std_diff.abs() > STD_DIFF_WARNING && p_value < level {
            notes.push(SiteNote::Differed {
                name: c.name.clone(),
                mean_adopters: ma,
                mean_others: mo,
                std_diff,
                p_value,
            });
        }
        balances.push(Balance {
            name: c.name.clone(),
            mean_adopters: ma,
            mean_others: mo,
            std_diff,
            p_value,
        });
    }
    SiteSelection {
        balances,
        warnings: notes.iter().map(SiteNote::english).collect(),
        notes,
    }
}

/// The permutation p-value of `|mean(adopters) − mean(others)|`: the share of random splits of the pooled values
/// (with the observed split counted once) whose difference is at least as large. Seeded, so a report is repeatable.
fn permutation_p_value(adopters: &[f64], others: &[f64], stream: u64) -> f64 {
    let mut pool: Vec<f64> = adopters.iter().chain(others).copied().collect();
    let (k, n) = (adopters.len(), pool.len());
    let total: f64 = pool.iter().sum();
    let gap = |sum_a: f64| (sum_a / k as f64 - (total - sum_a) / (n - k) as f64).abs();
    let observed = gap(adopters.iter().sum());
    // A relative tolerance, so that splits equal to the observed one up to rounding count as "as large".
    let threshold = observed - 1e-9 * observed.abs().max(1.0);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x517E_5E1E ^ stream);
    let mut as_large = 0_usize;
    for _ in 0..PERMUTATIONS {
        let (chosen, _) = pool.partial_shuffle(&mut rng, k);
        if gap(chosen.iter().sum()) >= threshold {
            as_large += 1;
        }
    }
    (1 + as_large) as f64 / (1 + PERMUTATIONS) as f64
}

/// Mean and sample variance (0 for a single value).
fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var)
}
