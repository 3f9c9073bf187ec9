//! What the domain says to people when it refuses something, kept as a key with named arguments so that each
//! interface words it in its own language: the API and the CLI print the English wording made here, the web pages
//! look the key up in their message files.
//!
//! An argument is plain text (a number, a date, an office id), a *name* from the domain's vocabularies (a state, an
//! event, a clock …) that a page translates by its kind, or another message (a rule's detail inside the refusal
//! that cites it).

use std::fmt;

/// A message: a stable key, its arguments, and its English wording.
#[derive(Debug, Clone, PartialEq)]
pub struct Said {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
    english: String,
}

/// One argument of a [`Said`].
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Shown as it is in every language (numbers, dates, ids).
    Text(String),
    /// A name of the domain's vocabulary `kind` (`state`, `event`, `clock`, `channel` …), translated by its kind.
    Name { kind: &'static str, name: String },
    /// A message inside this one.
    Said(Box<Said>),
}

impl Said {
    /// Prefer [`said!`](crate::said!), which builds the English wording from the same arguments.
    pub fn new(key: &'static str, english: String, args: Vec<(&'static str, Arg)>) -> Said {
        Said { key, args, english }
    }

    /// A message with no key: text from outside the domain (a parser's error), shown as it is in every language.
    pub fn verbatim(text: impl Into<String>) -> Said {
        Said {
            key: "",
            args: Vec::new(),
            english: text.into(),
        }
    }

    pub fn english(&self) -> &str {
        &self.english
    }
}

impl fmt::Display for Said {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english)
    }
}

impl From<String> for Said {
    fn from(text: String) -> Said {
        Said::verbatim(text)
    }
}

impl From<&str> for Said {
    fn from(text: &str) -> Said {
        Said::verbatim(text)
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Text(text) => f.write_str(text),
            Arg::Name { name, .. } => f.write_str(name),
            Arg::Said(said) => f.write_str(&said.english),
        }
    }
}

/// A name of the vocabulary `kind`, translated by each interface.
pub fn name(kind: &'static str, name: impl Into<String>) -> Arg {
    Arg::Name {
        kind,
        name: name.into(),
    }
}

impl From<Said> for Arg {
    fn from(said: Said) -> Arg {
        Arg::Said(Box::new(said))
    }
}

macro_rules! text_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(value: $t) -> Arg {
                Arg::Text(value.to_string())
            }
        }
    )*};
}

text_args!(String, &str, &String, u8, u16, u32, u64, i32, i64, usize, f64);

/// `said!("key", "English with {arg}", arg = value, …)`: a [`Said`] whose English wording names its arguments as the
/// message files do (`{ $arg }`). A value is anything that converts into an [`Arg`]: text, a number,
/// [`name`]`(kind, …)` or another `Said`.
#[macro_export]
macro_rules! said {
    ($key:literal, $english:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        $(let $name: $crate::said::Arg = ::core::convert::Into::into($value);)*
        $crate::said::Said::new($key, format!($english), vec![$((stringify!($name), $name)),*])
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_english_wording_and_the_arguments_come_from_the_same_values() {
        let inner = said!("inner", "{n} days", n = 3u32);
        let said = said!(
            "outer",
            "in state {state}: {why}",
            state = name("state", "accepted"),
            why = inner.clone()
        );
        assert_eq!(said.to_string(), "in state accepted: 3 days");
        assert_eq!(said.key, "outer");
        assert_eq!(said.args[0], ("state", name("state", "accepted")));
        assert_eq!(said.args[1], ("why", Arg::Said(Box::new(inner))));
        assert_eq!(Said::verbatim("as is").key, "");
    }
}
