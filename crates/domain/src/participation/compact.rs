//! Self-governance compacts (村规民约 / 居民公约): a versioned text of clauses drafted by a village's or community's
//! committee, commented on by its residents, voted on by them (one account one vote, a secret ballot), adopted, and
//! filed with the township, which reviews it against the forbidden-content guardrails.
//!
//! The lifecycle of one version: `draft` → `comment` (the public comment period) → `voting` → `adopted` or
//! `not_adopted` → at filing `filed` (in force) or `refused` (a clause the guardrails forbid). A later version that is
//! filed supersedes the one in force (`superseded`). An amendment is a new version that takes the same steps.
//!
//! The Organic Law of Villagers' Committees (Art. 27) has the villagers' assembly draw up the compact and file it with
//! the township government, and forbids any content that infringes villagers' personal, democratic or property
//! rights; the 2018 Guiding Opinions on village and residents' compacts name what that means in practice: no fines or
//! detention, no restriction of marriage or inheritance, no taking of land rights. Those three are the national list
//! ([`national_compact_guardrails`]); a layer may add words of its own with a `compact_content` guardrail.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ParticipationError, invalid};
use crate::access::{Principal, Role};
use crate::policy::{Folded, GuardrailRule};
use crate::territory::{Level, UnitCode};

/// The citation of the national forbidden-content list.
pub const COMPACT_GUIDANCE: &str = "Organic Law of Villagers' Committees Art. 27; Guiding Opinions on Village \
                                    Compacts and Residents' Compacts (Ministry of Civil Affairs and six others, 2018)";

/// The most clauses one version may have.
pub const MAX_CLAUSES: usize = 200;
/// The longest clause accepted, in characters.
pub const MAX_CLAUSE_CHARS: usize = 2_000;

/// Where one version of a compact stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompactState {
    Draft,
    Comment,
    Voting,
    Adopted,
    NotAdopted,
    Filed,
    Refused,
    Superseded,
}

impl CompactState {
    pub const ALL: [CompactState; 8] = [
        CompactState::Draft,
        CompactState::Comment,
        CompactState::Voting,
        CompactState::Adopted,
        CompactState::NotAdopted,
        CompactState::Filed,
        CompactState::Refused,
        CompactState::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompactState::Draft => "draft",
            CompactState::Comment => "comment",
            CompactState::Voting => "voting",
            CompactState::Adopted => "adopted",
            CompactState::NotAdopted => "not_adopted",
            CompactState::Filed => "filed",
            CompactState::Refused => "refused",
            CompactState::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<CompactState> {
        CompactState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the version is still on its way (a unit has at most one such version at a time).
    pub fn in_progress(self) -> bool {
        matches!(
            self,
            CompactState::Draft | CompactState::Comment | CompactState::Voting | CompactState::Adopted
        )
    }

    /// The steps the committee may take from here.
    pub fn steps(self) -> &'static [CompactStep] {
        match self {
            CompactState::Draft => &[CompactStep::OpenComments],
            CompactState::Comment => &[CompactStep::OpenVote],
            CompactState::Voting => &[CompactStep::CloseVote],
            CompactState::Adopted => &[CompactStep::File],
            _ => &[],
        }
    }
}

impl fmt::Display for CompactState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step of the committee (or, for filing, of the township's review).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompactStep {
    OpenComments,
    OpenVote,
    CloseVote,
    File,
}

impl CompactStep {
    pub const ALL: [CompactStep; 4] = [
        CompactStep::OpenComments,
        CompactStep::OpenVote,
        CompactStep::CloseVote,
        CompactStep::File,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompactStep::OpenComments => "open_comments",
            CompactStep::OpenVote => "open_vote",
            CompactStep::CloseVote => "close_vote",
            CompactStep::File => "file",
        }
    }

    pub fn parse(s: &str) -> Result<CompactStep, ParticipationError> {
        CompactStep::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            invalid(
                "step",
                format!("unknown step {s:?} (open_comments, open_vote, close_vote, file)"),
            )
        })
    }

    /// Checks that the step may be taken from `state` at `now`; `comment_until` and `vote_closes` are the version's
    /// times (epoch seconds) once set. The comment period and the vote run their full length: the vote opens only
    /// after the comment period ends, and it is counted only after it closes.
    pub fn check(
        self,
        compact: i64,
        state: CompactState,
        now: i64,
        comment_until: Option<i64>,
        vote_closes: Option<i64>,
    ) -> Result<(), ParticipationError> {
        let wrong = |wait_until| ParticipationError::WrongState {
            compact,
            state,
            step: self,
            wait_until,
        };
        if !state.steps().contains(&self) {
            return Err(wrong(None));
        }
        let not_before = match self {
            CompactStep::OpenVote => comment_until,
            CompactStep::CloseVote => vote_closes,
            CompactStep::OpenComments | CompactStep::File => None,
        };
        match not_before {
            Some(t) if now < t => Err(wrong(Some(t))),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for CompactStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompactStep::OpenComments => "open its comment period",
            CompactStep::OpenVote => "open its vote",
            CompactStep::CloseVote => "close its vote",
            CompactStep::File => "be filed",
        })
    }
}

/// Whether a unit holds a compact of its own: villages and urban residents' committees (the lowest level).
pub fn is_compact_unit(unit: &UnitCode) -> Result<(), ParticipationError> {
    match unit.level() {
        Level::Village => Ok(()),
        other => Err(ParticipationError::NotCompactUnit {
            unit: unit.clone(),
            level: other.as_str().to_string(),
        }),
    }
}

/// One numbered clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clause {
    pub number: u32,
    pub text: String,
}

/// Reads a compact's text: one clause per non-empty line, numbered from 1 in order. A leading number the drafter
/// typed (`3.`, `3、`, `第三条`) is kept as part of the text; the clause number is its position.
pub fn parse_clauses(text: &str) -> Result<Vec<Clause>, ParticipationError> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return Err(invalid("clauses", "a compact needs at least one clause (one per line)"));
    }
    if lines.len() > MAX_CLAUSES {
        return Err(invalid(
            "clauses",
            format!("{} clauses; at most {MAX_CLAUSES}", lines.len()),
        ));
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            if line.chars().count() > MAX_CLAUSE_CHARS {
                return Err(invalid(
                    &format!("clause {}", i + 1),
                    format!("longer than {MAX_CLAUSE_CHARS} characters"),
                ));
            }
            Ok(Clause {
                number: i as u32 + 1,
                text: line.to_string(),
            })
        })
        .collect()
}

/// The rules of comment and vote in force for a unit: its policy's `compacts.*` keys over the national defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompactVoteRules {
    /// More than this share of the electorate must vote (Organic Law Art. 22: more than half of the adult villagers).
    pub quorum_share: f64,
    /// "Yes" must be more than this share of the ballots cast (Art. 22: more than half of those present).
    pub majority_share: f64,
    pub comment_days: u32,
    pub vote_days: u32,
}

impl CompactVoteRules {
    /// The national defaults, which hold where no layer sets a `compacts.*` key.
    pub const NATIONAL: CompactVoteRules = CompactVoteRules {
        quorum_share: 0.5,
        majority_share: 0.5,
        comment_days: 15,
        vote_days: 7,
    };

    /// The rules for the unit whose effective policy is `policy`. A share outside [0.5, 1) or a period of zero days
    /// is refused naming the key: a compact is never adopted by fewer than half (Organic Law Art. 22).
    pub fn in_force(policy: &Folded) -> Result<CompactVoteRules, ParticipationError> {
        let mut rules = CompactVoteRules::NATIONAL;
        for (key, slot) in [
            ("compacts.quorum_share", &mut rules.quorum_share),
            ("compacts.majority_share", &mut rules.majority_share),
        ] {
            if let Some(value) = policy.value(key) {
                let share = match value {
                    toml::Value::Float(f) => *f,
                    toml::Value::Integer(i) => *i as f64,
                    other => return Err(bad_rule(key, format!("expected a number, found {other}"))),
                };
                if !(0.5..1.0).contains(&share) {
                    return Err(bad_rule(
                        key,
                        format!("{share} is outside [0.5, 1) (Organic Law Art. 22)"),
                    ));
                }
                *slot = share;
            }
        }
        for (key, slot) in [
            ("compacts.comment_days", &mut rules.comment_days),
            ("compacts.vote_days", &mut rules.vote_days),
        ] {
            if let Some(value) = policy.value(key) {
                let days = value
                    .as_integer()
                    .filter(|d| (1..=365).contains(d))
                    .ok_or_else(|| bad_rule(key, format!("{value} is not a number of days in 1..=365")))?;
                *slot = days as u32;
            }
        }
        Ok(rules)
    }
}

fn bad_rule(key: &str, message: String) -> ParticipationError {
    ParticipationError::BadRule {
        key: key.to_string(),
        message,
    }
}

fn is_resident_of(principal: &Principal, unit: &UnitCode) -> Result<(), ParticipationError> {
    if principal.role == Role::Resident && principal.scope.is_within(unit) {
        Ok(())
    } else {
        Err(ParticipationError::NotResident {
            account: principal.account.clone(),
            unit: unit.clone(),
        })
    }
}

/// May `principal` comment on compact `compact` of `unit` at `now`? Only a resident whose home lies in the unit, and
/// only during the comment period.
pub fn may_comment(
    principal: &Principal,
    compact: i64,
    unit: &UnitCode,
    state: CompactState,
    comment_until: Option<i64>,
    now: i64,
) -> Result<(), ParticipationError> {
    is_resident_of(principal, unit)?;
    let closed = |reason: String| ParticipationError::CommentClosed { compact, reason };
    if state != CompactState::Comment {
        return Err(closed(format!("it is {state}")));
    }
    match comment_until {
        Some(until) if now >= until => Err(closed(format!("it ended at {until} (epoch seconds)"))),
        _ => Ok(()),
    }
}

/// May `principal` vote on compact `compact` of `unit` at `now`? A resident of the unit, while the vote is open, once.
/// `already_voted` is whether the register of voters holds the account (the store enforces it again on write).
pub fn may_vote(
    principal: &Principal,
    compact: i64,
    unit: &UnitCode,
    state: CompactState,
    vote_closes: Option<i64>,
    already_voted: bool,
    now: i64,
) -> Result<(), ParticipationError> {
    is_resident_of(principal, unit)?;
    if let (CompactState::Voting, Some(closed)) = (state, vote_closes)
        && now >= closed
    {
        return Err(ParticipationError::VoteClosed { compact, closed });
    }
    if state != CompactState::Voting {
        return Err(match (state, vote_closes) {
            (CompactState::Adopted | CompactState::NotAdopted | CompactState::Filed, Some(closed)) => {
                ParticipationError::VoteClosed { compact, closed }
            }
            _ => ParticipationError::VoteNotOpen { compact, state },
        });
    }
    if already_voted {
        return Err(ParticipationError::AlreadyVoted {
            account: principal.account.clone(),
            compact,
        });
    }
    Ok(())
}

/// A ballot's content. The ballot is secret: the store keeps who voted apart from these counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Yes,
    No,
    Abstain,
}

impl Choice {
    pub const ALL: [Choice; 3] = [Choice::Yes, Choice::No, Choice::Abstain];

    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Yes => "yes",
            Choice::No => "no",
            Choice::Abstain => "abstain",
        }
    }

    pub fn parse(s: &str) -> Result<Choice, ParticipationError> {
        Choice::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| invalid("choice", format!("unknown choice {s:?} (yes, no or abstain)")))
    }
}

/// The counts of a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tally {
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
}

impl Tally {
    pub fn cast(&self) -> u64 {
        self.yes + self.no + self.abstain
    }
}

/// The published result of a vote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoteOutcome {
    pub electorate: u64,
    pub tally: Tally,
    pub quorum_share: f64,
    pub majority_share: f64,
    pub quorum_met: bool,
    pub majority_met: bool,
    pub adopted: bool,
}

/// Counts a vote: adopted when more than `quorum_share` of the electorate voted and "yes" is more than
/// `majority_share` of the ballots cast (abstentions count as cast).
pub fn count_votes(tally: Tally, electorate: u64, rules: &CompactVoteRules) -> VoteOutcome {
    let cast = tally.cast();
    let quorum_met = electorate > 0 && cast as f64 > rules.quorum_share * electorate as f64;
    let majority_met = cast > 0 && tally.yes as f64 > rules.majority_share * cast as f64;
    VoteOutcome {
        electorate,
        tally,
        quorum_share: rules.quorum_share,
        majority_share: rules.majority_share,
        quorum_met,
        majority_met,
        adopted: quorum_met && majority_met,
    }
}

/// One forbidden-content rule in force for a unit: its words, who declared it and what it cites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentRule {
    pub id: String,
    /// `national`, or the code of the unit whose layer declared it.
    pub owner: String,
    pub cites: String,
    pub words: Vec<String>,
}

/// The national list: fines and detention, restrictions of marriage and inheritance, the taking of land rights. The
/// words are those such clauses are written with, in Chinese and English.
pub fn national_compact_guardrails() -> Vec<ContentRule> {
    let rule = |id: &str, words: &[&str]| ContentRule {
        id: id.to_string(),
        owner: "national".to_string(),
        cites: COMPACT_GUIDANCE.to_string(),
        words: words.iter().map(|w| w.to_string()).collect(),
    };
    vec![
        rule(
            "no-fines-or-detention",
            &[
                "罚款",
                "罚金",
                "处罚",
                "拘留",
                "关押",
                "禁闭",
                "扣押",
                "fine",
                "fined",
                "fines",
                "detain",
                "detained",
                "detention",
                "confine",
                "confined",
            ],
        ),
        rule(
            "no-marriage-or-inheritance-restriction",
            &[
                "不得结婚",
                "禁止结婚",
                "不准结婚",
                "禁止离婚",
                "不得离婚",
                "不得改嫁",
                "禁止改嫁",
                "外嫁女",
                "不得继承",
                "无权继承",
                "剥夺继承",
                "取消继承",
                "may not marry",
                "forbidden to marry",
                "may not divorce",
                "may not remarry",
                "may not inherit",
                "no right to inherit",
                "loses inheritance",
                "disinherit",
            ],
        ),
        rule(
            "no-taking-of-land-rights",
            &[
                "收回承包地",
                "收回土地",
                "取消承包",
                "剥夺承包",
                "收回宅基地",
                "取消宅基地",
                "不得分配土地",
                "不予分配土地",
                "take back land",
                "revoke the land",
                "land is taken back",
                "lose their land",
                "loses their land",
                "forfeit land",
                "contracted land is revoked",
                "homestead is revoked",
            ],
        ),
    ]
}

/// Every forbidden-content rule in force for the unit whose effective policy is `policy`: the national list, then the
/// `compact_content` guardrails of the layers above and at the unit.
pub fn content_rules(policy: &Folded) -> Vec<ContentRule> {
    let mut rules = national_compact_guardrails();
    for owned in &policy.guardrails {
        let g = &owned.guardrail;
        if g.rule == Some(GuardrailRule::CompactContent)
            && let Some(words) = &g.forbid
        {
            rules.push(ContentRule {
                id: g.id.clone(),
                owner: owned.owner.to_string(),
                cites: g.cites.clone().unwrap_or_else(|| owned.source.clone()),
                words: words.clone(),
            });
        }
    }
    rules
}

/// A clause that a forbidden-content rule catches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForbiddenClause {
    pub clause: u32,
    pub guardrail: String,
    pub owner: String,
    pub cites: String,
    /// The forbidden word found.
    pub word: String,
}

impl fmt::Display for ForbiddenClause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "clause {} breaks guardrail \"{}\" owned by {} ({}): it contains {:?}",
            self.clause, self.guardrail, self.owner, self.cites, self.word
        )
    }
}

/// The township's review at filing: every clause that contains a forbidden word, naming the clause and the rule. An
/// empty result means the compact may be filed.
pub fn review_filing(clauses: &[Clause], rules: &[ContentRule]) -> Vec<ForbiddenClause> {
    let mut found = Vec::new();
    for clause in clauses {
        let text = clause.text.to_lowercase();
        for rule in rules {
            if let Some(word) = rule.words.iter().find(|w| contains_word(&text, &w.to_lowercase())) {
                found.push(ForbiddenClause {
                    clause: clause.number,
                    guardrail: rule.id.clone(),
                    owner: rule.owner.clone(),
                    cites: rule.cites.clone(),
                    word: word.clone(),
                });
            }
        }
    }
    found
}

/// Whether `word` occurs in `text`. A word that begins or ends with a Latin letter must do so at a word boundary
/// there, so that "fine" does not catch "define"; Chinese has no spaces and is matched as a substring.
fn contains_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let latin = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let first_latin = latin(word.chars().next());
    let last_latin = latin(word.chars().last());
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        // A Latin word matches only whole: no letter or digit joined to either end.
        let joined = (first_latin && latin(before)) || (last_latin && latin(after));
        !joined
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{LayerVersion, PolicyBook};

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).expect("code")
    }

    const VILLAGE: &str = "330502001001";

    fn resident(name: &str, home: &str) -> Principal {
        Principal::resident(name, code(home))
    }

    #[test]
    fn clauses_are_numbered_by_line_and_blank_lines_are_skipped() {
        let clauses = parse_clauses("爱护公共环境\n\n  邻里互助  \n").unwrap();
        assert_eq!(clauses.len(), 2);
        assert_eq!(
            clauses[1],
            Clause {
                number: 2,
                text: "邻里互助".into()
            }
        );
        assert!(
            parse_clauses(" \n")
                .unwrap_err()
                .to_string()
                .contains("at least one clause")
        );
        let long = "x".repeat(MAX_CLAUSE_CHARS + 1);
        assert!(parse_clauses(&long).unwrap_err().to_string().starts_with("clause 1:"));
    }

    #[test]
    fn only_residents_of_the_community_comment_and_only_during_the_period() {
        let unit = code(VILLAGE);
        let home = resident("li", VILLAGE);
        assert!(may_comment(&home, 1, &unit, CompactState::Comment, Some(100), 50).is_ok());
        let neighbour = resident("wang", "330502001002");
        let err = may_comment(&neighbour, 1, &unit, CompactState::Comment, Some(100), 50).unwrap_err();
        assert!(err.to_string().starts_with("rule compact-residents-only"), "{err}");
        let staff = Principal::staff("head", Role::OfficeHead, unit.clone(), None);
        assert!(may_comment(&staff, 1, &unit, CompactState::Comment, Some(100), 50).is_err());
        let late = may_comment(&home, 1, &unit, CompactState::Comment, Some(100), 100).unwrap_err();
        assert!(late.to_string().starts_with("rule compact-comment-period"), "{late}");
        assert!(may_comment(&home, 1, &unit, CompactState::Draft, None, 50).is_err());
    }

    #[test]
    fn a_vote_from_outside_the_community_is_refused() {
        let err = may_vote(
            &resident("wang", "330502001002"),
            7,
            &code(VILLAGE),
            CompactState::Voting,
            Some(100),
            false,
            50,
        )
        .unwrap_err();
        assert!(matches!(err, ParticipationError::NotResident { .. }));
        assert!(err.to_string().contains("rule compact-residents-only"));
    }

    #[test]
    fn a_second_vote_is_refused() {
        let err = may_vote(
            &resident("li", VILLAGE),
            7,
            &code(VILLAGE),
            CompactState::Voting,
            Some(100),
            true,
            50,
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("rule compact-one-account-one-vote"),
            "{err}"
        );
    }

    #[test]
    fn a_vote_after_the_close_is_refused() {
        let li = resident("li", VILLAGE);
        let unit = code(VILLAGE);
        let err = may_vote(&li, 7, &unit, CompactState::Voting, Some(100), false, 100).unwrap_err();
        assert!(err.to_string().starts_with("rule compact-vote-window"), "{err}");
        let counted = may_vote(&li, 7, &unit, CompactState::Adopted, Some(100), false, 200).unwrap_err();
        assert!(matches!(counted, ParticipationError::VoteClosed { .. }));
        assert!(may_vote(&li, 7, &unit, CompactState::Voting, Some(100), false, 99).is_ok());
    }

    #[test]
    fn the_lifecycle_waits_for_the_full_periods() {
        let step = |s: CompactStep, state, now| s.check(3, state, now, Some(100), Some(200));
        assert!(step(CompactStep::OpenComments, CompactState::Draft, 0).is_ok());
        let early = step(CompactStep::OpenVote, CompactState::Comment, 99).unwrap_err();
        assert!(early.to_string().contains("before 100"), "{early}");
        assert!(step(CompactStep::OpenVote, CompactState::Comment, 100).is_ok());
        assert!(step(CompactStep::CloseVote, CompactState::Voting, 199).is_err());
        assert!(step(CompactStep::CloseVote, CompactState::Voting, 200).is_ok());
        assert!(step(CompactStep::File, CompactState::Adopted, 300).is_ok());
        let refiled = step(CompactStep::File, CompactState::Filed, 300).unwrap_err();
        assert!(refiled.to_string().starts_with("rule compact-lifecycle"), "{refiled}");
    }

    #[test]
    fn adoption_needs_more_than_the_quorum_and_more_than_the_majority() {
        let rules = CompactVoteRules::NATIONAL;
        let tally = |yes, no, abstain| Tally { yes, no, abstain };
        assert!(count_votes(tally(4, 1, 1), 10, &rules).adopted);
        // Exactly half of the electorate is not more than half.
        let half = count_votes(tally(5, 0, 0), 10, &rules);
        assert!(!half.quorum_met && !half.adopted);
        // Abstentions count as cast, so 3 yes of 6 is not a majority.
        let split = count_votes(tally(3, 1, 2), 10, &rules);
        assert!(split.quorum_met && !split.majority_met && !split.adopted);
        assert!(!count_votes(Tally::default(), 0, &rules).adopted);
    }

    #[test]
    fn the_vote_rules_come_from_the_policy_layers_over_the_national_defaults() {
        let mut book = PolicyBook::new();
        let date = time::macros::date!(2026 - 01 - 01);
        let layer = |unit: &str, text: &str| LayerVersion::parse(&code(unit), "t.toml", text, Some(date)).unwrap();
        assert_eq!(
            CompactVoteRules::in_force(&book.effective(&code(VILLAGE), date)).unwrap(),
            CompactVoteRules::NATIONAL
        );
        book.save(layer(
            "330502",
            "compacts.majority_share = 0.66\ncompacts.comment_days = 30",
        ))
        .unwrap();
        let rules = CompactVoteRules::in_force(&book.effective(&code(VILLAGE), date)).unwrap();
        assert_eq!(
            (rules.majority_share, rules.comment_days, rules.quorum_share),
            (0.66, 30, 0.5)
        );
        book.save(layer("330502001", "compacts.quorum_share = 0.3")).unwrap();
        let err = CompactVoteRules::in_force(&book.effective(&code(VILLAGE), date)).unwrap_err();
        assert!(err.to_string().contains("compacts.quorum_share"), "{err}");
    }

    #[test]
    fn a_forbidden_clause_is_named_with_its_guardrail() {
        let clauses = parse_clauses("爱护环境，垃圾分类\n乱倒垃圾者罚款200元\n外嫁女不得继承父母房产").unwrap();
        let found = review_filing(&clauses, &national_compact_guardrails());
        let named: Vec<(u32, &str)> = found.iter().map(|f| (f.clause, f.guardrail.as_str())).collect();
        assert_eq!(
            named,
            vec![
                (2, "no-fines-or-detention"),
                (3, "no-marriage-or-inheritance-restriction")
            ]
        );
        assert!(
            found[0]
                .to_string()
                .contains("clause 2 breaks guardrail \"no-fines-or-detention\"")
        );
    }

    #[test]
    fn latin_words_match_whole_words_only() {
        let clauses = parse_clauses("We define quiet hours\nOffenders are fined 50 yuan").unwrap();
        let found = review_filing(&clauses, &national_compact_guardrails());
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].clause, found[0].word.as_str()), (2, "fined"));
    }

    #[test]
    fn a_layer_adds_forbidden_words_of_its_own() {
        let mut book = PolicyBook::new();
        let date = time::macros::date!(2026 - 01 - 01);
        let text = "[[guardrail]]\nid = \"no-eviction\"\nrule = \"compact_content\"\nforbid = [\"驱逐\"]\ncites = \"county rule\"\n";
        book.save(LayerVersion::parse(&code("330502"), "c.toml", text, Some(date)).unwrap())
            .unwrap();
        let rules = content_rules(&book.effective(&code(VILLAGE), date));
        assert_eq!(rules.len(), 4);
        let found = review_filing(&parse_clauses("违者驱逐出村").unwrap(), &rules);
        assert_eq!(
            (found[0].guardrail.as_str(), found[0].owner.as_str()),
            ("no-eviction", "330502")
        );
        let bad = "[[guardrail]]\nid = \"x\"\nrule = \"compact_content\"\n";
        let err = LayerVersion::parse(&code("330502"), "c.toml", bad, Some(date)).unwrap_err();
        assert!(err.to_string().contains("needs `forbid`"), "{err}");
    }

    #[test]
    fn compacts_belong_to_villages_and_communities() {
        assert!(is_compact_unit(&code(VILLAGE)).is_ok());
        let err = is_compact_unit(&code("330502001")).unwrap_err();
        assert!(err.to_string().starts_with("rule compact-unit"), "{err}");
    }
}
