//! A grid worker's patrol, on a phone-sized page: pick one of the grids in their scope, say what was seen, and the
//! patrol event is filed through `app::workflow::file_case` (kind `patrol_event`, channel `patrol`) at the grid's
//! centre; below, the patrol events of the last 30 days in their scope, from `app::workflow::list_cases`.

use app::workflow::{self, CaseQuery, Filer, Filing};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{CaseKind, Channel};
use serde::Deserialize;
use std::collections::BTreeMap;
use time::Duration;

use super::intake::{Choice, QuestionField, answers_of, category_choices, field_names, question_fields};
use super::page::{Ctx, Failure, FieldErrors};
use crate::cases::{Whereabouts, locate};
use crate::error::ApiError;
use crate::state::AppState;

/// The category a patrol event takes unless the worker picks another.
const DEFAULT_CATEGORY: &str = "hazard_patrol";
/// How many grids the list offers (a worker's scope is a village or a township; a county would be too long a list).
const MAX_GRIDS: usize = 400;

#[derive(Debug, Default, Deserialize)]
pub struct PatrolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    grid: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    description: String,
    /// The answers to the category's questions (`answer_CODE`) and the no-script "show the questions" button.
    #[serde(flatten)]
    extra: BTreeMap<String, String>,
}

impl PatrolForm {
    /// The category chosen, or the patrol's default before the worker picks one.
    fn category(&self) -> &str {
        if self.category.is_empty() {
            DEFAULT_CATEGORY
        } else {
            self.category.as_str()
        }
    }
}

/// The form's fields an error may be shown beside, before the category's answers.
const FIELDS: [&str; 3] = ["grid", "category", "description"];

pub struct RecentLine {
    pub id: i64,
    pub category: String,
    pub grid: String,
    pub created: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "patrol.html")]
struct PatrolPage<'a> {
    ctx: &'a Ctx,
    grids: Vec<Choice>,
    categories: Vec<Choice>,
    /// The chosen category's questions, as on the report form.
    questions: Vec<QuestionField>,
    description: String,
    errors: FieldErrors,
    recent: Vec<RecentLine>,
}

async fn page(state: &AppState, ctx: &Ctx, form: &PatrolForm, errors: FieldErrors) -> Result<Response, Failure> {
    let principal = ctx.require()?;
    if !principal.role.is_staff() {
        return Err(ctx.error_page(StatusCode::FORBIDDEN, ctx.t.t("patrol-staff-only")));
    }
    let grids = state
        .grids
        .grids()
        .iter()
        .filter(|g| g.unit.is_within(&principal.scope))
        .take(MAX_GRIDS)
        .map(|g| Choice {
            value: g.id.clone(),
            label: format!(
                "{} {}",
                state
                    .territory
                    .get(&g.unit)
                    .map(|u| u.name.as_str())
                    .unwrap_or_default(),
                g.id
            ),
            selected: g.id == form.grid,
        })
        .collect();
    let categories = category_choices(state, ctx, form.category());
    let questions = question_fields(state, ctx, form.category(), &answers_of(&form.extra));
    let query = CaseQuery {
        unit: None,
        state: None,
        office: None,
        overdue: false,
        due_before: None,
        kind: Some(CaseKind::PatrolEvent),
        category: None,
        grid: None,
        created_from: Some(state.now() - Duration::days(30)),
        created_to: None,
        page: 1,
        page_size: 20,
    };
    let recent = workflow::list_cases(&state.store, &state.rules, principal, &query, state.now())
        .await
        .map_err(|e| ctx.fail(e))?
        .iter()
        .rev()
        .map(|row| RecentLine {
            id: row.id,
            category: ctx.t.name("category", &row.category),
            grid: row.location.grid.clone().unwrap_or_default(),
            created: time::OffsetDateTime::from_unix_timestamp(row.created_at)
                .map(|at| super::cases::when(state, at))
                .unwrap_or_default(),
            state: ctx.t.name("state", row.state.as_str()),
        })
        .collect();
    let status = if errors.0.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(ctx.render_with(
        status,
        &PatrolPage {
            ctx,
            grids,
            categories,
            questions,
            description: form.description.clone(),
            errors,
            recent,
        },
    ))
}

/// `GET /patrol`: the patrol form and the recent patrol events of the worker's scope.
pub async fn form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, Failure> {
    page(&state, &ctx, &PatrolForm::default(), FieldErrors::default()).await
}

/// `POST /patrol`: files the patrol event at the grid's centre, then shows its case page; or the form with the error
/// beside the field.
pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<PatrolForm>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let principal = ctx.require()?;
    if form.extra.contains_key("show_questions") {
        // The no-script path to the category's questions: the same form again, with them, nothing filed.
        return page(&state, &ctx, &form, FieldErrors::default()).await;
    }
    let Some(grid) = state.grids.grid(form.grid.trim()) else {
        let errors = FieldErrors(vec![("grid".into(), ctx.t.t("patrol-grid-missing"))]);
        return page(&state, &ctx, &form, errors).await;
    };
    let located = locate(
        &state,
        &Whereabouts {
            point: grid.centre(),
            unit: Some(grid.unit.clone()),
            address: None,
        },
    );
    let filed = match located {
        Ok(location) => workflow::file_case(
            &state.store,
            &state.rules,
            &state.directory,
            Filer::Principal(principal),
            Filing {
                kind: CaseKind::PatrolEvent,
                channel: Some(Channel::Patrol),
                category: form.category.trim().to_string(),
                description: form.description.clone(),
                location,
                reporter_name: None,
                reporter_contact: None,
                complained_unit: None,
                complained_office: None,
                co_signers: 0,
                answers: answers_of(&form.extra),
                photos_upload: None,
            },
            state.now(),
        )
        .await
        .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match filed {
        Ok((id, _)) => Ok(ctx.with_cookies(Redirect::to(&format!("/cases/{id}")).into_response())),
        Err(e) if e.status().is_server_error() => Err(ctx.fail(e)),
        Err(e) => {
            let questions = question_fields(&state, &ctx, form.category(), &answers_of(&form.extra));
            let errors = FieldErrors::from_error(&ctx.t, &e, &field_names(&FIELDS, &questions));
            page(&state, &ctx, &form, errors).await
        }
    }
}
