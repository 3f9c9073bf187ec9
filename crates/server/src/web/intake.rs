//! Reporting a problem. Anyone can open and fill in the form; sign-in or sign-up is asked at submission, with the
//! draft carried along in the sign-in form, so nothing typed is lost. The place is a pin on the map (JavaScript) or a
//! village or community picked from a plain list (no JavaScript needed). Submitting goes through
//! `app::workflow::file_case`, the one intake path, then to the case page.

use std::collections::BTreeMap;

use app::workflow::{self, Filer, Filing};
use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Redirect, Response};
use domain::CaseKind;
use domain::questions::AnswerType;
use domain::territory::{Level, UnitCode};
use serde::{Deserialize, Serialize};

use super::i18n::Lang;
use super::page::{Ctx, Failure, FieldErrors};
use super::session::{redirect_with_cookie, sign_in, sign_up};
use crate::cases::{Whereabouts, locate};
use crate::error::ApiError;
use crate::state::AppState;

/// The kinds a resident may choose on the form (a patrol event is recorded by grid workers).
const RESIDENT_KINDS: [CaseKind; 7] = [
    CaseKind::ServiceRequest,
    CaseKind::Complaint,
    CaseKind::Report,
    CaseKind::Enquiry,
    CaseKind::Suggestion,
    CaseKind::Petition,
    CaseKind::Dispute,
];

/// The report as typed: every field a string, so a refused draft comes back exactly as it was.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Draft {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub description: String,
    /// A village or community code picked from the list.
    #[serde(default)]
    pub unit: String,
    /// A pin dropped on the map (filled in by the page's script).
    #[serde(default)]
    pub lat: String,
    #[serde(default)]
    pub lon: String,
    #[serde(default)]
    pub reporter_name: String,
    #[serde(default)]
    pub reporter_contact: String,
    /// `1` once the resident has seen the possible duplicates and files anyway.
    #[serde(default)]
    pub confirmed: String,
    /// The token the draft's photos wait under until the case is filed (unguessable, made by the server).
    #[serde(default)]
    pub upload: String,
    /// Every other field of the form: the answers to the category's questions (`answer_CODE`) and the no-script
    /// "show this category's questions" button (`show_questions`).
    #[serde(flatten)]
    pub extra: BTreeMap<String, String>,
}

/// The prefix of an answer's field name on the form.
const ANSWER_FIELD: &str = "answer_";

/// The answers typed into a form's `answer_CODE` fields, by question code.
pub(super) fn answers_of(fields: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter_map(|(name, value)| Some((name.strip_prefix(ANSWER_FIELD)?.to_string(), value.clone())))
        .collect()
}

impl Draft {
    /// The answers typed, by question code.
    pub fn answers(&self) -> BTreeMap<String, String> {
        answers_of(&self.extra)
    }

    /// The answers as the hidden fields that carry them through sign-in: field name and value.
    pub fn answer_fields(&self) -> Vec<(String, String)> {
        self.extra
            .iter()
            .filter(|(name, _)| name.starts_with(ANSWER_FIELD))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }
}

/// One question of the chosen category as a form field.
pub struct QuestionField {
    /// The field's name and id (`answer_CODE`).
    pub name: String,
    /// The name errors are reported under (`answers.CODE`, as every interface names it).
    pub error_key: String,
    pub label: String,
    pub required: bool,
    /// `text`, `number` or `select`.
    pub input: &'static str,
    pub value: String,
    pub choices: Vec<Choice>,
}

/// The questions the routing table asks of `category`, in the page's language, filled in from `answers`.
pub(super) fn question_fields(
    state: &AppState,
    ctx: &Ctx,
    category: &str,
    answers: &BTreeMap<String, String>,
) -> Vec<QuestionField> {
    let english = ctx.t.lang == Lang::En;
    state
        .rules
        .routing
        .questions_of(category.trim())
        .into_iter()
        .map(|q| {
            let value = answers.get(&q.code).cloned().unwrap_or_default();
            QuestionField {
                name: format!("{ANSWER_FIELD}{}", q.code),
                error_key: format!("answers.{}", q.code),
                label: q.text(english).to_string(),
                required: q.required,
                input: match q.datatype {
                    AnswerType::String => "text",
                    AnswerType::Number => "number",
                    AnswerType::Singlevaluelist => "select",
                },
                choices: q
                    .choices
                    .iter()
                    .map(|c| Choice {
                        value: c.key.clone(),
                        label: c.text(english).to_string(),
                        selected: c.key == value,
                    })
                    .collect(),
                value,
            }
        })
        .collect()
}

/// A case's answers as lines of the case page: the question and the answer in the page's language (a choice by its
/// label; an answer to a question no longer asked by its code).
pub(super) fn answer_lines(
    state: &AppState,
    ctx: &Ctx,
    category: &str,
    answers: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    let english = ctx.t.lang == Lang::En;
    let asked = state.rules.routing.questions_of(category);
    answers
        .iter()
        .map(|(code, answer)| match asked.iter().find(|q| &q.code == code) {
            Some(q) => {
                let shown = q
                    .choices
                    .iter()
                    .find(|c| &c.key == answer)
                    .map(|c| c.text(english).to_string())
                    .unwrap_or_else(|| answer.clone());
                (q.text(english).to_string(), shown)
            }
            None => (code.clone(), answer.clone()),
        })
        .collect()
}

/// The form's field names an error may be shown beside: the fixed ones and the category's answers.
pub(super) fn field_names<'a>(fixed: &[&'a str], questions: &'a [QuestionField]) -> Vec<&'a str> {
    fixed
        .iter()
        .copied()
        .chain(questions.iter().map(|q| q.error_key.as_str()))
        .collect()
}

#[derive(Template)]
#[template(path = "report_questions.html")]
struct QuestionsFragment<'a> {
    ctx: &'a Ctx,
    questions: Vec<QuestionField>,
    errors: FieldErrors,
}

#[derive(Debug, Deserialize)]
pub struct QuestionsQuery {
    #[serde(default)]
    category: String,
}

/// `GET /report/questions?category=…`: the category's questions alone, swapped into the form by htmx when the
/// category changes (without JavaScript, the form's "show the questions" button reloads the whole form instead).
pub async fn questions(State(state): State<AppState>, ctx: Ctx, Query(query): Query<QuestionsQuery>) -> Response {
    let questions = question_fields(&state, &ctx, &query.category, &BTreeMap::new());
    ctx.render(&QuestionsFragment {
        ctx: &ctx,
        questions,
        errors: FieldErrors::default(),
    })
}

#[derive(Debug, Deserialize)]
pub struct DraftForm {
    pub csrf: String,
    #[serde(flatten)]
    pub draft: Draft,
}

#[derive(Debug, Deserialize)]
pub struct DraftWithCredentials {
    pub csrf: String,
    pub name: String,
    pub password: String,
    #[serde(flatten)]
    pub draft: Draft,
}

/// A choice of a select: value, label, selected.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The villages and communities of one township, for the list.
pub struct PlaceGroup {
    pub label: String,
    pub places: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    ctx: &'a Ctx,
    draft: &'a Draft,
    kinds: Vec<Choice>,
    categories: Vec<Choice>,
    /// The chosen category's questions.
    questions: Vec<QuestionField>,
    places: Vec<PlaceGroup>,
    errors: FieldErrors,
    /// How many photos already wait under the draft's upload token.
    attached: usize,
    max_photos: usize,
}

/// One open public case that may be the same matter, with its "add my voice" form.
pub struct Duplicate {
    pub id: i64,
    pub category: String,
    pub place: String,
    pub created: String,
    pub description: String,
    pub co_signers: String,
    pub add_voice: String,
}

#[derive(Template)]
#[template(path = "report_duplicates.html")]
struct DuplicatesPage<'a> {
    ctx: &'a Ctx,
    draft: &'a Draft,
    duplicates: Vec<Duplicate>,
}

#[derive(Template)]
#[template(path = "report_signin.html")]
struct ReportSigninPage<'a> {
    ctx: &'a Ctx,
    draft: &'a Draft,
    name: String,
    errors: FieldErrors,
}

/// The catalogue's categories (the routing table in force) as choices, in the page's language.
pub(super) fn category_choices(state: &AppState, ctx: &Ctx, chosen: &str) -> Vec<Choice> {
    state
        .rules
        .routing
        .categories()
        .into_iter()
        .map(|c| Choice {
            value: c.into(),
            label: ctx.t.name("category", c),
            selected: c == chosen,
        })
        .collect()
}

fn report_page<'a>(
    state: &AppState,
    ctx: &'a Ctx,
    draft: &'a Draft,
    errors: FieldErrors,
    attached: usize,
) -> ReportPage<'a> {
    let kind = if draft.kind.is_empty() {
        "service_request"
    } else {
        draft.kind.as_str()
    };
    let kinds = RESIDENT_KINDS
        .iter()
        .map(|k| Choice {
            value: k.as_str().into(),
            label: ctx.t.name("kind", k.as_str()),
            selected: k.as_str() == kind,
        })
        .collect();
    let categories = category_choices(state, ctx, &draft.category);
    let places = state
        .territory
        .at_level(Level::Township)
        .into_iter()
        .map(|township| PlaceGroup {
            label: township.name.clone(),
            places: state
                .territory
                .children(&township.code)
                .iter()
                .filter_map(|c| state.territory.get(c))
                .map(|v| Choice {
                    value: v.code.to_string(),
                    label: v.name.clone(),
                    selected: v.code.as_str() == draft.unit,
                })
                .collect(),
        })
        .filter(|g| !g.places.is_empty())
        .collect();
    ReportPage {
        ctx,
        draft,
        kinds,
        categories,
        questions: question_fields(state, ctx, &draft.category, &draft.answers()),
        places,
        errors,
        attached,
        max_photos: workflow::MAX_PHOTOS,
    }
}

/// `GET /report`: the empty form, for anyone.
pub async fn form(State(state): State<AppState>, ctx: Ctx) -> Response {
    let draft = Draft::default();
    ctx.render(&report_page(&state, &ctx, &draft, FieldErrors::default(), 0))
}

const FIELDS: [&str; 9] = [
    "photos",
    "kind",
    "category",
    "description",
    "unit",
    "lat",
    "location",
    "reporter_name",
    "reporter_contact",
];

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The draft as a filing: parsed as REST parses a new case, located as REST locates one.
fn filing(state: &AppState, ctx: &Ctx, draft: &Draft) -> Result<Filing, FieldErrors> {
    let kind = CaseKind::parse(draft.kind.trim())
        .ok_or_else(|| FieldErrors(vec![("kind".into(), ctx.t.t("report-kind-missing"))]))?;
    let point = match (draft.lat.trim().parse::<f64>(), draft.lon.trim().parse::<f64>()) {
        (Ok(lat), Ok(lon)) => Some((lat, lon)),
        _ => None,
    };
    let unit = optional(&draft.unit)
        .map(|u| UnitCode::parse(&u).map_err(|e| FieldErrors(vec![("unit".into(), e.to_string())])))
        .transpose()?;
    if point.is_none() && unit.is_none() {
        return Err(FieldErrors(vec![("unit".into(), ctx.t.t("report-place-missing"))]));
    }
    let location = locate(
        state,
        &Whereabouts {
            point,
            unit,
            address: None,
        },
    )
    .map_err(|e| {
        let mut errors = FieldErrors::from_error(&ctx.t, &e, &FIELDS);
        // The map's point and the list's unit are one question on the page: show it beside the list.
        for (field, _) in &mut errors.0 {
            if field == "lat" || field == "location" {
                *field = "unit".into();
            }
        }
        errors
    })?;
    Ok(Filing {
        kind,
        channel: None,
        category: draft.category.trim().to_string(),
        description: draft.description.clone(),
        location,
        reporter_name: optional(&draft.reporter_name),
        reporter_contact: optional(&draft.reporter_contact),
        complained_unit: None,
        complained_office: None,
        co_signers: 0,
        answers: draft.answers(),
        photos_upload: optional(&draft.upload),
    })
}

/// Files the draft as the signed-in resident: the new case's page, or the form again with the errors beside it.
async fn file(state: &AppState, ctx: &Ctx, draft: &Draft, cookie: Option<&str>) -> Response {
    let Some(principal) = ctx.user.as_ref() else {
        return ctx.render(&ReportSigninPage {
            ctx,
            draft,
            name: String::new(),
            errors: FieldErrors::default(),
        });
    };
    let filing = filing(state, ctx, draft);
    if let Ok(f) = &filing
        && draft.confirmed != "1"
    {
        match duplicates(state, ctx, f).await {
            Ok(duplicates) if !duplicates.is_empty() => {
                let page = ctx.render(&DuplicatesPage { ctx, draft, duplicates });
                return keep_new_session(page, cookie);
            }
            Ok(_) => {}
            Err(e) => return axum::response::IntoResponse::into_response(ctx.fail(e)),
        }
    }
    let filed = match filing {
        Ok(filing) => workflow::file_case(
            &state.store,
            &state.rules,
            &state.directory,
            Filer::Principal(principal),
            filing,
            state.now(),
        )
        .await
        .map_err(|e| {
            let questions = question_fields(state, ctx, &draft.category, &draft.answers());
            FieldErrors::from_error(&ctx.t, &ApiError::from(e), &field_names(&FIELDS, &questions))
        }),
        Err(errors) => Err(errors),
    };
    match filed {
        Ok((id, _)) => {
            let to = format!("/cases/{id}");
            match cookie {
                Some(cookie) => redirect_with_cookie(ctx, &to, cookie),
                None => ctx.with_cookies(axum::response::IntoResponse::into_response(Redirect::to(&to))),
            }
        }
        Err(errors) => {
            let attached = attached(state, draft).await;
            let page = report_page(state, ctx, draft, errors, attached);
            keep_new_session(ctx.render_with(StatusCode::BAD_REQUEST, &page), cookie)
        }
    }
}

/// A page answered to a resident who signed in on the way (the draft needs a fix, or a duplicate is offered): the
/// response carries the new session's cookie.
fn keep_new_session(mut response: Response, cookie: Option<&str>) -> Response {
    if let Some(v) = cookie.and_then(|c| axum::http::HeaderValue::from_str(c).ok()) {
        response.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    response
}

/// Open public cases that may be the report's matter, as the public sees them (`app::workflow::possible_duplicates`).
async fn duplicates(state: &AppState, ctx: &Ctx, filing: &Filing) -> Result<Vec<Duplicate>, ApiError> {
    let views = workflow::possible_duplicates(
        &state.store,
        &state.rules,
        &state.grids,
        filing.kind,
        &filing.location,
        filing.category.trim(),
        state.now(),
    )
    .await?;
    Ok(views
        .into_iter()
        .map(|v| Duplicate {
            id: v.id,
            category: ctx.t.name("category", &v.category),
            place: state
                .territory
                .get(&v.unit)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| v.unit.to_string()),
            created: super::cases::when(state, v.created_at),
            description: v.description,
            co_signers: ctx.t.with("dup-co-signers", &[("n", v.co_signers.to_string())]),
            add_voice: ctx.t.with("dup-add-voice", &[("id", v.id.to_string())]),
        })
        .collect())
}

/// How many photos wait under the draft's token (none when it has no token yet, or the store cannot say).
async fn attached(state: &AppState, draft: &Draft) -> usize {
    if draft.upload.is_empty() {
        return 0;
    }
    state
        .store
        .uploads_of(&draft.upload)
        .await
        .map(|v| v.len())
        .unwrap_or(0)
}

/// One file of the form: its name as sent and its bytes.
type UploadedFile = (String, Vec<u8>);

/// The report form as posted: a multipart form with photos (the page's form), or a plain form without.
async fn read_report(state: &AppState, request: Request) -> Result<(DraftForm, Vec<UploadedFile>), ApiError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    if !multipart {
        let Form(form) = Form::<DraftForm>::from_request(request, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        return Ok((form, Vec::new()));
    }
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let mut fields = serde_json::Map::new();
    let mut files = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::invalid("photos", e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        if name == "photos" {
            let file = field.file_name().unwrap_or("photo").to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| ApiError::invalid("photos", e.body_text()))?;
            if !bytes.is_empty() {
                files.push((file, bytes.to_vec()));
            }
        } else {
            let text = field.text().await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
            fields.insert(name, text.into());
        }
    }
    let form =
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok((form, files))
}

/// `POST /report`: keeps the photos under the draft's token, then files the case, or asks the public to sign in or up
/// first (the draft and its token come along).
pub async fn submit(State(state): State<AppState>, ctx: Ctx, request: Request) -> Result<Response, Failure> {
    let (form, files) = read_report(&state, request).await.map_err(|e| ctx.fail(e))?;
    ctx.check_csrf(&form.csrf)?;
    let mut draft = form.draft;
    if draft.upload.is_empty() && !files.is_empty() {
        draft.upload = crate::auth::new_request_token().map_err(|e| ctx.fail(ApiError::internal(e)))?;
    }
    for (name, bytes) in &files {
        if let Err(e) = workflow::upload_photo(&state.store, &draft.upload, name, bytes, state.now()).await {
            let errors = FieldErrors::from_error(&ctx.t, &ApiError::from(e), &FIELDS);
            let attached = attached(&state, &draft).await;
            let page = report_page(&state, &ctx, &draft, errors, attached);
            return Ok(ctx.render_with(StatusCode::BAD_REQUEST, &page));
        }
    }
    if draft.extra.remove("show_questions").is_some() {
        // The no-script path to the category's questions: the same form again, with them, nothing filed.
        let attached = attached(&state, &draft).await;
        return Ok(ctx.render(&report_page(&state, &ctx, &draft, FieldErrors::default(), attached)));
    }
    Ok(file(&state, &ctx, &draft, None).await)
}

/// The principal a new session gives, for filing in the same request.
async fn principal_of_new_session(state: &AppState, name: &str) -> Option<domain::access::Principal> {
    let row = state.store.account(name.trim()).await.ok().flatten()?;
    crate::caller::principal_of(&row).ok()
}

async fn after_session(
    state: &AppState,
    ctx: Ctx,
    form: DraftWithCredentials,
    started: Result<String, FieldErrors>,
) -> Response {
    match started {
        Ok(cookie) => {
            let mut signed_in = ctx.clone();
            signed_in.user = principal_of_new_session(state, &form.name).await;
            file(state, &signed_in, &form.draft, Some(&cookie)).await
        }
        Err(errors) => ctx.render_with(
            StatusCode::UNAUTHORIZED,
            &ReportSigninPage {
                ctx: &ctx,
                draft: &form.draft,
                name: form.name,
                errors,
            },
        ),
    }
}

/// `POST /report/signin`: signs in, then files the draft.
pub async fn signin_and_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<DraftWithCredentials>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let started = sign_in(&state, &ctx, &form.name, &form.password).await;
    Ok(after_session(&state, ctx, form, started).await)
}

/// `POST /report/signup`: creates a resident account, signs it in, then files the draft.
pub async fn signup_and_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<DraftWithCredentials>,
) -> Result<Response, Failure> {
    ctx.check_csrf(&form.csrf)?;
    let started = sign_up(&state, &ctx, &form.name, &form.password).await;
    Ok(after_session(&state, ctx, form, started).await)
}
