//! Open311 GeoReport v2 (<https://wiki.open311.org/GeoReport_v2>) and FixMyStreet's `servicerequestupdates`
//! extension: the response shapes ([`types`]), their XML and JSON forms ([`render`]) and the input parsers
//! ([`parse`]). The routes that tie them to the store live in the server's router.
//!
//! Every path ends in the format (`requests.xml`, `requests.json`); XML is the spec's required format and the
//! default when a path has no extension.

pub mod doc;
pub mod parse;
pub mod render;
pub mod routes;
pub mod types;
pub mod xml;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
        }
    }

    /// Splits `requests.json` into `("requests", Json)`. No extension means XML; any other extension is a 400.
    pub fn split(file: &str) -> Result<(&str, Format), (Format, ApiError)> {
        match file.rsplit_once('.') {
            None => Ok((file, Format::Xml)),
            Some((stem, "xml")) => Ok((stem, Format::Xml)),
            Some((stem, "json")) => Ok((stem, Format::Json)),
            Some((_, other)) => Err((
                Format::Xml,
                ApiError::invalid(
                    "format",
                    format!(
                        "unsupported format {:?} (expected xml or json)",
                        other.chars().take(20).collect::<String>()
                    ),
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_extension() {
        assert_eq!(Format::split("requests.json").ok(), Some(("requests", Format::Json)));
        assert_eq!(Format::split("42.xml").ok(), Some(("42", Format::Xml)));
        assert_eq!(Format::split("discovery").ok(), Some(("discovery", Format::Xml)));
        assert!(Format::split("requests.csv").is_err());
    }
}
