//! Pilots on the pages, for the roles `domain::access` lets read statistics: the list of the caller's pilots
//! (`rest::governance::pilots_of`, CSV too) with the practices to learn from (`app::governance::practices`), one
//! pilot with its filed record (`record_of`), the lifecycle steps its state allows as forms for those who govern its
//! owner, and its evaluation read from the case store (`assessment_of`) with the event-study chart that
//! `stats::EventStudy::svg` draws in the page's language (`GET /pilots/{id}/event-study.svg`). Steps, recorded evaluations and
//! adoptions go through the same `rest::steering` functions as the REST routes; a refusal is shown beside the form.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::{self, Principal, UnitAction};
use domain::pilot::{PilotAction, PilotState};
use domain::territory::UnitCode;
use serde::Deserialize;

use super::export::{csv_response, wants_csv};
use super::page::{Ctx, Failure};
use crate::error::ApiError;
use crate::rest::governance::{assessment_of, pilots_of, record_of};
use crate::rest::steering::{Adopt, PilotStep, adopt, record_of_evaluation, step_pilot};
use crate::state::AppState;

/// The steps a page offers as forms, in the order of the lifecycle (evaluation and adoption have their own forms).
const STEPS: [PilotAction; 6] = [
    PilotAction::Start,
    PilotAction::Continue,
    PilotAction::Expand,
    PilotAction::Revise,
    PilotAction::Abandon,
    PilotAction::Codify,
];

pub struct PilotLine {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub state: String,
    pub created: String,
}

pub struct PracticeLine {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub state: String,
    pub hypothesis: String,
    pub units: usize,
    pub evidence: String,
    /// The practice is expanded, so units may adopt it, and the caller governs units that could.
    pub adoptable: bool,
    /// The refusal of the last adoption of this practice, shown beside its form.
    pub error: String,
    /// What the adoption form held when it was refused.
    pub units_given: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    format: Option<String>,
    adopted: Option<String>,
}

#[derive(Template)]
#[template(path = "pilots/list.html")]
struct ListPage<'a> {
    ctx: &'a Ctx,
    pilots: Vec<PilotLine>,
    practices: Vec<PracticeLine>,
    today: String,
    adopted: bool,
}

fn unit_label(state: &AppState, code: &str) -> String {
    UnitCode::parse(code)
        .ok()
        .and_then(|c| state.territory.get(&c).map(|u| format!("{} ({code})", u.name)))
        .unwrap_or_else(|| code.to_string())
}

fn governs(principal: &Principal, unit: &UnitCode) -> bool {
    access::can_at_unit(principal, UnitAction::GovernPolicy, unit).is_ok()
}

fn today(state: &AppState) -> String {
    app::governance::fmt_date(state.rules.calendar.local_date(state.now()))
}

/// `GET /pilots`: the caller's pilots and the practices to learn from; `?format=csv` downloads the pilots.
pub async fn list(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Response, Failure> {
    let principal = ctx.require()?;
    if wants_csv(q.format.as_deref()) {
        let page = list_page(&state, &ctx, principal, None).await?;
        let t = |k: &str| ctx.t.t(k);
        let header = [
            t("col-id"),
            t("col-name"),
            t("col-owner"),
            t("col-state"),
            t("col-created"),
        ];
        let rows: Vec<Vec<String>> = page
            .pilots
            .iter()
            .map(|p| {
                vec![
                    p.id.to_string(),
                    p.name.clone(),
                    p.owner.clone(),
                    p.state.clone(),
                    p.created.clone(),
                ]
            })
            .collect();
        return Ok(csv_response("pilots", &header, &rows));
    }
    let mut page = list_page(&state, &ctx, principal, None).await?;
    page.adopted = q.adopted.is_some();
    Ok(ctx.render(&page))
}

/// The list page, with the refusal of an adoption beside its practice's form: (practice id, message, units given).
async fn list_page<'a>(
    state: &AppState,
    ctx: &'a Ctx,
    principal: &Principal,
    failed: Option<(i64, String, String)>,
) -> Result<ListPage<'a>, Failure> {
    let briefs = pilots_of(state, principal).await.map_err(|e| ctx.fail(e))?;
    let pilots: Vec<PilotLine> = briefs
        .iter()
        .map(|b| PilotLine {
            id: b.id,
            name: b.name.clone(),
            owner: unit_label(state, &b.owner),
            state: ctx.t.name("pilot-state", &b.state),
            created: b.created_at.clone(),
        })
        .collect();
    // Proven practices are shown to all who read statistics, wherever they were piloted: spreading them is the point.
    let may_adopt = access::can_at_unit(principal, UnitAction::GovernPolicy, &principal.scope).is_ok();
    let practices = app::governance::practices(&state.store)
        .await
        .map_err(|e| ctx.fail(ApiError::from(e)))?
        .into_iter()
        .map(|p| PracticeLine {
            adoptable: may_adopt && p.state == PilotState::Expanded.as_str(),
            error: failed
                .as_ref()
                .filter(|(id, _, _)| *id == p.id)
                .map(|(_, m, _)| m.clone())
                .unwrap_or_default(),
            units_given: failed
                .as_ref()
                .filter(|(id, _, _)| *id == p.id)
                .map(|(_, _, u)| u.clone())
                .unwrap_or_default(),
            id: p.id,
            owner: unit_label(state, &p.owner),
            state: ctx.t.name("pilot-state", &p.state),
            name: p.name,
            hypothesis: p.hypothesis,
            units: p.units,
            evidence: p.evidence,
        })
        .collect();
    Ok(ListPage {
        ctx,
        pilots,
        practices,
        today: today(state),
        adopted: false,
    })
}

/// One effect of an evaluation, for reading.
pub struct EffectLine {
    pub outcome: String,
    pub att: String,
    pub interval: String,
}

/// A step the caller may take on the pilot, as a form.
pub struct StepForm {
    pub action: &'static str,
    pub label: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "pilots/detail.html")]
struct DetailPage<'a> {
    ctx: &'a Ctx,
    id: i64,
    name: String,
    owner: String,
    state: String,
    created: String,
    units: Vec<String>,
    adoptions: Vec<(String, String)>,
    filings: Vec<String>,
    events: Vec<(String, String, String, String)>,
    steps: Vec<StepForm>,
    /// The caller may record an evaluation (the form), with the refusal of the last attempt.
    may_record: bool,
    record_error: String,
    /// The practice is expanded: units may adopt it (from the practices list).
    adoptable: bool,
    verdict: String,
    reasons: Vec<String>,
    effects: Vec<EffectLine>,
    panel: String,
    warnings: Vec<String>,
    /// Why there is no evaluation to show (not started, or not enough data).
    no_evaluation: String,
    has_chart: bool,
}

fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "—".to_string()
    }
}

/// Which form a refusal belongs to.
enum Failed {
    Step(&'static str),
    Record,
}

async fn detail_page<'a>(
    state: &AppState,
    ctx: &'a Ctx,
    principal: &Principal,
    id: &str,
    failed: Option<(Failed, String)>,
) -> Result<DetailPage<'a>, Failure> {
    let record = record_of(state, principal, id).await.map_err(|e| ctx.fail(e))?;
    let owner = UnitCode::parse(&record.pilot.owner).map_err(|e| ctx.fail(ApiError::internal(e.to_string())))?;
    let pilot_state = PilotState::parse(&record.pilot.state);
    let allowed = |a: PilotAction| pilot_state.is_some_and(|s| s.apply(&record.pilot.name, a).is_ok());
    let governs_owner = governs(principal, &owner);
    let error_of = |wanted: &dyn Fn(&Failed) -> bool| {
        failed
            .as_ref()
            .filter(|(f, _)| wanted(f))
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    let steps = STEPS
        .iter()
        .filter(|a| governs_owner && allowed(**a))
        .map(|a| StepForm {
            action: a.as_str(),
            label: ctx.t.name("pilot-act", a.as_str()),
            error: error_of(&|f| matches!(f, Failed::Step(s) if *s == a.as_str())),
        })
        .collect();
    let (mut verdict, mut reasons, mut effects, mut panel, mut warnings) =
        (String::new(), Vec::new(), Vec::new(), String::new(), Vec::new());
    let (mut no_evaluation, mut has_chart) = (String::new(), false);
    match assessment_of(state, principal, id).await {
        Ok(evaluation) => {
            verdict = ctx
                .t
                .name("verdict", &evaluation.verdict.verdict.as_str().replace(' ', "_"));
            reasons = evaluation
                .verdict
                .findings
                .iter()
                .map(|f| super::page::finding_text(&ctx.t, f))
                .collect();
            effects = evaluation
                .effects
                .iter()
                .map(|e| EffectLine {
                    outcome: ctx.t.name("outcome", e.outcome.as_str()),
                    att: number(e.effect.att),
                    interval: format!("{} – {}", number(e.effect.ci_low), number(e.effect.ci_high)),
                })
                .collect();
            panel = format!(
                "{} / {} · {}",
                evaluation.adopters_in_panel, evaluation.units_in_panel, evaluation.months
            );
            warnings = super::page::evaluation_notes(&ctx.t, &evaluation);
            has_chart = evaluation.event_study.is_some();
        }
        Err(e) if e.status().is_client_error() => no_evaluation = ctx.say_error(&e),
        Err(e) => return Err(ctx.fail(e)),
    }
    Ok(DetailPage {
        ctx,
        id: record.pilot.id,
        name: record.pilot.name.clone(),
        owner: unit_label(state, &record.pilot.owner),
        state: ctx.t.name("pilot-state", &record.pilot.state),
        created: record.pilot.created_at.clone(),
        units: record.units.iter().map(|u| unit_label(state, u)).collect(),
        adoptions: record
            .adoptions
            .iter()
            .map(|a| {
                (
                    a.units
                        .iter()
                        .map(|u| unit_label(state, u))
                        .collect::<Vec<_>>()
                        .join(", "),
                    a.from.clone(),
                )
            })
            .collect(),
        filings: record
            .filings
            .iter()
            .map(|f| serde_json::to_string_pretty(f).unwrap_or_default())
            .collect(),
        events: record
            .events
            .iter()
            .map(|e| {
                (
                    ctx.t.name("pilot-act", &e.action),
                    e.actor.clone(),
                    e.at.clone(),
                    e.detail.clone(),
                )
            })
            .collect(),
        steps,
        may_record: governs_owner && allowed(PilotAction::Evaluate),
        record_error: error_of(&|f| matches!(f, Failed::Record)),
        adoptable: allowed(PilotAction::Adopt),
        verdict,
        reasons,
        effects,
        panel,
        warnings,
        no_evaluation,
        has_chart,
    })
}

/// `GET /pilots/{id}`: the pilot, its record, the steps the caller may take and its evaluation.
pub async fn detail(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Failure> {
    let principal = ctx.require()?;
    let page = detail_page(&state, &ctx, principal, &id, None).await?;
    Ok(ctx.render(&page))
}

/// `GET /pilots/{id}/event-study.svg`: the event study of the pilot's primary outcome, as `stats` draws it.
pub async fn event_study(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Failure> {
    let principal = ctx.require()?;
    let evaluation = assessment_of(&state, principal, &id).await.map_err(|e| ctx.fail(e))?;
    let Some(study) = &evaluation.event_study else {
        return Err(ctx.error_page(StatusCode::NOT_FOUND, ctx.t.t("pilot-no-chart")));
    };
    let mut response = super::page::event_study_svg(&ctx, study).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct StepFormInput {
    csrf: String,
    action: String,
}

/// Back to the pilot after a step, or the pilot again with the refusal beside the form that was sent.
async fn after(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    id: &str,
    result: Result<(), ApiError>,
    failed: Failed,
) -> Result<Response, Failure> {
    match result {
        Ok(()) => Ok(ctx.with_cookies(Redirect::to(&format!("/pilots/{}", urlencode(id))).into_response())),
        Err(error) if error.status().is_server_error() => Err(ctx.fail(error)),
        Err(error) if matches!(error.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) => Err(ctx.fail(error)),
        Err(error) => {
            let status = error.status();
            let message = match &error {
                ApiError::GuardrailsBroken { violations, .. } => violations
                    .iter()
                    .map(|v| {
                        format!(
                            "{} ({}, {}): {} — {}",
                            v.guardrail,
                            v.owner,
                            v.owner_source,
                            v.key,
                            ctx.t.say(&v.reason_said)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            };
            let page = detail_page(state, ctx, principal, id, Some((failed, message))).await?;
            Ok(ctx.render_with(status, &page))
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `POST /pilots/{id}/act`: a lifecycle step (start, continue, expand, revise, abandon, codify).
pub async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<StepFormInput>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let principal = ctx.require()?;
    let request = PilotStep {
        action: form.action.clone(),
    };
    let result = step_pilot(&state, principal, &id, &request).await.map(|_| ());
    let step = STEPS
        .iter()
        .map(|a| a.as_str())
        .find(|a| *a == form.action.trim())
        .unwrap_or("");
    after(&state, &ctx, principal, &id, result, Failed::Step(step)).await
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /pilots/{id}/evaluation`: evaluates the pilot and records it as a step of its lifecycle.
pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let principal = ctx.require()?;
    let result = record_of_evaluation(&state, principal, &id).await.map(|_| ());
    after(&state, &ctx, principal, &id, result, Failed::Record).await
}

#[derive(Debug, Deserialize)]
pub struct AdoptForm {
    csrf: String,
    units: String,
    from: String,
}

/// `POST /pilots/{id}/adoptions`: units of the caller take up an expanded practice from a date; back to the practices
/// with the refusal beside that practice's form.
pub async fn adoption(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<AdoptForm>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let principal = ctx.require()?;
    let request = Adopt {
        units: form
            .units
            .split([',', '，', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        from: form.from.trim().to_string(),
    };
    match adopt(&state, principal, &id, &request).await {
        Ok(adopted) => {
            Ok(ctx
                .with_cookies(Redirect::to(&format!("/pilots?adopted={}#practices", adopted.pilot.id)).into_response()))
        }
        Err(error) if error.status().is_server_error() => Err(ctx.fail(error)),
        Err(error) => {
            let status = error.status();
            let practice = state
                .store
                .pilot(id.trim())
                .await
                .ok()
                .flatten()
                .map(|row| row.id)
                .unwrap_or_default();
            let page = list_page(
                &state,
                &ctx,
                principal,
                Some((practice, ctx.say_error(&error), form.units.clone())),
            )
            .await?;
            Ok(ctx.render_with(status, &page))
        }
    }
}
