//! A holiday calendar file (`--calendar FILE`): read or refused; an accepted one answers working-day questions over
//! a year around its coverage without panicking, and adding working days never goes back in time.
#![no_main]

use domain::calendar::Calendar;
use libfuzzer_sys::fuzz_target;
use time::{Date, Duration};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(calendar) = Calendar::from_toml(text) else {
        return;
    };
    let start = calendar
        .covers()
        .map(|(from, _)| from)
        .unwrap_or_else(|| Date::from_calendar_date(2026, time::Month::January, 1).expect("date"));
    for step in [0i64, 1, 30, 200, 400] {
        let Some(day) = start.checked_add(Duration::days(step)) else {
            continue;
        };
        let _ = calendar.is_working_day(day);
        let later = calendar.add_working_days(day, 15);
        assert!(later >= day, "{later} before {day}");
        let _ = calendar.coverage_warning(day);
    }
});
