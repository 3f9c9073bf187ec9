//! What residents bring: the categories of cases, their kinds, how often they arrive and who is competent for them.

use domain::{CaseKind, Level};

/// The level whose office is competent for a category ("small matters don't leave the village, big matters don't
/// leave the township", 2022 Regulations on Letters and Visits Work Art. 15), and the county department when the
/// matter belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Competence {
    Village,
    Township,
    County(&'static str),
}

impl Competence {
    pub fn level(self) -> Level {
        match self {
            Competence::Village => Level::Village,
            Competence::Township => Level::Township,
            Competence::County(_) => Level::County,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Category {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub kind: CaseKind,
    pub competence: Competence,
    /// Cases per 1,000 residents per year.
    pub rate: f64,
    /// Mean working effort in staff-days.
    pub effort: f64,
}

const fn cat(
    code: &'static str,
    name_zh: &'static str,
    kind: CaseKind,
    competence: Competence,
    rate: f64,
    effort: f64,
) -> Category {
    Category {
        code,
        name_zh,
        kind,
        competence,
        rate,
        effort,
    }
}

use CaseKind as K;
use Competence as C;

/// The catalogue used by the simulator and offered as Open311 services. Rates are chosen so that a region of
/// 3.4 million residents produces about 200,000 cases a year (hotline volumes of Chinese prefectures are of this order).
pub const CATEGORIES: &[Category] = &[
    cat("policy_enquiry", "政策咨询", K::Enquiry, C::Township, 12.0, 0.1),
    cat("streetlight", "路灯损坏", K::ServiceRequest, C::Village, 4.0, 0.5),
    cat("garbage", "垃圾清运", K::ServiceRequest, C::Village, 6.0, 0.4),
    cat("road_damage", "道路破损", K::ServiceRequest, C::Township, 3.0, 1.5),
    cat(
        "water_supply",
        "供水问题",
        K::ServiceRequest,
        C::County("utilities"),
        3.0,
        1.0,
    ),
    cat("noise", "噪声扰民", K::Complaint, C::Township, 4.0, 0.8),
    cat(
        "pollution",
        "环境污染",
        K::Complaint,
        C::County("environment"),
        2.0,
        2.5,
    ),
    cat(
        "food_safety",
        "食品安全",
        K::Report,
        C::County("market_regulation"),
        1.5,
        2.0,
    ),
    cat("neighbour_dispute", "邻里纠纷", K::Dispute, C::Village, 5.0, 1.0),
    cat(
        "land_contract_dispute",
        "土地承包纠纷",
        K::Dispute,
        C::Township,
        1.5,
        3.0,
    ),
    cat(
        "wage_arrears",
        "拖欠工资",
        K::Petition,
        C::County("human_resources"),
        1.5,
        4.0,
    ),
    cat(
        "housing_demolition",
        "征地拆迁",
        K::Petition,
        C::County("housing"),
        0.8,
        6.0,
    ),
    cat("social_assistance", "社会救助", K::Petition, C::Township, 1.5, 2.0),
    cat(
        "public_security",
        "治安隐患",
        K::PatrolEvent,
        C::County("public_security"),
        1.0,
        1.5,
    ),
    cat("hazard_patrol", "安全隐患巡查", K::PatrolEvent, C::Village, 3.0, 0.5),
    cat("suggestion", "意见建议", K::Suggestion, C::Township, 1.0, 0.5),
];

pub fn category(code: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.code == code)
}
