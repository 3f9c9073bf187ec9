//! Calendar days, working days and the holiday calendar that decides between them.
//!
//! Chinese rules count some limits in calendar days ("60日", 2022 Regulations on Letters and Visits Work Art. 34) and
//! others in working days ("5个工作日", Art. 23 §3). Which days are working days is set each year by the State
//! Council, including make-up working days on weekends (调休), so the calendar is data: [`Calendar::china`] ships the
//! official 2025 and 2026 arrangements (`data/holidays-cn.toml`, sources cited there) and a deployment can load its own
//! file of the same shape with [`Calendar::load`] (`grassroots --calendar FILE`).
//!
//! A calendar knows which days it **covers** (`covers = "2025-01-01..2026-12-31"`, or by default from the first of
//! January of the first year it mentions to the last of December of the last): past its last covered day only
//! weekends are days off, which is wrong as soon as the next year's notice is out, so a clock that ends after it is
//! reported ([`Calendar::coverage_warning`]) rather than silently computed.
//!
//! Counting follows the usual rule of Chinese procedure: the day on which a period starts is not counted, and a period
//! ends at the end of its last day in local time (UTC+8 unless the calendar says otherwise).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset, Weekday};

/// The official arrangements shipped with grassroots.
pub const CHINA_HOLIDAYS_TOML: &str = include_str!("data/holidays-cn.toml");

/// A length of time as a rule states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Exact hours from the starting instant (hotline urgency clocks).
    Hours(u32),
    /// Calendar days, ending at the end of the last day.
    Days(u32),
    /// Working days, ending at the end of the last working day.
    WorkingDays(u32),
}

impl Period {
    pub fn describe(self) -> String {
        match self {
            Period::Hours(h) => format!("{h} hours"),
            Period::Days(d) => format!("{d} days"),
            Period::WorkingDays(d) => format!("{d} working days"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalendarError {
    #[error("holiday calendar is not valid TOML: {0}")]
    Toml(String),
    #[error("holiday calendar: {value:?} is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)")]
    BadDate { value: String },
    #[error("holiday calendar: range {value:?} ends before it starts")]
    BackwardRange { value: String },
    #[error("holiday calendar: {date} is listed both as a holiday and as a working day")]
    Both { date: Date },
    #[error("holiday calendar: utc_offset {value:?} is not of the form +08:00")]
    BadOffset { value: String },
    #[error("holiday calendar: {date} lies outside the days the calendar covers ({covers})")]
    OutsideCovers { date: Date, covers: String },
}

impl CalendarError {
    /// The text of the file that the error is about, to find its line.
    fn needle(&self) -> Option<String> {
        match self {
            CalendarError::Toml(_) => None,
            CalendarError::BadDate { value } | CalendarError::BackwardRange { value } => Some(format!("\"{value}\"")),
            CalendarError::Both { date } | CalendarError::OutsideCovers { date, .. } => Some(date.to_string()),
            CalendarError::BadOffset { value } => Some(value.clone()),
        }
    }
}

/// A calendar file that does not load: the file, the line when it is known, and what is wrong.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{file}{}: {error}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct CalendarFileError {
    pub file: String,
    pub line: Option<usize>,
    pub error: CalendarError,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    workdays: Vec<String>,
    #[serde(default)]
    utc_offset: Option<String>,
    /// `FROM..TO`: the days whose holidays the file lists; absent, the whole years it mentions.
    #[serde(default)]
    covers: Option<String>,
}

/// Which dates are working days, and the local time zone in which days begin and end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
    offset: UtcOffset,
    /// The first and last day whose holidays are known; `None` for weekends only.
    covers: Option<(Date, Date)>,
}

impl Default for Calendar {
    /// Weekends only, in China's time zone: what is left when no holiday file is known.
    fn default() -> Self {
        Calendar {
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
            offset: china_offset(),
            covers: None,
        }
    }
}

fn china_offset() -> UtcOffset {
    UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC)
}

fn parse_date(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &format).ok()
}

fn range(value: &str) -> Result<(Date, Date), CalendarError> {
    let bad = || CalendarError::BadDate {
        value: value.to_string(),
    };
    let (from, to) = match value.split_once("..") {
        Some((a, b)) => (parse_date(a).ok_or_else(bad)?, parse_date(b).ok_or_else(bad)?),
        None => {
            let d = parse_date(value).ok_or_else(bad)?;
            (d, d)
        }
    };
    if to < from {
        return Err(CalendarError::BackwardRange {
            value: value.to_string(),
        });
    }
    Ok((from, to))
}

fn expand(values: &[String]) -> Result<BTreeSet<Date>, CalendarError> {
    let mut dates = BTreeSet::new();
    for value in values {
        let (from, to) = range(value)?;
        let mut d = from;
        while d <= to {
            dates.insert(d);
            match d.next_day() {
                Some(n) => d = n,
                None => break,
            }
        }
    }
    Ok(dates)
}

impl Calendar {
    /// China's official holidays and make-up working days for 2025 and 2026 (see `data/holidays-cn.toml`).
    pub fn china() -> Calendar {
        // The embedded file is checked by a test; an unreadable file would degrade to weekends only.
        Calendar::from_toml(CHINA_HOLIDAYS_TOML).unwrap_or_default()
    }

    /// Reads a calendar file; errors name `file` and, when it can be found, the line at fault.
    pub fn load(file: &str, text: &str) -> Result<Calendar, CalendarFileError> {
        Calendar::from_toml(text).map_err(|error| {
            let line = match &error {
                CalendarError::Toml(_) => toml::from_str::<toml::Table>(text)
                    .err()
                    .and_then(|e| e.span())
                    .map(|span| line_of(text, span.start)),
                other => other
                    .needle()
                    .and_then(|needle| text.find(&needle))
                    .map(|at| line_of(text, at)),
            };
            CalendarFileError {
                file: file.to_string(),
                line,
                error,
            }
        })
    }

    /// Reads a calendar: `holidays = [...]`, `workdays = [...]` (dates or `FROM..TO` ranges), an optional
    /// `utc_offset = "+08:00"` and an optional `covers = "FROM..TO"`.
    pub fn from_toml(text: &str) -> Result<Calendar, CalendarError> {
        let file: CalendarFile = toml::from_str(text).map_err(|e| CalendarError::Toml(e.to_string()))?;
        let holidays = expand(&file.holidays)?;
        let workdays = expand(&file.workdays)?;
        if let Some(date) = holidays.intersection(&workdays).next() {
            return Err(CalendarError::Both { date: *date });
        }
        let offset = match file.utc_offset {
            None => china_offset(),
            Some(value) => {
                let format = time::macros::format_description!("[offset_hour]:[offset_minute]");
                UtcOffset::parse(&value, &format).map_err(|_| CalendarError::BadOffset { value })?
            }
        };
        let listed = || holidays.iter().chain(&workdays);
        let covers = match &file.covers {
            Some(value) => Some(range(value)?),
            None => match (listed().min(), listed().max()) {
                (Some(first), Some(last)) => Some((
                    Date::from_calendar_date(first.year(), Month::January, 1).unwrap_or(*first),
                    Date::from_calendar_date(last.year(), Month::December, 31).unwrap_or(*last),
                )),
                _ => None,
            },
        };
        if let (Some((from, to)), Some(value)) = (covers, &file.covers)
            && let Some(date) = listed().find(|d| **d < from || **d > to)
        {
            return Err(CalendarError::OutsideCovers {
                date: *date,
                covers: value.clone(),
            });
        }
        Ok(Calendar {
            holidays,
            workdays,
            offset,
            covers,
        })
    }

    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// The first and last day whose holidays the calendar knows; `None` when it knows only weekends.
    pub fn covers(&self) -> Option<(Date, Date)> {
        self.covers
    }

    /// The last day whose holidays the calendar knows.
    pub fn covers_until(&self) -> Option<Date> {
        self.covers.map(|(_, last)| last)
    }

    /// Whether the holidays of `date` are known.
    pub fn covers_day(&self, date: Date) -> bool {
        self.covers.is_some_and(|(first, last)| first <= date && date <= last)
    }

    /// A warning when a clock ending on local day `last_day` runs past the days the calendar covers: its due date
    /// then counts weekends only beyond the last covered day. `None` when the calendar covers the day.
    pub fn coverage_warning(&self, last_day: Date) -> Option<String> {
        if self.covers_day(last_day) {
            return None;
        }
        Some(match self.covers {
            Some((first, last)) if last_day > last => format!(
                "the holiday calendar covers {first} to {last}; a clock ending on {last_day} counts only weekends as \
                 days off after {last}: load next year's calendar with --calendar FILE (see docs/policy.md)"
            ),
            Some((first, last)) => format!(
                "the holiday calendar covers {first} to {last}; a clock ending on {last_day} counts only weekends as \
                 days off before {first}"
            ),
            None => format!(
                "no holiday calendar is loaded; a clock ending on {last_day} counts only weekends as days off: load \
                 one with --calendar FILE (see docs/policy.md)"
            ),
        })
    }

    /// The local date of an instant.
    pub fn local_date(&self, at: OffsetDateTime) -> Date {
        at.to_offset(self.offset).date()
    }

    /// The instant at which a local date ends (midnight starting the next day).
    pub fn end_of(&self, date: Date) -> OffsetDateTime {
        let next = date.next_day().unwrap_or(date);
        next.with_time(Time::MIDNIGHT).assume_offset(self.offset)
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// `date` itself if it is a working day, else the first working day after it.
    pub fn working_day_on_or_after(&self, date: Date) -> Date {
        let mut d = date;
        // A year never has more than a few weeks of consecutive days off; the bound keeps the loop total.
        for _ in 0..366 {
            if self.is_working_day(d) {
                return d;
            }
            match d.next_day() {
                Some(n) => d = n,
                None => break,
            }
        }
        d
    }

    /// The `n`-th working day after `date` (`date` itself is not counted); `date` when `n == 0`.
    pub fn add_working_days(&self, date: Date, n: u32) -> Date {
        let mut d = date;
        let mut left = n;
        while left > 0 {
            match d.next_day() {
                Some(next) => d = next,
                None => break,
            }
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days in `(from, to]`: how many working days have passed since `from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut count = 0;
        let mut d = from;
        while d < to {
            match d.next_day() {
                Some(next) => d = next,
                None => break,
            }
            if self.is_working_day(d) {
                count += 1;
            }
        }
        count
    }

    /// When a period that starts at `start` ends. For [`Period::Days`], when `roll_over_days_off` is set and the last
    /// day is not a working day, the period ends with the next working day instead (the rule of Chinese procedural law
    /// for periods whose last day is a public holiday).
    pub fn due(&self, start: OffsetDateTime, period: Period, roll_over_days_off: bool) -> OffsetDateTime {
        match period {
            Period::Hours(h) => start + Duration::hours(i64::from(h)),
            Period::Days(n) => {
                let last = self.local_date(start) + Duration::days(i64::from(n));
                let last = if roll_over_days_off {
                    self.working_day_on_or_after(last)
                } else {
                    last
                };
                self.end_of(last)
            }
            Period::WorkingDays(n) => self.end_of(self.add_working_days(self.local_date(start), n)),
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map(|s| s.bytes().filter(|b| *b == b'\n').count() + 1)
        .unwrap_or(1)
}

/// Serde for a calendar date as an ISO string (`2026-12-15`), the one form every JSON output uses. Reading also
/// accepts the `[year, ordinal]` pair that records written before this form carry.
pub mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&date.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Iso(String),
            YearOrdinal(i32, u16),
        }
        match Stored::deserialize(deserializer)? {
            Stored::Iso(text) => super::parse_date(&text)
                .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a date (YYYY-MM-DD)"))),
            Stored::YearOrdinal(year, ordinal) => {
                Date::from_ordinal_date(year, ordinal).map_err(serde::de::Error::custom)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn china() -> Calendar {
        Calendar::from_toml(CHINA_HOLIDAYS_TOML).expect("embedded calendar parses")
    }

    #[test]
    fn the_embedded_calendar_parses_and_matches_the_state_council_notices() {
        let cal = china();
        assert_eq!(Calendar::china(), cal);
        // 2025 notice: Spring Festival 28 Jan – 4 Feb, make-up working days Sun 26 Jan and Sat 8 Feb.
        assert!(!cal.is_working_day(date!(2025 - 01 - 28)));
        assert!(!cal.is_working_day(date!(2025 - 02 - 04)));
        assert!(cal.is_working_day(date!(2025 - 02 - 05)));
        assert!(cal.is_working_day(date!(2025 - 01 - 26)));
        assert!(cal.is_working_day(date!(2025 - 02 - 08)));
        // National Day 2025: 1–8 Oct off, Sun 28 Sep and Sat 11 Oct worked.
        assert!(!cal.is_working_day(date!(2025 - 10 - 08)));
        assert!(cal.is_working_day(date!(2025 - 10 - 11)));
        assert!(cal.is_working_day(date!(2025 - 09 - 28)));
        // 2026 notice: Spring Festival 15–23 Feb, Sat 14 Feb and Sat 28 Feb worked.
        assert!(!cal.is_working_day(date!(2026 - 02 - 23)));
        assert!(cal.is_working_day(date!(2026 - 02 - 14)));
        assert!(cal.is_working_day(date!(2026 - 02 - 28)));
        assert!(!cal.is_working_day(date!(2026 - 06 - 19)));
        assert!(cal.is_working_day(date!(2026 - 10 - 10)));
        // An ordinary weekend stays off, an ordinary weekday stays on.
        assert!(!cal.is_working_day(date!(2025 - 03 - 08)));
        assert!(cal.is_working_day(date!(2025 - 03 - 10)));
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        let cal = china();
        // Thu 2025-01-23 + 5 working days: Fri 24, Sun 26 (make-up), Mon 27, then the Spring Festival, Wed 5 Feb, Thu 6.
        assert_eq!(cal.add_working_days(date!(2025 - 01 - 23), 5), date!(2025 - 02 - 06));
        assert_eq!(
            cal.working_days_between(date!(2025 - 01 - 23), date!(2025 - 02 - 06)),
            5
        );
        assert_eq!(
            cal.working_days_between(date!(2025 - 01 - 23), date!(2025 - 02 - 05)),
            4
        );
        // Fri + 1 working day is Mon; + 0 is the same day.
        assert_eq!(cal.add_working_days(date!(2025 - 03 - 07), 1), date!(2025 - 03 - 10));
        assert_eq!(cal.add_working_days(date!(2025 - 03 - 07), 0), date!(2025 - 03 - 07));
        let weekends = Calendar::default();
        assert_eq!(
            weekends.add_working_days(date!(2025 - 01 - 23), 5),
            date!(2025 - 01 - 30)
        );
    }

    #[test]
    fn periods_end_at_local_midnight_and_do_not_count_the_first_day() {
        let cal = china();
        // 2025-03-03 23:30 in Beijing is 15:30 UTC; 15 days later ends at the end of 18 March, Beijing time.
        let start = datetime!(2025-03-03 15:30 UTC);
        assert_eq!(cal.due(start, Period::Days(15), false), datetime!(2025-03-19 00:00 +8));
        // A start at 00:30 Beijing time on 4 March (16:30 UTC on the 3rd) is a day later in local terms.
        assert_eq!(
            cal.due(datetime!(2025-03-03 16:30 UTC), Period::Days(15), false),
            datetime!(2025-03-20 00:00 +8)
        );
        assert_eq!(cal.due(start, Period::Hours(2), false), datetime!(2025-03-03 17:30 UTC));
    }

    #[test]
    fn a_period_ending_on_a_day_off_rolls_over_only_when_asked() {
        let cal = china();
        // 2025-09-02 + 30 days = 2 October, inside the National Day holiday: the next working day is Thu 9 Oct.
        let start = datetime!(2025-09-02 10:00 +8);
        assert_eq!(cal.due(start, Period::Days(30), false), datetime!(2025-10-03 00:00 +8));
        assert_eq!(cal.due(start, Period::Days(30), true), datetime!(2025-10-10 00:00 +8));
        // 5 working days from Thu 2025-09-25: Fri 26, Sun 28 (make-up), Mon 29, Tue 30, then Thu 9 Oct.
        assert_eq!(
            cal.due(datetime!(2025-09-25 10:00 +8), Period::WorkingDays(5), true),
            datetime!(2025-10-10 00:00 +8)
        );
    }

    fn days_of(year: i32) -> impl Iterator<Item = Date> {
        let first = Date::from_calendar_date(year, time::Month::January, 1).expect("date");
        (0..366)
            .map(move |i| first + Duration::days(i))
            .filter(move |d| d.year() == year)
    }

    #[test]
    fn each_year_has_the_working_days_the_notices_imply() {
        // 2025: 261 weekdays, 18 of them holidays, 5 make-up weekend days → 248. 2026: 261 − 19 + 6 = 248.
        let cal = china();
        for year in [2025, 2026] {
            let working = days_of(year).filter(|d| cal.is_working_day(*d)).count();
            assert_eq!(working, 248, "{year}");
        }
    }

    #[test]
    fn working_day_arithmetic_holds_on_every_day_of_2025_and_2026() {
        let cal = china();
        for d in days_of(2025).chain(days_of(2026)) {
            for n in 1..=10 {
                let end = cal.add_working_days(d, n);
                assert!(cal.is_working_day(end), "{d} + {n}");
                assert_eq!(cal.working_days_between(d, end), n, "{d} + {n}");
                assert_eq!(cal.working_days_between(d, end - Duration::days(1)), n - 1, "{d} + {n}");
            }
            for n in [15, 30, 60] {
                let start = d
                    .with_time(Time::from_hms(10, 0, 0).expect("time"))
                    .assume_offset(cal.offset());
                let plain = cal.due(start, Period::Days(n), false);
                let rolled = cal.due(start, Period::Days(n), true);
                assert_eq!(plain, cal.end_of(d + Duration::days(i64::from(n))), "{d} + {n}");
                let last = cal.local_date(rolled - Duration::seconds(1));
                assert!(rolled >= plain && cal.is_working_day(last), "{d} + {n}");
                // Every day skipped by the roll-over is a day off.
                let mut skipped = cal.local_date(plain - Duration::seconds(1));
                while skipped < last {
                    assert!(!cal.is_working_day(skipped), "{d} + {n}: {skipped}");
                    skipped = skipped + Duration::days(1);
                }
            }
        }
    }

    #[test]
    fn bad_calendar_files_name_the_bad_value() {
        assert_eq!(
            Calendar::from_toml("holidays = [\"2025-13-01\"]").unwrap_err(),
            CalendarError::BadDate {
                value: "2025-13-01".into()
            }
        );
        assert!(matches!(
            Calendar::from_toml("holidays = [\"2025-02-04..2025-01-28\"]").unwrap_err(),
            CalendarError::BackwardRange { .. }
        ));
        assert!(matches!(
            Calendar::from_toml("holidays = [\"2025-01-01\"]\nworkdays = [\"2025-01-01\"]").unwrap_err(),
            CalendarError::Both { .. }
        ));
        let utc = Calendar::from_toml("utc_offset = \"+00:00\"").expect("valid offset");
        assert_eq!(utc.offset(), UtcOffset::UTC);
    }

    #[test]
    fn the_calendar_covers_the_years_it_lists_and_warns_past_them() {
        let cal = china();
        assert_eq!(cal.covers(), Some((date!(2025 - 01 - 01), date!(2026 - 12 - 31))));
        assert_eq!(cal.coverage_warning(date!(2026 - 12 - 31)), None);
        let warning = cal.coverage_warning(date!(2027 - 01 - 02)).expect("past the calendar");
        assert!(
            warning.contains("2026-12-31") && warning.contains("--calendar"),
            "{warning}"
        );
        // Without `covers`, the whole years mentioned are covered.
        let inferred = Calendar::from_toml("holidays = [\"2027-02-06..2027-02-13\"]").expect("calendar");
        assert_eq!(inferred.covers_until(), Some(date!(2027 - 12 - 31)));
        assert!(Calendar::default().coverage_warning(date!(2026 - 01 - 05)).is_some());
        assert!(matches!(
            Calendar::from_toml("covers = \"2025-01-01..2025-12-31\"\nholidays = [\"2026-01-01\"]").unwrap_err(),
            CalendarError::OutsideCovers { .. }
        ));
    }

    #[test]
    fn a_bad_calendar_file_names_its_file_and_line() {
        let text = "covers = \"2027-01-01..2027-12-31\"\nholidays = [\n  \"2027-01-01\",\n  \"2027-02-30\",\n]\n";
        let err = Calendar::load("cn-2027.toml", text).unwrap_err();
        assert_eq!(err.line, Some(4));
        assert_eq!(
            err.to_string(),
            "cn-2027.toml:4: holiday calendar: \"2027-02-30\" is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)"
        );
        let syntax = Calendar::load("x.toml", "holidays = [\n\"2027-01-01\"\nworkdays = 3").unwrap_err();
        assert!(syntax.line.is_some(), "{syntax}");
    }

    #[test]
    fn dates_serialize_as_iso_strings_and_old_pairs_still_read() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Dated {
            #[serde(with = "iso_date")]
            start: Date,
        }
        let dated = Dated {
            start: date!(2026 - 12 - 15),
        };
        let json = serde_json::to_string(&dated).expect("json");
        assert_eq!(json, r#"{"start":"2026-12-15"}"#);
        assert_eq!(serde_json::from_str::<Dated>(&json).expect("iso"), dated);
        assert_eq!(
            serde_json::from_str::<Dated>(r#"{"start":[2026,349]}"#).expect("pair"),
            dated
        );
    }
}
