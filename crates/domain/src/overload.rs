//! The overload alert (issue 14, part 1): when the open cases per worker of an office, or the open cases of one staff
//! member, pass the threshold policy sets (`staffing.overload_open_cases_per_worker`), the office and its heads hear
//! of it in their alert inbox.
//!
//! Pure: the caller counts the open cases (each log as it stands) and the workers on record, and passes the
//! threshold in force for the office's unit; this module only decides who is overloaded and who is told.

use serde::Serialize;

use crate::office::{Directory, OfficeId};
use crate::policy::Folded;

/// The policy key of the threshold.
pub const THRESHOLD_KEY: &str = "staffing.overload_open_cases_per_worker";

/// The threshold in force: a worker carrying more open cases than this is overloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OverloadRule {
    pub open_cases_per_worker: u32,
}

/// Why a threshold in a policy layer cannot be used, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy key `{key}`: {message}")]
pub struct BadThreshold {
    pub key: &'static str,
    pub message: String,
}

impl OverloadRule {
    /// The national default where no layer sets the key: forty open cases for one worker is about two months of a
    /// township caseworker's arrivals, well past what the 60-day handling limit lets one person clear.
    pub const NATIONAL: OverloadRule = OverloadRule {
        open_cases_per_worker: 40,
    };

    /// The rule for the unit whose effective policy is `policy`: its key over the national default. A threshold
    /// outside 1..=10 000 is refused naming the key (zero would alert on every case).
    pub fn in_force(policy: &Folded) -> Result<OverloadRule, BadThreshold> {
        let Some(value) = policy.value(THRESHOLD_KEY) else {
            return Ok(OverloadRule::NATIONAL);
        };
        let open_cases_per_worker =
            value
                .as_integer()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| BadThreshold {
                    key: THRESHOLD_KEY,
                    message: format!("{value} is not a number of open cases in 1..=10000"),
                })?;
        Ok(OverloadRule {
            open_cases_per_worker: open_cases_per_worker as u32,
        })
    }
}

/// Who carries a load: an office (its open cases shared among its workers on record) or one staff member (the cases
/// last assigned to them, named with their office: `330502001:gov/caseworker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    Office,
    Staff,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Office => "office",
            Subject::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<Subject> {
        match s {
            "office" => Some(Subject::Office),
            "staff" => Some(Subject::Staff),
            _ => None,
        }
    }
}

/// The open cases one office or staff member holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Load {
    pub subject: Subject,
    /// The office id, or the staff member's id.
    pub id: String,
    /// The office that holds the cases (the staff member's office).
    pub office: OfficeId,
    pub open_cases: u32,
    /// Workers sharing the cases: the office's staff on record (at least one), or 1 for a staff member.
    pub workers: u32,
}

/// An overload found: the load, the threshold it passed, and who is told.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overload {
    pub subject: Subject,
    pub id: String,
    pub office: String,
    pub open_cases: u32,
    pub workers: u32,
    /// Open cases per worker, the figure compared with the threshold.
    pub per_worker: f64,
    pub threshold: u32,
    /// The office itself and its heads (staff ids): the addressees of its alert inbox.
    pub notified: Vec<String>,
}

/// The loads above their threshold (`threshold_of` gives the rule in force for an office's unit), with the office
/// and its heads as addressees, in the order given. "Above" is strict: exactly the threshold is a full load, not an
/// overload.
pub fn overloads(
    loads: &[Load],
    directory: &Directory,
    mut threshold_of: impl FnMut(&OfficeId) -> OverloadRule,
) -> Vec<Overload> {
    loads
        .iter()
        .filter_map(|load| {
            let threshold = threshold_of(&load.office).open_cases_per_worker;
            let workers = load.workers.max(1);
            let per_worker = f64::from(load.open_cases) / f64::from(workers);
            if per_worker <= f64::from(threshold) {
                return None;
            }
            let mut notified = vec![load.office.to_string()];
            notified.extend(directory.heads(&load.office).into_iter().map(str::to_string));
            Some(Overload {
                subject: load.subject,
                id: load.id.clone(),
                office: load.office.to_string(),
                open_cases: load.open_cases,
                workers,
                per_worker,
                threshold,
                notified,
            })
        })
        .collect()
}

/// The workers on record of an office: every staff member the directory places in it.
pub fn workers_of(directory: &Directory, office: &OfficeId) -> u32 {
    directory.staff.iter().filter(|s| &s.office == office).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{LayerVersion, PolicyBook};
    use crate::territory::UnitCode;

    fn office(s: &str) -> OfficeId {
        OfficeId::parse(s).expect("valid office id")
    }

    fn directory() -> Directory {
        let mut dir = Directory::default();
        for (id, role) in [
            ("330502001:gov/head", crate::office::Role::Head),
            ("330502001:gov/caseworker", crate::office::Role::Caseworker),
        ] {
            dir.staff.push(crate::office::Staff {
                id: id.to_string(),
                name: id.to_string(),
                office: office("330502001:gov"),
                roles: vec![role],
                auxiliary: false,
            });
        }
        dir
    }

    fn load(subject: Subject, id: &str, open_cases: u32, workers: u32) -> Load {
        Load {
            subject,
            id: id.to_string(),
            office: office("330502001:gov"),
            open_cases,
            workers,
        }
    }

    fn check(loads: &[Load], threshold: u32, expected: &[(&str, f64)]) {
        let found = overloads(loads, &directory(), |_| OverloadRule {
            open_cases_per_worker: threshold,
        });
        let got: Vec<(&str, f64)> = found.iter().map(|o| (o.id.as_str(), o.per_worker)).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn an_office_is_overloaded_per_worker_and_a_staff_member_alone() {
        let loads = [
            load(Subject::Office, "330502001:gov", 81, 2),
            load(Subject::Staff, "330502001:gov/caseworker", 41, 1),
            load(Subject::Staff, "330502001:gov/head", 40, 1),
        ];
        check(
            &loads,
            40,
            &[("330502001:gov", 40.5), ("330502001:gov/caseworker", 41.0)],
        );
        check(&loads, 41, &[]);
    }

    #[test]
    fn the_alert_goes_to_the_office_and_its_heads() {
        let found = overloads(
            &[load(Subject::Staff, "330502001:gov/caseworker", 5, 1)],
            &directory(),
            |_| OverloadRule {
                open_cases_per_worker: 4,
            },
        );
        assert_eq!(found[0].notified, ["330502001:gov", "330502001:gov/head"]);
        assert_eq!(found[0].threshold, 4);
    }

    #[test]
    fn an_office_without_workers_on_record_counts_as_one() {
        check(
            &[load(Subject::Office, "330502001:gov", 3, 0)],
            2,
            &[("330502001:gov", 3.0)],
        );
    }

    #[test]
    fn the_threshold_is_the_policy_key_over_the_national_default() {
        let unit = UnitCode::parse("3305").expect("unit");
        let date = time::macros::date!(2026 - 01 - 01);
        let mut book = PolicyBook::new();
        assert_eq!(
            OverloadRule::in_force(&book.effective(&unit, date)),
            Ok(OverloadRule::NATIONAL)
        );
        let layer = |body: &str| LayerVersion::parse(&unit, "3305.toml", body, Some(date)).expect("layer parses");
        book.save(layer("staffing.overload_open_cases_per_worker = 25"))
            .expect("saved");
        assert_eq!(
            OverloadRule::in_force(&book.effective(&unit, date)).map(|r| r.open_cases_per_worker),
            Ok(25)
        );
        // Zero would alert on every case: refused when the layer is saved, naming the key.
        let err = PolicyBook::new()
            .save(layer("staffing.overload_open_cases_per_worker = 0"))
            .expect_err("zero refused");
        assert!(err.to_string().contains(THRESHOLD_KEY), "{err}");
    }

    #[test]
    fn a_guardrail_bounds_the_threshold_like_any_numeric_key() {
        let province = UnitCode::parse("33").expect("unit");
        let city = UnitCode::parse("3305").expect("unit");
        let date = time::macros::date!(2026 - 01 - 01);
        let mut book = PolicyBook::new();
        book.save(
            LayerVersion::parse(
                &province,
                "33.toml",
                "[[guardrail]]\nid = \"overload-ceiling\"\nkey = \"staffing.overload_open_cases_per_worker\"\nmax = 60\n",
                Some(date),
            )
            .expect("layer parses"),
        )
        .expect("saved");
        let err = book
            .save(
                LayerVersion::parse(
                    &city,
                    "3305.toml",
                    "staffing.overload_open_cases_per_worker = 90",
                    Some(date),
                )
                .expect("layer parses"),
            )
            .expect_err("above the ceiling");
        assert!(err.to_string().contains("overload-ceiling"), "{err}");
    }
}
