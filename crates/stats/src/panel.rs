//! The input panel (long format, one row per unit and period) and its checks.
//!
//! `Panel::new` only checks shapes; [`Prepared::new`] applies the rules of R's
//! `did::pre_process_did` (and csdid 0.4.3's port of it): balance, absorbing
//! treatment, recoding of groups treated after the last period as never treated,
//! dropping units treated in the first period, and the small-group warning.

use crate::error::{StatsError, list_units};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// A long panel built from column vectors of equal length.
#[derive(Debug, Clone)]
pub struct Panel {
    pub(crate) unit: Vec<i64>,
    pub(crate) time: Vec<i64>,
    pub(crate) group: Vec<i64>,
    pub(crate) outcome: Vec<f64>,
    pub(crate) covariates: Vec<(String, Vec<f64>)>,
    pub(crate) cluster: Option<(String, Vec<i64>)>,
    pub(crate) names: ColumnNames,
}

/// Column names used in messages (the CLI passes the CSV header names).
#[derive(Debug, Clone)]
pub struct ColumnNames {
    pub unit: String,
    pub time: String,
    pub group: String,
    pub outcome: String,
}

impl Default for ColumnNames {
    fn default() -> Self {
        ColumnNames {
            unit: "unit".into(),
            time: "time".into(),
            group: "group".into(),
            outcome: "outcome".into(),
        }
    }
}

impl Panel {
    /// Builds a panel from unit ids, periods, groups (first treated period, 0 = never
    /// treated) and the outcome. All columns must have the same length.
    pub fn new(unit: Vec<i64>, time: Vec<i64>, group: Vec<i64>, outcome: Vec<f64>) -> Result<Panel, StatsError> {
        let names = ColumnNames::default();
        let expected = unit.len();
        for (column, found) in [
            (&names.time, time.len()),
            (&names.group, group.len()),
            (&names.outcome, outcome.len()),
        ] {
            if found != expected {
                return Err(StatsError::LengthMismatch {
                    column: column.clone(),
                    expected,
                    found,
                });
            }
        }
        if expected == 0 {
            return Err(StatsError::Empty);
        }
        Ok(Panel {
            unit,
            time,
            group,
            outcome,
            covariates: Vec::new(),
            cluster: None,
            names,
        })
    }

    /// Renames the columns for error messages.
    pub fn with_names(mut self, names: ColumnNames) -> Panel {
        self.names = names;
        self
    }

    /// Adds a covariate column (the value of each row's unit in that period).
    pub fn with_covariate(mut self, name: impl Into<String>, values: Vec<f64>) -> Result<Panel, StatsError> {
        let name = name.into();
        if values.len() != self.unit.len() {
            return Err(StatsError::LengthMismatch {
                column: name,
                expected: self.unit.len(),
                found: values.len(),
            });
        }
        self.covariates.push((name, values));
        Ok(self)
    }

    /// Adds a time-invariant cluster variable coarser than the unit.
    pub fn with_cluster(mut self, name: impl Into<String>, values: Vec<i64>) -> Result<Panel, StatsError> {
        let name = name.into();
        if values.len() != self.unit.len() {
            return Err(StatsError::LengthMismatch {
                column: name,
                expected: self.unit.len(),
                found: values.len(),
            });
        }
        self.cluster = Some((name, values));
        Ok(self)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.unit.len()
    }

    /// Whether the panel has no rows (never true for a constructed panel).
    pub fn is_empty(&self) -> bool {
        self.unit.is_empty()
    }
}

/// A balanced panel in wide, period-major layout, ready for estimation.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// Sorted unit ids (row order of every influence function).
    pub units: Vec<i64>,
    /// Sorted periods.
    pub periods: Vec<i64>,
    /// Group of each unit after recoding (0 = never treated / comparison only).
    pub unit_group: Vec<i64>,
    /// Groups for which ATT(g,t) is estimated, ascending.
    pub groups: Vec<i64>,
    /// Outcome, `y[p * n + i]`.
    pub y: Vec<f64>,
    /// Covariates, each `x[p * n + i]`.
    pub x: Vec<Vec<f64>>,
    /// Cluster index (0-based) per unit, if clustering beyond the unit.
    pub cluster: Option<Vec<usize>>,
    pub warnings: Vec<String>,
}

impl Prepared {
    pub fn n(&self) -> usize {
        self.units.len()
    }

    pub fn new(
        panel: &Panel,
        covariates: &[String],
        control_never: bool,
        anticipation: i64,
        allow_unbalanced: bool,
    ) -> Result<Prepared, StatsError> {
        let names = &panel.names;
        let mut warnings = Vec::new();
        let rows = panel.len();

        // Select covariate columns by name.
        let mut cov_cols: Vec<(&String, &Vec<f64>)> = Vec::new();
        for name in covariates {
            let col = panel
                .covariates
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| StatsError::UnknownCovariate { column: name.clone() })?;
            cov_cols.push((&col.0, &col.1));
        }

        // Missing values, reported per column with the units at fault.
        let check_finite = |column: &String, values: &[f64]| -> Result<(), StatsError> {
            let bad: BTreeSet<i64> = values
                .iter()
                .zip(&panel.unit)
                .filter(|(v, _)| !v.is_finite())
                .map(|(_, u)| *u)
                .collect();
            if bad.is_empty() {
                Ok(())
            } else {
                Err(StatsError::MissingValues {
                    column: column.clone(),
                    units: bad.into_iter().collect(),
                })
            }
        };
        let checked: Vec<Result<(), StatsError>> = std::iter::once((&names.outcome, &panel.outcome))
            .chain(cov_cols.iter().copied())
            .collect::<Vec<_>>()
            .par_iter()
            .map(|&(name, values)| check_finite(name, values))
            .collect();
        checked.into_iter().collect::<Result<(), StatsError>>()?;

        // Units and periods.
        let (units, periods) = rayon::join(|| distinct_sorted(&panel.unit), || distinct_sorted(&panel.time));
        let n_all = units.len();
        let t_all = periods.len();
        let unit_index = |u: i64| units.binary_search(&u).unwrap_or(0);
        let period_index = |t: i64| periods.binary_search(&t).unwrap_or(0);

        // Place every row; detect duplicates and gaps.
        let mut row_of = vec![usize::MAX; n_all * t_all];
        let mut duplicates = BTreeSet::new();
        let mut first_group = vec![i64::MIN; n_all];
        let mut switching = BTreeSet::new();
        // Rows of a unit are usually adjacent: reuse the last lookup (and the next
        // period index) before searching.
        let (mut last_unit, mut last_i) = (None, 0);
        let mut next_p = 0;
        for r in 0..rows {
            let u = panel.unit[r];
            let i = if last_unit == Some(u) {
                last_i
            } else {
                last_i = unit_index(u);
                last_unit = Some(u);
                last_i
            };
            let t = panel.time[r];
            let p = if periods.get(next_p) == Some(&t) {
                next_p
            } else {
                period_index(t)
            };
            next_p = p + 1;
            let slot = &mut row_of[p * n_all + i];
            if *slot != usize::MAX {
                duplicates.insert(panel.unit[r]);
            }
            *slot = r;
            if first_group[i] == i64::MIN {
                first_group[i] = panel.group[r];
            } else if first_group[i] != panel.group[r] {
                switching.insert(panel.unit[r]);
            }
        }
        if !duplicates.is_empty() {
            return Err(StatsError::DuplicateObservation {
                units: duplicates.into_iter().collect(),
            });
        }
        if !switching.is_empty() {
            return Err(StatsError::TreatmentNotAbsorbing {
                column: names.group.clone(),
                units: switching.into_iter().collect(),
            });
        }
        // Period by period, so that `row_of` is read in order.
        let mut complete = vec![true; n_all];
        for period in row_of.chunks(n_all.max(1)) {
            for (ok, &r) in complete.iter_mut().zip(period) {
                *ok &= r != usize::MAX;
            }
        }
        let incomplete: Vec<usize> = (0..n_all).filter(|&i| !complete[i]).collect();
        let mut keep_unit = vec![true; n_all];
        if !incomplete.is_empty() {
            let ids: Vec<i64> = incomplete.iter().map(|&i| units[i]).collect();
            if !allow_unbalanced {
                return Err(StatsError::Unbalanced {
                    units: ids,
                    periods: t_all,
                });
            }
            // did/csdid with panel=TRUE and allow_unbalanced_panel=FALSE balance the
            // panel by dropping incomplete units; we do the same when allowed.
            warnings.push(format!(
                "Dropped {} units while converting to balanced panel: {}.",
                ids.len(),
                list_units(&ids)
            ));
            for &i in &incomplete {
                keep_unit[i] = false;
            }
        }

        // Cluster variable must be time-invariant within unit.
        if let Some((cname, cvals)) = &panel.cluster {
            let mut first = vec![i64::MIN; n_all];
            let mut bad = BTreeSet::new();
            for (&u, &c) in panel.unit.iter().zip(cvals) {
                let i = unit_index(u);
                if first[i] == i64::MIN {
                    first[i] = c;
                } else if first[i] != c {
                    bad.insert(u);
                }
            }
            if !bad.is_empty() {
                return Err(StatsError::ClusterNotTimeInvariant {
                    column: cname.clone(),
                    units: bad.into_iter().collect(),
                });
            }
        }

        // Group values: negative, or inside the period range but not a period.
        let max_t = *periods.last().unwrap_or(&0);
        let min_t = *periods.first().unwrap_or(&0);
        let mut not_period: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for i in 0..n_all {
            let g = first_group[i];
            let bad = g < 0 || (g > 0 && g >= min_t && g <= max_t && periods.binary_search(&g).is_err());
            if bad {
                not_period.entry(g).or_default().push(units[i]);
            }
        }
        if let Some((value, ids)) = not_period.into_iter().next() {
            return Err(StatsError::GroupNotAPeriod {
                column: names.group.clone(),
                value,
                units: ids,
            });
        }

        // Groups first treated after the last period (plus anticipation) are, for
        // the purpose of estimation, never treated (as in did).
        let mut unit_group: Vec<i64> = first_group.clone();
        let mut recoded = 0usize;
        for g in unit_group.iter_mut() {
            if *g > max_t + anticipation {
                *g = 0;
                recoded += 1;
            }
        }
        if recoded > 0 {
            warnings.push(format!(
                "{recoded} units first treated after the last period are treated as never treated."
            ));
        }

        // Periods retained (the no-never-treated rule may cut late periods).
        let mut keep_period = vec![true; t_all];
        let mut comparison_only: Option<i64> = None;
        let has_never = (0..n_all).any(|i| keep_unit[i] && unit_group[i] == 0);
        if !has_never {
            let latest = (0..n_all)
                .filter(|&i| keep_unit[i])
                .map(|i| unit_group[i])
                .max()
                .unwrap_or(0);
            let cutoff = latest - anticipation;
            for (p, &t) in periods.iter().enumerate() {
                keep_period[p] = t < cutoff;
            }
            if control_never {
                warnings.push("No never-treated group is available. The last treated cohort is being coerced as 'never-treated' units, and data from periods at/after that cohort is being filtered out (no available comparison groups).".into());
                for g in unit_group.iter_mut() {
                    if *g == latest {
                        *g = 0;
                    }
                }
            } else {
                warnings.push(format!("No never-treated group is available. Cohort {latest} is used only as a comparison group, and data from periods at/after it is being filtered out."));
                comparison_only = Some(latest);
            }
        }
        let kept_periods: Vec<usize> = (0..t_all).filter(|&p| keep_period[p]).collect();
        if kept_periods.len() < 2 {
            return Err(StatsError::NoValidGroups {
                reason: "fewer than two periods remain".into(),
            });
        }
        let first_period = periods[kept_periods[0]];

        // Units treated in the first period (accounting for anticipation) have no
        // pre-treatment period: did drops them with a warning.
        let mut already = Vec::new();
        for i in 0..n_all {
            if keep_unit[i] && unit_group[i] != 0 && unit_group[i] <= first_period + anticipation {
                keep_unit[i] = false;
                already.push(units[i]);
            }
        }
        if !already.is_empty() {
            let anti = if anticipation > 0 {
                format!(" (accounting for anticipation = {anticipation})")
            } else {
                String::new()
            };
            warnings.push(format!(
                "Dropped {} units that were already treated in the first period{anti}.",
                already.len()
            ));
        }

        let kept_units: Vec<usize> = (0..n_all).filter(|&i| keep_unit[i]).collect();
        let n = kept_units.len();
        if n == 0 {
            return Err(StatsError::NoValidGroups {
                reason: "no units remain".into(),
            });
        }
        let out_units: Vec<i64> = kept_units.iter().map(|&i| units[i]).collect();
        let out_group: Vec<i64> = kept_units.iter().map(|&i| unit_group[i]).collect();
        let out_periods: Vec<i64> = kept_periods.iter().map(|&p| periods[p]).collect();
        let tn = out_periods.len();

        // Wide, period-major copies. Runs of units at a time, so that the rows read (a
        // unit's periods are usually adjacent) stay in cache across the periods.
        let gather = |values: &[f64]| -> Vec<f64> {
            let mut out = vec![0.0; n * tn];
            for (run, units) in kept_units.chunks(256).enumerate() {
                for (q, &p) in kept_periods.iter().enumerate() {
                    let dst = &mut out[q * n + run * 256..][..units.len()];
                    let rows = &row_of[p * n_all..(p + 1) * n_all];
                    for (d, &i) in dst.iter_mut().zip(units) {
                        *d = values[rows[i]];
                    }
                }
            }
            out
        };
        let (y, x) = rayon::join(
            || gather(&panel.outcome),
            || cov_cols.par_iter().map(|(_, v)| gather(v)).collect::<Vec<Vec<f64>>>(),
        );

        // Covariate checks on the retained sample: constant, then collinear.
        for (k, (name, _)) in cov_cols.iter().enumerate() {
            let first = x[k][0];
            if x[k].iter().all(|&v| v == first) {
                return Err(StatsError::ConstantCovariate {
                    column: (*name).clone(),
                });
            }
        }
        if let Some(k) = crate::linalg::first_dependent_column(&x) {
            return Err(StatsError::CollinearCovariate {
                column: cov_cols[k].0.clone(),
            });
        }

        let cluster = panel.cluster.as_ref().map(|(_, cvals)| {
            let p0 = kept_periods[0];
            let labels: Vec<i64> = kept_units.iter().map(|&i| cvals[row_of[p0 * n_all + i]]).collect();
            let mut uniq = labels.clone();
            uniq.sort_unstable();
            uniq.dedup();
            labels.iter().map(|l| uniq.binary_search(l).unwrap_or(0)).collect()
        });

        let mut groups: Vec<i64> = out_group.iter().copied().filter(|&g| g > 0).collect();
        groups.sort_unstable();
        groups.dedup();
        groups.retain(|&g| g > first_period + anticipation);
        if let Some(latest) = comparison_only {
            groups.retain(|&g| g < latest);
        }
        if groups.is_empty() {
            return Err(StatsError::NoValidGroups {
                reason: format!(
                    "column `{}` should hold the first treated period (0 if never treated)",
                    names.group
                ),
            });
        }

        // did's small-group warning: groups with fewer units than covariates + 5.
        let required = covariates.len() + 5;
        let mut sizes: BTreeMap<i64, usize> = BTreeMap::new();
        for &g in &out_group {
            *sizes.entry(g).or_default() += 1;
        }
        let small: Vec<String> = sizes
            .iter()
            .filter(|&(_, &c)| c < required)
            .map(|(g, _)| g.to_string())
            .collect();
        if !small.is_empty() {
            warnings.push(format!(
                "Be aware that there are some small groups in your dataset. Check groups: {}.",
                small.join(",")
            ));
            if control_never && sizes.get(&0).is_some_and(|&c| c < required) {
                return Err(StatsError::NeverTreatedTooSmall {
                    size: sizes.get(&0).copied().unwrap_or(0),
                });
            }
        }

        Ok(Prepared {
            units: out_units,
            periods: out_periods,
            unit_group: out_group,
            groups,
            y,
            x,
            cluster,
            warnings,
        })
    }
}

/// The distinct values of `values`, ascending. Panels usually come sorted by unit (one
/// run per unit) and cycle through a few periods, so each value is first compared with
/// the one that followed the previous value among those seen, then looked up, and only
/// many values far out of order make it sort everything.
fn distinct_sorted(values: &[i64]) -> Vec<i64> {
    let mut seen: Vec<i64> = Vec::new();
    // Index in `seen` of the previous value.
    let mut at = 0;
    for &v in values {
        if seen.get(at) == Some(&v) {
            continue;
        }
        if seen.get(at + 1) == Some(&v) {
            at += 1;
            continue;
        }
        match seen.binary_search(&v) {
            Ok(found) => at = found,
            Err(slot) if slot == seen.len() || seen.len() <= 64 || slot + 64 >= seen.len() => {
                seen.insert(slot, v);
                at = slot;
            }
            Err(_) => {
                let mut all = values.to_vec();
                all.sort_unstable();
                all.dedup();
                return all;
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::distinct_sorted;

    #[test]
    fn distinct_values_in_any_order() {
        let long: Vec<i64> = (0..500).map(|i| (i * 7919) % 211).collect();
        for values in [
            vec![],
            vec![3, 3, 1, 2, 2, 5, 1],
            vec![1, 1, 2, 2, 3, 3],
            (0..300).rev().collect(),
            long,
        ] {
            let mut expected = values.clone();
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(distinct_sorted(&values), expected, "{values:?}");
        }
    }
}
