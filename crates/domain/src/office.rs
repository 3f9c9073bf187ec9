//! Offices, their staff and mediation teams: who can hold a case, who works it and who is told when it is late.
//!
//! An office lives in one administrative unit and is named `UNIT:KEY` (`330502001:gov` is a township government,
//! `330502:housing` a county housing department, `330502001001:committee` a village committee). The unit part makes
//! the office's level explicit, which routing and escalation rely on; [`Office::new`] checks that the kind of office
//! fits the level of its unit.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::territory::{Level, UnitCode};

/// The key of a village (residents') committee office.
pub const VILLAGE_COMMITTEE: &str = "committee";
/// The key of a township government or a county government office.
pub const GOVERNMENT: &str = "gov";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OfficeError {
    #[error("office id {id:?} is not of the form UNITCODE:key (e.g. 330502001:gov)")]
    BadId { id: String },
    #[error("office {id}: a {kind} belongs to a {expected} unit, not a {found} unit")]
    WrongLevel {
        id: OfficeId,
        kind: &'static str,
        expected: Level,
        found: Level,
    },
    #[error("staff {id:?} has no role")]
    NoRole { id: String },
    #[error("staff {id:?} has an empty name")]
    EmptyName { id: String },
    #[error("mediation team {id:?} has no members")]
    EmptyTeam { id: String },
}

/// An office's identity, `UNIT:KEY`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OfficeId {
    unit: UnitCode,
    key: String,
}

impl OfficeId {
    pub fn parse(id: &str) -> Result<OfficeId, OfficeError> {
        let bad = || OfficeError::BadId { id: id.to_string() };
        let (unit, key) = id.trim().split_once(':').ok_or_else(bad)?;
        let unit = UnitCode::parse(unit).map_err(|_| bad())?;
        let key_ok = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !key_ok {
            return Err(bad());
        }
        Ok(OfficeId {
            unit,
            key: key.to_string(),
        })
    }

    pub fn new(unit: &UnitCode, key: &str) -> Result<OfficeId, OfficeError> {
        OfficeId::parse(&format!("{unit}:{key}"))
    }

    pub fn unit(&self) -> &UnitCode {
        &self.unit
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn level(&self) -> Level {
        self.unit.level()
    }

    /// The office one level up that supervises this one and is told when it is late: a village committee answers to
    /// its township government, a township office and a county department to the county government, a county
    /// government to the prefecture's.
    pub fn supervisor(&self) -> Option<OfficeId> {
        let unit = match (self.level(), self.key.as_str()) {
            (Level::County, key) if key != GOVERNMENT => self.unit.clone(),
            _ => self.unit.parent_code()?,
        };
        Some(OfficeId {
            unit,
            key: GOVERNMENT.to_string(),
        })
    }
}

impl fmt::Display for OfficeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.unit, self.key)
    }
}

impl TryFrom<String> for OfficeId {
    type Error = OfficeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        OfficeId::parse(&s)
    }
}

impl From<OfficeId> for String {
    fn from(id: OfficeId) -> String {
        id.to_string()
    }
}

/// The sector of a county department (县直部门).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    Housing,
    Environment,
    PublicSecurity,
    CivilAffairs,
    UrbanManagement,
    MarketRegulation,
    Transport,
    Health,
    Education,
    HumanResources,
    NaturalResources,
    Agriculture,
    WaterResources,
    Justice,
    EmergencyManagement,
    /// Water, power and gas supply (公用事业).
    Utilities,
    /// The letters-and-visits bureau (信访局), which registers and forwards petitions (2022 Regulations Art. 23).
    LettersAndVisits,
}

impl Sector {
    pub const ALL: [Sector; 17] = [
        Sector::Housing,
        Sector::Environment,
        Sector::PublicSecurity,
        Sector::CivilAffairs,
        Sector::UrbanManagement,
        Sector::MarketRegulation,
        Sector::Transport,
        Sector::Health,
        Sector::Education,
        Sector::HumanResources,
        Sector::NaturalResources,
        Sector::Agriculture,
        Sector::WaterResources,
        Sector::Justice,
        Sector::EmergencyManagement,
        Sector::Utilities,
        Sector::LettersAndVisits,
    ];

    /// The office key a department of this sector conventionally has (`330502:housing`).
    pub fn key(self) -> &'static str {
        match self {
            Sector::Housing => "housing",
            Sector::Environment => "environment",
            Sector::PublicSecurity => "public_security",
            Sector::CivilAffairs => "civil_affairs",
            Sector::UrbanManagement => "urban_management",
            Sector::MarketRegulation => "market_regulation",
            Sector::Transport => "transport",
            Sector::Health => "health",
            Sector::Education => "education",
            Sector::HumanResources => "human_resources",
            Sector::NaturalResources => "natural_resources",
            Sector::Agriculture => "agriculture",
            Sector::WaterResources => "water_resources",
            Sector::Justice => "justice",
            Sector::EmergencyManagement => "emergency_management",
            Sector::Utilities => "utilities",
            Sector::LettersAndVisits => "letters_and_visits",
        }
    }

    pub fn from_key(key: &str) -> Option<Sector> {
        Sector::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// What an office is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OfficeKind {
    /// A village or residents' committee (村委会/居委会), self-governing but the first door residents knock on.
    VillageCommittee,
    TownshipGovernment,
    CountyGovernment,
    CountyDepartment {
        sector: Sector,
    },
    /// A prefecture's government: it reviews its counties' handling and re-examines their reviews (Arts. 35–36).
    PrefectureGovernment,
    /// A province's government: the last level of re-examination for its prefectures.
    ProvinceGovernment,
}

impl OfficeKind {
    pub fn level(self) -> Level {
        match self {
            OfficeKind::VillageCommittee => Level::Village,
            OfficeKind::TownshipGovernment => Level::Township,
            OfficeKind::CountyGovernment | OfficeKind::CountyDepartment { .. } => Level::County,
            OfficeKind::PrefectureGovernment => Level::Prefecture,
            OfficeKind::ProvinceGovernment => Level::Province,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OfficeKind::VillageCommittee => "village committee",
            OfficeKind::TownshipGovernment => "township government",
            OfficeKind::CountyGovernment => "county government",
            OfficeKind::CountyDepartment { .. } => "county department",
            OfficeKind::PrefectureGovernment => "prefecture government",
            OfficeKind::ProvinceGovernment => "province government",
        }
    }
}

/// An office and the case categories it handles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Office {
    pub id: OfficeId,
    pub name: String,
    #[serde(flatten)]
    pub kind: OfficeKind,
    #[serde(default)]
    pub categories: Vec<String>,
}

impl Office {
    pub fn new(id: OfficeId, name: &str, kind: OfficeKind, categories: &[&str]) -> Result<Office, OfficeError> {
        if id.level() != kind.level() {
            return Err(OfficeError::WrongLevel {
                kind: kind.as_str(),
                expected: kind.level(),
                found: id.level(),
                id,
            });
        }
        Ok(Office {
            id,
            name: name.trim().to_string(),
            kind,
            categories: categories.iter().map(|c| c.to_string()).collect(),
        })
    }

    pub fn handles(&self, category: &str) -> bool {
        self.categories.iter().any(|c| c == category)
    }

    /// The conventional offices of a unit: a village committee, a township government, or a county government with
    /// one department per sector. The simulator and the demo start from these.
    pub fn standard_for(unit: &UnitCode, name: &str) -> Vec<Office> {
        let make = |key: &str, label: String, kind: OfficeKind| {
            OfficeId::new(unit, key).ok().map(|id| Office {
                id,
                name: label,
                kind,
                categories: Vec::new(),
            })
        };
        match unit.level() {
            Level::Village => make(
                VILLAGE_COMMITTEE,
                format!("{name} committee"),
                OfficeKind::VillageCommittee,
            )
            .into_iter()
            .collect(),
            Level::Township => make(GOVERNMENT, format!("{name} government"), OfficeKind::TownshipGovernment)
                .into_iter()
                .collect(),
            Level::County => std::iter::once(make(
                GOVERNMENT,
                format!("{name} government"),
                OfficeKind::CountyGovernment,
            ))
            .chain(Sector::ALL.into_iter().map(|sector| {
                make(
                    sector.key(),
                    format!("{name} {}", sector.key().replace('_', " ")),
                    OfficeKind::CountyDepartment { sector },
                )
            }))
            .flatten()
            .collect(),
            // The levels above review and re-examine (Arts. 35–36); they take no cases of their own at intake.
            Level::Prefecture => make(
                GOVERNMENT,
                format!("{name} government"),
                OfficeKind::PrefectureGovernment,
            )
            .into_iter()
            .collect(),
            Level::Province => make(GOVERNMENT, format!("{name} government"), OfficeKind::ProvinceGovernment)
                .into_iter()
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    GridWorker,
    Caseworker,
    Mediator,
    Head,
}

/// A member of an office. Auxiliary staff (协管员, contracted grid workers) are staff too, marked as such.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Staff {
    pub id: String,
    pub name: String,
    pub office: OfficeId,
    pub roles: Vec<Role>,
    #[serde(default)]
    pub auxiliary: bool,
}

impl Staff {
    pub fn new(id: &str, name: &str, office: OfficeId, roles: &[Role], auxiliary: bool) -> Result<Staff, OfficeError> {
        if roles.is_empty() {
            return Err(OfficeError::NoRole { id: id.to_string() });
        }
        if name.trim().is_empty() {
            return Err(OfficeError::EmptyName { id: id.to_string() });
        }
        Ok(Staff {
            id: id.to_string(),
            name: name.trim().to_string(),
            office,
            roles: roles.to_vec(),
            auxiliary,
        })
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// One member of a mediation team: staff, or a respected community member who is not staff (People's Mediation Law
/// 2010 Art. 13: mediators are committee members and persons the committee engages; the Maple Bridge practice relies
/// on such elders and volunteers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    pub name: String,
    /// The staff id when the member is staff; `None` for a community member.
    #[serde(default)]
    pub staff: Option<String>,
}

impl TeamMember {
    pub fn is_staff(&self) -> bool {
        self.staff.is_some()
    }
}

/// A mediation team attached to an office (a village committee's or a township's people's mediation committee).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediationTeam {
    pub id: String,
    pub office: OfficeId,
    pub members: Vec<TeamMember>,
}

impl MediationTeam {
    pub fn new(id: &str, office: OfficeId, members: Vec<TeamMember>) -> Result<MediationTeam, OfficeError> {
        if members.is_empty() {
            return Err(OfficeError::EmptyTeam { id: id.to_string() });
        }
        Ok(MediationTeam {
            id: id.to_string(),
            office,
            members,
        })
    }

    pub fn community_members(&self) -> usize {
        self.members.iter().filter(|m| !m.is_staff()).count()
    }
}

/// The offices, staff and teams of a deployment, as the rules need to read them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    #[serde(default)]
    pub offices: Vec<Office>,
    #[serde(default)]
    pub staff: Vec<Staff>,
    #[serde(default)]
    pub teams: Vec<MediationTeam>,
}

impl Directory {
    /// The conventional offices of every village, township and county of a territory, each with a head and a
    /// caseworker on record, and at every village committee and township government a mediation team of one staff
    /// mediator and two community members. Deterministic: the demo and the simulator start from it.
    pub fn standard(territory: &crate::territory::Territory) -> Directory {
        let mut dir = Directory::default();
        for unit in territory.units_sorted() {
            for office in Office::standard_for(&unit.code, &unit.name) {
                let id = office.id.clone();
                let staff = |suffix: &str, name: String, roles: &[Role], auxiliary| Staff {
                    id: format!("{id}/{suffix}"),
                    name,
                    office: id.clone(),
                    roles: roles.to_vec(),
                    auxiliary,
                };
                dir.staff
                    .push(staff("head", format!("head of {}", office.name), &[Role::Head], false));
                dir.staff.push(staff(
                    "caseworker",
                    format!("caseworker of {}", office.name),
                    &[Role::Caseworker],
                    false,
                ));
                if matches!(
                    office.kind,
                    OfficeKind::VillageCommittee | OfficeKind::TownshipGovernment
                ) {
                    let mediator = staff(
                        "mediator",
                        format!("mediator of {}", office.name),
                        &[Role::Mediator],
                        true,
                    );
                    dir.teams.push(MediationTeam {
                        id: format!("{id}/mediation"),
                        office: id.clone(),
                        members: vec![
                            TeamMember {
                                name: mediator.name.clone(),
                                staff: Some(mediator.id.clone()),
                            },
                            TeamMember {
                                name: format!("respected elder of {}", unit.name),
                                staff: None,
                            },
                            TeamMember {
                                name: format!("volunteer of {}", unit.name),
                                staff: None,
                            },
                        ],
                    });
                    dir.staff.push(mediator);
                }
                dir.offices.push(office);
            }
        }
        dir
    }

    pub fn office(&self, id: &OfficeId) -> Option<&Office> {
        self.offices.iter().find(|o| &o.id == id)
    }

    /// The mediation team of an office, if it has one.
    pub fn team_of(&self, office: &OfficeId) -> Option<&MediationTeam> {
        self.teams.iter().find(|t| &t.office == office)
    }

    /// The heads of an office, by staff id.
    pub fn heads(&self, office: &OfficeId) -> Vec<&str> {
        self.staff
            .iter()
            .filter(|s| &s.office == office && s.has_role(Role::Head))
            .map(|s| s.id.as_str())
            .collect()
    }

    /// Who is told when a case held by `office` is late: the office's heads (or the office itself when it has none on
    /// record) and the supervising office one level up.
    pub fn alert_recipients(&self, office: &OfficeId) -> Vec<String> {
        let mut who: Vec<String> = self.heads(office).into_iter().map(str::to_string).collect();
        if who.is_empty() {
            who.push(office.to_string());
        }
        if let Some(up) = office.supervisor() {
            let heads = self.heads(&up);
            if heads.is_empty() {
                who.push(up.to_string());
            } else {
                who.extend(heads.into_iter().map(str::to_string));
            }
        }
        who
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> OfficeId {
        OfficeId::parse(s).expect("valid office id")
    }

    #[test]
    fn office_ids_carry_their_unit_and_level() {
        let o = id("330502001:gov");
        assert_eq!(o.unit().as_str(), "330502001");
        assert_eq!(o.level(), Level::Township);
        assert_eq!(o.to_string(), "330502001:gov");
        for bad in ["330502001", "33050:gov", "330502001:", "330502001:Gov", ":gov"] {
            assert!(OfficeId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_kind_of_office_must_fit_the_level_of_its_unit() {
        let err = Office::new(id("330502001:gov"), "x", OfficeKind::VillageCommittee, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "office 330502001:gov: a village committee belongs to a village unit, not a township unit"
        );
        let housing = Office::new(
            id("330502:housing"),
            "Wuxing housing",
            OfficeKind::CountyDepartment {
                sector: Sector::Housing,
            },
            &["building_safety"],
        )
        .expect("county department at county level");
        assert!(housing.handles("building_safety"));
        assert!(!housing.handles("noise"));
    }

    #[test]
    fn supervisors_are_one_level_up() {
        assert_eq!(id("330502001001:committee").supervisor(), Some(id("330502001:gov")));
        assert_eq!(id("330502001:gov").supervisor(), Some(id("330502:gov")));
        assert_eq!(id("330502:housing").supervisor(), Some(id("330502:gov")));
        assert_eq!(id("330502:gov").supervisor(), Some(id("3305:gov")));
        assert_eq!(id("33:gov").supervisor(), None);
    }

    #[test]
    fn alerts_go_to_the_head_and_the_level_above() {
        let dir = Directory {
            offices: Vec::new(),
            staff: vec![
                Staff::new("s1", "Li", id("330502001:gov"), &[Role::Head], false).expect("staff"),
                Staff::new("s2", "Wang", id("330502001:gov"), &[Role::Caseworker], true).expect("staff"),
                Staff::new("s3", "Zhao", id("330502:gov"), &[Role::Head], false).expect("staff"),
            ],
            teams: Vec::new(),
        };
        assert_eq!(dir.alert_recipients(&id("330502001:gov")), ["s1", "s3"]);
        // Without heads on record, the offices themselves are notified.
        assert_eq!(
            dir.alert_recipients(&id("330502001001:committee")),
            ["330502001001:committee", "s1"]
        );
        assert!(dir.staff[1].auxiliary);
    }

    #[test]
    fn staff_need_a_role_and_teams_a_member() {
        assert!(Staff::new("s", "Li", id("330502001:gov"), &[], false).is_err());
        let team = MediationTeam::new(
            "t1",
            id("330502001001:committee"),
            vec![
                TeamMember {
                    name: "Elder Shen".into(),
                    staff: None,
                },
                TeamMember {
                    name: "Li".into(),
                    staff: Some("s1".into()),
                },
            ],
        )
        .expect("team");
        assert_eq!(team.community_members(), 1);
        assert!(MediationTeam::new("t2", id("330502001:gov"), Vec::new()).is_err());
    }

    #[test]
    fn a_standard_directory_staffs_every_office_and_gives_villages_mediation_teams() {
        use crate::territory::{Territory, Unit};
        let unit = |code: &str, name: &str| {
            let code = UnitCode::parse(code).expect("code");
            let parent = code.parent_code();
            Unit::new(code, name, parent).expect("unit")
        };
        let territory = Territory::build([
            unit("330502", "Wuxing"),
            unit("330502001", "Feiying"),
            unit("330502001001", "Xiyuan"),
        ])
        .expect("territory");
        let dir = Directory::standard(&territory);
        assert_eq!(dir.offices.len(), 1 + Sector::ALL.len() + 1 + 1);
        assert_eq!(
            dir.heads(&id("330502001001:committee")),
            ["330502001001:committee/head"]
        );
        let team = dir.team_of(&id("330502001001:committee")).expect("village team");
        assert_eq!(team.community_members(), 2);
        assert!(dir.team_of(&id("330502:housing")).is_none());
        assert_eq!(
            dir.alert_recipients(&id("330502001001:committee")),
            ["330502001001:committee/head", "330502001:gov/head"]
        );
    }

    #[test]
    fn a_county_gets_a_government_and_one_department_per_sector() {
        let county = UnitCode::parse("330502").expect("code");
        let offices = Office::standard_for(&county, "Wuxing");
        assert_eq!(offices.len(), 1 + Sector::ALL.len());
        assert!(offices.iter().any(|o| o.id == id("330502:letters_and_visits")));
        let toml = toml::to_string(&Directory {
            offices: offices[..2].to_vec(),
            ..Directory::default()
        })
        .expect("serialises");
        let back: Directory = toml::from_str(&toml).expect("round trip");
        assert_eq!(back.offices, offices[..2].to_vec());
    }
}
