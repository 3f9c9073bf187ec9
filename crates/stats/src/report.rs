//! The evaluation report: the JSON shape of `grassroots evaluate --json`, the human
//! table, and the event-study chart (SVG, written by hand).

use crate::aggregate::{Aggregate, AggregationKind, AggregationOptions, aggregate};
use crate::att_gt::{AttGtConfig, AttGtResult, att_gt};
use crate::chart::{ChartLabels, EventStudy, EventStudyPoint};
use crate::error::StatsError;
use crate::panel::Panel;
use serde::Serialize;
use std::fmt::Write as _;

/// One ATT(g,t) in the report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AttGtRow {
    pub group: i64,
    pub time: i64,
    pub att: Option<f64>,
    pub se: Option<f64>,
}

/// An overall aggregated effect without breakdown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Overall {
    pub att: Option<f64>,
    pub se: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupRow {
    pub group: i64,
    pub att: Option<f64>,
    pub se: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventRow {
    pub event_time: i64,
    pub att: Option<f64>,
    pub se: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimeRow {
    pub time: i64,
    pub att: Option<f64>,
    pub se: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Breakdown<R> {
    pub att: Option<f64>,
    pub se: Option<f64>,
    pub by: Vec<R>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Aggregations {
    pub simple: Overall,
    pub group: Breakdown<GroupRow>,
    pub dynamic: Breakdown<EventRow>,
    pub calendar: Breakdown<TimeRow>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PretestRow {
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
}

/// Everything an evaluation reports. Serialises to exactly the JSON of issue 4.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub att_gt: Vec<AttGtRow>,
    pub aggregations: Aggregations,
    pub pretest: PretestRow,
    pub critical_value: f64,
    pub warnings: Vec<String>,
    /// Critical values of the group, dynamic and calendar bands (not in the JSON).
    #[serde(skip)]
    pub band_critical_values: [f64; 3],
    /// Significance level (not in the JSON).
    #[serde(skip)]
    pub alpha: f64,
    /// Whether standard errors come from the bootstrap (not in the JSON).
    #[serde(skip)]
    pub bootstrapped: bool,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Estimates ATT(g,t) and the four aggregations and assembles the report.
pub fn evaluate(panel: &Panel, config: &AttGtConfig, options: &AggregationOptions) -> Result<Report, StatsError> {
    let res = att_gt(panel, config)?;
    Report::from_result(&res, options)
}

impl Report {
    /// Aggregates an ATT(g,t) result into a report.
    pub fn from_result(res: &AttGtResult, options: &AggregationOptions) -> Result<Report, StatsError> {
        let simple = aggregate(res, AggregationKind::Simple, options)?;
        let group = aggregate(res, AggregationKind::Group, options)?;
        let dynamic = aggregate(res, AggregationKind::Dynamic, options)?;
        let calendar = aggregate(res, AggregationKind::Calendar, options)?;
        let mut warnings = res.warnings.clone();
        for a in [&simple, &group, &dynamic, &calendar] {
            for w in &a.warnings {
                if !warnings.contains(w) {
                    warnings.push(w.clone());
                }
            }
        }
        fn rows<R>(a: &Aggregate, f: impl Fn(i64, Option<f64>, Option<f64>) -> R) -> Breakdown<R> {
            Breakdown {
                att: finite(a.att),
                se: a.se,
                by: a.by.iter().map(|p| f(p.key, finite(p.att), p.se)).collect(),
            }
        }
        Ok(Report {
            att_gt: res
                .cells
                .iter()
                .map(|c| AttGtRow {
                    group: c.group,
                    time: c.time,
                    att: finite(c.att),
                    se: c.se,
                })
                .collect(),
            aggregations: Aggregations {
                simple: Overall {
                    att: finite(simple.att),
                    se: simple.se,
                },
                group: rows(&group, |group, att, se| GroupRow { group, att, se }),
                dynamic: rows(&dynamic, |event_time, att, se| EventRow { event_time, att, se }),
                calendar: rows(&calendar, |time, att, se| TimeRow { time, att, se }),
            },
            pretest: PretestRow {
                statistic: res.pretest.map(|p| p.statistic),
                p_value: res.pretest.map(|p| p.p_value),
            },
            critical_value: res.critical_value,
            warnings,
            band_critical_values: [group.critical_value, dynamic.critical_value, calendar.critical_value],
            alpha: res.config.alpha,
            bootstrapped: res.config.bootstrap.is_some(),
        })
    }

    /// The human-readable summary: ATT(g,t) table, aggregations, pre-test, warnings.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let num = |x: Option<f64>| x.map_or("NA".to_string(), |v| format!("{v:.4}"));
        let band = |att: Option<f64>, se: Option<f64>, c: f64| match (att, se) {
            (Some(a), Some(e)) => {
                let (lo, hi) = (a - c * e, a + c * e);
                let star = if lo > 0.0 || hi < 0.0 { "*" } else { "" };
                format!("[{lo:>8.4}, {hi:>8.4}] {star}")
            }
            _ => "NA".to_string(),
        };
        let level = 100.0 * (1.0 - self.alpha);
        let kind = if self.bootstrapped { "Simult." } else { "Pointwise" };
        let _ = writeln!(s, "Group-time average treatment effects:");
        let _ = writeln!(
            s,
            "{:>7} {:>7} {:>10} {:>10}  [{level}% {kind} Conf. Band]",
            "Group", "Time", "ATT(g,t)", "Std. Err."
        );
        for r in &self.att_gt {
            let _ = writeln!(
                s,
                "{:>7} {:>7} {:>10} {:>10}  {}",
                r.group,
                r.time,
                num(r.att),
                num(r.se),
                band(r.att, r.se, self.critical_value)
            );
        }
        let _ = writeln!(s, "---\nSignif. codes: `*' confidence band does not cover 0");
        let pw = crate::att_gt::normal_quantile(1.0 - self.alpha / 2.0);
        let agg = &self.aggregations;
        let _ = writeln!(s, "\nAggregated effects ({level}% conf. int.):");
        let _ = writeln!(s, "{:>10} {:>10} {:>10}", "", "ATT", "Std. Err.");
        for (name, att, se) in [
            ("simple", agg.simple.att, agg.simple.se),
            ("group", agg.group.att, agg.group.se),
            ("dynamic", agg.dynamic.att, agg.dynamic.se),
            ("calendar", agg.calendar.att, agg.calendar.se),
        ] {
            let _ = writeln!(s, "{name:>10} {:>10} {:>10}  {}", num(att), num(se), band(att, se, pw));
        }
        let [cg, cd, cc] = self.band_critical_values;
        let _ = writeln!(s, "\nBy group:");
        for r in &agg.group.by {
            let _ = writeln!(
                s,
                "{:>10} {:>10} {:>10}  {}",
                r.group,
                num(r.att),
                num(r.se),
                band(r.att, r.se, cg)
            );
        }
        let _ = writeln!(s, "\nEvent study (dynamic):");
        for r in &agg.dynamic.by {
            let _ = writeln!(
                s,
                "{:>10} {:>10} {:>10}  {}",
                r.event_time,
                num(r.att),
                num(r.se),
                band(r.att, r.se, cd)
            );
        }
        let _ = writeln!(s, "\nBy calendar period:");
        for r in &agg.calendar.by {
            let _ = writeln!(
                s,
                "{:>10} {:>10} {:>10}  {}",
                r.time,
                num(r.att),
                num(r.se),
                band(r.att, r.se, cc)
            );
        }
        match (self.pretest.statistic, self.pretest.p_value) {
            (Some(w), Some(p)) => {
                let _ = writeln!(
                    s,
                    "\nP-value for pre-test of parallel trends assumption: {p:.5} (Wald statistic {w:.4})"
                );
            }
            _ => {
                let _ = writeln!(s, "\nPre-test of parallel trends: not available");
            }
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(s, "\nWarnings:");
            for w in &self.warnings {
                let _ = writeln!(s, "- {w}");
            }
        }
        s
    }

    /// The event study of the dynamic aggregation: ATT by event time with its standard errors and the critical values
    /// of the pointwise intervals and of the uniform band; [`EventStudy::svg`] draws it.
    pub fn event_study(&self) -> EventStudy {
        EventStudy {
            points: self
                .aggregations
                .dynamic
                .by
                .iter()
                .filter_map(|r| {
                    Some(EventStudyPoint {
                        event_time: r.event_time,
                        att: r.att?,
                        se: r.se?,
                    })
                })
                .collect(),
            pointwise_c: crate::att_gt::normal_quantile(1.0 - self.alpha / 2.0),
            uniform_c: self.band_critical_values[1],
            alpha: self.alpha,
        }
    }

    /// The event-study chart (SVG) with English words, as `grassroots evaluate --plot` writes it.
    pub fn event_study_svg(&self) -> String {
        self.event_study().svg(&ChartLabels::english())
    }
}
