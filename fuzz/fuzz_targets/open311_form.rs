//! Open311 bodies and queries: `POST requests` and `POST servicerequestupdates` forms, `GET requests` and
//! `GET servicerequestupdates` queries. Any bytes give a value or an error naming a field, never a panic; an accepted
//! request names a service.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::open311::parse;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = parse::parse_new_request(data) {
        assert!(!request.service_code.is_empty(), "an accepted request names its service");
    }
    let _ = parse::parse_new_update(data);
    let query = String::from_utf8_lossy(data);
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let _ = parse::parse_requests_query(&query, now);
    let _ = parse::parse_updates_query(&query, now);
    let _ = parse::parse_w3c_datetime(&query);
});
