//! The response shapes of Open311 GeoReport v2 (and FixMyStreet's `servicerequestupdates` extension), as the spec
//! names their fields. JSON comes from `serde`; XML from [`super::render`], which writes the same fields in the
//! spec's order. Absent optional fields are `null` in JSON and empty elements in XML.

use serde::Serialize;
use utoipa::ToSchema;

/// `GET discovery`: where the endpoint lives and what it speaks.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Discovery {
    pub changeset: String,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Endpoint {
    pub specification: String,
    pub url: String,
    pub changeset: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub formats: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    Realtime,
    Batch,
    Blackbox,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Realtime => "realtime",
            ServiceType::Batch => "batch",
            ServiceType::Blackbox => "blackbox",
        }
    }
}

/// One entry of `GET services`: a category a resident can report.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// True when `GET services/{code}` lists attributes.
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: ServiceType,
    pub keywords: String,
    pub group: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::Singlevaluelist => "singlevaluelist",
            Datatype::Multivaluelist => "multivaluelist",
        }
    }
}

/// `GET services/{code}`: the extra questions of a service.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Attribute {
    /// False for an informational attribute that takes no answer.
    pub variable: bool,
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: Option<String>,
    pub order: u32,
    pub description: String,
    pub values: Vec<AttributeValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AttributeValue {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }

    pub fn of(state: domain::CaseState) -> Status {
        if state.is_open() { Status::Open } else { Status::Closed }
    }
}

/// One service request as `GET requests` shows it. Holds no personal data: the reporter is never part of it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ServiceRequest {
    pub service_request_id: String,
    pub status: Status,
    pub status_notes: Option<String>,
    pub service_name: Option<String>,
    pub service_code: String,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    /// W3C (RFC 3339) date-time.
    pub requested_datetime: String,
    pub updated_datetime: Option<String>,
    pub expected_datetime: Option<String>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

/// The answer to `POST requests`: the new id, or a token to look it up later.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PostedRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub service_notice: Option<String>,
    pub account_id: Option<String>,
}

/// The answer to `GET tokens/{token}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TokenStatus {
    pub service_request_id: Option<String>,
    pub token: String,
}

/// One entry of FixMyStreet's `GET servicerequestupdates`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RequestUpdate {
    pub update_id: String,
    pub service_request_id: String,
    pub status: Status,
    pub updated_datetime: String,
    pub description: String,
    pub media_url: Option<String>,
}

/// The answer to FixMyStreet's `POST servicerequestupdates`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PostedUpdate {
    pub update_id: String,
}

/// One entry of the Open311 `errors` document.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ErrorItem {
    /// The HTTP status code.
    pub code: u16,
    pub description: String,
}
