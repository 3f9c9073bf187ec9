//! The one disclosure point: what an audience sees of a case. REST, Open311, the CLI and the web pages build their
//! output only from the [`CaseView`] that [`disclose`] returns, and `disclose` is where a staff read of personal data
//! is audited. The rules themselves are `domain::disclosure` and `domain::access`.

use domain::access::{self, Action, CaseFacts};
use domain::case::{CaseKind, Channel, Reporter};
use domain::clock::{self, Deadline};
use domain::disclosure::{Audience, disclose_event, mask_identifiers, reduction};
use domain::grid::GridIndex;
use domain::{CaseEvent, CaseId, CaseState, Rating, UnitCode};
use store::{AuditEntry, Store, StoreError};
use time::OffsetDateTime;

use super::{HeldCase, Rules, WorkflowError};

/// A case as one audience may see it. Only [`disclose`] makes one (`non_exhaustive`: no other crate can build one),
/// so no output can be built from a case that did not pass the disclosure rules.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CaseView {
    pub id: CaseId,
    pub kind: CaseKind,
    pub channel: Channel,
    pub category: String,
    pub unit: UnitCode,
    pub grid: Option<String>,
    pub state: CaseState,
    /// The office holding the case.
    pub office: String,
    pub created_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
    pub description: String,
    /// The answers to the category's questions, by code, masked like the description.
    pub answers: std::collections::BTreeMap<String, String>,
    /// The exact point, or the centre of the case's grid when the audience may not see the exact point.
    pub point: Option<(f64, f64)>,
    pub point_is_exact: bool,
    pub co_signers: u32,
    pub rating: Option<Rating>,
    /// The log as this audience may see it.
    pub events: Vec<CaseEvent>,
    /// The statutory and policy clocks of the case, from its whole log.
    pub deadlines: Vec<Deadline>,
    pub reporter: Option<Reporter>,
    /// True when a reporter is on record but withheld from this audience.
    pub reporter_withheld: bool,
    /// What the principal may do on the case in its state now (empty for the public); the time limits may still
    /// refuse one.
    pub actions: Vec<Action>,
    /// The ids of the case's photos (re-encoded, no metadata), for whoever sees the case.
    pub photos: Vec<i64>,
}

/// Whom the case is shown to: a principal who may not read it but could see it on the public portal sees it as the
/// public does (and may add their voice; the actions stay theirs). Whoever may see nothing gets `NoSuchCase`, as for
/// an id never issued. Also the check before a case's photo is served.
pub(crate) fn seen_as<'a>(
    audience: Audience<'a>,
    held: &HeldCase,
    facts: &CaseFacts,
) -> Result<Audience<'a>, WorkflowError> {
    match audience {
        Audience::Principal(p) => match access::can(p, Action::ReadCase, facts) {
            Ok(()) => Ok(audience),
            Err(_) if facts.public => Ok(Audience::Public),
            Err(denied) => Err(held.refusal(p, denied)),
        },
        Audience::Public if facts.public => Ok(audience),
        Audience::Public => Err(StoreError::NoSuchCase(held.record.row.id).into()),
    }
}

/// What `audience` may see of `held`. A principal who may not read the case sees a public case as the public does
/// (with the actions still theirs, such as adding their voice); a principal or the public who may not see the case
/// gets `NoSuchCase`, exactly as for one that does not exist. A staff read of the reporter is
/// audited (`via` names the interface) before the view is returned; a failure to audit fails the read.
pub async fn disclose(
    store: &Store,
    rules: &Rules,
    grids: &GridIndex,
    audience: Audience<'_>,
    held: &HeldCase,
    via: &str,
    now: OffsetDateTime,
) -> Result<CaseView, WorkflowError> {
    let photos = store.photo_ids_of(held.record.row.id).await?;
    disclose_with_photos(store, rules, grids, audience, held, photos, via, now).await
}

/// [`disclose`] of a case whose photos' ids were loaded with it (a list of cases loads them all at once).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn disclose_with_photos(
    store: &Store,
    rules: &Rules,
    grids: &GridIndex,
    audience: Audience<'_>,
    held: &HeldCase,
    photos: Vec<i64>,
    via: &str,
    now: OffsetDateTime,
) -> Result<CaseView, WorkflowError> {
    let row = &held.record.row;
    let facts = held.facts();
    let seen_as = seen_as(audience, held, &facts)?;
    let r = reduction(seen_as, &facts);
    let known = held.identifiers();
    let reporter = held.record.reporter.clone().filter(|_| r.reporter);
    if reporter.is_some()
        && let Audience::Principal(p) = seen_as
        && p.role.is_staff()
    {
        store
            .write_audit(&AuditEntry {
                at: now.unix_timestamp(),
                account: p.account.clone(),
                role: p.role.as_str().to_string(),
                action: "read_reporter".into(),
                case_id: Some(row.id),
                detail: format!("reporter name and contact via {via}"),
            })
            .await?;
    }
    let point = match (row.location.lat, row.location.lon) {
        (Some(lat), Some(lon)) if r.exact_point => Some((lat, lon)),
        _ => row
            .location
            .grid
            .as_deref()
            .and_then(|g| grids.grid(g))
            .and_then(|g| g.centre()),
    };
    let clocks = rules.clocks_of(row);
    let deadlines = clock::deadlines(
        row.kind,
        clocks.urgency(row.kind, &row.category),
        &held.record.events,
        &clocks,
        &rules.calendar,
    );
    let actions = match audience {
        Audience::Principal(p) => access::allowed_actions(p, &facts)
            .into_iter()
            .filter(|a| super::command::possible_for(&held.status, *a, p))
            .collect(),
        Audience::Public => Vec::new(),
    };
    Ok(CaseView {
        photos,
        id: row.id,
        kind: row.kind,
        channel: row.channel,
        category: row.category.clone(),
        unit: row.location.unit.clone(),
        grid: row.location.grid.clone(),
        state: held.status.state,
        office: held.status.office.clone(),
        created_at: held.status.created_at,
        closed_at: held.status.closed_at,
        description: if r.verbatim_text {
            row.description.clone()
        } else {
            mask_identifiers(&row.description, &known)
        },
        answers: row
            .answers
            .iter()
            .map(|(code, answer)| {
                let shown = if r.verbatim_text {
                    answer.clone()
                } else {
                    mask_identifiers(answer, &known)
                };
                (code.clone(), shown)
            })
            .collect(),
        point_is_exact: r.exact_point && point.is_some(),
        point,
        co_signers: row.co_signers,
        rating: held.status.rating,
        events: held
            .record
            .events
            .iter()
            .filter_map(|e| disclose_event(e, r, &known))
            .collect(),
        deadlines,
        reporter_withheld: held.record.reporter.is_some() && !r.reporter,
        reporter,
        actions,
    })
}
