//! The static files of the pages, embedded in the binary: the vendored Leaflet and htmx (`assets/vendor/`, see its
//! README for versions and licences) and the project's own stylesheet and scripts. Nothing is fetched from elsewhere.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

/// `GET /assets/{path}`: an embedded file with its type, cached for a day.
pub async fn serve(Path(path): Path<String>) -> Response {
    let Some(file) = Assets::get(&path) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mime = if path.ends_with(".mjs") || path.ends_with(".js") {
        "text/javascript".to_string()
    } else {
        file.metadata.mimetype().to_string()
    };
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    response
}
