//! Filing a case, as every interface does it (REST, Open311, the web, the CLI): who files decides the channel, the
//! actor and the access facts; the reporter is what the resident typed, never an account name; the case is routed away
//! from the office or unit it complains about; a petition on a matter already final after re-examination is refused
//! (Art. 36). The server only resolves a client's whereabouts to a [`Location`] before calling [`file_case`].

use domain::access::{self, Action, CaseFacts, Principal};
use domain::case::{Location, MAX_NAME_CHARS, MAX_TEXT_CHARS, RESIDENT_ACTOR, Reporter};
use domain::office::{Directory, OfficeId};
use domain::routing::Routing;
use domain::rules::check_new_petition;
use domain::{CaseEvent, CaseId, CaseKind, Channel, EventKind, NewCase, UnitCode};
use store::{CaseAccessRow, Store};
use time::OffsetDateTime;

use super::command::checked_text;
use super::{Rules, WorkflowError, hold, route};

/// The most co-signers a joint petition may name.
pub const MAX_CO_SIGNERS: u32 = 100_000;

/// Who files a case.
#[derive(Debug, Clone, Copy)]
pub enum Filer<'a> {
    /// A signed-in account: a resident filing their own case, or staff recording one that came by visit, letter,
    /// hotline or patrol.
    Principal(&'a Principal),
    /// An Open311 client, by the name of its API key, with the token it will be given.
    Client { api_key: &'a str, token: &'a str },
}

/// A new case as a filer gives it, already located.
#[derive(Debug, Clone)]
pub struct Filing {
    pub kind: CaseKind,
    /// For staff: the channel the case came by (default: visit). Residents file on the web, clients by Open311.
    pub channel: Option<Channel>,
    pub category: String,
    pub description: String,
    pub location: Location,
    pub reporter_name: Option<String>,
    pub reporter_contact: Option<String>,
    /// For a complaint or petition: the unit it is about (its staff never see the reporter nor act on the case).
    pub complained_unit: Option<UnitCode>,
    /// For a complaint or petition: the office it is about.
    pub complained_office: Option<String>,
    pub co_signers: u32,
    /// The answers to the category's questions, by code (checked at routing, [`domain::questions`]).
    pub answers: std::collections::BTreeMap<String, String>,
    /// The upload token under which the report's photos wait (the web form); they are attached to the new case.
    pub photos_upload: Option<String>,
}

/// Checks, routes and stores a new case in one transaction; returns its id and where it went.
pub async fn file_case(
    store: &Store,
    rules: &Rules,
    directory: &Directory,
    filer: Filer<'_>,
    filing: Filing,
    now: OffsetDateTime,
) -> Result<(CaseId, Routing), WorkflowError> {
    let category = checked_text("category", &filing.category, MAX_NAME_CHARS)?;
    if category.is_empty() {
        return Err(WorkflowError::field(
            "category",
            domain::said!("refused-required", "required"),
        ));
    }
    let description = checked_text("description", &filing.description, MAX_TEXT_CHARS)?;
    if filing.co_signers > MAX_CO_SIGNERS {
        return Err(WorkflowError::field(
            "co_signers",
            domain::said!(
                "refused-over-limit",
                "{n}; the limit is {max}",
                n = filing.co_signers,
                max = MAX_CO_SIGNERS,
            ),
        ));
    }
    let reporter = match (&filing.reporter_name, &filing.reporter_contact) {
        (None, None) => None,
        (name, contact) => Some(Reporter {
            name: checked_text("reporter_name", name.as_deref().unwrap_or_default(), MAX_NAME_CHARS)?,
            contact: checked_text(
                "reporter_contact",
                contact.as_deref().unwrap_or_default(),
                MAX_NAME_CHARS,
            )?,
        }),
    }
    .filter(|r| !r.name.is_empty() || !r.contact.is_empty());
    let complained_office = filing
        .complained_office
        .as_deref()
        .map(|o| {
            let id = OfficeId::parse(o).map_err(|e| WorkflowError::field("complained_office", e.to_string()))?;
            directory.office(&id).map(|_| id.to_string()).ok_or_else(|| {
                WorkflowError::unprocessable(
                    "complained_office",
                    domain::said!(
                        "refused-no-office",
                        "no office {office} in the directory",
                        office = id.to_string()
                    ),
                )
            })
        })
        .transpose()?;
    let (channel, actor, access) = match filer {
        Filer::Principal(p) => {
            let resident = !p.role.is_staff();
            let channel = if resident {
                Channel::Web
            } else {
                filing.channel.unwrap_or(Channel::Visit)
            };
            let actor = if resident {
                RESIDENT_ACTOR.to_string()
            } else {
                p.account.clone()
            };
            let facts = CaseFacts {
                unit: Some(filing.location.unit.clone()),
                reporter_account: resident.then(|| p.account.clone()),
                ..CaseFacts::default()
            };
            access::can(p, Action::CreateCase, &facts)?;
            let access = CaseAccessRow {
                reporter_account: facts.reporter_account,
                complained_unit: filing.complained_unit.clone(),
                complained_office,
                token: None,
                api_key: None,
            };
            (channel, actor, access)
        }
        Filer::Client { api_key, token } => (
            Channel::Open311,
            format!("open311:{api_key}"),
            CaseAccessRow {
                reporter_account: None,
                complained_unit: filing.complained_unit.clone(),
                complained_office,
                token: Some(token.to_string()),
                api_key: Some(api_key.to_string()),
            },
        ),
    };
    if filing.kind == CaseKind::Petition {
        refuse_final_matter(store, &access, reporter.as_ref(), &category).await?;
    }
    let case = NewCase {
        kind: filing.kind,
        channel,
        category,
        description,
        location: filing.location,
        reporter,
        co_signers: filing.co_signers,
        answers: filing.answers,
    };
    let (mut record, routing) = route(rules, directory, case, &actor, now)?;
    let facts = CaseFacts {
        complained_unit: access.complained_unit.clone(),
        complained_office: access.complained_office.clone(),
        ..CaseFacts::default()
    };
    away_from_the_complained(&mut record.events, &facts)?;
    let id = store.insert_case_with_access(&record, &access, rules).await?;
    if let Some(token) = filing.photos_upload.as_deref().filter(|t| !t.is_empty()) {
        store.attach_uploads(token, id).await?;
    }
    Ok((id, routing))
}

/// No one judges their own case: a case routed to the office or unit it complains about goes one level up instead.
fn away_from_the_complained(events: &mut [CaseEvent], facts: &CaseFacts) -> Result<(), WorkflowError> {
    let Some(EventKind::Created { office }) = events.first_mut().map(|e| &mut e.kind) else {
        return Ok(());
    };
    while facts.complained_office_is(office) {
        let up = OfficeId::parse(office)
            .ok()
            .and_then(|o| o.supervisor())
            .ok_or_else(|| {
                WorkflowError::unprocessable(
                    "complained_unit",
                    domain::said!(
                        "refused-complained-top",
                        "the case would go to {office}, which it complains about, and no office is above it",
                        office = office.to_string(),
                    ),
                )
            })?;
        *office = up.to_string();
    }
    Ok(())
}

/// Art. 36: a petition by the same person on a matter that is final after re-examination is not accepted again.
/// The same person is the same resident account, or the same contact; the same matter, the same category.
async fn refuse_final_matter(
    store: &Store,
    access: &CaseAccessRow,
    reporter: Option<&Reporter>,
    category: &str,
) -> Result<(), WorkflowError> {
    let contact = reporter.map(|r| r.contact.as_str()).filter(|c| !c.trim().is_empty());
    let earlier = store
        .earlier_cases_of(access.reporter_account.as_deref(), contact, category)
        .await?;
    let mut prior = Vec::with_capacity(earlier.len());
    for id in earlier {
        prior.push((id, hold(store, id).await?.record.events));
    }
    let logs: Vec<(CaseId, &[CaseEvent])> = prior.iter().map(|(id, log)| (*id, log.as_slice())).collect();
    check_new_petition(&logs)?;
    Ok(())
}
