//! The outcomes a pilot is evaluated on, per unit and month: the rates of [`crate::rates`] (the same definitions as
//! the monthly report, on the clocks in force for each case), the overdue share, the median days to close and the
//! repeat-petition rate.

use crate::case::CaseKind;
use crate::rates::{CaseSummary, RateFigures, RateWeights};
use crate::territory::UnitCode;

use super::Outcome;

const DAY: f64 = 86_400.0;

/// How far back a petition on the same category makes a new one a repeat.
const REPEAT_WINDOW_DAYS: f64 = 90.0;

/// A case as a pilot's evaluation panel sees it: when it arose and closed, and its summary by [`crate::rates`].
#[derive(Debug, Clone, PartialEq)]
pub struct PanelCase {
    pub kind: CaseKind,
    pub category: String,
    /// Epoch seconds.
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub summary: CaseSummary,
}

impl PanelCase {
    /// The unit where the matter arose.
    pub fn unit(&self) -> &UnitCode {
        &self.summary.unit
    }
}

/// The value of `outcome` over the cases of one unit and month; `None` when it is undefined (no case decides it:
/// nothing closed, nothing rated, no answer, no petition).
///
/// - the response, resolution and satisfaction rates are those of [`RateFigures`];
/// - the overdue share is the share of cases with a clock missed ([`CaseSummary::overdue`]);
/// - the median days to close is over the cases closed;
/// - a repeat petition is a petition on a category that the same unit petitioned about in the previous 90 days
///   (`history` holds every case of the unit).
pub fn outcome_value(
    outcome: Outcome,
    cases: &[&PanelCase],
    history: &[&PanelCase],
    weights: &RateWeights,
) -> Option<f64> {
    let share = |hits: usize, n: usize| (n > 0).then(|| hits as f64 / n as f64);
    let figures = || RateFigures::of(cases.iter().map(|c| &c.summary), weights);
    match outcome {
        Outcome::MedianDaysToClose => {
            let mut days: Vec<f64> = cases
                .iter()
                .filter_map(|c| c.closed_at.map(|t| (t - c.created_at) as f64 / DAY))
                .collect();
            if days.is_empty() {
                return None;
            }
            days.sort_by(f64::total_cmp);
            let n = days.len();
            Some(if n % 2 == 1 {
                days[n / 2]
            } else {
                (days[n / 2 - 1] + days[n / 2]) / 2.0
            })
        }
        Outcome::OverdueShare => share(cases.iter().filter(|c| c.summary.overdue).count(), cases.len()),
        Outcome::SatisfactionRate => figures().satisfaction_rate,
        Outcome::ResponseRate => figures().response_rate,
        Outcome::ResolutionRate => figures().resolution_rate,
        Outcome::RepeatPetitionRate => {
            let petitions: Vec<&&PanelCase> = cases.iter().filter(|c| c.kind == CaseKind::Petition).collect();
            let repeats = petitions
                .iter()
                .filter(|p| {
                    history.iter().any(|h| {
                        h.kind == CaseKind::Petition
                            && h.category == p.category
                            && h.created_at < p.created_at
                            && (p.created_at - h.created_at) as f64 <= REPEAT_WINDOW_DAYS * DAY
                    })
                })
                .count();
            share(repeats, petitions.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Rating;
    use crate::rates::YearMonth;

    fn case(on_time: Option<bool>, resolved: Option<bool>, rating: Option<Rating>, overdue: bool) -> PanelCase {
        PanelCase {
            kind: CaseKind::Complaint,
            category: "noise".into(),
            created_at: 0,
            closed_at: Some(3 * 86_400),
            summary: CaseSummary {
                case: 1,
                unit: UnitCode::parse("330502001").expect("code"),
                office: "330502001:gov".into(),
                month: YearMonth { year: 2025, month: 3 },
                responded_on_time: on_time,
                replied: true,
                resolved,
                rating,
                overdue,
            },
        }
    }

    #[test]
    fn outcomes_use_the_definitions_of_the_rates() {
        let cases = [
            case(Some(true), Some(true), Some(Rating::Satisfied), false),
            case(Some(false), None, None, true),
            case(None, Some(false), Some(Rating::Unsatisfied), false),
        ];
        let refs: Vec<&PanelCase> = cases.iter().collect();
        let value = |o| outcome_value(o, &refs, &refs, &RateWeights::default());
        // Response: one of the two decided first clocks met.
        assert_eq!(value(Outcome::ResponseRate), Some(0.5));
        // Resolution: of the two answered cases, one resolved; the unanswered case is unknown, not resolved.
        assert_eq!(value(Outcome::ResolutionRate), Some(0.5));
        assert_eq!(value(Outcome::SatisfactionRate), Some(0.5));
        assert_eq!(value(Outcome::OverdueShare), Some(1.0 / 3.0));
        assert_eq!(value(Outcome::MedianDaysToClose), Some(3.0));
        assert_eq!(value(Outcome::RepeatPetitionRate), None);
        // No case answered: resolution is undefined, not 0 or 1.
        let silent = [case(Some(true), None, None, false)];
        let refs: Vec<&PanelCase> = silent.iter().collect();
        assert_eq!(
            outcome_value(Outcome::ResolutionRate, &refs, &refs, &RateWeights::default()),
            None
        );
    }
}
