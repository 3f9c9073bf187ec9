//! A category's questions: what intake asks beyond the description (a lamp post's number, whether a leak is still
//! going on), as FixMyStreet's per-category extra questions and Open311's service attributes. They are part of the
//! routing table (`[[question]]` in `data/routing.toml`), so a policy layer that adds a category adds its questions;
//! every interface offers them (the report form, Open311's service definition, REST) and checks the answers here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The longest answer to a free-text question, in characters.
pub const MAX_ANSWER_CHARS: usize = 200;

/// Codes Open311 already uses as attributes of every service.
pub const RESERVED_CODES: [&str; 2] = ["kind", "complained_unit"];

/// What an answer must look like (Open311's datatypes of the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerType {
    /// One line of text.
    String,
    /// A decimal number.
    Number,
    /// One of the question's choices, by key.
    Singlevaluelist,
}

/// One allowed answer of a list question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerChoice {
    pub key: String,
    pub zh: String,
    pub en: String,
}

impl AnswerChoice {
    /// The wording in Chinese (`zh`) or English.
    pub fn text(&self, english: bool) -> &str {
        if english { &self.en } else { &self.zh }
    }
}

/// One question of a category, with its wording in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub category: String,
    /// The answer's key (`attribute[CODE]` in Open311, `answers.CODE` in REST).
    pub code: String,
    pub datatype: AnswerType,
    #[serde(default)]
    pub required: bool,
    pub zh: String,
    pub en: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<AnswerChoice>,
}

/// An answer refused: the question's code and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("answers.{code}: {reason}")]
pub struct AnswerError {
    pub code: String,
    pub reason: crate::said::Said,
}

impl Question {
    /// The wording in Chinese (`zh`) or English.
    pub fn text(&self, english: bool) -> &str {
        if english { &self.en } else { &self.zh }
    }

    /// Checks the question as a table author wrote it: a code of lower-case letters, digits and `_`, not one Open311
    /// reserves; a list question has choices with distinct keys, other questions none.
    pub fn check(&self) -> Result<(), String> {
        let named = format!("question {:?} of category {:?}", self.code, self.category);
        let valid_code = !self.code.is_empty()
            && self
                .code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_code {
            return Err(format!("{named}: a code is lower-case letters, digits and _"));
        }
        if RESERVED_CODES.contains(&self.code.as_str()) {
            return Err(format!(
                "{named}: the code is reserved (Open311 uses it for every service)"
            ));
        }
        match self.datatype {
            AnswerType::Singlevaluelist if self.choices.is_empty() => {
                return Err(format!("{named}: a singlevaluelist question needs choices"));
            }
            AnswerType::String | AnswerType::Number if !self.choices.is_empty() => {
                return Err(format!("{named}: only a singlevaluelist question has choices"));
            }
            _ => {}
        }
        let mut keys: Vec<&str> = self.choices.iter().map(|c| c.key.as_str()).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(format!("{named}: two choices have the same key"));
        }
        Ok(())
    }

    /// The answer as stored, or why it is refused.
    fn answer(&self, given: &str) -> Result<String, AnswerError> {
        let refuse = |reason: crate::said::Said| AnswerError {
            code: self.code.clone(),
            reason,
        };
        let given = given.trim();
        match self.datatype {
            AnswerType::String => {
                let chars = given.chars().count();
                if chars > MAX_ANSWER_CHARS {
                    return Err(refuse(crate::said!(
                        "answer-too-long",
                        "{chars} characters; the limit is {limit}",
                        chars = chars,
                        limit = MAX_ANSWER_CHARS,
                    )));
                }
                if given.chars().any(|c| c.is_control()) {
                    return Err(refuse(crate::said!(
                        "answer-control-characters",
                        "control characters are not allowed"
                    )));
                }
                Ok(given.to_string())
            }
            AnswerType::Number => given
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(|_| given.to_string())
                .ok_or_else(|| {
                    refuse(crate::said!(
                        "answer-not-a-number",
                        "{given} is not a number",
                        given = format!("{given:?}"),
                    ))
                }),
            AnswerType::Singlevaluelist => self
                .choices
                .iter()
                .find(|c| c.key == given)
                .map(|c| c.key.clone())
                .ok_or_else(|| {
                    let keys: Vec<&str> = self.choices.iter().map(|c| c.key.as_str()).collect();
                    refuse(crate::said!(
                        "answer-not-a-choice",
                        "{given} is not one of {keys}",
                        given = format!("{given:?}"),
                        keys = keys.join(", "),
                    ))
                }),
        }
    }
}

/// The answers to `category`'s questions, checked: every answer to a question of the category, in its datatype;
/// every required question answered; empty answers dropped. Returns the answers to store, by code.
pub fn check_answers(
    questions: &[Question],
    category: &str,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, AnswerError> {
    let asked: Vec<&Question> = questions.iter().filter(|q| q.category == category).collect();
    let mut answers = BTreeMap::new();
    for (code, value) in given {
        let question = asked.iter().find(|q| &q.code == code).ok_or_else(|| AnswerError {
            code: code.clone(),
            reason: if asked.is_empty() {
                crate::said!(
                    "answer-no-questions",
                    "category {category} has no questions",
                    category = crate::said::name("category", category),
                )
            } else {
                let codes: Vec<&str> = asked.iter().map(|q| q.code.as_str()).collect();
                crate::said!(
                    "answer-unknown-question",
                    "not a question of category {category}, whose questions are {codes}",
                    category = crate::said::name("category", category),
                    codes = codes.join(", "),
                )
            },
        })?;
        if value.trim().is_empty() {
            continue;
        }
        answers.insert(code.clone(), question.answer(value)?);
    }
    if let Some(missing) = asked.iter().find(|q| q.required && !answers.contains_key(&q.code)) {
        return Err(AnswerError {
            code: missing.code.clone(),
            reason: crate::said!(
                "answer-required",
                "required for category {category}",
                category = crate::said::name("category", category),
            ),
        });
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lamp() -> Vec<Question> {
        vec![
            Question {
                category: "street_lighting".into(),
                code: "lamp_number".into(),
                datatype: AnswerType::String,
                required: false,
                zh: "灯杆编号".into(),
                en: "Lamp post number".into(),
                choices: Vec::new(),
            },
            Question {
                category: "street_lighting".into(),
                code: "state".into(),
                datatype: AnswerType::Singlevaluelist,
                required: true,
                zh: "路灯状况".into(),
                en: "What is wrong".into(),
                choices: vec![
                    AnswerChoice {
                        key: "dark".into(),
                        zh: "不亮".into(),
                        en: "Not lit".into(),
                    },
                    AnswerChoice {
                        key: "flickering".into(),
                        zh: "闪烁".into(),
                        en: "Flickering".into(),
                    },
                ],
            },
            Question {
                category: "water_outage".into(),
                code: "households".into(),
                datatype: AnswerType::Number,
                required: false,
                zh: "受影响户数".into(),
                en: "Households affected".into(),
                choices: Vec::new(),
            },
        ]
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn answers_of_the_category_are_kept_and_empty_ones_dropped() {
        let got = check_answers(
            &lamp(),
            "street_lighting",
            &given(&[("state", " dark "), ("lamp_number", "")]),
        )
        .unwrap();
        assert_eq!(got, given(&[("state", "dark")]));
    }

    #[test]
    fn a_required_question_left_unanswered_is_refused_by_its_code() {
        let e = check_answers(&lamp(), "street_lighting", &given(&[("lamp_number", "A-17")])).unwrap_err();
        assert_eq!(e.code, "state");
        assert!(e.reason.english().contains("required"), "{e}");
    }

    #[test]
    fn a_choice_outside_the_list_names_the_allowed_keys() {
        let e = check_answers(&lamp(), "street_lighting", &given(&[("state", "broken")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "answers.state: \"broken\" is not one of dark, flickering"
        );
    }

    #[test]
    fn an_answer_to_another_category_s_question_is_refused() {
        let e = check_answers(&lamp(), "water_outage", &given(&[("state", "dark")])).unwrap_err();
        assert!(e.reason.english().contains("households"), "{e}");
        let e = check_answers(&lamp(), "garbage", &given(&[("state", "dark")])).unwrap_err();
        assert!(e.reason.english().contains("has no questions"), "{e}");
    }

    #[test]
    fn numbers_and_text_are_checked() {
        assert!(check_answers(&lamp(), "water_outage", &given(&[("households", "12")])).is_ok());
        let e = check_answers(&lamp(), "water_outage", &given(&[("households", "many")])).unwrap_err();
        assert!(e.reason.english().contains("not a number"), "{e}");
        let e = check_answers(&lamp(), "water_outage", &given(&[("households", "NaN")])).unwrap_err();
        assert!(e.reason.english().contains("not a number"), "{e}");
        let long = "灯".repeat(MAX_ANSWER_CHARS + 1);
        let e = check_answers(
            &lamp(),
            "street_lighting",
            &given(&[("state", "dark"), ("lamp_number", &long)]),
        )
        .unwrap_err();
        assert_eq!(e.code, "lamp_number");
    }

    #[test]
    fn a_table_author_s_mistakes_are_named() {
        let mut q = lamp()[0].clone();
        q.code = "kind".into();
        assert!(q.check().unwrap_err().contains("reserved"));
        q.code = "Lamp No".into();
        assert!(q.check().unwrap_err().contains("lower-case"));
        let mut list = lamp()[1].clone();
        list.choices.clear();
        assert!(list.check().unwrap_err().contains("needs choices"));
        let mut twice = lamp()[1].clone();
        twice.choices[1].key = "dark".into();
        assert!(twice.check().unwrap_err().contains("same key"));
    }
}
