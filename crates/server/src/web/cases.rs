//! Cases on the pages: "my cases" for a resident and the office queue for staff (`app::workflow::queue`: the cases
//! `list_cases` gives, sorted by time left, with deadline badges), one case (built only from the `CaseView` of
//! `app::workflow::disclose`, with one form per action that view lists), acting (the form parsed as the REST body is,
//! into a `Command` for `app::workflow::perform`), and the alerts inbox (`app::workflow::alerts_for`).

use app::workflow::{self, CaseQuery, CaseView};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Action;
use domain::disclosure::Audience;
use domain::{CaseKind, CaseState};
use serde::Deserialize;
use time::OffsetDateTime;

use super::intake::Choice;
use super::page::{Ctx, Failure};
use crate::error::ApiError;
use crate::rest::cases::{ActRequest, case_id, rating_name};
use crate::state::AppState;

/// A time as the pages show it: in the calendar's zone, to the minute.
pub(super) fn when(state: &AppState, at: OffsetDateTime) -> String {
    let local = at.to_offset(state.rules.calendar.offset());
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// How close a due time is: `overdue`, `today` (due before the end of today) or `ok`.
fn badge(state: &AppState, due: OffsetDateTime, now: OffsetDateTime) -> &'static str {
    let calendar = &state.rules.calendar;
    if due < now {
        "overdue"
    } else if due <= calendar.end_of(calendar.local_date(now)) {
        "today"
    } else {
        "ok"
    }
}

pub struct Row {
    pub id: i64,
    pub kind: String,
    pub category: String,
    pub state: String,
    pub unit: String,
    pub created: String,
    pub due: String,
    /// `overdue`, `today`, `ok`, or empty without a running clock.
    pub badge: String,
    pub badge_label: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    /// A state, `open` (open cases with a running clock: the default of a staff queue) or empty for any.
    state: Option<String>,
    #[serde(default)]
    grid: String,
    #[serde(default)]
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "cases/list.html")]
struct ListPage<'a> {
    ctx: &'a Ctx,
    rows: Vec<Row>,
    kinds: Vec<Choice>,
    categories: Vec<Choice>,
    states: Vec<Choice>,
    grid: String,
    /// The filters as a query string, kept by the page links.
    filter_query: String,
    page: u32,
    next_page: Option<u32>,
}

fn choices<'a>(ctx: &Ctx, prefix: &str, names: impl IntoIterator<Item = &'a str>, selected: &str) -> Vec<Choice> {
    names
        .into_iter()
        .map(|n| Choice {
            value: n.to_string(),
            label: ctx.t.name(prefix, n),
            selected: n == selected,
        })
        .collect()
}

fn badge_label(ctx: &Ctx, badge: &str) -> String {
    match badge {
        "overdue" => ctx.t.t("badge-overdue"),
        "today" => ctx.t.t("badge-today"),
        "ok" => ctx.t.t("badge-ok"),
        _ => String::new(),
    }
}

const PAGE_SIZE: u32 = 50;
/// The queue filter "open cases on the clock".
const OPEN: &str = "open";

/// `GET /cases`: a resident's own cases, or the cases a staff member may see, most urgent first, filtered by a GET
/// form (kind, category, state, grid); every matching case is sorted, as `app::workflow::queue` does.
pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(f): Query<Filters>) -> Result<Response, Failure> {
    let principal = ctx.require()?;
    let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let state_filter = match &f.state {
        Some(s) => s.trim().to_string(),
        None if principal.role.is_staff() => OPEN.to_string(),
        None => String::new(),
    };
    let query = CaseQuery {
        kind: nonempty(&f.kind).and_then(|k| CaseKind::parse(&k)),
        category: nonempty(&f.category),
        state: nonempty(&state_filter).and_then(|s| CaseState::parse(&s)),
        // "Open, on the clock": every open case with a running clock, due before a horizon no clock reaches.
        due_before: (state_filter == OPEN).then(|| state.now() + time::Duration::days(36_500)),
        grid: nonempty(&f.grid),
        page: f.page.unwrap_or(1).max(1),
        page_size: PAGE_SIZE,
        ..CaseQuery::default()
    };
    let now = state.now();
    let items = workflow::queue(&state.store, &state.rules, principal, &query, now)
        .await
        .map_err(|e| ctx.fail(e))?;
    let full = items.len() == PAGE_SIZE as usize;
    let rows = items
        .into_iter()
        .map(|item| {
            let b = item.due.map(|d| badge(&state, d, now)).unwrap_or_default();
            Row {
                id: item.row.id,
                kind: ctx.t.name("kind", item.row.kind.as_str()),
                category: ctx.t.name("category", &item.row.category),
                state: ctx.t.name("state", &item.row.state),
                unit: state
                    .territory
                    .get(&item.row.location.unit)
                    .map(|u| u.name.clone())
                    .unwrap_or_else(|| item.row.location.unit.to_string()),
                created: OffsetDateTime::from_unix_timestamp(item.row.created_at)
                    .map(|t| when(&state, t))
                    .unwrap_or_default(),
                due: item.due.map(|d| when(&state, d)).unwrap_or_default(),
                badge: b.to_string(),
                badge_label: badge_label(&ctx, b),
            }
        })
        .collect();
    let kinds = choices(&ctx, "kind", CaseKind::ALL.iter().map(|k| k.as_str()), &f.kind);
    let categories = choices(&ctx, "category", state.rules.routing.categories(), &f.category);
    let states = choices(
        &ctx,
        "state",
        std::iter::once(OPEN).chain(CaseState::ALL.iter().map(|s| s.as_str())),
        &state_filter,
    );
    Ok(ctx.render(&ListPage {
        ctx: &ctx,
        rows,
        kinds,
        categories,
        states,
        grid: f.grid.clone(),
        filter_query: serde_urlencoded::to_string([
            ("kind", f.kind.as_str()),
            ("category", f.category.as_str()),
            ("state", state_filter.as_str()),
            ("grid", f.grid.as_str()),
        ])
        .unwrap_or_default(),
        page: query.page,
        next_page: full.then_some(query.page + 1),
    }))
}

/// One input of an action form.
pub struct Input {
    pub name: &'static str,
    pub label: String,
    /// `text`, `textarea`, `number`, `rating` or `route`.
    pub widget: &'static str,
    pub required: bool,
}

/// One form of the case page: the REST `action` it posts and its inputs.
pub struct ActionForm {
    pub action: &'static str,
    pub label: String,
    pub inputs: Vec<Input>,
    /// The refusal of the last attempt, shown beside this form.
    pub error: String,
}

/// A form's REST action and its inputs: (name, widget, required).
type FormSpec = (&'static str, Vec<(&'static str, &'static str, bool)>);

/// The REST actions (`ActRequest`) one allowed `Action` offers, with their inputs. Layout only: whether the action
/// is allowed is the `CaseView`'s, whether it succeeds is `perform`'s.
fn forms_for(action: Action) -> Vec<FormSpec> {
    let reason = ("reason", "textarea", true);
    let text = ("text", "textarea", true);
    match action {
        Action::ReadCase | Action::ReadReporter | Action::CreateCase => vec![],
        Action::Accept => vec![("accept", vec![])],
        Action::NotAccept => vec![("not_accept", vec![reason, ("refer_to", "text", true)])],
        Action::Assign => vec![("assign", vec![("staff", "text", true)])],
        Action::Transfer => vec![("transfer", vec![("office", "text", true), reason])],
        Action::Return => vec![("return", vec![("prior_case", "number", true)])],
        Action::DisputeDispatch => vec![("dispute_dispatch", vec![reason])],
        Action::Reply => vec![("reply", vec![text])],
        Action::Extend => vec![("extend", vec![("days", "number", true), reason])],
        Action::Close => vec![("close", vec![])],
        Action::Callback => vec![("callback", vec![text, ("rating", "rating", false)])],
        Action::Mediate => vec![
            ("mediation_start", vec![("team", "text", true)]),
            (
                "mediation_settle",
                vec![("agreement", "textarea", true), ("parties", "text", true)],
            ),
            ("mediation_fail", vec![("route", "route", true), reason]),
        ],
        Action::Whistle => vec![(
            "whistle",
            vec![("offices", "text", true), ("due_days", "number", true), reason],
        )],
        Action::Report => vec![("report", vec![text])],
        Action::Rate => vec![("rate", vec![("rating", "rating", true)])],
        Action::Reopen => vec![("reopen", vec![reason])],
        Action::Withdraw => vec![("withdraw", vec![reason])],
        Action::ReviewRequest => vec![("review_request", vec![])],
        Action::ReviewDecide => vec![("review_decide", vec![text])],
        Action::ReexaminationRequest => vec![("reexamination_request", vec![])],
        Action::ReexaminationDecide => vec![("reexamination_decide", vec![text])],
        Action::CoSign => vec![("co_sign", vec![])],
        Action::Inspect => vec![("inspect", vec![("finding", "text", true), ("note", "textarea", false)])],
    }
}

pub struct EventLine {
    pub at: String,
    pub actor: String,
    pub what: String,
    pub details: Vec<(String, String)>,
}

pub struct DeadlineLine {
    pub clock: String,
    pub due: String,
    pub met: String,
    pub badge: String,
    pub badge_label: String,
}

#[derive(Template)]
#[template(path = "cases/detail.html", blocks = ["case"])]
struct DetailPage<'a> {
    ctx: &'a Ctx,
    id: i64,
    kind: String,
    category: String,
    state: String,
    office: String,
    unit: String,
    created: String,
    description: String,
    /// The answers to the category's questions: question, answer.
    answers: Vec<(String, String)>,
    point: String,
    rating: String,
    reporter: String,
    reporter_withheld: bool,
    co_signers: u32,
    photos: Vec<i64>,
    deadlines: Vec<DeadlineLine>,
    events: Vec<EventLine>,
    forms: Vec<ActionForm>,
    /// The refusal of an action that has no form on this page (not offered in the case's state).
    refusal: String,
    /// The actions the caller may take, as the API names them (the same list as `CaseDetail.actions`).
    allowed: String,
}

fn detail_page<'a>(state: &AppState, ctx: &'a Ctx, v: CaseView, failed: Option<(&str, String)>) -> DetailPage<'a> {
    let now = state.now();
    let forms: Vec<ActionForm> = v
        .actions
        .iter()
        .flat_map(|a| forms_for(*a))
        .map(|(action, inputs)| ActionForm {
            action,
            label: ctx.t.name("act", action),
            inputs: inputs
                .into_iter()
                .map(|(name, widget, required)| Input {
                    name,
                    label: ctx.t.name("input", name),
                    widget,
                    required,
                })
                .collect(),
            error: failed
                .as_ref()
                .filter(|(f, _)| *f == action)
                .map(|(_, m)| m.clone())
                .unwrap_or_default(),
        })
        .collect();
    let events = v
        .events
        .iter()
        .map(|e| {
            let value = serde_json::to_value(&e.kind).unwrap_or_default();
            let kind = value
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or_default()
                .to_string();
            let details = value
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, v)| k.as_str() != "type" && v.as_str() != Some(""))
                .map(|(k, v)| {
                    let shown = match (k.as_str(), v) {
                        ("rating" | "clock" | "route", serde_json::Value::String(s)) => ctx.t.name(k, s),
                        (_, serde_json::Value::String(s)) => s.clone(),
                        (_, other) => other.to_string(),
                    };
                    (ctx.t.name("field", k), shown)
                })
                .collect();
            EventLine {
                at: when(state, e.at),
                actor: match e.actor.as_str() {
                    domain::RESIDENT_ACTOR => ctx.t.t("actor-resident"),
                    domain::CO_SIGNER_ACTOR => ctx.t.t("actor-co-signer"),
                    _ => e.actor.clone(),
                },
                what: ctx.t.name("event", &kind),
                details,
            }
        })
        .collect();
    let deadlines = v
        .deadlines
        .iter()
        .filter(|d| !d.superseded)
        .map(|d| {
            let b = if d.met_at.is_some() {
                ""
            } else {
                badge(state, d.due, now)
            };
            DeadlineLine {
                clock: ctx.t.name("clock", d.clock.as_str()),
                due: when(state, d.due),
                met: d.met_at.map(|m| when(state, m)).unwrap_or_default(),
                badge: b.to_string(),
                badge_label: badge_label(ctx, b),
            }
        })
        .collect();
    let refusal = match &failed {
        Some((action, message)) if !forms.iter().any(|f| f.action == *action) => message.clone(),
        _ => String::new(),
    };
    DetailPage {
        ctx,
        id: v.id,
        refusal,
        kind: ctx.t.name("kind", v.kind.as_str()),
        category: ctx.t.name("category", &v.category),
        state: ctx.t.name("state", v.state.as_str()),
        office: v.office.clone(),
        unit: state
            .territory
            .get(&v.unit)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| v.unit.to_string()),
        created: when(state, v.created_at),
        description: v.description.clone(),
        answers: super::intake::answer_lines(state, ctx, &v.category, &v.answers),
        point: v
            .point
            .map(|(lat, lon)| format!("{lat:.5}, {lon:.5}"))
            .unwrap_or_default(),
        rating: v
            .rating
            .map(|r| ctx.t.name("rating", rating_name(r)))
            .unwrap_or_default(),
        reporter: v
            .reporter
            .as_ref()
            .map(|r| format!("{} ({})", r.name, r.contact))
            .unwrap_or_default(),
        reporter_withheld: v.reporter_withheld,
        co_signers: v.co_signers,
        photos: v.photos.clone(),
        deadlines,
        events,
        forms,
        allowed: v.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" "),
    }
}

async fn view_of(state: &AppState, ctx: &Ctx, raw_id: &str) -> Result<CaseView, Failure> {
    let principal = ctx.require()?;
    let id = case_id(raw_id).map_err(|e| ctx.fail(e))?;
    let held = workflow::hold(&state.store, id).await.map_err(|e| ctx.fail(e))?;
    workflow::disclose(
        &state.store,
        &state.rules,
        &state.grids,
        Audience::Principal(principal),
        &held,
        "GET /cases/{id}",
        state.now(),
    )
    .await
    .map_err(|e| ctx.fail(e))
}

/// The page, or only the case's section when htmx asked.
fn render_detail(ctx: &Ctx, page: &DetailPage<'_>, status: StatusCode) -> Response {
    if ctx.htmx {
        ctx.render_with(status, &page.as_case())
    } else {
        ctx.render_with(status, page)
    }
}

/// A case as the public sees it (a view `disclose` made for `Audience::Public`): the same page, with no form.
pub(super) fn render_public(state: &AppState, ctx: &Ctx, view: CaseView) -> Response {
    render_detail(ctx, &detail_page(state, ctx, view, None), StatusCode::OK)
}

/// `GET /cases/{id}`: the case as the caller may see it, with a form per allowed action.
pub async fn detail(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Failure> {
    let view = view_of(&state, &ctx, &id).await?;
    Ok(render_detail(
        &ctx,
        &detail_page(&state, &ctx, view, None),
        StatusCode::OK,
    ))
}

/// An action form as posted: `action` and whichever inputs that action has, all text.
#[derive(Debug, Deserialize)]
pub struct ActForm {
    csrf: String,
    action: String,
    #[serde(flatten)]
    inputs: std::collections::BTreeMap<String, String>,
}

/// The REST body the form stands for: numbers as numbers, lists split at commas, empty optional inputs left out.
fn act_request(form: &ActForm) -> Result<ActRequest, ApiError> {
    let mut body = serde_json::Map::new();
    body.insert("action".into(), form.action.clone().into());
    for (name, value) in &form.inputs {
        let value = value.trim();
        if value.is_empty() && name == "rating" {
            continue;
        }
        let json = match name.as_str() {
            "days" | "due_days" | "prior_case" => value
                .parse::<i64>()
                .map(serde_json::Value::from)
                .map_err(|_| ApiError::invalid(name.clone(), format!("{value:?} is not a whole number")))?,
            "offices" | "parties" => value
                .split([',', '，', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| serde_json::Value::String(s.to_string()))
                .collect(),
            _ => value.into(),
        };
        body.insert(name.clone(), json);
    }
    serde_json::from_value(serde_json::Value::Object(body)).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// `POST /cases/{id}/act`: the action through `app::workflow::perform`; back to the case, or the case again with the
/// refusal (naming the rule and article) beside the form that was sent.
pub async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let principal = ctx.require()?;
    let case = case_id(&id).map_err(|e| ctx.fail(e))?;
    let result = match act_request(&form).and_then(ActRequest::command) {
        Ok(command) => workflow::perform(
            &state.store,
            &state.rules,
            &state.directory,
            principal,
            case,
            command,
            state.now(),
        )
        .await
        .map(|_| ())
        .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) if !ctx.htmx => Ok(ctx.with_cookies(Redirect::to(&format!("/cases/{case}")).into_response())),
        Ok(()) => {
            let view = view_of(&state, &ctx, &id).await?;
            Ok(render_detail(
                &ctx,
                &detail_page(&state, &ctx, view, None),
                StatusCode::OK,
            ))
        }
        Err(error) if error.status().is_server_error() => Err(ctx.fail(error)),
        Err(error) => {
            let status = error.status();
            let view = view_of(&state, &ctx, &id).await?;
            let action = forms_for_name(&form.action);
            let page = detail_page(&state, &ctx, view, Some((action, ctx.say_error(&error))));
            Ok(render_detail(&ctx, &page, status))
        }
    }
}

/// The static name of a posted action, so the error finds its form (an unknown one shows nowhere but the status).
fn forms_for_name(posted: &str) -> &'static str {
    Action::ALL
        .iter()
        .flat_map(|a| forms_for(*a))
        .map(|(name, _)| name)
        .find(|name| *name == posted)
        .unwrap_or("")
}

/// `GET /photos/{id}`: a case's photo, for whoever may see the case (else 404, as for no photo at all).
pub async fn photo(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Failure> {
    send_photo(&state, &ctx, &id, false).await
}

/// `GET /photos/{id}/thumb`: its thumbnail.
pub async fn thumbnail(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Failure> {
    send_photo(&state, &ctx, &id, true).await
}

async fn send_photo(state: &AppState, ctx: &Ctx, raw_id: &str, thumbnail: bool) -> Result<Response, Failure> {
    let missing = || ctx.fail(ApiError::NotFound(format!("no photo {raw_id}")));
    let id: i64 = raw_id.parse().map_err(|_| missing())?;
    let audience = match ctx.user.as_ref() {
        Some(p) => Audience::Principal(p),
        None => Audience::Public,
    };
    let photo = workflow::photo_for(&state.store, audience, id, thumbnail)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(missing)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, photo.content_type),
            // Only whoever may see the case may see its photo: never a shared cache.
            (axum::http::header::CACHE_CONTROL, "private, max-age=3600".to_string()),
        ],
        photo.bytes,
    )
        .into_response())
}

pub struct AlertLine {
    pub case: i64,
    pub clock: String,
    pub at: String,
    pub due: String,
    pub overdue: bool,
    pub holder: String,
}

/// An overload alert as the inbox shows it.
pub struct OverloadLine {
    pub subject: String,
    pub holder: String,
    pub open_cases: u32,
    pub workers: u32,
    pub per_worker: String,
    pub threshold: u32,
    pub month: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage<'a> {
    ctx: &'a Ctx,
    office: String,
    alerts: Vec<AlertLine>,
    overloads: Vec<OverloadLine>,
}

/// `GET /alerts`: the deadline and overload alerts addressed to the caller's office.
pub async fn alerts(State(state): State<AppState>, ctx: Ctx) -> Result<Response, Failure> {
    let principal = ctx.require()?;
    let Some(office) = principal.office.clone() else {
        return Err(ctx.error_page(StatusCode::BAD_REQUEST, ctx.t.t("alerts-no-office")));
    };
    let alerts = workflow::alerts_for(&state.store, &state.directory, principal, &office)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .map(|a| AlertLine {
            case: a.case,
            clock: ctx.t.name("clock", &a.clock),
            at: when(&state, a.at),
            due: when(&state, a.due),
            overdue: a.overdue,
            holder: a.holder,
        })
        .collect();
    let overloads = workflow::overload_alerts_for(&state.store, &state.directory, principal, &office)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .map(|o| OverloadLine {
            subject: ctx.t.name("overload-subject", o.subject.as_str()),
            holder: o.holder,
            open_cases: o.open_cases,
            workers: o.workers,
            per_worker: format!("{:.1}", o.per_worker),
            threshold: o.threshold,
            month: o.month,
            at: when(&state, o.at),
        })
        .collect();
    Ok(ctx.render(&AlertsPage {
        ctx: &ctx,
        office,
        alerts,
        overloads,
    }))
}
