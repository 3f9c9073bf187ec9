//! What residents bring: the categories of cases, their kinds and how often they arrive. Who is competent for them is
//! the domain's routing table (`domain::routing`), as at intake.

use domain::CaseKind;

#[derive(Debug, Clone, Copy)]
pub struct Category {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub kind: CaseKind,
    /// Cases per 1,000 residents per year.
    pub rate: f64,
    /// Mean working effort in staff-days.
    pub effort: f64,
}

const fn cat(code: &'static str, name_zh: &'static str, kind: CaseKind, rate: f64, effort: f64) -> Category {
    Category {
        code,
        name_zh,
        kind,
        rate,
        effort,
    }
}

use CaseKind as K;

/// How often residents bring each of the categories the simulator draws, all from the domain's catalogue (the shipped
/// routing table, [`domain::routing::RoutingTable::categories`]), which Open311 offers as its services. Rates are chosen so that a region of
/// 3.4 million residents produces about 200,000 cases a year (hotline volumes of Chinese prefectures are of this order).
pub const CATEGORIES: &[Category] = &[
    cat("policy_enquiry", "政策咨询", K::Enquiry, 12.0, 0.1),
    cat("street_lighting", "路灯损坏", K::ServiceRequest, 4.0, 0.5),
    cat("garbage", "垃圾清运", K::ServiceRequest, 6.0, 0.4),
    cat("road_repair", "道路破损", K::ServiceRequest, 3.0, 1.5),
    cat("water_supply", "供水问题", K::ServiceRequest, 3.0, 1.0),
    cat("noise", "噪声扰民", K::Complaint, 4.0, 0.8),
    cat("pollution", "环境污染", K::Complaint, 2.0, 2.5),
    cat("food_safety", "食品安全", K::Report, 1.5, 2.0),
    cat("neighbour_dispute", "邻里纠纷", K::Dispute, 5.0, 1.0),
    cat("land_contract_dispute", "土地承包纠纷", K::Dispute, 1.5, 3.0),
    cat("wage_arrears", "拖欠工资", K::Petition, 1.5, 4.0),
    cat("housing_demolition", "征地拆迁", K::Petition, 0.8, 6.0),
    cat("social_assistance", "社会救助", K::Petition, 1.5, 2.0),
    cat("public_security", "治安隐患", K::PatrolEvent, 1.0, 1.5),
    cat("hazard_patrol", "安全隐患巡查", K::PatrolEvent, 3.0, 0.5),
    cat("suggestion", "意见建议", K::Suggestion, 1.0, 0.5),
];

pub fn category(code: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use domain::routing::RoutingTable;

    /// Issue 10 part 11: the simulator draws only categories of the domain's catalogue, each once.
    #[test]
    fn every_simulated_category_is_in_the_domain_catalogue() {
        let table = RoutingTable::default();
        let known = table.categories();
        for c in super::CATEGORIES {
            assert!(known.contains(&c.code), "{} is not in the catalogue", c.code);
        }
        let mut codes: Vec<&str> = super::CATEGORIES.iter().map(|c| c.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), super::CATEGORIES.len());
    }
}
