//! Parsers for Open311 inputs: the form-urlencoded body of `POST requests` and `POST servicerequestupdates`, and the
//! query strings of `GET requests` and `GET servicerequestupdates`.
//!
//! They take raw bytes or a raw query string and never panic: every problem becomes a [`FieldError`] naming the
//! field as the client spelled it, and all problems of one input are reported together. Unknown fields are ignored
//! (the spec lets jurisdictions add their own). Times are passed in, never read from the clock.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use super::types::Status;
use crate::error::{ApiError, FieldError};

/// Longest description accepted (characters, not bytes).
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// Longest value of any other free-text field.
pub const MAX_FIELD_CHARS: usize = 1_000;
/// A date range in a query may span at most this many days (GeoReport v2, `GET requests`).
pub const MAX_RANGE_DAYS: i64 = 90;
pub const MAX_PAGE_SIZE: u32 = 1_000;
/// Most ids or codes in one comma-separated list.
pub const MAX_LIST_ITEMS: usize = 200;
/// Most attributes on one request.
pub const MAX_ATTRIBUTES: usize = 100;

/// Where a request is.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Latitude and longitude in WGS 84 degrees, both given or neither.
    pub point: Option<(f64, f64)>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
}

/// A parsed `POST requests`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub api_key: String,
    pub jurisdiction_id: Option<String>,
    pub service_code: String,
    pub place: Place,
    /// `attribute[CODE]` answers; a `multivaluelist` answer (`attribute[CODE][]`) has several values.
    pub attributes: BTreeMap<String, Vec<String>>,
    pub description: Option<String>,
    pub media_url: Option<String>,
    pub reporter: ReporterFields,
}

/// The optional identity fields of a request: personal data, kept apart from the rest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReporterFields {
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
}

impl ReporterFields {
    pub fn is_empty(&self) -> bool {
        self == &ReporterFields::default()
    }

    /// The name as one string, if any part was given.
    pub fn full_name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// The contact as one string: e-mail, then phone.
    pub fn contact(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.email, &self.phone]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// A parsed `GET requests` query.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestsQuery {
    /// When given, the other filters are ignored (GeoReport v2).
    pub ids: Vec<i64>,
    pub service_codes: Vec<String>,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    /// Empty means any status.
    pub statuses: Vec<Status>,
    pub jurisdiction_id: Option<String>,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

impl RequestsQuery {
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size)
    }
}

/// A parsed `GET servicerequestupdates` query (FixMyStreet).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdatesQuery {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub service_request_id: Option<i64>,
    pub jurisdiction_id: Option<String>,
}

/// A parsed `POST servicerequestupdates` (FixMyStreet): a note or status change on an existing request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUpdate {
    pub api_key: String,
    pub service_request_id: i64,
    pub status: Option<Status>,
    pub description: String,
    pub updated_datetime: Option<OffsetDateTime>,
    pub media_url: Option<String>,
    pub reporter: ReporterFields,
}

/// The key-value pairs of a form body or query string, in order.
fn pairs_of_body(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map_err(|e| ApiError::BadRequest(format!("body is not form-urlencoded UTF-8: {e}")))
}

fn pairs_of_query(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .map_err(|e| ApiError::BadRequest(format!("query string is not urlencoded UTF-8: {e}")))
}

/// Collects the fields of one input and the problems found with them.
struct Fields {
    scalars: BTreeMap<String, String>,
    lists: BTreeMap<String, Vec<String>>,
    attributes: BTreeMap<String, Vec<String>>,
    errors: Vec<FieldError>,
}

impl Fields {
    /// `list_fields` may repeat (their values are joined as if comma-separated); other fields may appear once.
    fn collect(pairs: Vec<(String, String)>, list_fields: &[&str]) -> Fields {
        let mut f = Fields {
            scalars: BTreeMap::new(),
            lists: BTreeMap::new(),
            attributes: BTreeMap::new(),
            errors: Vec::new(),
        };
        let mut duplicates = Vec::new();
        for (key, value) in pairs {
            if let Some(rest) = key.strip_prefix("attribute[") {
                f.attribute(&key, rest, value);
            } else if list_fields.contains(&key.as_str()) {
                f.lists.entry(key).or_default().push(value);
            } else {
                match f.scalars.entry(key) {
                    Entry::Occupied(taken) => duplicates.push(taken.key().clone()),
                    Entry::Vacant(slot) => {
                        slot.insert(value);
                    }
                }
            }
        }
        for key in duplicates {
            f.error(&key, "given more than once");
        }
        f
    }

    fn attribute(&mut self, key: &str, rest: &str, value: String) {
        let (code, multi) = match rest.strip_suffix("][]") {
            Some(code) => (code, true),
            None => match rest.strip_suffix(']') {
                Some(code) => (code, false),
                None => {
                    self.error(
                        key,
                        "malformed attribute name (expected attribute[CODE] or attribute[CODE][])",
                    );
                    return;
                }
            },
        };
        if code.is_empty() || code.len() > 100 || code.contains(['[', ']']) {
            self.error(key, "malformed attribute code");
            return;
        }
        if value.chars().count() > MAX_FIELD_CHARS {
            self.error(key, format!("longer than {MAX_FIELD_CHARS} characters"));
            return;
        }
        let known = self.attributes.contains_key(code);
        if !known && self.attributes.len() >= MAX_ATTRIBUTES {
            self.error(key, format!("more than {MAX_ATTRIBUTES} attributes"));
            return;
        }
        let values = self.attributes.entry(code.to_string()).or_default();
        if known && !multi {
            self.error(key, "given more than once (use attribute[CODE][] for several values)");
            return;
        }
        values.push(value);
    }

    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message.into()));
    }

    /// A trimmed, non-empty text value of at most `max` characters.
    fn text(&mut self, field: &str, max: usize) -> Option<String> {
        let value = self.scalars.get(field)?.trim().to_string();
        if value.is_empty() {
            return None;
        }
        if value.chars().count() > max {
            self.error(field, format!("longer than {max} characters"));
            return None;
        }
        Some(value)
    }

    fn required_text(&mut self, field: &str, max: usize) -> Option<String> {
        let value = self.text(field, max);
        if value.is_none() && !self.errors.iter().any(|e| e.field == field) {
            self.error(field, "required");
        }
        value
    }

    fn number(&mut self, field: &str, min: f64, max: f64) -> Option<f64> {
        let raw = self.scalars.get(field)?.trim().to_string();
        match raw.parse::<f64>() {
            Ok(v) if v.is_finite() && (min..=max).contains(&v) => Some(v),
            Ok(_) => {
                self.error(field, format!("must lie between {min} and {max}"));
                None
            }
            Err(_) => {
                self.error(field, format!("{raw:?} is not a number"));
                None
            }
        }
    }

    fn id(&mut self, field: &str, raw: &str) -> Option<i64> {
        match raw.trim().parse::<i64>() {
            Ok(v) if v > 0 => Some(v),
            _ => {
                self.error(field, format!("{:?} is not a request id", raw.trim()));
                None
            }
        }
    }

    fn page_number(&mut self, field: &str, default: u32, max: u32) -> u32 {
        let Some(raw) = self.scalars.get(field).map(|s| s.trim().to_string()) else {
            return default;
        };
        match raw.parse::<u32>() {
            Ok(v) if (1..=max).contains(&v) => v,
            _ => {
                self.error(field, format!("must be a whole number from 1 to {max}"));
                default
            }
        }
    }

    fn datetime(&mut self, field: &str) -> Option<OffsetDateTime> {
        let raw = self.scalars.get(field)?.trim().to_string();
        match parse_w3c_datetime(&raw) {
            Some(t) => Some(t),
            None => {
                self.error(
                    field,
                    format!("{raw:?} is not a W3C date-time (e.g. 2010-01-01T00:00:00Z)"),
                );
                None
            }
        }
    }

    /// The items of a comma-separated list field (which may also repeat).
    fn list(&mut self, field: &str) -> Vec<String> {
        let items: Vec<String> = self
            .lists
            .get(field)
            .into_iter()
            .flatten()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if items.len() > MAX_LIST_ITEMS {
            self.error(field, format!("more than {MAX_LIST_ITEMS} items"));
            return Vec::new();
        }
        if let Some(long) = items.iter().find(|s| s.chars().count() > 100) {
            let shown: String = long.chars().take(20).collect();
            self.error(field, format!("item {shown:?}… is too long"));
            return Vec::new();
        }
        items
    }

    fn finish<T>(self, value: T) -> Result<T, ApiError> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::Invalid(self.errors))
        }
    }

    /// Open311 answers a missing or empty `api_key` with 403, before looking at anything else.
    fn api_key(&self) -> Result<String, ApiError> {
        match self.scalars.get("api_key").map(|k| k.trim()) {
            Some(k) if !k.is_empty() && k.len() <= 200 => Ok(k.to_string()),
            Some(k) if !k.is_empty() => Err(ApiError::Forbidden("api_key is invalid".into())),
            _ => Err(ApiError::Forbidden("api_key is required".into())),
        }
    }

    fn reporter(&mut self) -> ReporterFields {
        ReporterFields {
            email: self.text("email", 254),
            device_id: self.text("device_id", 200),
            account_id: self.text("account_id", 200),
            first_name: self.text("first_name", 100),
            last_name: self.text("last_name", 100),
            phone: self.text("phone", 50),
        }
    }

    fn status(&mut self, field: &str, raw: &str) -> Option<Status> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "open" => Some(Status::Open),
            "closed" => Some(Status::Closed),
            _ => {
                self.error(
                    field,
                    format!("{:?} is not a status (expected open or closed)", raw.trim()),
                );
                None
            }
        }
    }

    /// A date range of at most [`MAX_RANGE_DAYS`]; missing ends default to a range of that length ending now.
    fn range(&mut self, now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
        let span = Duration::days(MAX_RANGE_DAYS);
        let start = self.datetime("start_date");
        let end = self.datetime("end_date");
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, s.checked_add(span).unwrap_or(s)),
            (None, Some(e)) => (e.checked_sub(span).unwrap_or(e), e),
            (None, None) => (now.checked_sub(span).unwrap_or(now), now),
        };
        if end < start {
            self.error("end_date", "is before start_date");
        } else if end - start > span {
            self.error("end_date", format!("the range may span at most {MAX_RANGE_DAYS} days"));
        }
        (start, end)
    }
}

/// Parses a W3C date-time as GeoReport uses it: RFC 3339 (`2010-01-01T00:00:00Z`, `…+08:00`), or, leniently, a date
/// (`2010-01-01`, midnight UTC) or a date-time without offset (UTC).
pub fn parse_w3c_datetime(s: &str) -> Option<OffsetDateTime> {
    if s.len() > 64 {
        return None;
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let naive = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(t) = PrimitiveDateTime::parse(s, naive) {
        return Some(t.assume_utc());
    }
    let date = format_description!("[year]-[month]-[day]");
    time::Date::parse(s, date).ok().map(|d| d.midnight().assume_utc())
}

/// Parses the form body of `POST requests`.
pub fn parse_new_request(body: &[u8]) -> Result<NewRequest, ApiError> {
    let mut f = Fields::collect(pairs_of_body(body)?, &[]);
    let api_key = f.api_key()?;
    let service_code = f.required_text("service_code", 100);
    let lat = f.number("lat", -90.0, 90.0);
    let long = f.number("long", -180.0, 180.0);
    let point = match (lat, long) {
        (Some(lat), Some(long)) => Some((lat, long)),
        _ => {
            for (present, missing) in [("lat", "long"), ("long", "lat")] {
                if f.scalars.contains_key(present) && !f.scalars.contains_key(missing) {
                    f.error(missing, format!("required when {present} is given"));
                }
            }
            None
        }
    };
    let place = Place {
        point,
        address_string: f.text("address_string", MAX_FIELD_CHARS),
        address_id: f.text("address_id", 200),
    };
    let bad_coordinates = ["lat", "long"].iter().any(|k| f.errors.iter().any(|e| e.field == *k));
    if place.point.is_none() && place.address_string.is_none() && !bad_coordinates {
        f.error("lat", "a location is required: lat and long, or address_string");
    }
    let description = f.text("description", MAX_DESCRIPTION_CHARS);
    let media_url = f.text("media_url", 2_000);
    let jurisdiction_id = f.text("jurisdiction_id", 100);
    let reporter = f.reporter();
    let attributes = std::mem::take(&mut f.attributes);
    let request = NewRequest {
        api_key,
        jurisdiction_id,
        service_code: service_code.unwrap_or_default(),
        place,
        attributes,
        description,
        media_url,
        reporter,
    };
    f.finish(request)
}

/// Parses the query of `GET requests`; `now` is the end of the default range.
pub fn parse_requests_query(query: &str, now: OffsetDateTime) -> Result<RequestsQuery, ApiError> {
    let mut f = Fields::collect(
        pairs_of_query(query)?,
        &["service_request_id", "service_code", "status"],
    );
    let ids: Vec<i64> = f
        .list("service_request_id")
        .iter()
        .filter_map(|raw| f.id("service_request_id", raw))
        .collect();
    let service_codes = f.list("service_code");
    let statuses: Vec<Status> = f
        .list("status")
        .iter()
        .filter_map(|raw| f.status("status", raw))
        .collect();
    let (start, end) = f.range(now);
    let page = f.page_number("page", 1, u32::MAX / MAX_PAGE_SIZE);
    let page_size = f.page_number("page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    let jurisdiction_id = f.text("jurisdiction_id", 100);
    let query = RequestsQuery {
        ids,
        service_codes,
        start,
        end,
        statuses,
        jurisdiction_id,
        page,
        page_size,
    };
    f.finish(query)
}

/// Parses the query of `GET servicerequestupdates`; `now` is the end of the default range.
pub fn parse_updates_query(query: &str, now: OffsetDateTime) -> Result<UpdatesQuery, ApiError> {
    let mut f = Fields::collect(pairs_of_query(query)?, &[]);
    let (start, end) = f.range(now);
    let service_request_id = f
        .scalars
        .get("service_request_id")
        .cloned()
        .and_then(|raw| f.id("service_request_id", &raw));
    let jurisdiction_id = f.text("jurisdiction_id", 100);
    f.finish(UpdatesQuery {
        start,
        end,
        service_request_id,
        jurisdiction_id,
    })
}

/// Parses the form body of `POST servicerequestupdates`.
pub fn parse_new_update(body: &[u8]) -> Result<NewUpdate, ApiError> {
    let mut f = Fields::collect(pairs_of_body(body)?, &[]);
    let api_key = f.api_key()?;
    let id = match f.scalars.get("service_request_id").cloned() {
        Some(raw) => f.id("service_request_id", &raw),
        None => {
            f.error("service_request_id", "required");
            None
        }
    };
    let status = f
        .scalars
        .get("status")
        .cloned()
        .and_then(|raw| f.status("status", &raw));
    let description = f.required_text("description", MAX_DESCRIPTION_CHARS);
    let updated_datetime = f.datetime("updated_datetime");
    let media_url = f.text("media_url", 2_000);
    let reporter = f.reporter();
    let update = NewUpdate {
        api_key,
        service_request_id: id.unwrap_or_default(),
        status,
        description: description.unwrap_or_default(),
        updated_datetime,
        media_url,
        reporter,
    };
    f.finish(update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-06-01 00:00 UTC);

    /// The field errors of a failed parse as `field: message` lines, or the error itself.
    fn errors(e: ApiError) -> String {
        match e {
            ApiError::Invalid(errors) => errors.iter().map(FieldError::to_string).collect::<Vec<_>>().join("\n"),
            other => format!("{}: {other}", other.status().as_u16()),
        }
    }

    fn check_post(body: &str, expected: &str) {
        let got = match parse_new_request(body.as_bytes()) {
            Ok(r) => format!("ok {} {:?} {:?}", r.service_code, r.place.point, r.place.address_string),
            Err(e) => errors(e),
        };
        assert_eq!(got, expected, "body {body:?}");
    }

    #[test]
    fn post_requests_field_by_field() {
        check_post(
            "api_key=k&service_code=road&lat=30.5&long=120.1",
            "ok road Some((30.5, 120.1)) None",
        );
        check_post(
            "api_key=k&service_code=road&address_string=%E5%85%AB%E9%87%8C%E5%BA%97",
            "ok road None Some(\"八里店\")",
        );
        check_post("service_code=road&lat=1&long=2", "403: api_key is required");
        check_post("api_key=&service_code=road&lat=1&long=2", "403: api_key is required");
        check_post("api_key=k&lat=1&long=2", "service_code: required");
        check_post(
            "api_key=k&service_code=road",
            "lat: a location is required: lat and long, or address_string",
        );
        check_post("api_key=k&service_code=road&lat=1", "long: required when lat is given");
        check_post(
            "api_key=k&service_code=road&lat=91&long=2",
            "lat: must lie between -90 and 90",
        );
        check_post(
            "api_key=k&service_code=road&lat=x&long=NaN",
            "lat: \"x\" is not a number\nlong: must lie between -180 and 180",
        );
        check_post(
            "api_key=k&service_code=a&service_code=b&lat=1&long=2",
            "service_code: given more than once",
        );
        check_post(
            "api_key=k&service_code=road&lat=1&long=2&attribute[=x",
            "attribute[: malformed attribute name (expected attribute[CODE] or attribute[CODE][])",
        );
        check_post(
            "api_key=k&service_code=road&lat=1&long=2&attribute[]=x",
            "attribute[]: malformed attribute code",
        );
    }

    #[test]
    fn description_may_hold_4000_characters_and_no_more() {
        let ok = format!(
            "api_key=k&service_code=r&lat=1&long=2&description={}",
            "路".repeat(4_000)
        );
        assert!(parse_new_request(ok.as_bytes()).is_ok());
        let long = format!(
            "api_key=k&service_code=r&lat=1&long=2&description={}",
            "路".repeat(4_001)
        );
        assert_eq!(
            errors(parse_new_request(long.as_bytes()).unwrap_err()),
            "description: longer than 4000 characters"
        );
    }

    #[test]
    fn attributes_single_and_multiple() {
        let r = parse_new_request(
            b"api_key=k&service_code=r&lat=1&long=2&attribute[WHERE]=road&attribute[KIND][]=a&attribute[KIND][]=b&email=x%40y.cn&first_name=Li",
        )
        .unwrap();
        assert_eq!(r.attributes["WHERE"], ["road"]);
        assert_eq!(r.attributes["KIND"], ["a", "b"]);
        assert_eq!(r.reporter.contact().as_deref(), Some("x@y.cn"));
        assert_eq!(r.reporter.full_name().as_deref(), Some("Li"));
        let twice = parse_new_request(b"api_key=k&service_code=r&lat=1&long=2&attribute[A]=1&attribute[A]=2");
        assert_eq!(
            errors(twice.unwrap_err()),
            "attribute[A]: given more than once (use attribute[CODE][] for several values)"
        );
    }

    #[test]
    fn requests_query_defaults_to_the_last_90_days() {
        let q = parse_requests_query("", NOW).unwrap();
        assert_eq!(q.end, NOW);
        assert_eq!(q.start, datetime!(2025-03-03 00:00 UTC));
        assert_eq!((q.page, q.page_size, q.offset()), (1, 1_000, 0));
    }

    #[test]
    fn requests_query_lists_and_ranges() {
        let q = parse_requests_query(
            "service_request_id=3,4&service_request_id=5&service_code=road,water&status=open&start_date=2025-01-01T00:00:00Z&end_date=2025-03-31T00:00:00%2B08:00&page=3&page_size=10",
            NOW,
        )
        .unwrap();
        assert_eq!(q.ids, [3, 4, 5]);
        assert_eq!(q.service_codes, ["road", "water"]);
        assert_eq!(q.statuses, [Status::Open]);
        assert_eq!(q.offset(), 20);
        let cases = [
            (
                "start_date=2025-01-01&end_date=2025-04-02",
                "end_date: the range may span at most 90 days",
            ),
            (
                "start_date=2025-02-01&end_date=2025-01-01",
                "end_date: is before start_date",
            ),
            (
                "start_date=yesterday",
                "start_date: \"yesterday\" is not a W3C date-time (e.g. 2010-01-01T00:00:00Z)",
            ),
            (
                "status=pending",
                "status: \"pending\" is not a status (expected open or closed)",
            ),
            (
                "service_request_id=abc",
                "service_request_id: \"abc\" is not a request id",
            ),
            ("page=0", "page: must be a whole number from 1 to 4294967"),
            ("page_size=1001", "page_size: must be a whole number from 1 to 1000"),
            ("page=1&page=2", "page: given more than once"),
        ];
        for (query, expected) in cases {
            let got = parse_requests_query(query, NOW).map(|_| ()).map_err(errors);
            assert_eq!(got, Err(expected.to_string()), "{query}");
        }
        // Exactly 90 days is allowed.
        assert!(parse_requests_query("start_date=2025-01-01&end_date=2025-04-01", NOW).is_ok());
    }

    #[test]
    fn updates_post_and_query() {
        let u = parse_new_update(b"api_key=k&service_request_id=9&description=fixed&status=CLOSED").unwrap();
        assert_eq!((u.service_request_id, u.status), (9, Some(Status::Closed)));
        assert_eq!(
            errors(parse_new_update(b"api_key=k&description=x").unwrap_err()),
            "service_request_id: required"
        );
        assert_eq!(
            errors(parse_new_update(b"description=x").unwrap_err()),
            "403: api_key is required"
        );
        let q = parse_updates_query("start_date=2025-05-01T00:00:00Z&end_date=2025-05-02T00:00:00Z", NOW).unwrap();
        assert_eq!(q.end - q.start, Duration::days(1));
    }

    proptest! {
        #[test]
        fn post_parser_never_panics(body in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_new_request(&body);
            let _ = parse_new_update(&body);
        }

        #[test]
        fn query_parsers_never_panic(query in "\\PC{0,300}") {
            let _ = parse_requests_query(&query, NOW);
            let _ = parse_updates_query(&query, NOW);
        }

        #[test]
        fn structured_forms_never_panic(
            keys in proptest::collection::vec(
                prop_oneof![
                    Just("api_key".to_string()), Just("service_code".to_string()), Just("lat".to_string()),
                    Just("long".to_string()), Just("description".to_string()), Just("start_date".to_string()),
                    Just("end_date".to_string()), Just("status".to_string()), Just("page".to_string()),
                    Just("page_size".to_string()), Just("service_request_id".to_string()),
                    "attribute\\[[a-z\\[\\]]{0,5}\\]{0,2}",
                ],
                0..12,
            ),
            values in proptest::collection::vec("[-+0-9.:TZa-z,%&=\\[\\] ]{0,30}", 12),
        ) {
            let text: Vec<String> = keys.iter().zip(&values).map(|(k, v)| format!("{k}={v}")).collect();
            let text = text.join("&");
            let _ = parse_new_request(text.as_bytes());
            let _ = parse_new_update(text.as_bytes());
            let _ = parse_requests_query(&text, NOW);
            let _ = parse_updates_query(&text, NOW);
            let _ = parse_requests_query(&text, OffsetDateTime::UNIX_EPOCH);
        }
    }
}
