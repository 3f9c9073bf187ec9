//! The public portal, open without sign-in: the published monthly rankings with unit names
//! (`app::workflow::published_rates`, the same function as `GET /api/v1/public/rates`), the pilots with their
//! evidence and verdicts (`rest::public::public_pilots` and `app::governance::assess_pilot`, with the event-study
//! chart of `stats::Report`), and each unit's public cases — on a map at grid precision, in a paged list for pages
//! without JavaScript, one by one, and as an Atom feed — all from `app::workflow::public_cases`, that is from
//! `disclose` with the public audience and from nothing else.

use app::workflow::{self, CaseView};
use askama::Template;
use atom_syndication::{Entry, Feed, FixedDateTime, Link, Text};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::disclosure::Audience;
use domain::rates::YearMonth;
use domain::territory::{Level, UnitCode};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::cases::{render_public, when};
use super::dashboard::percent;
use super::intake::Choice;
use super::map::default_unit;
use super::page::{Ctx, Failure};
use crate::error::ApiError;
use crate::rest::cases::case_id;
use crate::rest::governance::grouping;
use crate::rest::public::{PublicPilot, public_pilots, published, row_name};
use crate::state::AppState;

/// Cases on one page of a unit's list and map, and entries of its feed.
const PAGE_SIZE: u32 = 50;

/// A unit as a link.
pub struct UnitLink {
    pub code: String,
    pub name: String,
}

fn unit_link(state: &AppState, code: &UnitCode) -> UnitLink {
    UnitLink {
        code: code.to_string(),
        name: state
            .territory
            .get(code)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| code.to_string()),
    }
}

#[derive(Template)]
#[template(path = "portal/index.html")]
struct IndexPage<'a> {
    ctx: &'a Ctx,
    top: Option<UnitLink>,
    units: Vec<UnitLink>,
}

/// `GET /portal`: what the public may read, and the units whose cases it may follow.
pub async fn index(State(state): State<AppState>, ctx: Ctx) -> Response {
    let top = default_unit(&state);
    let units = top
        .iter()
        .flat_map(|t| state.territory.children(t))
        .map(|c| unit_link(&state, c))
        .collect();
    ctx.render(&IndexPage {
        ctx: &ctx,
        top: top.map(|t| unit_link(&state, &t)),
        units,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct RatesForm {
    month: Option<String>,
    group: Option<String>,
}

pub struct RateLine {
    pub rank: u32,
    pub name: String,
    pub cases: u32,
    pub response: String,
    pub resolution: String,
    pub satisfaction: String,
    pub coverage: String,
    pub composite: String,
}

#[derive(Template)]
#[template(path = "portal/rates.html")]
struct RatesPage<'a> {
    ctx: &'a Ctx,
    month: String,
    group: String,
    groups: Vec<Choice>,
    published_at: String,
    /// Why there is no ranking to show (not yet published, a bad month).
    notice: String,
    rows: Vec<RateLine>,
    previous: String,
    next: String,
}

fn shift(month: YearMonth, by: i32) -> YearMonth {
    let index = month.year * 12 + i32::from(month.month) - 1 + by;
    YearMonth {
        year: index.div_euclid(12),
        month: u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1),
    }
}

/// `GET /portal/rates?month=YYYY-MM&group=…`: a month's published ranking (by default the latest published), with
/// links to the months before and after.
pub async fn rates(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(form): Query<RatesForm>,
) -> Result<Response, Failure> {
    let now = state.now();
    let group = form
        .group
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .unwrap_or("township");
    let grouping = grouping(Some(group)).map_err(|e| ctx.fail(e))?;
    let month = match form.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(raw) => YearMonth::parse(raw).map_err(|e| ctx.fail(ApiError::invalid("month", e.to_string())))?,
        None => {
            workflow::latest_published(&state.rules, now).unwrap_or_else(|| YearMonth::of(now, &state.rules.calendar))
        }
    };
    let (rows, published_at, notice) = match published(&state, month, grouping).await {
        Ok(published) => (
            published
                .rows
                .iter()
                .map(|row| RateLine {
                    rank: row.rank,
                    name: row_name(&state, &row.key),
                    cases: row.cases,
                    response: percent(row.response_rate),
                    resolution: percent(row.resolution_rate),
                    satisfaction: percent(row.satisfaction_rate),
                    coverage: percent(row.feedback_coverage),
                    composite: percent(row.composite),
                })
                .collect(),
            when(&state, published.published_at),
            String::new(),
        ),
        Err(error) => {
            if error.status().is_server_error() {
                return Err(ctx.fail(error));
            }
            (Vec::new(), String::new(), error.to_string())
        }
    };
    let groups = ["township", "county", "village", "department"]
        .into_iter()
        .map(|g| Choice {
            value: g.to_string(),
            label: ctx.t.name("group", g),
            selected: g == group,
        })
        .collect();
    Ok(ctx.render(&RatesPage {
        ctx: &ctx,
        month: month.to_string(),
        group: group.to_string(),
        groups,
        published_at,
        notice,
        rows,
        previous: shift(month, -1).to_string(),
        next: shift(month, 1).to_string(),
    }))
}

#[derive(Template)]
#[template(path = "portal/pilots.html")]
struct PilotsPage<'a> {
    ctx: &'a Ctx,
    pilots: Vec<PilotLine>,
}

pub struct PilotLine {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub state: String,
    pub units: Vec<UnitLink>,
    pub steps: Vec<(String, String)>,
}

fn pilot_line(state: &AppState, ctx: &Ctx, p: PublicPilot) -> PilotLine {
    let local = |at: &str| {
        OffsetDateTime::parse(at, &Rfc3339)
            .map(|t| when(state, t))
            .unwrap_or_else(|_| at.to_string())
    };
    PilotLine {
        id: p.pilot.id,
        name: p.pilot.name,
        owner: p.owner_name,
        state: ctx.t.name("pilot-state", &p.pilot.state),
        units: p
            .units
            .iter()
            .filter_map(|u| UnitCode::parse(u).ok())
            .map(|u| unit_link(state, &u))
            .collect(),
        steps: p
            .steps
            .into_iter()
            .map(|s| (ctx.t.name("pilot-action", &s.action), local(&s.at)))
            .collect(),
    }
}

/// `GET /portal/pilots`: every pilot with where it runs and its lifecycle.
pub async fn pilots(State(state): State<AppState>, ctx: Ctx) -> Result<Response, Failure> {
    let pilots = public_pilots(&state)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .map(|p| pilot_line(&state, &ctx, p))
        .collect();
    Ok(ctx.render(&PilotsPage { ctx: &ctx, pilots }))
}

pub struct EffectLine {
    pub outcome: String,
    pub att: String,
    pub interval: String,
}

#[derive(Template)]
#[template(path = "portal/pilot.html")]
struct PilotPage<'a> {
    ctx: &'a Ctx,
    pilot: PilotLine,
    /// Why there is no evaluation (not started, no data to compare).
    notice: String,
    verdict: String,
    reasons: Vec<String>,
    effects: Vec<EffectLine>,
    evidence: String,
    warnings: Vec<String>,
    /// The event-study chart, drawn by `stats::EventStudy::svg` in the page's language (markup made on the server
    /// from numbers).
    chart: String,
}

fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "–".to_string()
    }
}

/// `GET /portal/pilots/{id}`: a pilot, its evaluation as the case store shows it now (effects with intervals, the
/// verdict and its reasons, the site-selection warnings) and the event-study chart.
pub async fn pilot(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Failure> {
    let wanted = id.trim();
    let found = public_pilots(&state)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .find(|p| p.pilot.id.to_string() == wanted || p.pilot.name == wanted)
        .ok_or_else(|| ctx.fail(ApiError::NotFound(format!("no pilot {wanted:?}"))))?;
    let pilot = pilot_line(&state, &ctx, found);
    let mut page = PilotPage {
        ctx: &ctx,
        pilot,
        notice: String::new(),
        verdict: String::new(),
        reasons: Vec::new(),
        effects: Vec::new(),
        evidence: String::new(),
        warnings: Vec::new(),
        chart: String::new(),
    };
    match state.public_evaluation(page.pilot.id).await {
        Ok(evaluation) => {
            page.verdict = ctx
                .t
                .name("verdict", &evaluation.verdict.verdict.as_str().replace(' ', "_"));
            page.reasons = evaluation
                .verdict
                .findings
                .iter()
                .map(|f| super::page::finding_text(&ctx.t, f))
                .collect();
            page.evidence = evaluation.evidence();
            page.effects = evaluation
                .effects
                .iter()
                .map(|e| EffectLine {
                    outcome: ctx.t.name("outcome", e.outcome.as_str()),
                    att: number(e.effect.att),
                    interval: format!("{} … {}", number(e.effect.ci_low), number(e.effect.ci_high)),
                })
                .collect();
            page.warnings = super::page::evaluation_notes(&ctx.t, &evaluation);
            page.chart = evaluation
                .event_study
                .as_ref()
                .map(|study| super::page::event_study_svg(&ctx, study))
                .unwrap_or_default();
        }
        Err(error) => {
            if error.status().is_server_error() {
                return Err(ctx.fail(error));
            }
            page.notice = error.to_string();
        }
    }
    Ok(ctx.render(&page))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageForm {
    page: Option<u32>,
}

/// A public case in a list.
pub struct CaseLine {
    pub id: i64,
    pub kind: String,
    pub category: String,
    pub state: String,
    pub place: String,
    pub created: String,
}

fn case_line(state: &AppState, ctx: &Ctx, v: &CaseView) -> CaseLine {
    CaseLine {
        id: v.id,
        kind: ctx.t.name("kind", v.kind.as_str()),
        category: ctx.t.name("category", &v.category),
        state: ctx.t.name("state", v.state.as_str()),
        place: format!(
            "{}{}",
            unit_link(state, &v.unit).name,
            v.grid.as_deref().map(|g| format!(" · {g}")).unwrap_or_default()
        ),
        created: when(state, v.created_at),
    }
}

#[derive(Template)]
#[template(path = "portal/unit.html")]
struct UnitPage<'a> {
    ctx: &'a Ctx,
    unit: UnitLink,
    ancestors: Vec<UnitLink>,
    children: Vec<UnitLink>,
    /// What the map draws under the cases: the unit's grids at township level and below, else its children.
    areas_url: String,
    cases: Vec<CaseLine>,
    page: u32,
    next_page: Option<u32>,
}

fn known_unit(state: &AppState, ctx: &Ctx, raw: &str) -> Result<UnitCode, Failure> {
    let code = UnitCode::parse(raw.trim()).map_err(|e| ctx.fail(ApiError::invalid("unit", e.to_string())))?;
    state
        .territory
        .get(&code)
        .ok_or_else(|| ctx.fail(ApiError::NotFound(format!("no unit {code}"))))?;
    Ok(code)
}

async fn unit_cases(state: &AppState, code: &UnitCode, page: u32) -> Result<Vec<CaseView>, ApiError> {
    Ok(workflow::public_cases(
        &state.store,
        &state.rules,
        &state.grids,
        code,
        page,
        PAGE_SIZE,
        state.now(),
    )
    .await?)
}

/// `GET /portal/units/{code}?page=N`: a unit's public cases, newest first — on a map at grid precision and in a
/// paged list —, its sub-units, and its Atom feed (`<link rel=alternate>`).
pub async fn unit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(form): Query<PageForm>,
) -> Result<Response, Failure> {
    let code = known_unit(&state, &ctx, &code)?;
    let page = form.page.unwrap_or(1).max(1);
    let views = unit_cases(&state, &code, page).await.map_err(|e| ctx.fail(e))?;
    let grids = code.level() >= Level::Township;
    let mut ancestors: Vec<UnitLink> = state
        .territory
        .ancestry(&code)
        .iter()
        .map(|u| unit_link(&state, &u.code))
        .filter(|u| u.code != code.as_str())
        .collect();
    ancestors.sort_by_key(|u| u.code.len());
    Ok(ctx.render(&UnitPage {
        ctx: &ctx,
        unit: unit_link(&state, &code),
        ancestors,
        children: state
            .territory
            .children(&code)
            .iter()
            .map(|c| unit_link(&state, c))
            .collect(),
        areas_url: format!(
            "/map/areas.geojson?under={code}{}",
            if grids { "&grids=true" } else { "" }
        ),
        next_page: (views.len() == PAGE_SIZE as usize).then_some(page + 1),
        cases: views.iter().map(|v| case_line(&state, &ctx, v)).collect(),
        page,
    }))
}

/// `GET /portal/units/{code}/cases.geojson?page=N`: the cases of the same page of the unit's list as points at
/// their grid's centre (never the exact point: `disclose` gives the public only the centre).
pub async fn unit_geojson(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(form): Query<PageForm>,
) -> Result<Response, Failure> {
    let code = known_unit(&state, &ctx, &code)?;
    let views = unit_cases(&state, &code, form.page.unwrap_or(1).max(1))
        .await
        .map_err(|e| ctx.fail(e))?;
    let features = views
        .iter()
        .filter_map(|v| {
            let (lat, lon) = v.point?;
            let line = case_line(&state, &ctx, v);
            let mut properties = geojson::JsonObject::new();
            properties.insert("id".into(), v.id.into());
            properties.insert(
                "label".into(),
                format!("#{} {} · {}", v.id, line.category, line.state).into(),
            );
            properties.insert("href".into(), format!("/portal/cases/{}", v.id).into());
            Some(geojson::Feature {
                geometry: Some(geojson::Geometry::from(&geo::Point::new(lon, lat))),
                properties: Some(properties),
                ..geojson::Feature::default()
            })
        })
        .collect();
    let collection = geojson::FeatureCollection {
        features,
        bbox: None,
        foreign_members: None,
    };
    let mut response = collection.to_string().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    Ok(ctx.with_cookies(response))
}

/// `GET /portal/cases/{id}`: one public case as the public sees it; any other case is "not found", as one that
/// does not exist.
pub async fn case(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, Failure> {
    let id = case_id(&id).map_err(|e| ctx.fail(e))?;
    let held = workflow::hold(&state.store, id).await.map_err(|e| ctx.fail(e))?;
    let view = workflow::disclose(
        &state.store,
        &state.rules,
        &state.grids,
        Audience::Public,
        &held,
        "GET /portal/cases/{id}",
        state.now(),
    )
    .await
    .map_err(|e| ctx.fail(e))?;
    Ok(render_public(&state, &ctx, view))
}

fn atom_time(at: OffsetDateTime) -> FixedDateTime {
    at.format(&Rfc3339)
        .ok()
        .and_then(|s| FixedDateTime::parse_from_rfc3339(&s).ok())
        .unwrap_or_default()
}

/// `GET /portal/units/{code}/feed.atom`: the unit's newest public cases as an Atom feed, one entry per case
/// (updated at its last public event), in the page's language, linking on the public base URL (`serve --base-url`).
pub async fn feed(State(state): State<AppState>, ctx: Ctx, Path(code): Path<String>) -> Result<Response, Failure> {
    let code = known_unit(&state, &ctx, &code)?;
    let views = unit_cases(&state, &code, 1).await.map_err(|e| ctx.fail(e))?;
    let name = unit_link(&state, &code).name;
    // Feed readers keep entries apart from the page: links are absolute, on the deployment's public base URL.
    let base = state.config.base_url.trim_end_matches('/');
    let entries: Vec<Entry> = views
        .iter()
        .map(|v| {
            let line = case_line(&state, &ctx, v);
            let updated = v.events.last().map_or(v.created_at, |e| e.at);
            Entry {
                id: format!("urn:grassroots:case:{}", v.id),
                title: Text::plain(format!("#{} {} · {}", v.id, line.category, line.state)),
                updated: atom_time(updated),
                published: Some(atom_time(v.created_at)),
                summary: Some(Text::plain(format!(
                    "{} · {}\n{}",
                    line.kind, line.place, v.description
                ))),
                links: vec![Link {
                    href: format!("{base}/portal/cases/{}", v.id),
                    rel: "alternate".into(),
                    mime_type: Some("text/html".into()),
                    ..Link::default()
                }],
                ..Entry::default()
            }
        })
        .collect();
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or_else(|| atom_time(state.now()));
    let feed = Feed {
        id: format!("urn:grassroots:unit:{code}"),
        title: Text::plain(format!("{} · {}", name, ctx.t.t("portal-feed-title"))),
        updated,
        links: vec![
            Link {
                href: format!("{base}/portal/units/{code}/feed.atom"),
                rel: "self".into(),
                mime_type: Some("application/atom+xml".into()),
                ..Link::default()
            },
            Link {
                href: format!("{base}/portal/units/{code}"),
                rel: "alternate".into(),
                mime_type: Some("text/html".into()),
                ..Link::default()
            },
        ],
        lang: Some(ctx.lang_tag().to_string()),
        entries,
        ..Feed::default()
    };
    let mut response = (StatusCode::OK, feed.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    Ok(ctx.with_cookies(response))
}
