//! What every page shares: [`Ctx`] (the caller, the language, the CSRF token, whether htmx asked for a fragment), the
//! rendering of a template into a response with the cookies it needs, the error page, and the home page.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::access::{self, Principal, UnitAction};

use super::i18n::{LANG_COOKIE, Lang, Tr};
use crate::caller::Caller;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// The cookie holding the CSRF token that every POST form must repeat (double submit).
pub const CSRF_COOKIE: &str = "grassroots_csrf";

/// The request as a page sees it.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub t: Tr,
    /// The signed-in account; `None` for the public and for an expired or disabled session (the page then offers
    /// sign-in, as for anyone).
    pub user: Option<Principal>,
    /// The token every form of this page carries.
    pub csrf: String,
    /// True when the token was made for this response (no cookie yet): the response sets the cookie.
    csrf_is_new: bool,
    /// True when `?lang=` chose the language: the response remembers it in a cookie.
    lang_chosen: bool,
    /// The path of this page, for the language switch and the return after sign-in.
    pub path: String,
    /// `HX-Request: true`: answer only the fragment that changed.
    pub htmx: bool,
    /// The client's address (`caller::ClientAddress`), for the sign-in throttle.
    pub client: String,
    secure_cookies: bool,
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn query_lang(parts: &Parts) -> Option<Lang> {
    parts
        .uri
        .query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, Self::Rejection> {
        let chosen = query_lang(parts);
        let lang = chosen
            .or_else(|| cookie(parts, LANG_COOKIE).and_then(Lang::parse))
            .unwrap_or(Lang::Zh);
        let (csrf, csrf_is_new) = match cookie(parts, CSRF_COOKIE) {
            Some(token) if token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) => {
                (token.to_string(), false)
            }
            _ => (crate::auth::new_request_token().unwrap_or_default(), true),
        };
        let user = Caller::from_request_parts(parts, state).await.ok().and_then(|c| c.0);
        let htmx = parts.headers.get("hx-request").is_some_and(|v| v == "true");
        Ok(Ctx {
            t: Tr::new(lang),
            user,
            csrf,
            csrf_is_new,
            lang_chosen: chosen.is_some(),
            path: parts.uri.path().to_string(),
            htmx,
            client: crate::caller::ClientAddress::of(&parts.extensions).0,
            secure_cookies: state.config.secure_cookies,
        })
    }
}

/// A page that could not be shown: the error page (or a sign-in redirect), already rendered.
pub struct Failure(Box<Response>);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        *self.0
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: &'a Ctx,
    status: u16,
    message: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    ctx: &'a Ctx,
}

impl Ctx {
    /// Whether the signed-in account is staff (the workbench and alerts links).
    pub fn is_staff(&self) -> bool {
        self.user.as_ref().is_some_and(|p| p.role.is_staff())
    }

    /// Whether the signed-in account is a grid worker (the patrol link).
    pub fn is_grid_worker(&self) -> bool {
        self.user.as_ref().is_some_and(|p| p.role == access::Role::GridWorker)
    }

    /// Whether the signed-in account may read statistics in its scope (the dashboard and pilots links).
    pub fn may_read_stats(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|p| access::can_at_unit(p, UnitAction::ReadStats, &p.scope).is_ok())
    }

    /// Whether the signed-in account may govern policy in its scope (the policy link).
    pub fn may_govern(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|p| access::can_at_unit(p, UnitAction::GovernPolicy, &p.scope).is_ok())
    }

    /// The role of the signed-in account, translated.
    pub fn role_name(&self) -> String {
        self.user
            .as_ref()
            .map(|p| self.t.name("role", p.role.as_str()))
            .unwrap_or_default()
    }

    /// The `lang` tag of `<html>`.
    pub fn lang_tag(&self) -> &'static str {
        self.t.lang.tag()
    }

    /// The link that shows this page in the other language.
    pub fn switch_href(&self) -> String {
        format!("{}?lang={}", self.path, self.t.lang.other().tag())
    }

    pub fn switch_label(&self) -> String {
        match self.t.lang.other() {
            Lang::Zh => "中文".to_string(),
            Lang::En => "English".to_string(),
        }
    }

    /// Refuses a form whose token does not match the cookie (or when there is no cookie yet).
    pub fn check_csrf(&self, submitted: &str) -> Result<(), Failure> {
        let same = !self.csrf_is_new
            && submitted.len() == self.csrf.len()
            && submitted
                .bytes()
                .zip(self.csrf.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(self.error_page(StatusCode::FORBIDDEN, self.t.t("error-csrf")))
        }
    }

    /// The signed-in principal, or a redirect to the sign-in page that comes back here.
    pub fn require(&self) -> Result<&Principal, Failure> {
        self.user.as_ref().ok_or_else(|| {
            Failure(Box::new(
                Redirect::to(&format!("/signin?next={}", self.path)).into_response(),
            ))
        })
    }

    /// Renders a page (or a fragment) with the cookies this request needs.
    pub fn render(&self, template: &impl Template) -> Response {
        self.render_with(StatusCode::OK, template)
    }

    pub fn render_with(&self, status: StatusCode, template: &impl Template) -> Response {
        match template.render() {
            Ok(html) => self.with_cookies((status, Html(html)).into_response()),
            Err(error) => {
                tracing::error!(%error, "a template failed to render");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }

    /// Adds the CSRF and language cookies when this request made or chose them.
    pub fn with_cookies(&self, mut response: Response) -> Response {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        let mut add = |value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        };
        if self.csrf_is_new {
            add(format!(
                "{CSRF_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}",
                self.csrf
            ));
        }
        if self.lang_chosen {
            add(format!(
                "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
                self.t.lang.tag()
            ));
        }
        response
    }

    /// The error page for a status and a message in the page's language.
    pub fn error_page(&self, status: StatusCode, message: String) -> Failure {
        Failure(Box::new(self.render_with(
            status,
            &ErrorPage {
                ctx: self,
                status: status.as_u16(),
                message,
            },
        )))
    }

    /// The error page for an error of the API layer: the same status, the message of a client error (never the
    /// details of a server fault); a missing sign-in goes to the sign-in page.
    pub fn fail(&self, error: impl Into<ApiError>) -> Failure {
        let error = error.into();
        if matches!(error, ApiError::Unauthenticated) {
            return Failure(Box::new(
                Redirect::to(&format!("/signin?next={}", self.path)).into_response(),
            ));
        }
        let status = error.status();
        if status.is_server_error() {
            tracing::error!(%error, "a page failed");
            return self.error_page(status, self.t.t("error-internal"));
        }
        self.error_page(status, self.say_error(&error))
    }

    /// A client error in the page's language: each problem worded by [`Tr::say`](super::i18n::Tr::say), after the
    /// field it names.
    pub fn say_error(&self, error: &ApiError) -> String {
        let status = error.status();
        error
            .public_errors()
            .iter()
            .map(|problem| labelled(&self.t, status, problem))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// One problem in the language of `t`. A message the domain did not key (a parser's text, a name that does not
/// exist) is shown as it is, after what its status means in that language.
fn word(t: &super::i18n::Tr, status: StatusCode, problem: &FieldError) -> String {
    if !problem.said.key.is_empty() {
        return t.say(&problem.said);
    }
    let meaning = t.name("error-status", status.as_str());
    if meaning == status.as_str() {
        return problem.message.clone();
    }
    t.with(
        "error-with-detail",
        &[("meaning", meaning), ("detail", problem.message.clone())],
    )
}

/// One problem worded by [`word`], after the name of the field it concerns when it names one.
fn labelled(t: &super::i18n::Tr, status: StatusCode, problem: &FieldError) -> String {
    let message = word(t, status, problem);
    if problem.field.is_empty() {
        message
    } else {
        format!("{}: {message}", t.name("field", &problem.field))
    }
}

/// The home page: report a problem, and for the signed-in their cases, the workbench and alerts.
pub async fn home(ctx: Ctx) -> Response {
    ctx.render(&HomePage { ctx: &ctx })
}

/// A problem with one field of a form, shown beside it.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    /// The message for `field`, or an empty string.
    pub fn of(&self, field: &str) -> String {
        self.0
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| f == field)
    }

    /// Messages not tied to a field of the form.
    pub fn general(&self) -> String {
        self.of("")
    }

    /// Spreads an API error over the fields it names, in the language of `t`; any other error goes to the form as
    /// a whole.
    pub fn from_error(t: &super::i18n::Tr, error: &ApiError, fields: &[&str]) -> FieldErrors {
        if error.status().is_server_error() {
            return FieldErrors(vec![(String::new(), t.t("error-internal"))]);
        }
        let status = error.status();
        let list = error
            .public_errors()
            .iter()
            .map(|f| {
                if fields.contains(&f.field.as_str()) {
                    (f.field.clone(), word(t, status, f))
                } else {
                    (String::new(), labelled(t, status, f))
                }
            })
            .collect();
        FieldErrors(list)
    }
}

/// The event-study chart of an evaluation, with its words in the page's language.
pub fn event_study_svg(ctx: &Ctx, study: &stats::EventStudy) -> String {
    study.svg(&stats::ChartLabels {
        title: ctx.t.t("chart-event-title"),
        x_axis: ctx.t.t("chart-event-x"),
        y_axis: ctx.t.t("chart-event-y"),
        pointwise: ctx.t.t("chart-event-pointwise"),
        uniform: ctx.t.t("chart-event-uniform"),
    })
}

/// A finding behind a pilot's verdict as a sentence in the page's language.
pub fn finding_text(t: &super::i18n::Tr, finding: &domain::pilot::Finding) -> String {
    use domain::pilot::{Finding, OutcomeEffect};
    let effect = |e: &OutcomeEffect| {
        let x = &e.effect;
        t.with(
            if x.att >= 0.0 {
                "finding-effect-rose"
            } else {
                "finding-effect-fell"
            },
            &[
                ("outcome", t.name("outcome", e.outcome.as_str())),
                ("att", format!("{:.3}", x.att.abs())),
                ("low", format!("{:.3}", x.ci_low)),
                ("high", format!("{:.3}", x.ci_high)),
                ("se", format!("{:.3}", x.se)),
            ],
        )
    };
    let with_effect = |key: &str, e: &OutcomeEffect| t.with(key, &[("effect", effect(e))]);
    let with_outcome =
        |key: &str, o: &domain::pilot::Outcome| t.with(key, &[("outcome", t.name("outcome", o.as_str()))]);
    match finding {
        Finding::PrimaryBetter { effect } => with_effect("finding-primary-better", effect),
        Finding::PrimaryWorse { effect } => with_effect("finding-primary-worse", effect),
        Finding::PrimaryInconclusive { effect } => with_effect("finding-primary-inconclusive", effect),
        Finding::Primary { effect } => with_effect("finding-primary", effect),
        Finding::PrimaryNoEstimate { outcome } => with_outcome("finding-primary-no-estimate", outcome),
        Finding::NotEnoughEvidence { mde, multiplier } => t.with(
            "finding-not-enough-evidence",
            &[("mde", format!("{mde:.3}")), ("multiplier", format!("{multiplier:.1}"))],
        ),
        Finding::GuardrailHarmed { effect } => with_effect("finding-guardrail-harmed", effect),
        Finding::GuardrailNotHarmed { effect } => with_effect("finding-guardrail-not-harmed", effect),
        Finding::GuardrailNoEstimate { outcome } => with_outcome("finding-guardrail-no-estimate", outcome),
    }
}

/// The notes of a pilot's evaluation and of its site-selection check as sentences in the page's language. The
/// estimator's own messages are quoted as R's `did` words them, in English, under a translated lead.
pub fn evaluation_notes(t: &super::i18n::Tr, evaluation: &app::governance::PilotEvaluation) -> Vec<String> {
    use app::governance::{EvaluationNote, VOLUME_COVARIATE, pre_period_covariate};
    use domain::pilot::{Outcome, SiteNote};
    let outcome = |o: &Outcome| t.name("outcome", o.as_str());
    let covariate = |name: &str| {
        if name == VOLUME_COVARIATE {
            return t.t("covariate-volume");
        }
        Outcome::ALL
            .iter()
            .find(|o| pre_period_covariate(**o) == name)
            .map(|o| t.with("covariate-pre-period", &[("outcome", outcome(o))]))
            .unwrap_or_else(|| name.to_string())
    };
    let notes = evaluation.notes.iter().map(|note| match note {
        EvaluationNote::UnitsLeftOut { outcome: o, units } => t.with(
            "note-units-left-out",
            &[("outcome", outcome(o)), ("units", units.to_string())],
        ),
        EvaluationNote::MonthsFilled {
            outcome: o,
            unit_months,
        } => t.with(
            "note-months-filled",
            &[("outcome", outcome(o)), ("months", unit_months.to_string())],
        ),
        EvaluationNote::NoAdopterValues { outcome: o } => t.with("note-no-adopter-values", &[("outcome", outcome(o))]),
        EvaluationNote::NoComparisonValues { outcome: o } => {
            t.with("note-no-comparison-values", &[("outcome", outcome(o))])
        }
        EvaluationNote::Estimator { outcome: o, message } => t.with(
            "note-estimator",
            &[("outcome", outcome(o)), ("message", message.clone())],
        ),
    });
    let site = evaluation.site_selection.notes.iter().map(|note| match note {
        SiteNote::NoValues { name, adopters_missing } => t.with(
            if *adopters_missing {
                "note-site-no-adopter-values"
            } else {
                "note-site-no-other-values"
            },
            &[("name", covariate(name))],
        ),
        SiteNote::Differed {
            name,
            mean_adopters,
            mean_others,
            std_diff,
            p_value,
        } => t.with(
            "note-site-differed",
            &[
                ("name", covariate(name)),
                ("adopters", format!("{mean_adopters:.3}")),
                ("others", format!("{mean_others:.3}")),
                ("diff", format!("{std_diff:+.2}")),
                ("p", format!("{p_value:.4}")),
            ],
        ),
    });
    notes.chain(site).collect()
}

#[cfg(test)]
mod finding_tests {
    use domain::pilot::{Effect, Finding, Outcome, OutcomeEffect};

    use super::finding_text;
    use crate::web::i18n::{Lang, Tr};

    #[test]
    fn a_finding_is_worded_in_the_page_s_language_with_its_numbers() {
        let effect = OutcomeEffect {
            outcome: Outcome::OverdueShare,
            effect: Effect::normal(-0.05, 0.01),
        };
        let finding = Finding::PrimaryBetter { effect };
        let zh = finding_text(&Tr::new(Lang::Zh), &finding);
        assert!(zh.starts_with("主要指标改善") && zh.contains("下降了 0.050"), "{zh}");
        let en = finding_text(&Tr::new(Lang::En), &finding);
        assert!(
            en.starts_with("Primary outcome better") && en.contains("fell by 0.050"),
            "{en}"
        );
    }

    #[test]
    fn the_evaluation_s_notes_are_worded_in_the_page_s_language() {
        use app::governance::{EvaluationNote, PilotEvaluation, VOLUME_COVARIATE, pre_period_covariate};
        use domain::pilot::{SiteNote, SiteSelection, Verdict, VerdictReport};
        let evaluation = PilotEvaluation {
            pilot: "p".into(),
            effects: Vec::new(),
            verdict: VerdictReport {
                verdict: Verdict::KeepPiloting,
                reasons: Vec::new(),
                findings: Vec::new(),
                primary_mde: None,
            },
            site_selection: SiteSelection {
                balances: Vec::new(),
                warnings: Vec::new(),
                notes: vec![
                    SiteNote::Differed {
                        name: pre_period_covariate(Outcome::OverdueShare),
                        mean_adopters: 0.2,
                        mean_others: 0.1,
                        std_diff: 1.2,
                        p_value: 0.001,
                    },
                    SiteNote::NoValues {
                        name: VOLUME_COVARIATE.into(),
                        adopters_missing: true,
                    },
                ],
            },
            units_in_panel: 0,
            adopters_in_panel: 0,
            months: 0,
            warnings: Vec::new(),
            notes: vec![EvaluationNote::UnitsLeftOut {
                outcome: Outcome::OverdueShare,
                units: 3,
            }],
            event_study: None,
        };
        let zh = super::evaluation_notes(&Tr::new(Lang::Zh), &evaluation);
        assert_eq!(zh.len(), 3, "{zh:?}");
        assert!(zh[0].starts_with("超期比例：3 个单位未纳入"), "{zh:?}");
        assert!(zh[1].contains("试点前的超期比例") && zh[1].contains("+1.20"), "{zh:?}");
        assert!(zh[2].contains("试点前每月案件数"), "{zh:?}");
        let en = super::evaluation_notes(&Tr::new(Lang::En), &evaluation);
        assert!(en[1].contains("Share overdue before the pilot"), "{en:?}");
    }
}
