//! The two languages of the pages: Chinese (`zh-CN`, the default and the fallback) and English, from the fluent
//! files in `crates/server/locales/`, embedded at build time. A page's language comes from `?lang=` (then remembered
//! in a cookie), else the cookie, else Chinese.

use domain::said::{Arg, Said};
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "zh-CN",
        // Fluent wraps arguments in bidi isolation marks by default; both languages here run left to right.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "grassroots_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The tag used in `?lang=`, the cookie and `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(tag: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.tag().eq_ignore_ascii_case(tag.trim()))
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::Zh => langid!("zh-CN"),
            Lang::En => langid!("en"),
        }
    }

    /// The other language, offered by the switch link of every page.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

/// Looks strings up in one language; templates call `t.t("key")`.
#[derive(Debug, Clone)]
pub struct Tr {
    pub lang: Lang,
    id: LanguageIdentifier,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang, id: lang.id() }
    }

    /// The string of `key`; the key itself when no locale has it (the key test makes that a test failure).
    pub fn t(&self, key: &str) -> String {
        LOCALES.try_lookup(&self.id, key).unwrap_or_else(|| key.to_string())
    }

    /// The string of `key` with its fluent arguments filled in (`{ $id }`).
    pub fn with(&self, key: &str, args: &[(&'static str, String)]) -> String {
        let args: std::collections::HashMap<
            std::borrow::Cow<'static, str>,
            fluent_templates::fluent_bundle::FluentValue,
        > = args.iter().map(|(k, v)| ((*k).into(), v.clone().into())).collect();
        LOCALES
            .try_lookup_with_args(&self.id, key, &args)
            .unwrap_or_else(|| key.to_string())
    }

    /// The string of `{prefix}-{name}` (a case kind, state, category, action …), else `name` itself: names that
    /// come from data, such as a category added by a policy layer, still show.
    pub fn name(&self, prefix: &str, name: &str) -> String {
        LOCALES
            .try_lookup(&self.id, &name_key(prefix, name))
            .unwrap_or_else(|| name.to_string())
    }

    /// A message of the domain in this language: its key with its arguments worded here (names translated by their
    /// kind, inner messages in turn); its English wording when it has no key (a parser's text) or the key is missing.
    pub fn say(&self, said: &Said) -> String {
        if said.key.is_empty() {
            return said.english().to_string();
        }
        let args: std::collections::HashMap<
            std::borrow::Cow<'static, str>,
            fluent_templates::fluent_bundle::FluentValue,
        > = said
            .args
            .iter()
            .map(|(k, arg)| {
                let worded = match arg {
                    Arg::Text(text) => text.clone(),
                    Arg::Name { kind, name } => self.name(kind, name),
                    Arg::Said(inner) => self.say(inner),
                };
                ((*k).into(), worded.into())
            })
            .collect();
        LOCALES
            .try_lookup_with_args(&self.id, said.key, &args)
            .unwrap_or_else(|| said.english().to_string())
    }
}

/// The message key of a name: `{prefix}-{name}`, the name lower-cased with every run of other characters than
/// letters and digits made one `-` ("Art. 23 §3" → `art-23-3`, `road_repair` → `road-repair`).
pub fn name_key(prefix: &str, name: &str) -> String {
    let mut key = format!("{prefix}-");
    let mut dash = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        // Fluent identifiers are ASCII: other letters (a category named in Chinese) make no key and show as named.
        if c.is_ascii_alphanumeric() {
            if dash && !key.ends_with('-') {
                key.push('-');
            }
            key.push(c);
            dash = false;
        } else {
            dash = true;
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys(ftl: &str) -> BTreeSet<String> {
        ftl.lines()
            .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_string()))
            .collect()
    }

    const ZH: &str = include_str!("../../locales/zh-CN/main.ftl");
    const EN: &str = include_str!("../../locales/en/main.ftl");

    #[test]
    fn every_key_exists_in_both_languages() {
        let (zh, en) = (keys(ZH), keys(EN));
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "only in zh-CN: {only_zh:?}; only in en: {only_en:?}"
        );
    }

    /// Every `t.t("…")` in a template names a key both languages have.
    #[test]
    fn every_template_key_is_translated() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let zh = keys(ZH);
        let mut missing = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).expect("templates folder") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("template");
                for piece in text.split("t.t(\"").skip(1) {
                    let key = piece.split('"').next().unwrap_or_default();
                    if !zh.contains(key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
    }

    /// Every name a page shows from the domain (kinds, states, clocks, roles, categories) is translated.
    #[test]
    fn every_domain_name_is_translated() {
        let zh = keys(ZH);
        let key = |p: &str, n: &str| format!("{p}-{}", n.replace('_', "-"));
        let mut wanted: Vec<String> = Vec::new();
        wanted.extend(domain::CaseKind::ALL.iter().map(|k| key("kind", k.as_str())));
        wanted.extend(domain::CaseState::ALL.iter().map(|s| key("state", s.as_str())));
        wanted.extend(domain::clock::ClockName::ALL.iter().map(|c| key("clock", c.as_str())));
        wanted.extend(domain::access::Role::ALL.iter().map(|r| key("role", r.as_str())));
        let rules = app::workflow::Rules::china();
        wanted.extend(rules.routing.categories().iter().map(|c| key("category", c)));
        let missing: Vec<_> = wanted.into_iter().filter(|k| !zh.contains(k)).collect();
        assert!(missing.is_empty(), "untranslated names: {missing:?}");
    }

    /// Every message the domain and the workflow say (`said!("key", …)` in their sources, and the keys made in code
    /// such as `Denied::said`), and every name they pass as an argument — rules, articles, verbs, channels, events —
    /// is worded in both languages, so a refusal on a Chinese page is Chinese.
    #[test]
    fn every_message_of_the_domain_is_translated() {
        let (zh, en) = (keys(ZH), keys(EN));
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        let mut stack = vec![root.join("domain/src"), root.join("app/src")];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).expect("source folder") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                // said.rs defines the macro and tries it on made-up keys.
                if path.ends_with("said.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("source");
                let quoted_first = |piece: &str| {
                    let piece = piece.trim_start();
                    piece
                        .starts_with('"')
                        .then(|| piece[1..].split('"').next().unwrap_or_default().to_string())
                };
                wanted.extend(text.split("said!(").skip(1).filter_map(quoted_first));
                // Keys chosen in code: `("denied-role", …)` and the like.
                for piece in text.split("(\"denied-").skip(1) {
                    wanted.insert(format!("denied-{}", piece.split('"').next().unwrap_or_default()));
                }
                // Rule names: `broken("name", …)`, `require_text(text, "name", …)`, `rule: "name"`.
                for name in text.split("broken(").skip(1).filter_map(quoted_first) {
                    wanted.insert(name_key("rule", &name));
                }
                if path.ends_with("command.rs") {
                    for piece in text.split("rule: \"").skip(1) {
                        wanted.insert(name_key("rule", piece.split('"').next().unwrap_or_default()));
                    }
                }
                for piece in text.split("require_text(").skip(1) {
                    // The call, not the definition: its first quote comes before any brace.
                    if piece.split('"').next().is_some_and(|head| head.contains('{')) {
                        continue;
                    }
                    let mut quoted = piece.split('"').skip(1).step_by(2);
                    if let (Some(rule), Some(what)) = (quoted.next(), quoted.next()) {
                        wanted.insert(name_key("rule", rule));
                        wanted.insert(name_key("what", what));
                    }
                }
            }
        }
        use domain::rules::*;
        for cite in [
            ART_19,
            ART_23,
            ART_23_3,
            ART_34,
            ART_35,
            ART_36,
            MEDIATION_LAW_29,
            WHISTLE,
            FEEDBACK,
            CLOCK_CONFIG,
            CO_SIGNING,
            "Art. 35",
            "Art. 36",
        ] {
            wanted.insert(name_key("cite", cite));
        }
        wanted.extend(domain::access::Action::ALL.iter().map(|a| name_key("verb", a.verb())));
        wanted.extend(
            domain::access::UnitAction::ALL
                .iter()
                .map(|a| name_key("verb", a.verb())),
        );
        wanted.extend(["rate", "withdraw", "reopen", "record a call-back rating for"].map(|v| name_key("verb", v)));
        wanted.extend(["review", "re-examination"].map(|w| name_key("what", w)));
        wanted.extend(
            domain::case::Channel::ALL
                .iter()
                .map(|c| name_key("channel", &c.to_string())),
        );
        let missing: Vec<_> = wanted.iter().filter(|k| !zh.contains(*k) || !en.contains(*k)).collect();
        assert!(missing.is_empty(), "untranslated messages: {missing:?}");
        assert!(wanted.len() > 150, "the scan found only {} keys", wanted.len());
    }

    #[test]
    fn a_refusal_of_the_domain_reads_in_the_page_language() {
        let cfg = domain::clock::ClockConfig::default();
        let refusal = domain::rules::RuleError::Broken {
            rule: "one extension only",
            cite: domain::rules::ART_34,
            detail: domain::said!(
                "detail-already-extended",
                "case {case} was already extended {times} time(s)",
                case = 7i64,
                times = cfg.max_extensions,
            ),
        };
        let zh = Tr::new(Lang::Zh).say(&refusal.said());
        assert_eq!(
            zh,
            "只能延期一次（《信访工作条例》（2022）第三十四条）：事项 7 已延期 1 次"
        );
        let en = Tr::new(Lang::En).say(&refusal.said());
        assert_eq!(en, refusal.to_string());
        let illegal = domain::case::TransitionError::Illegal {
            case: 3,
            state: domain::CaseState::Closed,
            event: "accepted",
        };
        let zh = Tr::new(Lang::Zh).say(&illegal.said());
        assert!(
            zh.contains("已办结") || zh.contains(&Tr::new(Lang::Zh).name("state", "closed")),
            "{zh}"
        );
        assert!(zh.contains(&Tr::new(Lang::Zh).name("event", "accepted")), "{zh}");
        assert!(!zh.contains("accepted") && !zh.contains("closed"), "{zh}");
    }

    #[test]
    fn name_keys_are_slugs() {
        assert_eq!(
            name_key("cite", "2022 Regulations on Letters and Visits Work Art. 23 §3"),
            "cite-2022-regulations-on-letters-and-visits-work-art-23-3"
        );
        assert_eq!(name_key("category", "road_repair"), "category-road-repair");
        assert_eq!(
            name_key("rule", "petitions are reviewed, not reopened"),
            "rule-petitions-are-reviewed-not-reopened"
        );
    }

    #[test]
    fn lookups_fall_back_to_chinese_and_names_to_themselves() {
        assert_eq!(Tr::new(Lang::En).t("nav-home"), "Home");
        assert_eq!(Tr::new(Lang::Zh).t("nav-home"), "首页");
        assert_eq!(Tr::new(Lang::En).name("category", "made_up_here"), "made_up_here");
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
    }
}
