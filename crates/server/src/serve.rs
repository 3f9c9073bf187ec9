//! The whole HTTP service: REST + OpenAPI + Swagger UI, Open311, the web pages at `/`, limits and logs, and [`run`] with graceful shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

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
    let client = crate::caller::ClientAddress::of(request.extensions()).0;
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
    tracing::info!(address = %listener.local_addr()?, "serving");
    let guard = (state.config.tick_every_secs > 0).then(|| tokio::spawn(escalation_guard(state.clone())));
    serve_on(listener, state, shutdown_signal()).await;
    if let Some(guard) = guard {
        guard.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// How long requests in flight may take to finish once shutdown has begun.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves the [`app`] on `listener` until `shutdown` completes, then stops accepting and lets the requests in flight
/// finish (at most [`DRAIN`]). Unlike `axum::serve`, a connection must send a request's headers within
/// `header_timeout_secs` of its start (hyper's header-read timeout, which needs a timer axum does not give it): a
/// client that trickles its headers byte by byte (slow-loris) is cut off instead of holding a connection for ever.
pub async fn serve_on(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()>) {
    let header_timeout = Duration::from_secs(state.config.header_timeout_secs.max(1));
    let router = app(state);
    let (stop, stopped) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a little instead of spinning; the clients in flight go on.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                router.clone().oneshot(request.map(axum::body::Body::new))
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %remote, "connection ended");
                    }
                    return;
                }
                _ = stopped.changed() => connection.as_mut().graceful_shutdown(),
            }
            if let Err(error) = connection.await {
                tracing::debug!(%error, %remote, "connection ended during shutdown");
            }
        });
    }
    drop(listener);
    drop(stopped);
    let _ = stop.send(());
    // Every connection holds a receiver until it ends.
    let _ = tokio::time::timeout(DRAIN, stop.closed()).await;
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
