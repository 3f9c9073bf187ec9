//! A table of a page as a CSV download (`?format=csv`): the same rows the page shows, written by the `csv` crate (so
//! every comma, quote and line break in a unit's name is escaped), `text/csv; charset=utf-8`, as an attachment.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One table as CSV: a header row, then the rows; `file` names the download (ASCII, without `.csv`).
pub fn csv_response(file: &str, header: &[String], rows: &[Vec<String>]) -> Response {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written = std::iter::once(header)
        .chain(rows.iter().map(Vec::as_slice))
        .try_for_each(|record| writer.write_record(record));
    let body = match written
        .map_err(|e| e.to_string())
        .and_then(|()| writer.into_inner().map_err(|e| e.to_string()))
    {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "a CSV export failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let safe: String = file
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// Whether a page was asked for as CSV.
pub fn wants_csv(format: Option<&str>) -> bool {
    format.is_some_and(|f| f.trim().eq_ignore_ascii_case("csv"))
}
