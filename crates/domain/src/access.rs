//! Who may do what to which case: accounts with roles scoped to a territory subtree, the pure authorization decision
//! [`can`], and the petitioner-privacy rule [`reporter_disclosure`].
//!
//! Every decision is a function of the principal, the action and the facts of the case; nothing here reads a store or
//! a clock, so the server, the CLI and the tests all ask the same question and get the same answer. The server must call
//! [`can`] before every case read or action and [`reporter_disclosure`] before it puts a reporter's name or contact into
//! any output.
//!
//! The rules, in one place:
//! - staff read the cases of their territory subtree (`UnitCode::is_within`), those their office holds and those it
//!   was summoned to by a whistle (街乡吹哨、部门报到);
//! - only the office that holds a case acts on it; a summoned office reports; the level above the handling office
//!   decides a review (Art. 35) and the level above that a re-examination (Art. 36);
//! - no one judges their own case: staff of the unit or office a case complains about may read it, reduced, and do
//!   nothing else;
//! - residents see and act on their own cases only;
//! - a petitioner's identity and contact are never shown in public output nor to staff of the unit or office the
//!   petition complains about (2022 Regulations on Letters and Visits Work, Art. 47, forbid passing complaint
//!   materials to those complained about).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::case::CaseStatus;
use crate::office::OfficeId;
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

    /// Whether the role works for an office (and so must name one): everyone who acts on cases.
    pub fn needs_office(self) -> bool {
        matches!(
            self,
            Role::GridWorker | Role::Caseworker | Role::Mediator | Role::OfficeHead
        )
    }

    /// The case actions a role may take on a case within its reach ([`Action::reach`]). Residents' actions are further
    /// limited to their own cases by [`can`].
    fn permits(self, action: Action) -> bool {
        use Action as A;
        match self {
            Role::Resident => matches!(
                action,
                A::ReadCase
                    | A::ReadReporter
                    | A::CreateCase
                    | A::Rate
                    | A::Reopen
                    | A::Withdraw
                    | A::ReviewRequest
                    | A::ReexaminationRequest
                    | A::CoSign
            ),
            // Grid workers settle small matters on the spot ("small matters don't leave the village", Art. 15).
            Role::GridWorker => matches!(
                action,
                A::ReadCase | A::ReadReporter | A::CreateCase | A::Accept | A::Reply | A::Callback
            ),
            Role::Caseworker => !matches!(
                action,
                A::Extend | A::Mediate | A::Rate | A::Reopen | A::Withdraw | A::CoSign
            ),
            Role::Mediator => matches!(action, A::ReadCase | A::ReadReporter | A::CreateCase | A::Mediate),
            // Inspection is for caseworkers and heads; who is drawn decides the rest (`Reach::DrawnInspector`).
            // Only the head approves an extension (Art. 34: extended "with the approval of the responsible person").
            Role::OfficeHead => !matches!(action, A::Rate | A::Reopen | A::Withdraw | A::CoSign),
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

/// What can be done to one case: the verbs of its legal life. The names are those of the REST actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ReadCase,
    /// Read the reporter's name and contact: personal data, audited, and also subject to [`reporter_disclosure`].
    ReadReporter,
    CreateCase,
    Accept,
    /// Decline the matter and name the channel the resident should use instead (Art. 23).
    NotAccept,
    /// Give the case to a member of the holding office.
    Assign,
    /// Send the case to another office (first-receiver rule and dispute window, Art. 23 §3).
    Transfer,
    /// Return a matter a lower office already handles within its limit (Art. 19).
    Return,
    /// The holding office disputes a wrong dispatch; the routing table re-routes it (Art. 23 §3).
    DisputeDispatch,
    Reply,
    Extend,
    Close,
    /// Call the resident back; after a reply, record their rating (the 12345 回访).
    Callback,
    Mediate,
    Whistle,
    /// A summoned department reports (acknowledges and acts).
    Report,
    Rate,
    Reopen,
    /// The resident withdraws a case filed by mistake.
    Withdraw,
    /// The petitioner asks for a review of the reply (Art. 35).
    ReviewRequest,
    /// The level above the handling office decides the review (Art. 35).
    ReviewDecide,
    /// The petitioner asks for a re-examination of the review (Art. 36).
    ReexaminationRequest,
    /// The level above the reviewing office decides the re-examination; the matter is then final (Art. 36).
    ReexaminationDecide,
    /// Another resident adds their voice to an open public case ("add my voice"): a co-signer, never its filer.
    CoSign,
    /// Record a peer inspection's finding on a closed case (issue 14).
    Inspect,
}

/// Whose a case must be for a staff member to take an action on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Reading: the case lies in the staff member's subtree, their office holds it, or it was summoned to it.
    Read,
    /// Filing: the place lies in the staff member's subtree.
    File,
    /// Acting: only the office that holds the case acts on it.
    Holding,
    /// Reporting on a whistle: only a summoned office.
    Summoned,
    /// Reviewing: the level above the office that handled the case (its government or superior department, Art. 35).
    ReviewBody,
    /// Re-examining: the level above the reviewing office (Art. 36).
    ReexaminationBody,
    /// Inspecting: only an inspector drawn for the case's township from an adjoining one, with the case in their
    /// month's sample (issue 14, peer inspection).
    DrawnInspector,
}

impl Action {
    pub const ALL: [Action; 25] = [
        Action::ReadCase,
        Action::ReadReporter,
        Action::CreateCase,
        Action::Accept,
        Action::NotAccept,
        Action::Assign,
        Action::Transfer,
        Action::Return,
        Action::DisputeDispatch,
        Action::Reply,
        Action::Extend,
        Action::Close,
        Action::Callback,
        Action::Mediate,
        Action::Whistle,
        Action::Report,
        Action::Rate,
        Action::Reopen,
        Action::Withdraw,
        Action::ReviewRequest,
        Action::ReviewDecide,
        Action::ReexaminationRequest,
        Action::ReexaminationDecide,
        Action::CoSign,
        Action::Inspect,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadCase => "read_case",
            Action::ReadReporter => "read_reporter",
            Action::CreateCase => "create_case",
            Action::Accept => "accept",
            Action::NotAccept => "not_accept",
            Action::Assign => "assign",
            Action::Transfer => "transfer",
            Action::Return => "return",
            Action::DisputeDispatch => "dispute_dispatch",
            Action::Reply => "reply",
            Action::Extend => "extend",
            Action::Close => "close",
            Action::Callback => "callback",
            Action::Mediate => "mediate",
            Action::Whistle => "whistle",
            Action::Report => "report",
            Action::Rate => "rate",
            Action::Reopen => "reopen",
            Action::Withdraw => "withdraw",
            Action::ReviewRequest => "review_request",
            Action::ReviewDecide => "review_decide",
            Action::ReexaminationRequest => "reexamination_request",
            Action::ReexaminationDecide => "reexamination_decide",
            Action::CoSign => "co_sign",
            Action::Inspect => "inspect",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The action in words, for refusals ("may not {verb}").
    pub fn verb(self) -> &'static str {
        match self {
            Action::ReadCase => "read this case",
            Action::ReadReporter => "see the reporter's identity",
            Action::CreateCase => "file a case here",
            Action::Accept => "accept the case",
            Action::NotAccept => "decline the case",
            Action::Assign => "assign the case",
            Action::Transfer => "transfer the case",
            Action::Return => "return the case to the lower office",
            Action::DisputeDispatch => "dispute the dispatch",
            Action::Reply => "reply",
            Action::Extend => "extend the time limit",
            Action::Close => "close the case",
            Action::Callback => "record a call-back",
            Action::Mediate => "mediate",
            Action::Whistle => "summon departments (whistle)",
            Action::Report => "report on a summons",
            Action::Rate => "rate the reply",
            Action::Reopen => "reopen the case",
            Action::Withdraw => "withdraw the case",
            Action::ReviewRequest => "request a review",
            Action::ReviewDecide => "decide the review",
            Action::ReexaminationRequest => "request a re-examination",
            Action::ReexaminationDecide => "decide the re-examination",
            Action::CoSign => "add a voice to the case",
            Action::Inspect => "record an inspection finding",
        }
    }

    /// Whose the case must be for staff to take the action.
    pub fn reach(self) -> Reach {
        use Action as A;
        match self {
            // A co-signer reads the case as the public does; residents' reach is decided in `can`.
            A::ReadCase | A::ReadReporter | A::CoSign => Reach::Read,
            A::CreateCase => Reach::File,
            A::Report => Reach::Summoned,
            // Staff of the review body record a request that came on paper; they decide it.
            A::ReviewRequest | A::ReviewDecide => Reach::ReviewBody,
            A::ReexaminationRequest | A::ReexaminationDecide => Reach::ReexaminationBody,
            A::Inspect => Reach::DrawnInspector,
            A::Accept
            | A::NotAccept
            | A::Assign
            | A::Transfer
            | A::Return
            | A::DisputeDispatch
            | A::Reply
            | A::Extend
            | A::Close
            | A::Callback
            | A::Mediate
            | A::Whistle
            | A::Rate
            | A::Reopen
            | A::Withdraw => Reach::Holding,
        }
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

    /// The action in words, for refusals.
    pub fn verb(self) -> &'static str {
        match self {
            UnitAction::ListCases => "list cases",
            UnitAction::ReadStats => "read statistics",
            UnitAction::ManageAccounts => "manage accounts",
            UnitAction::ManageOffices => "manage offices",
            UnitAction::GovernPolicy => "set policy or steer pilots",
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
    /// The office that holds the case now (after a reply: the office that handled it).
    pub office: String,
    /// The resident account that reported the case, if it was reported by a signed-in resident.
    pub reporter_account: Option<String>,
    /// Offices summoned on the case by a whistle.
    pub summoned_offices: Vec<String>,
    /// The unit a complaint or petition is about, if it names one.
    pub complained_unit: Option<UnitCode>,
    /// The office a complaint or petition is about, if it names one.
    pub complained_office: Option<String>,
    /// Whether the case is of a kind the public may see ([`crate::disclosure::is_public_kind`]): only such a case
    /// takes other residents' voices.
    pub public: bool,
    /// The accounts drawn to inspect the case (it lies in their month's sample of closed cases).
    pub inspectors: Vec<String>,
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
            public: false,
            inspectors: Vec::new(),
        }
    }

    /// Whether `principal` is the resident who filed the case.
    pub fn reported_by(&self, principal: &Principal) -> bool {
        principal.role == Role::Resident && self.reporter_account.as_deref() == Some(principal.account.as_str())
    }

    fn within(&self, scope: &UnitCode) -> bool {
        self.unit.as_ref().is_some_and(|u| u.is_within(scope))
    }

    /// Whether `staff` works in the unit or office the case complains about (or in a unit below it, which answers to
    /// it): such staff neither see the reporter nor act on the case.
    pub fn complains_about(&self, staff: &Principal) -> bool {
        if !staff.role.is_staff() {
            return false;
        }
        let of_unit = self.complained_unit.as_ref().is_some_and(|u| staff.scope.is_within(u));
        let of_office = self.complained_office.as_deref().is_some_and(|o| staff.works_in(o));
        of_unit || of_office
    }

    /// Whether an office (by id) is the one complained about or lies in the complained unit: a case is never routed,
    /// transferred or returned there.
    pub fn complained_office_is(&self, office: &str) -> bool {
        if self.complained_office.as_deref() == Some(office) {
            return true;
        }
        let unit = OfficeId::parse(office).ok();
        match (&self.complained_unit, unit) {
            (Some(complained), Some(id)) => id.unit().is_within(complained),
            _ => false,
        }
    }

    /// The office that reviews the handling office's reply (Art. 35): its government or superior department.
    pub fn review_body(&self) -> Option<OfficeId> {
        OfficeId::parse(&self.office).ok()?.supervisor()
    }

    /// The office that re-examines the review (Art. 36): the level above the review body.
    pub fn reexamination_body(&self) -> Option<OfficeId> {
        self.review_body()?.supervisor()
    }

    fn reaches(&self, principal: &Principal, reach: Reach) -> bool {
        let works_in_body = |body: Option<OfficeId>| body.is_some_and(|b| principal.works_in(&b.to_string()));
        match reach {
            Reach::Read => {
                self.within(&principal.scope)
                    || principal.works_in(&self.office)
                    || principal
                        .office
                        .as_ref()
                        .is_some_and(|o| self.summoned_offices.contains(o))
                    // A drawn inspector comes from another township: they read the cases they audit.
                    || self.inspectors.contains(&principal.account)
            }
            Reach::File => self.within(&principal.scope),
            Reach::Holding => principal.works_in(&self.office),
            Reach::Summoned => principal
                .office
                .as_ref()
                .is_some_and(|o| self.summoned_offices.contains(o)),
            Reach::ReviewBody => works_in_body(self.review_body()),
            Reach::ReexaminationBody => works_in_body(self.reexamination_body()),
            Reach::DrawnInspector => self.inspectors.contains(&principal.account),
        }
    }
}

/// Why a request was refused. The messages name the account, the rule and the case's unit, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("the {role} role may not {verb}")]
    RoleCannot { role: Role, verb: &'static str },
    #[error("account {account} works in {scope}, and the case lies outside it")]
    OutOfScope { account: String, scope: UnitCode },
    #[error("account {account} works in {scope}, and unit {unit} lies outside it")]
    UnitOutOfScope {
        account: String,
        scope: UnitCode,
        unit: UnitCode,
    },
    #[error("account {account} may only {verb} on cases it filed")]
    NotOwnCase { account: String, verb: &'static str },
    #[error("only the office holding the case ({office}) may {verb}; account {account} is not of that office")]
    NotHolding {
        account: String,
        office: String,
        verb: &'static str,
    },
    #[error("only a case the public may see takes other residents' voices")]
    NotPublic,
    #[error("the resident who filed a case does not co-sign it")]
    OwnCase,
    #[error("only an office summoned on the case may {verb}")]
    NotSummoned { verb: &'static str },
    #[error("only an inspector drawn for the case's township, with the case in their sample, may {verb}")]
    NotDrawnInspector { verb: &'static str },
    #[error(
        "only {body}, the level above the office that handled the case, may {verb} \
         (2022 Regulations on Letters and Visits Work, {article})"
    )]
    NotReviewBody {
        body: String,
        verb: &'static str,
        article: &'static str,
    },
    #[error(
        "the reporter's identity is withheld from the unit the petition complains about \
         (2022 Regulations on Letters and Visits Work, Art. 47)"
    )]
    ComplainedAbout,
    #[error(
        "no one judges their own case: staff of the unit or office the case complains about may not {verb} \
         (2022 Regulations on Letters and Visits Work, Art. 47)"
    )]
    JudgesOwnCase { verb: &'static str },
}

impl Denied {
    /// The refusal as a message each interface words in its language (the English is this error's own wording).
    pub fn said(&self) -> crate::said::Said {
        use crate::said::{Said, name};
        let english = self.to_string();
        let verb = |v: &'static str| ("verb", name("verb", v));
        let text = |k: &'static str, v: &dyn fmt::Display| (k, crate::said::Arg::Text(v.to_string()));
        let (key, args) = match self {
            Denied::RoleCannot { role, verb: v } => {
                ("denied-role", vec![("role", name("role", role.as_str())), verb(v)])
            }
            Denied::OutOfScope { account, scope } => (
                "denied-out-of-scope",
                vec![text("account", account), text("scope", scope)],
            ),
            Denied::UnitOutOfScope { account, scope, unit } => (
                "denied-unit-out-of-scope",
                vec![text("account", account), text("scope", scope), text("unit", unit)],
            ),
            Denied::NotOwnCase { account, verb: v } => ("denied-not-own-case", vec![text("account", account), verb(v)]),
            Denied::NotHolding {
                account,
                office,
                verb: v,
            } => (
                "denied-not-holding",
                vec![text("account", account), text("office", office), verb(v)],
            ),
            Denied::NotPublic => ("denied-not-public", vec![]),
            Denied::OwnCase => ("denied-own-case", vec![]),
            Denied::NotSummoned { verb: v } => ("denied-not-summoned", vec![verb(v)]),
            Denied::NotDrawnInspector { verb: v } => ("denied-not-drawn-inspector", vec![verb(v)]),
            Denied::NotReviewBody { body, verb: v, article } => (
                "denied-not-review-body",
                vec![text("body", body), verb(v), ("article", name("cite", *article))],
            ),
            Denied::ComplainedAbout => ("denied-complained-about", vec![]),
            Denied::JudgesOwnCase { verb: v } => ("denied-judges-own-case", vec![verb(v)]),
        };
        Said::new(key, english, args)
    }
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
/// The rules in order: the role must permit the action; a resident acts only on the cases they filed; staff of the
/// unit or office a case complains about may read it (reduced) and nothing else; other staff need the action's
/// [`Reach`]. For [`Action::ReadReporter`] this also applies [`reporter_disclosure`], so a caller that gets `Ok` may
/// show the reporter (and must write an audit record when the principal is staff).
pub fn can(principal: &Principal, action: Action, facts: &CaseFacts) -> Result<(), Denied> {
    let role = principal.role;
    let verb = action.verb();
    if !role.permits(action) {
        return Err(Denied::RoleCannot { role, verb });
    }
    if action == Action::CoSign {
        // Residents co-sign what the public sees, and never their own case.
        if !facts.public {
            return Err(Denied::NotPublic);
        }
        if facts.reported_by(principal) {
            return Err(Denied::OwnCase);
        }
    } else if role == Role::Resident {
        if !facts.reported_by(principal) {
            return Err(Denied::NotOwnCase {
                account: principal.account.clone(),
                verb,
            });
        }
    } else {
        if action != Action::ReadCase && action != Action::ReadReporter && facts.complains_about(principal) {
            return Err(Denied::JudgesOwnCase { verb });
        }
        let reach = action.reach();
        if !facts.reaches(principal, reach) {
            return Err(match reach {
                Reach::Read | Reach::File => Denied::OutOfScope {
                    account: principal.account.clone(),
                    scope: principal.scope.clone(),
                },
                Reach::Holding => Denied::NotHolding {
                    account: principal.account.clone(),
                    office: facts.office.clone(),
                    verb,
                },
                Reach::Summoned => Denied::NotSummoned { verb },
                Reach::DrawnInspector => Denied::NotDrawnInspector { verb },
                Reach::ReviewBody => Denied::NotReviewBody {
                    body: facts
                        .review_body()
                        .map_or_else(|| "the office above".into(), |b| b.to_string()),
                    verb,
                    article: "Art. 35",
                },
                Reach::ReexaminationBody => Denied::NotReviewBody {
                    body: facts
                        .reexamination_body()
                        .map_or_else(|| "the office above".into(), |b| b.to_string()),
                    verb,
                    article: "Art. 36",
                },
            });
        }
    }
    if action == Action::ReadReporter && reporter_disclosure(Some(principal), facts) == Disclosure::Withheld {
        return Err(Denied::ComplainedAbout);
    }
    Ok(())
}

/// The actions `principal` may take on the case now, as far as access goes (the workflow rules may still refuse one
/// in the case's state): what a page offers and what `case show` lists.
pub fn allowed_actions(principal: &Principal, facts: &CaseFacts) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| !matches!(a, Action::ReadCase | Action::ReadReporter | Action::CreateCase))
        .filter(|a| can(principal, *a, facts).is_ok())
        .collect()
}

/// May `principal` take a unit-level `action` at `unit` (listing cases, statistics, accounts, offices)?
pub fn can_at_unit(principal: &Principal, action: UnitAction, unit: &UnitCode) -> Result<(), Denied> {
    if !principal.role.permits_on_unit(action) {
        return Err(Denied::RoleCannot {
            role: principal.role,
            verb: action.verb(),
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
        Role::GridWorker | Role::Caseworker | Role::Mediator | Role::OfficeHead => !facts.complains_about(viewer),
    };
    if shown { Disclosure::Shown } else { Disclosure::Withheld }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).unwrap_or_else(|e| panic!("test code {s}: {e}"))
    }

    const VILLAGE: &str = "330502001003";
    const TOWNSHIP: &str = "330502001";
    const OTHER_TOWNSHIP: &str = "330502002";
    const HOLDING: &str = "330502001:gov";
    const DEPARTMENT: &str = "330503:housing";

    /// A case in a village of township 330502001, held by that township's government, reported by resident `alice`.
    fn case_in_village() -> CaseFacts {
        CaseFacts {
            unit: Some(code(VILLAGE)),
            office: HOLDING.into(),
            reporter_account: Some("alice".into()),
            public: true,
            ..CaseFacts::default()
        }
    }

    /// Where the principal stands relative to the case.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Relation {
        /// Staff of the office that holds the case; for a resident, their own case.
        Holding,
        /// Staff of another office of the same township: the case is in their subtree but not theirs to act on.
        OtherOffice,
        /// The county government: the level above the township (the review body, Art. 35).
        Above,
        /// The prefecture government: the level above the review body (the re-examination body, Art. 36).
        TwoAbove,
        /// A sibling township.
        Outside,
        /// Outside, but the principal's office was summoned on the case.
        Summoned,
        /// Staff of the village the case complains about.
        Complained,
    }

    const RELATIONS: [Relation; 7] = [
        Relation::Holding,
        Relation::OtherOffice,
        Relation::Above,
        Relation::TwoAbove,
        Relation::Outside,
        Relation::Summoned,
        Relation::Complained,
    ];

    fn scenario(role: Role, relation: Relation) -> (Principal, CaseFacts) {
        let mut facts = case_in_village();
        let (scope, office) = match relation {
            Relation::Holding => (TOWNSHIP, HOLDING),
            Relation::OtherOffice => (TOWNSHIP, "330502001:justice"),
            Relation::Above => ("330502", "330502:gov"),
            Relation::TwoAbove => ("3305", "3305:gov"),
            Relation::Outside => (OTHER_TOWNSHIP, "330502002:gov"),
            Relation::Summoned => (OTHER_TOWNSHIP, DEPARTMENT),
            Relation::Complained => (VILLAGE, "330502001003:committee"),
        };
        match relation {
            Relation::Summoned => facts.summoned_offices = vec![DEPARTMENT.into()],
            Relation::Complained => facts.complained_unit = Some(code(VILLAGE)),
            _ => {}
        }
        let principal = if role == Role::Resident {
            let account = if relation == Relation::Holding { "alice" } else { "bob" };
            Principal::resident(account, code(scope))
        } else {
            Principal::staff("s", role, code(scope), Some(office))
        };
        (principal, facts)
    }

    /// The expected matrix, one row per role, one column per [`Action::ALL`]; `Y` allowed, `.` denied, for a case
    /// within the action's reach. Which relation reaches which action is the table in `reaches`.
    //                     read rptr crt acc nac asg trf ret dsp rep ext cls cbk med whs rpt rat reo wdr rvq rvd rxq rxd cos
    const MATRIX: [(Role, &str); 7] = [
        (
            Role::Resident,
            "   Y    Y    Y   .   .   .   .   .   .   .   .   .   .   .   .   .   Y   Y   Y   Y   .   Y   .   .   .",
        ),
        (
            Role::GridWorker,
            " Y    Y    Y   Y   .   .   .   .   .   Y   .   .   Y   .   .   .   .   .   .   .   .   .   .   .   .",
        ),
        (
            Role::Caseworker,
            " Y    Y    Y   Y   Y   Y   Y   Y   Y   Y   .   Y   Y   .   Y   Y   .   .   .   Y   Y   Y   Y   .   Y",
        ),
        (
            Role::Mediator,
            "   Y    Y    Y   .   .   .   .   .   .   .   .   .   .   Y   .   .   .   .   .   .   .   .   .   .   .",
        ),
        (
            Role::OfficeHead,
            " Y    Y    Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   .   .   .   Y   Y   Y   Y   .   Y",
        ),
        (
            Role::Analyst,
            "    Y    .    .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .",
        ),
        (
            Role::Administrator,
            "Y    .    .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .",
        ),
    ];

    fn row(role: Role) -> Vec<bool> {
        let (_, cells) = MATRIX
            .iter()
            .find(|(r, _)| *r == role)
            .unwrap_or_else(|| panic!("no matrix row for {role}"));
        cells.split_whitespace().map(|c| c == "Y").collect()
    }

    /// Which staff relation reaches which kind of action, written out independently of `CaseFacts::reaches`.
    fn reaches(relation: Relation, reach: Reach) -> bool {
        use Relation as R;
        match reach {
            Reach::Read => relation != R::Outside,
            Reach::File => matches!(
                relation,
                R::Holding | R::OtherOffice | R::Above | R::TwoAbove | R::Complained
            ),
            Reach::Holding => relation == R::Holding,
            Reach::Summoned => relation == R::Summoned,
            Reach::ReviewBody => relation == R::Above,
            Reach::ReexaminationBody => relation == R::TwoAbove,
            // No relation of the matrix is a drawn inspector: a scenario of its own checks that reach.
            Reach::DrawnInspector => false,
        }
    }

    #[test]
    fn the_whole_matrix_of_role_relation_and_action() {
        let mut checked = 0;
        for role in Role::ALL {
            let allowed = row(role);
            assert_eq!(allowed.len(), Action::ALL.len(), "matrix row for {role}");
            for relation in RELATIONS {
                for (action, allowed) in Action::ALL.into_iter().zip(allowed.iter().copied()) {
                    let expected = match (role, relation) {
                        // A resident's reach is their own case, wherever it lies.
                        (Role::Resident, Relation::Holding) => allowed,
                        // Other residents may only add their voice to a public case.
                        (Role::Resident, _) => action == Action::CoSign,
                        // The complained-about unit may read the case, and nothing else (not even the reporter).
                        (_, Relation::Complained) => allowed && action == Action::ReadCase,
                        (_, relation) => allowed && reaches(relation, action.reach()),
                    };
                    let (principal, facts) = scenario(role, relation);
                    let got = can(&principal, action, &facts);
                    assert_eq!(got.is_ok(), expected, "{role} {relation:?} {action}: got {got:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 7 * 7 * 25);
    }

    #[test]
    fn a_denial_names_the_rule_in_words() {
        let (p, facts) = scenario(Role::Caseworker, Relation::Outside);
        assert_eq!(
            can(&p, Action::ReadCase, &facts).unwrap_err().to_string(),
            "account s works in 330502002, and the case lies outside it"
        );
        let (p, facts) = scenario(Role::Analyst, Relation::Holding);
        assert_eq!(
            can(&p, Action::ReadReporter, &facts).unwrap_err().to_string(),
            "the analyst role may not see the reporter's identity"
        );
        let (p, facts) = scenario(Role::Resident, Relation::Outside);
        assert_eq!(
            can(&p, Action::Rate, &facts).unwrap_err().to_string(),
            "account bob may only rate the reply on cases it filed"
        );
        let (p, facts) = scenario(Role::Caseworker, Relation::OtherOffice);
        assert_eq!(
            can(&p, Action::Accept, &facts).unwrap_err().to_string(),
            "only the office holding the case (330502001:gov) may accept the case; account s is not of that office"
        );
        let (p, facts) = scenario(Role::OfficeHead, Relation::TwoAbove);
        assert!(
            can(&p, Action::ReviewDecide, &facts)
                .unwrap_err()
                .to_string()
                .contains("only 330502:gov, the level above the office that handled the case, may decide the review")
        );
        let (p, facts) = scenario(Role::OfficeHead, Relation::Complained);
        assert!(
            can(&p, Action::Reply, &facts)
                .unwrap_err()
                .to_string()
                .starts_with("no one judges their own case")
        );
    }

    #[test]
    fn review_bodies_follow_the_supervision_chain() {
        let mut facts = case_in_village();
        assert_eq!(
            facts.review_body().map(|o| o.to_string()).as_deref(),
            Some("330502:gov")
        );
        assert_eq!(
            facts.reexamination_body().map(|o| o.to_string()).as_deref(),
            Some("3305:gov")
        );
        // A county department is reviewed by its county government (Art. 35: 本级人民政府).
        facts.office = "330502:housing".into();
        assert_eq!(
            facts.review_body().map(|o| o.to_string()).as_deref(),
            Some("330502:gov")
        );
    }

    #[test]
    fn the_complained_office_is_recognised_by_id_or_unit() {
        let facts = CaseFacts {
            complained_unit: Some(code(VILLAGE)),
            complained_office: Some("330502:housing".into()),
            ..case_in_village()
        };
        assert!(facts.complained_office_is("330502:housing"));
        assert!(facts.complained_office_is("330502001003:committee"));
        assert!(!facts.complained_office_is(HOLDING));
    }

    #[test]
    fn a_case_without_a_unit_is_reachable_only_by_its_holding_office() {
        let mut facts = case_in_village();
        facts.unit = None;
        let p = Principal::staff("s", Role::Caseworker, code(TOWNSHIP), Some(HOLDING));
        assert!(can(&p, Action::ReadCase, &facts).is_ok());
        let p = Principal::staff("s", Role::Caseworker, code(TOWNSHIP), None);
        assert!(can(&p, Action::ReadCase, &facts).is_err());
    }

    #[test]
    fn allowed_actions_are_what_can_allows() {
        let (p, facts) = scenario(Role::OfficeHead, Relation::Holding);
        let actions = allowed_actions(&p, &facts);
        assert!(actions.contains(&Action::Accept) && actions.contains(&Action::Extend));
        assert!(!actions.contains(&Action::ReviewDecide));
        let (p, facts) = scenario(Role::Resident, Relation::Holding);
        assert_eq!(
            allowed_actions(&p, &facts),
            vec![
                Action::Rate,
                Action::Reopen,
                Action::Withdraw,
                Action::ReviewRequest,
                Action::ReexaminationRequest
            ]
        );
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
                let inside = can_at_unit(&p, action, &code(VILLAGE));
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
            complained_unit: Some(code(VILLAGE)),
            complained_office: Some("330502001003:committee".into()),
            ..case_in_village()
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
                Some(staff(Role::Caseworker, TOWNSHIP, HOLDING)),
                Disclosure::Shown,
            ),
            (
                "township head",
                Some(staff(Role::OfficeHead, TOWNSHIP, HOLDING)),
                Disclosure::Shown,
            ),
            (
                "mediator of the township",
                Some(staff(Role::Mediator, TOWNSHIP, HOLDING)),
                Disclosure::Shown,
            ),
            (
                "caseworker of the complained village",
                Some(staff(Role::Caseworker, VILLAGE, "330502001003:committee")),
                Disclosure::Withheld,
            ),
            (
                "grid worker in the complained village",
                Some(staff(Role::GridWorker, VILLAGE, "330502001003:grid")),
                Disclosure::Withheld,
            ),
            (
                "county staff of the complained office",
                Some(staff(Role::OfficeHead, "330502", "330502001003:committee")),
                Disclosure::Withheld,
            ),
            (
                "analyst",
                Some(staff(Role::Analyst, TOWNSHIP, HOLDING)),
                Disclosure::Withheld,
            ),
            (
                "administrator",
                Some(staff(Role::Administrator, TOWNSHIP, HOLDING)),
                Disclosure::Withheld,
            ),
        ];
        for (who, viewer, expected) in cases {
            assert_eq!(reporter_disclosure(viewer.as_ref(), &complained), expected, "{who}");
        }
        // A case that complains about nobody shows its reporter to staff within reach.
        let plain = case_in_village();
        let village = staff(Role::Caseworker, VILLAGE, "330502001003:committee");
        assert_eq!(reporter_disclosure(Some(&village), &plain), Disclosure::Shown);
    }

    #[test]
    fn can_applies_the_privacy_rule_to_reading_the_reporter() {
        let facts = CaseFacts {
            complained_unit: Some(code(TOWNSHIP)),
            ..case_in_village()
        };
        let p = Principal::staff("s", Role::Caseworker, code(TOWNSHIP), Some(HOLDING));
        assert!(can(&p, Action::ReadCase, &facts).is_ok());
        assert_eq!(can(&p, Action::ReadReporter, &facts), Err(Denied::ComplainedAbout));
        let county = Principal::staff("c", Role::Caseworker, code("330502"), Some("330502:gov"));
        assert!(can(&county, Action::ReadReporter, &facts).is_ok());
    }

    #[test]
    fn roles_and_actions_round_trip_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("mayor").is_err());
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
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
