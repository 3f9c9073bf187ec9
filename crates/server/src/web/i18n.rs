//! The two languages of the pages: Chinese (`zh-CN`, the default and the fallback) and English, from the fluent
//! files in `crates/server/locales/`, embedded at build time. A page's language comes from `?lang=` (then remembered
//! in a cookie), else the cookie, else Chinese.

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
            .try_lookup(&self.id, &format!("{prefix}-{}", name.replace('_', "-")))
            .unwrap_or_else(|| name.to_string())
    }
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

    #[test]
    fn lookups_fall_back_to_chinese_and_names_to_themselves() {
        assert_eq!(Tr::new(Lang::En).t("nav-home"), "Home");
        assert_eq!(Tr::new(Lang::Zh).t("nav-home"), "首页");
        assert_eq!(Tr::new(Lang::En).name("category", "made_up_here"), "made_up_here");
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
    }
}
