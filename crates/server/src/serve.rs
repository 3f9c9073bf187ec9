//! The whole HTTP service: REST + OpenAPI + Swagger UI, Open311, the web pages at `/`, limits and logs, and [`run`] with graceful shutdown.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::state::AppState;

/// The service with every route and layer. Tests drive it in-process with `tower::ServiceExt::oneshot`.
pub fn app(state: AppState) -> Router {
    let (rest, openapi) = crate::rest::router();
    let limit = state.config.body_limit;
    let small_bodies = Router::new()
        .merge(rest)
        .merge(crate::open311::routes::router())
        .merge(crate::web::router())
        .route("/health", get(|| async { "ok" }))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit));
    // The report form alone carries photos: its limit is theirs (each is checked again when it is cleaned).
    let uploads = crate::web::upload_router()
        .layer(DefaultBodyLimit::max(crate::web::UPLOAD_LIMIT))
        .layer(RequestBodyLimitLayer::new(crate::web::UPLOAD_LIMIT));
    Router::new()
        .merge(small_bodies)
        .merge(uploads)
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(middleware::from_fn_with_state(state.clone(), per_ip_limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Refuses a client address that exceeds its rate with 429. In-process tests have no address and share one bucket.
async fn per_ip_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into());
    match state.ip_limiter.check(&client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => ApiError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        }
        .into_response(),
    }
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn run(state: AppState, listen: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "serving");
    let guard = (state.config.tick_every_secs > 0).then(|| tokio::spawn(escalation_guard(state.clone())));
    let served = axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    if let Some(guard) = guard {
        guard.abort();
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// The escalation guard as a background task: the same use case as `grassroots tick`, run at start and then every
/// `tick_every_secs`, so that in a long-running process no deadline passes unrecorded.
async fn escalation_guard(state: AppState) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(state.config.tick_every_secs));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match app::workflow::tick(&state.store, &state.rules, time::OffsetDateTime::now_utc(), 0).await {
            Ok(report) => tracing::info!(
                open = report.open_cases,
                overdue = report.overdue,
                warnings = report.warnings,
                "escalation guard ran"
            ),
            Err(error) => tracing::warn!(%error, "escalation guard failed; retrying at the next interval"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
