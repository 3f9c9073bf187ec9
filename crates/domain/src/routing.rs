//! Routing: which office is competent for a case, at the lowest level that can resolve it.
//!
//! The 2022 Regulations on Letters and Visits Work ask that matters be resolved where they arise ("small matters do
//! not leave the village, big matters do not leave the township", Art. 15) under "属地管理、分级负责，谁主管、谁负责":
//! the territory where the matter arises, at the level whose office is responsible for its subject. A
//! [`RoutingTable`] states that per category (a TOML file, so a deployment or a policy layer can override it; the
//! default is `data/routing.toml`).
//!
//! Two rules keep a case from bouncing between offices. **First-receiver responsibility**: the office a case is
//! dispatched to keeps it unless it disputes the dispatch within 5 working days (Art. 23 §3; checked by
//! [`crate::rules::check`]), and then the dispatcher re-routes it ([`RoutingTable::reroute`]). **Return to the lower
//! office**: a higher office that receives a matter already accepted below, while the lower office is still within its
//! limit, records it and returns it (Art. 19; [`return_to_lower`]).
//!
//! The table is also **the catalogue** of case categories ([`RoutingTable::categories`]): intake refuses a category
//! the table in force does not know, whichever interface the case comes through, and Open311 offers the same list as
//! its services. The simulator draws its cases from it too.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::calendar::Calendar;
use crate::case::{CaseEvent, CaseId, CaseKind, CaseStatus, EventKind};
use crate::clock::{self, ClockConfig, Urgency};
use crate::office::{Directory, GOVERNMENT, OfficeId, VILLAGE_COMMITTEE};
use crate::questions::{self, AnswerError, Question};
use crate::rules::ART_19;
use crate::territory::{Level, UnitCode};

/// The default routing table shipped with grassroots.
pub const DEFAULT_ROUTING_TOML: &str = include_str!("data/routing.toml");

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RoutingError {
    #[error("routing table is not valid: {0}")]
    Toml(String),
    #[error(
        "routing table: category {category:?} is routed to level {level}, but only village, township and county offices handle cases"
    )]
    BadLevel { category: String, level: Level },
    #[error("routing table: category {0:?} has two routes")]
    Duplicate(String),
    #[error("routing table: {0}")]
    BadQuestion(String),
    #[error("unknown category {category:?}: the catalogue has {count} categories, such as {examples}")]
    UnknownCategory {
        category: String,
        /// How many categories the catalogue has.
        count: usize,
        /// A few of them, those nearest the name given first.
        examples: String,
    },
    #[error("cannot route category {category:?} from {location}: {reason}")]
    Unroutable {
        category: String,
        location: UnitCode,
        reason: String,
    },
}

impl RoutingError {
    /// The refusal a filer sees, as a message each interface words in its language; a broken routing table is the
    /// deployment's fault, not the filer's, and is shown as it is.
    pub fn said(&self) -> crate::said::Said {
        use crate::said::{Said, name};
        match self {
            RoutingError::UnknownCategory {
                category,
                count,
                examples,
            } => crate::said!(
                "routing-unknown-category",
                "unknown category {category}: the catalogue has {count} categories, such as {examples}",
                category = format!("{category:?}"),
                count = *count,
                examples = examples,
            ),
            RoutingError::Unroutable {
                category,
                location,
                reason,
            } => crate::said!(
                "routing-unroutable",
                "cannot route category {category} from {location}: {reason}",
                category = name("category", category),
                location = location.to_string(),
                reason = reason,
            ),
            other => Said::verbatim(other.to_string()),
        }
    }
}

/// An office key at a level, resolved against the unit of a case's location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelOffice {
    pub level: Level,
    pub office: String,
}

/// One line of the table: a category is handled by the office `office` of the `level` unit containing the location;
/// when `kinds` is not empty, only cases of those kinds (a policy sends land *petitions* to the county's natural
/// resources bureau and land *complaints* to the township).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub category: String,
    pub level: Level,
    pub office: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<CaseKind>,
}

impl LevelOffice {
    /// Reads a policy's office name, `level.key` (`county.housing`, `township.gov`, `village.committee`): a level that
    /// handles cases and an office key such a unit has (see [`crate::office`]).
    pub fn parse_policy_name(name: &str) -> Result<LevelOffice, String> {
        let (level, key) = name
            .split_once('.')
            .ok_or_else(|| format!("{name:?} is not of the form level.office, e.g. \"county.housing\""))?;
        let level = Level::parse(level).map_err(|e| e.to_string())?;
        let known = match level {
            Level::Village => key == VILLAGE_COMMITTEE,
            Level::Township => key == GOVERNMENT,
            Level::County => key == GOVERNMENT || crate::office::Sector::from_key(key).is_some(),
            Level::Province | Level::Prefecture => {
                return Err(format!(
                    "{name:?}: only village, township and county offices handle cases"
                ));
            }
        };
        if !known {
            return Err(format!(
                "{name:?}: a {level} has no office {key:?} (village: committee; township: gov; county: gov or a \
                 department such as housing, environment, natural_resources)"
            ));
        }
        Ok(LevelOffice {
            level,
            office: key.to_string(),
        })
    }
}

/// Where a new case goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum Routing {
    /// An enquiry answered on the spot; no office takes the case.
    AnswerAtIntake,
    Office {
        office: OfficeId,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingTable {
    #[serde(default)]
    pub answer_at_intake: Vec<String>,
    pub fallback: LevelOffice,
    #[serde(default, rename = "route")]
    pub routes: Vec<Route>,
    /// What intake asks for some categories beyond the description ([`crate::questions`]).
    #[serde(default, rename = "question", skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<Question>,
}

impl Default for RoutingTable {
    /// The shipped table (`data/routing.toml`); a test checks that it parses.
    fn default() -> Self {
        RoutingTable::from_toml(DEFAULT_ROUTING_TOML).unwrap_or_else(|_| RoutingTable {
            answer_at_intake: Vec::new(),
            fallback: LevelOffice {
                level: Level::Township,
                office: GOVERNMENT.into(),
            },
            routes: Vec::new(),
            questions: Vec::new(),
        })
    }
}

fn handling_level(level: Level) -> bool {
    matches!(level, Level::Village | Level::Township | Level::County)
}

/// The office key that stands for a level when a route names a level below the location (a case located only to a
/// township cannot go to a village committee, so it goes to the township government).
fn default_key(level: Level) -> &'static str {
    match level {
        Level::Village => VILLAGE_COMMITTEE,
        _ => GOVERNMENT,
    }
}

impl RoutingTable {
    pub fn from_toml(text: &str) -> Result<RoutingTable, RoutingError> {
        let table: RoutingTable = toml::from_str(text).map_err(|e| RoutingError::Toml(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        for r in &table.routes {
            if !handling_level(r.level) {
                return Err(RoutingError::BadLevel {
                    category: r.category.clone(),
                    level: r.level,
                });
            }
            if !seen.insert((r.category.as_str(), r.kinds.clone())) {
                return Err(RoutingError::Duplicate(r.category.clone()));
            }
        }
        let mut asked = std::collections::HashSet::new();
        for q in &table.questions {
            q.check().map_err(RoutingError::BadQuestion)?;
            if !asked.insert((q.category.as_str(), q.code.as_str())) {
                return Err(RoutingError::BadQuestion(format!(
                    "category {:?} asks question {:?} twice",
                    q.category, q.code
                )));
            }
        }
        let catalogue = table.categories();
        if let Some(q) = table
            .questions
            .iter()
            .find(|q| !catalogue.contains(&q.category.as_str()))
        {
            return Err(RoutingError::BadQuestion(format!(
                "question {:?} is asked of category {:?}, which the table does not route",
                q.code, q.category
            )));
        }
        if !handling_level(table.fallback.level) {
            return Err(RoutingError::BadLevel {
                category: "fallback".into(),
                level: table.fallback.level,
            });
        }
        Ok(table)
    }

    /// A policy layer's table laid over this one: its routes come first (those for some kinds before those for every
    /// kind) and replace ours of the same category and kinds; its intake list and fallback replace ours when given.
    pub fn overlay(&self, layer: &RoutingTable) -> RoutingTable {
        let mut routes: Vec<Route> = layer.routes.clone();
        routes.sort_by_key(|r| r.kinds.is_empty());
        routes.extend(
            self.routes
                .iter()
                .filter(|r| {
                    !layer
                        .routes
                        .iter()
                        .any(|l| l.category == r.category && l.kinds == r.kinds)
                })
                .cloned(),
        );
        RoutingTable {
            answer_at_intake: if layer.answer_at_intake.is_empty() {
                self.answer_at_intake.clone()
            } else {
                layer.answer_at_intake.clone()
            },
            fallback: layer.fallback.clone(),
            routes,
            // A layer that asks anything of a category replaces that category's questions.
            questions: layer
                .questions
                .iter()
                .cloned()
                .chain(
                    self.questions
                        .iter()
                        .filter(|q| !layer.questions.iter().any(|l| l.category == q.category))
                        .cloned(),
                )
                .collect(),
        }
    }

    /// The first route of `category` that takes cases of `kind` (any kind when `None`: only routes for every kind).
    fn target(&self, kind: Option<CaseKind>, category: &str) -> LevelOffice {
        self.routes
            .iter()
            .find(|r| r.category == category && (r.kinds.is_empty() || kind.is_some_and(|k| r.kinds.contains(&k))))
            .map(|r| LevelOffice {
                level: r.level,
                office: r.office.clone(),
            })
            .unwrap_or_else(|| self.fallback.clone())
    }

    fn resolve(&self, category: &str, location: &UnitCode, target: &LevelOffice) -> Result<OfficeId, RoutingError> {
        let unroutable = |reason: String| RoutingError::Unroutable {
            category: category.to_string(),
            location: location.clone(),
            reason,
        };
        if location.level() < Level::County {
            return Err(unroutable("the location must be a county, township or village".into()));
        }
        let (unit, key) = match location.chain().into_iter().find(|c| c.level() == target.level) {
            Some(unit) => (unit, target.office.as_str()),
            None => (location.clone(), default_key(location.level())),
        };
        OfficeId::new(&unit, key).map_err(|e| unroutable(e.to_string()))
    }

    /// The catalogue: every category the table knows (those it routes and the enquiries it answers at intake),
    /// sorted, each once.
    pub fn categories(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .routes
            .iter()
            .map(|r| r.category.as_str())
            .chain(self.answer_at_intake.iter().map(String::as_str))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The questions intake asks for `category`, in the table's order.
    pub fn questions_of(&self, category: &str) -> Vec<&Question> {
        self.questions.iter().filter(|q| q.category == category).collect()
    }

    /// The answers to `category`'s questions, checked ([`questions::check_answers`]).
    pub fn check_answers(
        &self,
        category: &str,
        given: &std::collections::BTreeMap<String, String>,
    ) -> Result<std::collections::BTreeMap<String, String>, AnswerError> {
        questions::check_answers(&self.questions, category, given)
    }

    /// `Ok` when the catalogue knows `category`; else an error naming it with a few known ones, nearest first (those
    /// sharing the longest start with it).
    pub fn check_category(&self, category: &str) -> Result<(), RoutingError> {
        let known = self.categories();
        if known.contains(&category) {
            return Ok(());
        }
        let shared = |c: &str| c.chars().zip(category.chars()).take_while(|(a, b)| a == b).count();
        let mut nearest = known.clone();
        nearest.sort_by_key(|c| std::cmp::Reverse(shared(c)));
        Err(RoutingError::UnknownCategory {
            category: category.to_string(),
            count: known.len(),
            examples: nearest.iter().take(5).copied().collect::<Vec<_>>().join(", "),
        })
    }

    /// The office a case goes to when no route names its category: the fallback at `location`.
    pub fn fallback_office(&self, location: &UnitCode) -> Result<OfficeId, RoutingError> {
        self.resolve("", location, &self.fallback)
    }

    /// Where a new case goes: answered at intake, or the competent office for its category in the unit of its
    /// location. A category the catalogue does not know is refused.
    pub fn route(&self, kind: CaseKind, category: &str, location: &UnitCode) -> Result<Routing, RoutingError> {
        self.check_category(category)?;
        if kind == CaseKind::Enquiry && self.answer_at_intake.iter().any(|c| c == category) {
            return Ok(Routing::AnswerAtIntake);
        }
        let office = self.resolve(category, location, &self.target(Some(kind), category))?;
        Ok(Routing::Office { office })
    }

    /// Like [`RoutingTable::route`], but an office on the location's chain that declares the category in the
    /// directory wins when it sits lower than the table's choice: the lowest capable level.
    pub fn route_in(
        &self,
        kind: CaseKind,
        category: &str,
        location: &UnitCode,
        directory: &Directory,
    ) -> Result<Routing, RoutingError> {
        let routed = self.route(kind, category, location)?;
        let Routing::Office { office } = &routed else {
            return Ok(routed);
        };
        let lower = location
            .chain()
            .into_iter()
            .rev()
            .take_while(|unit| unit.level() > office.level())
            .find_map(|unit| {
                directory
                    .offices
                    .iter()
                    .find(|o| o.id.unit() == &unit && o.handles(category))
            });
        Ok(match lower {
            Some(o) => Routing::Office { office: o.id.clone() },
            None => routed,
        })
    }

    /// Where the dispatcher sends a case that `disputed` has rightly refused (Art. 23 §3): the table's office, or the
    /// disputing office's supervisor when the table points at the disputing office itself.
    pub fn reroute(&self, category: &str, location: &UnitCode, disputed: &OfficeId) -> Result<OfficeId, RoutingError> {
        let office = self.resolve(category, location, &self.target(None, category))?;
        if &office != disputed {
            return Ok(office);
        }
        disputed.supervisor().ok_or_else(|| RoutingError::Unroutable {
            category: category.to_string(),
            location: location.clone(),
            reason: format!("{disputed} has no office above it"),
        })
    }
}

/// An earlier case on the same matter that the receiving office must return it to.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnTo {
    pub prior_case: CaseId,
    pub office: OfficeId,
    pub reason: String,
}

impl ReturnTo {
    /// The event the higher office appends to the case it received.
    pub fn event(&self) -> EventKind {
        EventKind::Returned {
            to_office: self.office.to_string(),
            reason: self.reason.clone(),
        }
    }
}

/// True when `office` sits above `other` in the same territory: a county office over the townships and villages of
/// its county, a township over its villages.
fn is_above(office: &OfficeId, other: &OfficeId) -> bool {
    office.level() < other.level() && other.unit().is_within(office.unit())
}

/// A prior case on the same matter for [`return_to_lower`].
#[derive(Debug, Clone, Copy)]
pub struct PriorCase<'a> {
    pub case: CaseId,
    pub kind: CaseKind,
    pub urgency: Urgency,
    pub log: &'a [CaseEvent],
}

/// Art. 19: when `receiving` gets a matter that a lower office has already accepted and is still handling within its
/// time limit, the receiving office records it and returns it there. `prior` are the earlier cases of the same person
/// on the same matter.
pub fn return_to_lower(
    receiving: &OfficeId,
    prior: &[PriorCase<'_>],
    now: OffsetDateTime,
    config: &ClockConfig,
    calendar: &Calendar,
) -> Option<ReturnTo> {
    prior.iter().find_map(|p| {
        let status = CaseStatus::replay(p.case, p.log).ok()?;
        if !status.state.is_open() || status.accepted_at.is_none() {
            return None;
        }
        let holder = OfficeId::parse(&status.office).ok()?;
        if !is_above(receiving, &holder) {
            return None;
        }
        let within_limit = clock::deadlines(p.kind, p.urgency, p.log, config, calendar)
            .iter()
            .filter(|d| d.is_running())
            .all(|d| now <= d.due);
        within_limit.then(|| ReturnTo {
            prior_case: p.case,
            office: holder.clone(),
            reason: format!(
                "{holder} accepted this matter as case {} and is within its time limit ({ART_19})",
                p.case
            ),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::tests::{created, ev};
    use crate::office::{Office, OfficeKind};
    use time::macros::datetime;

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).expect("code")
    }

    fn office(s: &str) -> OfficeId {
        OfficeId::parse(s).expect("office")
    }

    fn check(kind: CaseKind, category: &str, location: &str, expected: &str) {
        let got = RoutingTable::default()
            .route(kind, category, &code(location))
            .expect("routes");
        let got = match got {
            Routing::AnswerAtIntake => "intake".to_string(),
            Routing::Office { office } => office.to_string(),
        };
        assert_eq!(got, expected, "{category} from {location}");
    }

    #[test]
    fn art_15_small_matters_stay_in_the_village_big_ones_in_the_township() {
        check(
            CaseKind::Dispute,
            "neighbour_dispute",
            "330502001001",
            "330502001001:committee",
        );
        check(CaseKind::Complaint, "noise", "330502001001", "330502001:gov");
        check(CaseKind::Complaint, "building_safety", "330502001001", "330502:housing");
        check(
            CaseKind::Petition,
            "wage_arrears",
            "330502001001",
            "330502:human_resources",
        );
    }

    /// Issue 10 part 11: one catalogue. A category the table does not know is refused, naming it and a few known
    /// ones nearest to it; the shipped catalogue has no near-twins.
    #[test]
    fn an_unknown_category_is_refused_naming_it_and_a_few_known_ones() {
        let table = RoutingTable::default();
        let err = table
            .route(CaseKind::Complaint, "asdfgh", &code("330502001001"))
            .unwrap_err();
        assert!(matches!(err, RoutingError::UnknownCategory { .. }), "{err}");
        assert!(err.to_string().contains("\"asdfgh\""), "{err}");
        let err = table.check_category("street_light").unwrap_err().to_string();
        assert!(err.contains("such as street_lighting"), "{err}");
        let known = table.categories();
        for twin in ["streetlight", "road_damage", "policy_question"] {
            assert!(!known.contains(&twin), "{twin} is a near-twin of a catalogue category");
        }
        assert!(known.contains(&"street_lighting") && known.contains(&"road_repair"));
        // A category routed only for some kinds is known, and its other kinds go to the fallback.
        let only_petitions = RoutingTable {
            routes: vec![Route {
                category: "land".into(),
                level: Level::County,
                office: "natural_resources".into(),
                kinds: vec![CaseKind::Petition],
            }],
            ..RoutingTable::default()
        };
        assert_eq!(
            only_petitions.route(CaseKind::Complaint, "land", &code("330502001001")),
            Ok(Routing::Office {
                office: office("330502001:gov")
            })
        );
    }

    #[test]
    fn a_case_located_only_to_a_township_goes_to_the_township_government() {
        check(CaseKind::Dispute, "neighbour_dispute", "330502001", "330502001:gov");
        check(CaseKind::Complaint, "pollution", "330502001", "330502:environment");
        let err = RoutingTable::default()
            .route(CaseKind::Complaint, "noise", &code("3305"))
            .unwrap_err();
        assert!(matches!(err, RoutingError::Unroutable { .. }), "{err}");
    }

    #[test]
    fn enquiries_on_listed_topics_are_answered_at_intake() {
        check(CaseKind::Enquiry, "policy_enquiry", "330502001001", "intake");
        check(CaseKind::Enquiry, "procedure", "330502001001", "intake");
        check(
            CaseKind::ServiceRequest,
            "water_supply",
            "330502001001",
            "330502:utilities",
        );
        // The same topic as a complaint is routed, and an enquiry on another topic too.
        check(CaseKind::Complaint, "policy_enquiry", "330502001001", "330502001:gov");
        check(CaseKind::Enquiry, "noise", "330502001001", "330502001:gov");
    }

    #[test]
    fn a_policy_layer_overrides_routes_by_category() {
        let layer = RoutingTable::from_toml(
            "fallback = { level = \"village\", office = \"committee\" }\n\
             [[route]]\ncategory = \"noise\"\nlevel = \"village\"\noffice = \"committee\"",
        )
        .expect("layer");
        let table = RoutingTable::default().overlay(&layer);
        let noise = table
            .route(CaseKind::Complaint, "noise", &code("330502001001"))
            .expect("routes");
        assert_eq!(
            noise,
            Routing::Office {
                office: office("330502001001:committee")
            }
        );
        let pollution = table
            .route(CaseKind::Complaint, "pollution", &code("330502001001"))
            .expect("routes");
        assert_eq!(
            pollution,
            Routing::Office {
                office: office("330502:environment")
            }
        );
        assert_eq!(
            table.route(CaseKind::Enquiry, "procedure", &code("330502001001")),
            Ok(Routing::AnswerAtIntake)
        );
    }

    #[test]
    fn bad_tables_are_rejected_with_the_category() {
        let province = "fallback = { level = \"township\", office = \"gov\" }\n[[route]]\ncategory = \"x\"\nlevel = \"province\"\noffice = \"gov\"";
        assert_eq!(
            RoutingTable::from_toml(province).unwrap_err(),
            RoutingError::BadLevel {
                category: "x".into(),
                level: Level::Province
            }
        );
        let twice = "fallback = { level = \"township\", office = \"gov\" }\n[[route]]\ncategory = \"x\"\nlevel = \"village\"\noffice = \"committee\"\n[[route]]\ncategory = \"x\"\nlevel = \"county\"\noffice = \"housing\"";
        assert_eq!(
            RoutingTable::from_toml(twice).unwrap_err(),
            RoutingError::Duplicate("x".into())
        );
        assert!(RoutingTable::from_toml(DEFAULT_ROUTING_TOML).is_ok());
    }

    #[test]
    fn a_capable_office_lower_down_wins_over_the_table() {
        let committee = Office::new(
            office("330502001001:committee"),
            "Xiyuan committee",
            OfficeKind::VillageCommittee,
            &["noise"],
        )
        .expect("office");
        let dir = Directory {
            offices: vec![committee],
            ..Directory::default()
        };
        let table = RoutingTable::default();
        let here = table
            .route_in(CaseKind::Complaint, "noise", &code("330502001001"), &dir)
            .expect("routes");
        assert_eq!(
            here,
            Routing::Office {
                office: office("330502001001:committee")
            }
        );
        let elsewhere = table
            .route_in(CaseKind::Complaint, "noise", &code("330502001002"), &dir)
            .expect("routes");
        assert_eq!(
            elsewhere,
            Routing::Office {
                office: office("330502001:gov")
            }
        );
    }

    #[test]
    fn art_23_3_the_dispatcher_reroutes_a_rightly_disputed_case() {
        let table = RoutingTable::default();
        // A building-safety case wrongly sent to the township goes to the county housing department.
        assert_eq!(
            table.reroute("building_safety", &code("330502001001"), &office("330502001:gov")),
            Ok(office("330502:housing"))
        );
        // If the table itself points at the disputing office, the case goes one level up.
        assert_eq!(
            table.reroute("noise", &code("330502001001"), &office("330502001:gov")),
            Ok(office("330502:gov"))
        );
    }

    #[test]
    fn art_19_a_higher_office_returns_a_matter_the_lower_office_is_handling_in_time() {
        let log = [
            created(datetime!(2025-03-03 10:00 +8)),
            ev(
                datetime!(2025-03-04 10:00 +8),
                EventKind::Accepted {
                    office: "330502001:gov".into(),
                },
            ),
        ];
        let prior = [PriorCase {
            case: 41,
            kind: CaseKind::Petition,
            urgency: Urgency::General,
            log: &log,
        }];
        let cfg = ClockConfig::default();
        let cal = Calendar::china();
        let county = office("330502:letters_and_visits");
        // Handling runs 60 days from 4 March: to the end of 3 May, a holiday, so to the end of 6 May.
        let returned = return_to_lower(&county, &prior, datetime!(2025-04-01 10:00 +8), &cfg, &cal).expect("returned");
        assert_eq!(returned.office, office("330502001:gov"));
        assert_eq!(returned.prior_case, 41);
        assert!(matches!(returned.event(), EventKind::Returned { .. }));
        // Once the lower office is over its limit, the higher office keeps the matter.
        assert_eq!(
            return_to_lower(&county, &prior, datetime!(2025-05-07 10:00 +8), &cfg, &cal),
            None
        );
        // A peer office or a lower one does not return it.
        assert_eq!(
            return_to_lower(
                &office("330502002:gov"),
                &prior,
                datetime!(2025-04-01 10:00 +8),
                &cfg,
                &cal
            ),
            None
        );
        // Another county's office is not above it either.
        assert_eq!(
            return_to_lower(
                &office("330503:letters_and_visits"),
                &prior,
                datetime!(2025-04-01 10:00 +8),
                &cfg,
                &cal
            ),
            None
        );
        // A matter not yet accepted below is not returned.
        let unaccepted = [PriorCase {
            log: &log[..1],
            ..prior[0]
        }];
        assert_eq!(
            return_to_lower(&county, &unaccepted, datetime!(2025-03-05 10:00 +8), &cfg, &cal),
            None
        );
    }
}
