//! Who may do what to which case: accounts with roles scoped to a territory subtree, the pure authorization decision
//! [`can`], and the petitioner-privacy rule [`reporter_disclosure`].
//!
//! Every decision is a function of the principal, the action and the facts of the case; nothing here reads a store or
//! a clock, so the server, the CLI and the tests all ask the same question and get the same answer. The server must call
//! [`can`] before every case read or action and [`reporter_disclosure`] before it puts a reporter's name or contact into
//! any output.
//!
//! The rules, in one place:
//! - staff act within their territory subtree (`UnitCode::is_within`); outside it they may only read and report on a
//!   case on which their office was summoned by a whistle (街乡吹哨、部门报到), or act on a case their office holds;
//! - residents see and act on their own cases only;
//! - a petitioner's identity and contact are never shown in public output nor to staff of the unit or office the
//!   petition complains about (2022 Regulations on Letters and Visits Work, Art. 47, forbid passing complaint
//!   materials to those complained about).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::case::CaseStatus;
use crate::territory::UnitCode;

/// The seven roles of an account. Every role but `Resident` is staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Resident,
    GridWorker,
    Caseworker,
    Mediator,
    OfficeHead,
    /// Reads cases and statistics for evaluation; never personal data.
    Analyst,
    /// Manages accounts and offices in its subtree; reads cases but never personal data.
    Administrator,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Resident,
        Role::GridWorker,
        Role::Caseworker,
        Role::Mediator,
        Role::OfficeHead,
        Role::Analyst,
        Role::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::GridWorker => "grid_worker",
            Role::Caseworker => "caseworker",
            Role::Mediator => "mediator",
            Role::OfficeHead => "office_head",
            Role::Analyst => "analyst",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Result<Role, AccessError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| AccessError::UnknownRole(s.to_string()))
    }

    pub fn is_staff(self) -> bool {
        self != Role::Resident
    }

    /// The case actions a role may take on a case within its reach. Residents' actions are further limited to their
    /// own cases by [`can`].
    fn permits(self, action: Action) -> bool {
        use Action as A;
        match self {
            Role::Resident => matches!(
                action,
                A::ReadCase | A::ReadReporter | A::CreateCase | A::Rate | A::Reopen
            ),
            // Grid workers settle small matters on the spot ("small matters don't leave the village", Art. 15).
            Role::GridWorker => matches!(
                action,
                A::ReadCase | A::ReadReporter | A::CreateCase | A::Accept | A::Reply
            ),
            Role::Caseworker => matches!(
                action,
                A::ReadCase
                    | A::ReadReporter
                    | A::CreateCase
                    | A::Accept
                    | A::Assign
                    | A::Reply
                    | A::Whistle
                    | A::Report
            ),
            Role::Mediator => matches!(action, A::ReadCase | A::ReadReporter | A::CreateCase | A::Mediate),
            // Only the head approves an extension (Art. 34: extended "with the approval of the responsible person").
            Role::OfficeHead => !matches!(action, A::Rate | A::Reopen),
            Role::Analyst | Role::Administrator => matches!(action, A::ReadCase),
        }
    }

    /// The unit-level actions a role may take within its subtree.
    fn permits_on_unit(self, action: UnitAction) -> bool {
        use UnitAction as U;
        match self {
            Role::Resident => false,
            Role::GridWorker | Role::Caseworker | Role::Mediator => matches!(action, U::ListCases),
            // The head answers for the unit's rules: it sets its policy layer and files and steers its pilots.
            Role::OfficeHead => matches!(action, U::ListCases | U::ReadStats | U::GovernPolicy),
            Role::Analyst => matches!(action, U::ListCases | U::ReadStats),
            Role::Administrator => true,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can be done to one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ReadCase,
    /// Read the reporter's name and contact: personal data, audited, and also subject to [`reporter_disclosure`].
    ReadReporter,
    CreateCase,
    Accept,
    Assign,
    Reply,
    Extend,
    Mediate,
    Whistle,
    /// A summoned department reports (acknowledges and acts).
    Report,
    Rate,
    Reopen,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::ReadCase,
        Action::ReadReporter,
        Action::CreateCase,
        Action::Accept,
        Action::Assign,
        Action::Reply,
        Action::Extend,
        Action::Mediate,
        Action::Whistle,
        Action::Report,
        Action::Rate,
        Action::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadCase => "read_case",
            Action::ReadReporter => "read_reporter",
            Action::CreateCase => "create_case",
            Action::Accept => "accept",
            Action::Assign => "assign",
            Action::Reply => "reply",
            Action::Extend => "extend",
            Action::Mediate => "mediate",
            Action::Whistle => "whistle",
            Action::Report => "report",
            Action::Rate => "rate",
            Action::Reopen => "reopen",
        }
    }

    /// What a summoned office may do on a case outside its subtree: see it and report on it, nothing more.
    fn allowed_when_summoned(self) -> bool {
        matches!(self, Action::ReadCase | Action::ReadReporter | Action::Report)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can be done at a unit rather than to one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitAction {
    ListCases,
    ReadStats,
    ManageAccounts,
    ManageOffices,
    /// Set the unit's policy layer; file, steer and adopt pilots there.
    GovernPolicy,
}

impl UnitAction {
    pub const ALL: [UnitAction; 5] = [
        UnitAction::ListCases,
        UnitAction::ReadStats,
        UnitAction::ManageAccounts,
        UnitAction::ManageOffices,
        UnitAction::GovernPolicy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitAction::ListCases => "list_cases",
            UnitAction::ReadStats => "read_stats",
            UnitAction::ManageAccounts => "manage_accounts",
            UnitAction::ManageOffices => "manage_offices",
            UnitAction::GovernPolicy => "govern_policy",
        }
    }
}

impl fmt::Display for UnitAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signed-in account as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The account name; a case's reporter account is compared with it.
    pub account: String,
    pub role: Role,
    /// The subtree a staff account works in. For a resident it is the home unit and grants nothing.
    pub scope: UnitCode,
    /// The staff account's office (the ids used in `EventKind::Whistle::offices`), if it belongs to one.
    pub office: Option<String>,
}

impl Principal {
    pub fn resident(account: &str, home: UnitCode) -> Principal {
        Principal {
            account: account.to_string(),
            role: Role::Resident,
            scope: home,
            office: None,
        }
    }

    pub fn staff(account: &str, role: Role, scope: UnitCode, office: Option<&str>) -> Principal {
        Principal {
            account: account.to_string(),
            role,
            scope,
            office: office.map(str::to_string),
        }
    }

    fn works_in(&self, office: &str) -> bool {
        self.role.is_staff() && self.office.as_deref() == Some(office)
    }
}

/// What the rules need to know about a case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseFacts {
    /// The unit where the case lies (its location's unit).
    pub unit: Option<UnitCode>,
    /// The office that holds the case now.
    pub office: String,
    /// The resident account that reported the case, if it was reported by a signed-in resident.
    pub reporter_account: Option<String>,
    /// Offices summoned on the case by a whistle.
    pub summoned_offices: Vec<String>,
    /// The unit a complaint or petition is about, if it names one.
    pub complained_unit: Option<UnitCode>,
    /// The office a complaint or petition is about, if it names one.
    pub complained_office: Option<String>,
}

impl CaseFacts {
    /// The facts of a case from its derived status and what intake recorded.
    pub fn from_status(unit: UnitCode, status: &CaseStatus, reporter_account: Option<&str>) -> CaseFacts {
        CaseFacts {
            unit: Some(unit),
            office: status.office.clone(),
            reporter_account: reporter_account.map(str::to_string),
            summoned_offices: status.whistled_offices.clone(),
            complained_unit: None,
            complained_office: None,
        }
    }

    fn reported_by(&self, principal: &Principal) -> bool {
        principal.role == Role::Resident && self.reporter_account.as_deref() == Some(principal.account.as_str())
    }

    fn within(&self, scope: &UnitCode) -> bool {
        self.unit.as_ref().is_some_and(|u| u.is_within(scope))
    }
}

/// Why a request was refused. The messages name the account, the rule and the case's unit, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("role {role} may not {action}")]
    RoleCannot { role: Role, action: &'static str },
    #[error("account {account} works in {scope}, and the case lies outside it")]
    OutOfScope { account: String, scope: UnitCode },
    #[error("account {account} works in {scope}, and unit {unit} lies outside it")]
    UnitOutOfScope {
        account: String,
        scope: UnitCode,
        unit: UnitCode,
    },
    #[error("account {account} may only {action} its own cases")]
    NotOwnCase { account: String, action: &'static str },
    #[error(
        "the reporter's identity is withheld from the unit the petition complains about \
         (2022 Regulations on Letters and Visits Work, Art. 47)"
    )]
    ComplainedAbout,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error(
        "unknown role {0:?} (expected resident, grid_worker, caseworker, mediator, office_head, analyst or administrator)"
    )]
    UnknownRole(String),
}

/// May `principal` take `action` on the case described by `facts`?
///
/// For [`Action::ReadReporter`] this also applies [`reporter_disclosure`], so a caller that gets `Ok` may show the
/// reporter (and must write an audit record when the principal is staff).
pub fn can(principal: &Principal, action: Action, facts: &CaseFacts) -> Result<(), Denied> {
    let role = principal.role;
    if !role.permits(action) {
        return Err(Denied::RoleCannot {
            role,
            action: action.as_str(),
        });
    }
    if role == Role::Resident {
        if !facts.reported_by(principal) {
            return Err(Denied::NotOwnCase {
                account: principal.account.clone(),
                action: action.as_str(),
            });
        }
    } else {
        let in_reach = facts.within(&principal.scope) || principal.works_in(&facts.office);
        let summoned = principal
            .office
            .as_ref()
            .is_some_and(|o| facts.summoned_offices.contains(o));
        let allowed = in_reach || (summoned && action.allowed_when_summoned());
        if !allowed {
            return Err(Denied::OutOfScope {
                account: principal.account.clone(),
                scope: principal.scope.clone(),
            });
        }
    }
    if action == Action::ReadReporter && reporter_disclosure(Some(principal), facts) == Disclosure::Withheld {
        return Err(Denied::ComplainedAbout);
    }
    Ok(())
}

/// May `principal` take a unit-level `action` at `unit` (listing cases, statistics, accounts, offices)?
pub fn can_at_unit(principal: &Principal, action: UnitAction, unit: &UnitCode) -> Result<(), Denied> {
    if !principal.role.permits_on_unit(action) {
        return Err(Denied::RoleCannot {
            role: principal.role,
            action: action.as_str(),
        });
    }
    if !unit.is_within(&principal.scope) {
        return Err(Denied::UnitOutOfScope {
            account: principal.account.clone(),
            scope: principal.scope.clone(),
            unit: unit.clone(),
        });
    }
    Ok(())
}

/// Which cases a listing may contain for a principal: the store turns this into a filter, and every row it returns is
/// still checked with [`can`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    /// A resident's own cases.
    ReportedBy(String),
    /// Cases in a subtree, plus those on which `office` was summoned or which it holds.
    Subtree { scope: UnitCode, office: Option<String> },
}

pub fn list_scope(principal: &Principal) -> ListScope {
    if principal.role == Role::Resident {
        ListScope::ReportedBy(principal.account.clone())
    } else {
        ListScope::Subtree {
            scope: principal.scope.clone(),
            office: principal.office.clone(),
        }
    }
}

/// Whether a reporter's name and contact may appear in an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    Shown,
    Withheld,
}

/// May the reporter's identity and contact be shown to `viewer` (`None`: public output such as Open311 or the public
/// map)? This is the privacy rule alone; whether the viewer may see the case at all is [`can`]'s question.
///
/// Withheld from: the public; residents other than the reporter; analysts and administrators, whose work needs no
/// personal data; and staff of the unit or office the petition complains about, including staff of units below it,
/// who answer to it (2022 Regulations on Letters and Visits Work, Art. 47).
pub fn reporter_disclosure(viewer: Option<&Principal>, facts: &CaseFacts) -> Disclosure {
    let Some(viewer) = viewer else {
        return Disclosure::Withheld;
    };
    let shown = match viewer.role {
        Role::Resident => facts.reported_by(viewer),
        Role::Analyst | Role::Administrator => false,
        Role::GridWorker | Role::Caseworker | Role::Mediator | Role::OfficeHead => {
            let of_complained_unit = facts
                .complained_unit
                .as_ref()
                .is_some_and(|u| viewer.scope.is_within(u));
            let of_complained_office = facts.complained_office.as_deref().is_some_and(|o| viewer.works_in(o));
            !of_complained_unit && !of_complained_office
        }
    };
    if shown { Disclosure::Shown } else { Disclosure::Withheld }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).unwrap_or_else(|e| panic!("test code {s}: {e}"))
    }

    const TOWNSHIP: &str = "330502001";
    const OTHER_TOWNSHIP: &str = "330502002";
    const OFFICE: &str = "330502001:office";
    const DEPARTMENT: &str = "330503:housing";

    /// A case in a village of township 330502001, held by that township's office, reported by resident `alice`.
    fn case_in(unit: &str) -> CaseFacts {
        CaseFacts {
            unit: Some(code(unit)),
            office: format!("{}:office", &unit[..9.min(unit.len())]),
            reporter_account: Some("alice".into()),
            ..CaseFacts::default()
        }
    }

    /// Where the principal stands relative to the case.
    #[derive(Debug, Clone, Copy)]
    enum Relation {
        /// The case lies in the principal's subtree.
        Inside,
        /// The principal works in a county above the case's township.
        Above,
        /// A sibling township.
        Outside,
        /// Outside, but the principal's office was summoned on the case.
        Summoned,
        /// Outside, but the principal's office holds the case (it was routed there).
        Holding,
    }

    fn scenario(role: Role, relation: Relation) -> (Principal, CaseFacts) {
        let mut facts = case_in("330502001003");
        let (scope, office) = match relation {
            Relation::Inside => (TOWNSHIP, OFFICE),
            Relation::Above => ("330502", "330502:office"),
            Relation::Outside | Relation::Summoned | Relation::Holding => (OTHER_TOWNSHIP, DEPARTMENT),
        };
        match relation {
            Relation::Summoned => facts.summoned_offices = vec![DEPARTMENT.into()],
            Relation::Holding => facts.office = DEPARTMENT.into(),
            _ => {}
        }
        let principal = if role == Role::Resident {
            // Inside: the resident reported the case; elsewhere it is someone else's case.
            let account = if matches!(relation, Relation::Inside) {
                "alice"
            } else {
                "bob"
            };
            Principal::resident(account, code(scope))
        } else {
            Principal::staff("s", role, code(scope), Some(office))
        };
        (principal, facts)
    }

    /// The expected matrix, one row per role, one column per [`Action::ALL`]; `Y` allowed, `.` denied, for a case
    /// within reach (`Inside`, `Above`, `Holding`). Outside a principal's reach everything is denied; summoned staff
    /// get only read, read-reporter and report from their row.
    //                        read rptr crt acc asg rep ext med whs rpt rat reo
    const MATRIX: [(Role, &str); 7] = [
        (Role::Resident, "     Y    Y    Y   .   .   .   .   .   .   .   Y   Y"),
        (Role::GridWorker, "   Y    Y    Y   Y   .   Y   .   .   .   .   .   ."),
        (Role::Caseworker, "   Y    Y    Y   Y   Y   Y   .   .   Y   Y   .   ."),
        (Role::Mediator, "     Y    Y    Y   .   .   .   .   Y   .   .   .   ."),
        (Role::OfficeHead, "   Y    Y    Y   Y   Y   Y   Y   Y   Y   Y   .   ."),
        (Role::Analyst, "      Y    .    .   .   .   .   .   .   .   .   .   ."),
        (Role::Administrator, "Y    .    .   .   .   .   .   .   .   .   .   ."),
    ];

    fn row(role: Role) -> Vec<bool> {
        let (_, cells) = MATRIX
            .iter()
            .find(|(r, _)| *r == role)
            .unwrap_or_else(|| panic!("no matrix row for {role}"));
        cells.split_whitespace().map(|c| c == "Y").collect()
    }

    fn check(role: Role, relation: Relation, action: Action, expected: bool) {
        let (principal, facts) = scenario(role, relation);
        let got = can(&principal, action, &facts);
        assert_eq!(got.is_ok(), expected, "{role} {relation:?} {action}: got {got:?}");
    }

    #[test]
    fn the_whole_matrix_of_role_territory_and_action() {
        let relations = [
            Relation::Inside,
            Relation::Above,
            Relation::Outside,
            Relation::Summoned,
            Relation::Holding,
        ];
        let mut checked = 0;
        for role in Role::ALL {
            let allowed = row(role);
            assert_eq!(allowed.len(), Action::ALL.len(), "matrix row for {role}");
            for relation in relations {
                for (action, allowed) in Action::ALL.into_iter().zip(allowed.iter().copied()) {
                    let expected = match (role, relation) {
                        // A resident's reach is their own case, wherever it lies.
                        (Role::Resident, Relation::Inside) => allowed,
                        (Role::Resident, _) => false,
                        (_, Relation::Inside | Relation::Above | Relation::Holding) => allowed,
                        (_, Relation::Outside) => false,
                        (_, Relation::Summoned) => allowed && action.allowed_when_summoned(),
                    };
                    check(role, relation, action, expected);
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 7 * 5 * 12);
    }

    #[test]
    fn a_denial_names_the_rule() {
        let (p, facts) = scenario(Role::Caseworker, Relation::Outside);
        assert_eq!(
            can(&p, Action::ReadCase, &facts).unwrap_err().to_string(),
            "account s works in 330502002, and the case lies outside it"
        );
        let (p, facts) = scenario(Role::Analyst, Relation::Inside);
        assert_eq!(
            can(&p, Action::ReadReporter, &facts).unwrap_err().to_string(),
            "role analyst may not read_reporter"
        );
        let (p, facts) = scenario(Role::Resident, Relation::Outside);
        assert_eq!(
            can(&p, Action::Rate, &facts).unwrap_err().to_string(),
            "account bob may only rate its own cases"
        );
    }

    #[test]
    fn a_case_without_a_unit_is_reachable_only_by_its_holding_office() {
        let mut facts = case_in("330502001003");
        facts.unit = None;
        let p = Principal::staff("s", Role::Caseworker, code(TOWNSHIP), Some(OFFICE));
        assert!(can(&p, Action::ReadCase, &facts).is_ok());
        let p = Principal::staff("s", Role::Caseworker, code(TOWNSHIP), None);
        assert!(can(&p, Action::ReadCase, &facts).is_err());
    }

    #[test]
    fn unit_actions_follow_role_and_subtree() {
        //              list stats accounts offices policy
        let table: [(Role, &str); 7] = [
            (Role::Resident, ". . . . ."),
            (Role::GridWorker, "Y . . . ."),
            (Role::Caseworker, "Y . . . ."),
            (Role::Mediator, "Y . . . ."),
            (Role::OfficeHead, "Y Y . . Y"),
            (Role::Analyst, "Y Y . . ."),
            (Role::Administrator, "Y Y Y Y Y"),
        ];
        for (role, cells) in table {
            let p = Principal::staff("s", role, code(TOWNSHIP), None);
            for (action, cell) in UnitAction::ALL.into_iter().zip(cells.split_whitespace()) {
                let inside = can_at_unit(&p, action, &code("330502001003"));
                assert_eq!(inside.is_ok(), cell == "Y", "{role} {action} inside: {inside:?}");
                let above = can_at_unit(&p, action, &code("330502"));
                assert!(above.is_err(), "{role} {action} at the county above");
                let sibling = can_at_unit(&p, action, &code(OTHER_TOWNSHIP));
                assert!(sibling.is_err(), "{role} {action} at a sibling");
            }
        }
    }

    #[test]
    fn reporter_disclosure_table() {
        let complained = CaseFacts {
            complained_unit: Some(code("330502001003")),
            complained_office: Some("330502001003:committee".into()),
            ..case_in("330502001003")
        };
        let staff = |role, scope: &str, office: &str| Principal::staff("s", role, code(scope), Some(office));
        let cases: Vec<(&str, Option<Principal>, Disclosure)> = vec![
            ("public output", None, Disclosure::Withheld),
            (
                "the reporter",
                Some(Principal::resident("alice", code(TOWNSHIP))),
                Disclosure::Shown,
            ),
            (
                "another resident",
                Some(Principal::resident("bob", code(TOWNSHIP))),
                Disclosure::Withheld,
            ),
            (
                "township caseworker above the village",
                Some(staff(Role::Caseworker, TOWNSHIP, OFFICE)),
                Disclosure::Shown,
            ),
            (
                "township head",
                Some(staff(Role::OfficeHead, TOWNSHIP, OFFICE)),
                Disclosure::Shown,
            ),
            (
                "mediator of the township",
                Some(staff(Role::Mediator, TOWNSHIP, OFFICE)),
                Disclosure::Shown,
            ),
            (
                "caseworker of the complained village",
                Some(staff(Role::Caseworker, "330502001003", "330502001003:committee")),
                Disclosure::Withheld,
            ),
            (
                "grid worker in the complained village",
                Some(staff(Role::GridWorker, "330502001003", "330502001003:grid")),
                Disclosure::Withheld,
            ),
            (
                "county staff of the complained office",
                Some(staff(Role::OfficeHead, "330502", "330502001003:committee")),
                Disclosure::Withheld,
            ),
            (
                "analyst",
                Some(staff(Role::Analyst, TOWNSHIP, OFFICE)),
                Disclosure::Withheld,
            ),
            (
                "administrator",
                Some(staff(Role::Administrator, TOWNSHIP, OFFICE)),
                Disclosure::Withheld,
            ),
        ];
        for (who, viewer, expected) in cases {
            assert_eq!(reporter_disclosure(viewer.as_ref(), &complained), expected, "{who}");
        }
        // A case that complains about nobody shows its reporter to staff within reach.
        let plain = case_in("330502001003");
        let village = staff(Role::Caseworker, "330502001003", "330502001003:committee");
        assert_eq!(reporter_disclosure(Some(&village), &plain), Disclosure::Shown);
    }

    #[test]
    fn can_applies_the_privacy_rule_to_reading_the_reporter() {
        let facts = CaseFacts {
            complained_unit: Some(code(TOWNSHIP)),
            ..case_in("330502001003")
        };
        let p = Principal::staff("s", Role::Caseworker, code(TOWNSHIP), Some(OFFICE));
        assert!(can(&p, Action::ReadCase, &facts).is_ok());
        assert_eq!(can(&p, Action::ReadReporter, &facts), Err(Denied::ComplainedAbout));
        let county = Principal::staff("c", Role::Caseworker, code("330502"), Some("330502:office"));
        assert!(can(&county, Action::ReadReporter, &facts).is_ok());
    }

    #[test]
    fn roles_round_trip_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("mayor").is_err());
    }

    #[test]
    fn list_scope_follows_the_role() {
        assert_eq!(
            list_scope(&Principal::resident("alice", code(TOWNSHIP))),
            ListScope::ReportedBy("alice".into())
        );
        assert_eq!(
            list_scope(&Principal::staff("s", Role::Analyst, code(TOWNSHIP), None)),
            ListScope::Subtree {
                scope: code(TOWNSHIP),
                office: None
            }
        );
    }
}
