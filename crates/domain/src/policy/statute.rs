//! The national statute as guardrails that every effective policy keeps, whether or not any policy file declares
//! them: the limits of the 2022 Regulations on Letters and Visits Work ([`crate::clock::STATUTE`]).
//!
//! A layer may only tighten them. The effective policy's clocks are laid over the statutory defaults exactly as the
//! workflow lays them ([`clock_config`]), so `clocks.day_count = "working"` alone, which turns the statutory 60 days
//! into 60 working days, is caught like `handle_days = 365`. A working-day limit is compared with the statute's
//! calendar days through the deployment's holiday calendar ([`crate::clock::ClockConfig::statute_breaches`]).

use super::document::PolicyDocument;
use super::guardrail::{GuardrailOwner, Violation};
use super::in_force::clock_config;
use super::merge::Folded;
use crate::calendar::Calendar;
use crate::clock::ClockConfig;

/// Where the statutory limits come from, as a violation's owner source names it.
pub const STATUTE_SOURCE: &str = "2022 Regulations on Letters and Visits Work";

/// Every statutory limit that the effective policy `policy` breaks, each as a violation naming the limit, its article,
/// the key at fault and the layer that set it. The key at fault is the limit's own key when a layer sets it, else
/// `clocks.day_count` when that is what turned the statutory days into working days.
pub fn statute_violations(policy: &Folded, calendar: &Calendar) -> Vec<Violation> {
    let Ok(document) = toml::Value::Table(policy.table.clone()).try_into::<PolicyDocument>() else {
        // A folded table that does not fit the schema is refused by the schema check, not here.
        return Vec::new();
    };
    let clocks = clock_config(&ClockConfig::default(), &document);
    clocks
        .statute_breaches(calendar)
        .into_iter()
        .map(|breach| {
            let limit = breach.limit;
            let own = limit.key.and_then(|k| policy.setter(k).map(|s| (k, s)));
            let (key, setter) = match own.or_else(|| policy.setter("clocks.day_count").map(|s| ("clocks.day_count", s)))
            {
                Some((key, setter)) => (key.to_string(), Some(setter)),
                None => (limit.key.unwrap_or(limit.field).to_string(), None),
            };
            Violation {
                guardrail: limit.id.to_string(),
                rule: format!("{}: {}", limit.key.unwrap_or(limit.field), limit.describe()),
                owner: GuardrailOwner::Statute,
                owner_source: format!(
                    "{STATUTE_SOURCE}, {}",
                    limit.article.trim_start_matches("2022 Regulations ")
                ),
                unit: policy.unit.clone(),
                date: policy.date,
                key,
                value: setter.map(|s| s.value.to_string()),
                set_by: setter.map(|s| (s.unit.clone(), s.source.clone())),
                reason: crate::said!(
                    "guardrail-statute-clock",
                    "it makes the clock {found}",
                    found = *breach.found
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use crate::policy::{LayerVersion, PolicyBook, PolicyError};
    use crate::territory::UnitCode;

    fn code(s: &str) -> UnitCode {
        UnitCode::parse(s).expect("code")
    }

    /// Saves `text` as the layer of township 330502001 in a book with no other layer (no guardrail file loaded).
    fn save(text: &str) -> Result<(), PolicyError> {
        let mut book = PolicyBook::new();
        let layer = LayerVersion::parse(&code("330502001"), "t.toml", text, Some(date!(2026 - 12 - 05)))?;
        book.save(layer)
    }

    fn refused_key_and_article(text: &str) -> (String, String) {
        match save(text) {
            Err(PolicyError::Rejected { violations, .. }) => {
                (violations[0].key.clone(), violations[0].owner_source.clone())
            }
            other => panic!("{text}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_statute_holds_with_no_policy_file_loaded() {
        assert!(save("clocks.petition.handle_days = 45").is_ok());
        let err = save("clocks.petition.handle_days = 365").unwrap_err().to_string();
        assert!(
            err.contains("guardrail \"statute-petition-handling\" owned by the statute"),
            "{err}"
        );
        assert!(
            err.contains("2022 Regulations on Letters and Visits Work, Art. 34"),
            "{err}"
        );
        assert!(
            err.contains("clocks.petition.handle_days = 365 (set by 330502001 in t.toml)"),
            "{err}"
        );
    }

    #[test]
    fn each_article_is_named_at_its_key() {
        let cases = [
            (
                "clocks.petition.accept_days = 20",
                "clocks.petition.accept_days",
                "Arts. 22-23",
            ),
            (
                "clocks.petition.handle_days = 61",
                "clocks.petition.handle_days",
                "Art. 34",
            ),
            (
                "clocks.petition.extension_max_days = 45",
                "clocks.petition.extension_max_days",
                "Art. 34",
            ),
            (
                "clocks.petition.review_request_days = 15",
                "clocks.petition.review_request_days",
                "Art. 35",
            ),
            (
                "clocks.petition.review_decision_days = 31",
                "clocks.petition.review_decision_days",
                "Art. 35",
            ),
            (
                "clocks.petition.recheck_days = 40",
                "clocks.petition.recheck_days",
                "Art. 36",
            ),
        ];
        for (text, key, article) in cases {
            let (found_key, source) = refused_key_and_article(text);
            assert_eq!(found_key, key, "{text}");
            assert!(source.ends_with(article), "{text}: {source}");
        }
    }

    #[test]
    fn counting_working_days_may_not_lengthen_a_petition_limit() {
        // Alone, `day_count = "working"` turns the statutory 60 days into 60 working days: refused at that key.
        let (key, source) = refused_key_and_article("clocks.day_count = \"working\"");
        assert_eq!(key, "clocks.day_count");
        assert!(source.ends_with("Arts. 22-23"), "{source}");
        // With every office deadline shortened so that its working days fit in the statute's calendar days, the
        // working count is allowed (and the resident's windows only grow).
        assert!(
            save(
                "[clocks]\nday_count = \"working\"\n[clocks.petition]\naccept_days = 5\nhandle_days = 35\n\
                 extension_max_days = 30\nreview_decision_days = 15\nrecheck_days = 15\n"
            )
            .is_ok()
        );
    }

    #[test]
    fn a_pilot_change_is_held_to_the_statute_too() {
        let book = PolicyBook::new();
        let unit = code("330502001");
        let overlay = LayerVersion::parse(
            &unit,
            "pilot",
            "clocks.petition.handle_days = 90",
            Some(date!(2026 - 12 - 05)),
        )
        .expect("overlay");
        let policy = book.effective_with(&unit, date!(2026 - 12 - 05), &overlay);
        let broken = book.violations_of(&policy);
        assert_eq!(broken.len(), 1);
        assert_eq!(broken[0].guardrail, "statute-petition-handling");
    }
}
