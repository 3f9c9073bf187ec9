//! Renders Open311 documents as XML (the spec's required format) or JSON, with the right content type.
//!
//! Each document type says how it is written as XML; JSON is its `serde` form. The list wrappers ([`Services`],
//! [`Requests`] …) exist because XML needs a root element that JSON (a bare array) does not.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Format;
pub use super::types::*;
use super::xml::Xml;

/// Something that can be sent as an Open311 response body.
pub trait Document: Serialize {
    fn write_xml(&self, w: &mut Xml);
}

/// The body and content type of `doc` in `format`.
pub fn to_string(format: Format, doc: &impl Document) -> String {
    match format {
        Format::Xml => {
            let mut w = Xml::document();
            doc.write_xml(&mut w);
            w.finish()
        }
        // Serializing these plain structs cannot fail (string keys, no maps with non-string keys); an empty array is
        // the least wrong body if it ever did.
        Format::Json => serde_json::to_string(doc).unwrap_or_else(|_| "[]".to_string()),
    }
}

pub fn respond(format: Format, status: StatusCode, doc: &impl Document) -> Response {
    let body = to_string(format, doc);
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    response
}

fn opt_num(w: &mut Xml, tag: &str, value: Option<f64>) {
    match value {
        Some(v) if v.is_finite() => w.display(tag, v),
        _ => w.opt(tag, None),
    }
}

impl Document for Discovery {
    fn write_xml(&self, w: &mut Xml) {
        w.element("discovery", |w| {
            w.text("changeset", &self.changeset);
            w.text("contact", &self.contact);
            w.text("key_service", &self.key_service);
            w.element("endpoints", |w| {
                for e in &self.endpoints {
                    w.element("endpoint", |w| {
                        w.text("specification", &e.specification);
                        w.text("url", &e.url);
                        w.text("changeset", &e.changeset);
                        w.text("type", &e.kind);
                        w.element("formats", |w| {
                            for f in &e.formats {
                                w.text("format", f);
                            }
                        });
                    });
                }
            });
        });
    }
}

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Services(pub Vec<Service>);

impl Document for Services {
    fn write_xml(&self, w: &mut Xml) {
        w.element("services", |w| {
            for s in &self.0 {
                w.element("service", |w| {
                    w.text("service_code", &s.service_code);
                    w.text("service_name", &s.service_name);
                    w.text("description", &s.description);
                    w.display("metadata", s.metadata);
                    w.text("type", s.kind.as_str());
                    w.text("keywords", &s.keywords);
                    w.text("group", &s.group);
                });
            }
        });
    }
}

impl Document for ServiceDefinition {
    fn write_xml(&self, w: &mut Xml) {
        w.element("service_definition", |w| {
            w.text("service_code", &self.service_code);
            w.element("attributes", |w| {
                for a in &self.attributes {
                    w.element("attribute", |w| {
                        w.display("variable", a.variable);
                        w.text("code", &a.code);
                        w.text("datatype", a.datatype.as_str());
                        w.display("required", a.required);
                        w.opt("datatype_description", a.datatype_description.as_deref());
                        w.display("order", a.order);
                        w.text("description", &a.description);
                        if !a.values.is_empty() {
                            w.element("values", |w| {
                                for v in &a.values {
                                    w.element("value", |w| {
                                        w.text("key", &v.key);
                                        w.text("name", &v.name);
                                    });
                                }
                            });
                        }
                    });
                }
            });
        });
    }
}

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Requests(pub Vec<ServiceRequest>);

impl Document for Requests {
    fn write_xml(&self, w: &mut Xml) {
        w.element("service_requests", |w| {
            for r in &self.0 {
                w.element("request", |w| {
                    w.text("service_request_id", &r.service_request_id);
                    w.text("status", r.status.as_str());
                    w.opt("status_notes", r.status_notes.as_deref());
                    w.opt("service_name", r.service_name.as_deref());
                    w.text("service_code", &r.service_code);
                    w.opt("description", r.description.as_deref());
                    w.opt("agency_responsible", r.agency_responsible.as_deref());
                    w.opt("service_notice", r.service_notice.as_deref());
                    w.text("requested_datetime", &r.requested_datetime);
                    w.opt("updated_datetime", r.updated_datetime.as_deref());
                    w.opt("expected_datetime", r.expected_datetime.as_deref());
                    w.opt("address", r.address.as_deref());
                    w.opt("address_id", r.address_id.as_deref());
                    w.opt("zipcode", r.zipcode.as_deref());
                    opt_num(w, "lat", r.lat);
                    opt_num(w, "long", r.long);
                    w.opt("media_url", r.media_url.as_deref());
                });
            }
        });
    }
}

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Posted(pub Vec<PostedRequest>);

impl Document for Posted {
    fn write_xml(&self, w: &mut Xml) {
        w.element("service_requests", |w| {
            for p in &self.0 {
                w.element("request", |w| {
                    if let Some(id) = &p.service_request_id {
                        w.text("service_request_id", id);
                    }
                    if let Some(token) = &p.token {
                        w.text("token", token);
                    }
                    w.opt("service_notice", p.service_notice.as_deref());
                    w.opt("account_id", p.account_id.as_deref());
                });
            }
        });
    }
}

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Tokens(pub Vec<TokenStatus>);

impl Document for Tokens {
    fn write_xml(&self, w: &mut Xml) {
        w.element("service_requests", |w| {
            for t in &self.0 {
                w.element("request", |w| {
                    w.opt("service_request_id", t.service_request_id.as_deref());
                    w.text("token", &t.token);
                });
            }
        });
    }
}

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Updates(pub Vec<RequestUpdate>);

impl Document for Updates {
    fn write_xml(&self, w: &mut Xml) {
        w.element("service_request_updates", |w| {
            for u in &self.0 {
                w.element("request_update", |w| {
                    w.text("update_id", &u.update_id);
                    w.text("service_request_id", &u.service_request_id);
                    w.text("status", u.status.as_str());
                    w.text("updated_datetime", &u.updated_datetime);
                    w.text("description", &u.description);
                    w.opt("media_url", u.media_url.as_deref());
                });
            }
        });
    }
}

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct PostedUpdates(pub Vec<PostedUpdate>);

impl Document for PostedUpdates {
    fn write_xml(&self, w: &mut Xml) {
        w.element("service_request_updates", |w| {
            for u in &self.0 {
                w.element("request_update", |w| w.text("update_id", &u.update_id));
            }
        });
    }
}

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Errors(pub Vec<ErrorItem>);

impl Document for Errors {
    fn write_xml(&self, w: &mut Xml) {
        w.element("errors", |w| {
            for e in &self.0 {
                w.element("error", |w| {
                    w.display("code", e.code);
                    w.text("description", &e.description);
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(doc: &impl Document, xml: &str, json: &str) {
        let head = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
        assert_eq!(to_string(Format::Xml, doc), format!("{head}{xml}"));
        assert_eq!(to_string(Format::Json, doc), json);
    }

    #[test]
    fn errors_document() {
        check(
            &Errors(vec![ErrorItem {
                code: 403,
                description: "api_key: required".into(),
            }]),
            "<errors><error><code>403</code><description>api_key: required</description></error></errors>",
            r#"[{"code":403,"description":"api_key: required"}]"#,
        );
    }

    #[test]
    fn posted_request_with_id_or_token() {
        check(
            &Posted(vec![PostedRequest {
                service_request_id: Some("42".into()),
                token: None,
                service_notice: Some("accepted".into()),
                account_id: None,
            }]),
            "<service_requests><request><service_request_id>42</service_request_id>\
             <service_notice>accepted</service_notice><account_id/></request></service_requests>",
            r#"[{"service_request_id":"42","service_notice":"accepted","account_id":null}]"#,
        );
        check(
            &Tokens(vec![TokenStatus {
                service_request_id: None,
                token: "t1".into(),
            }]),
            "<service_requests><request><service_request_id/><token>t1</token></request></service_requests>",
            r#"[{"service_request_id":null,"token":"t1"}]"#,
        );
    }

    #[test]
    fn a_request_keeps_the_spec_field_order() {
        let r = ServiceRequest {
            service_request_id: "7".into(),
            status: Status::Open,
            status_notes: None,
            service_name: Some("Road".into()),
            service_code: "road".into(),
            description: Some("pothole & crack".into()),
            agency_responsible: None,
            service_notice: None,
            requested_datetime: "2025-03-01T09:00:00Z".into(),
            updated_datetime: None,
            expected_datetime: None,
            address: None,
            address_id: None,
            zipcode: None,
            lat: Some(30.5),
            long: Some(120.25),
            media_url: None,
        };
        let xml = to_string(Format::Xml, &Requests(vec![r]));
        assert!(xml.contains(
            "<service_request_id>7</service_request_id><status>open</status><status_notes/>\
             <service_name>Road</service_name><service_code>road</service_code>\
             <description>pothole &amp; crack</description>"
        ));
        assert!(xml.contains("<lat>30.5</lat><long>120.25</long><media_url/>"));
    }
}
