//! The org tree: kinds of union bodies and the rules a tree must keep (no cycles, unique names).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// What kind of body an org is. Stored as its snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 市总工会.
    CityUnion,
    /// 市委网信办, beside the union tree.
    CoOrganiser,
    /// 区总工会.
    DistrictUnion,
    /// 开发区/街镇/系统工会 between a district and its grassroots unions.
    IntermediateUnion,
    /// 局、集团公司工会.
    BureauGroup,
    /// 基层工会.
    Grassroots,
    /// A sub-project's host organisation outside the city (承办单位).
    ExternalHost,
}

impl OrgKind {
    pub const ALL: [OrgKind; 7] = [
        OrgKind::CityUnion,
        OrgKind::CoOrganiser,
        OrgKind::DistrictUnion,
        OrgKind::IntermediateUnion,
        OrgKind::BureauGroup,
        OrgKind::Grassroots,
        OrgKind::ExternalHost,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OrgKind::CityUnion => "city_union",
            OrgKind::CoOrganiser => "co_organiser",
            OrgKind::DistrictUnion => "district_union",
            OrgKind::IntermediateUnion => "intermediate_union",
            OrgKind::BureauGroup => "bureau_group",
            OrgKind::Grassroots => "grassroots",
            OrgKind::ExternalHost => "external_host",
        }
    }

    /// A union body a worker can belong to (not the co-organiser or an outside host).
    pub fn is_union(self) -> bool {
        !matches!(self, OrgKind::CoOrganiser | OrgKind::ExternalHost)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            OrgKind::CityUnion => "市总工会",
            OrgKind::CoOrganiser => "联合主办单位（网信办）",
            OrgKind::DistrictUnion => "区总工会",
            OrgKind::IntermediateUnion => "中间层工会（开发区/街镇/系统）",
            OrgKind::BureauGroup => "局、集团公司工会",
            OrgKind::Grassroots => "基层工会",
            OrgKind::ExternalHost => "外部承办单位",
        }
    }

    /// The kind stored under `code` (codes only, not labels).
    pub fn from_code(code: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Accepts the code or the Chinese label, as people type either into a spreadsheet.
    pub fn parse(text: &str) -> Option<OrgKind> {
        let text = text.trim();
        OrgKind::ALL.into_iter().find(|k| {
            k.code() == text
                || k.label_zh() == text
                || k.label_zh().split('（').next() == Some(text)
        })
    }
}

/// An org name: a name by `text::name` (NFC, trimmed, no invisible or control characters),
/// 2–100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(raw: &str) -> Result<OrgName, String> {
        let name = super::text::name(raw, super::text::limits::ORG_NAME)
            .map_err(|m| format!("单位名称{m}"))?;
        if name.chars().count() < 2 {
            Err("单位名称太短，请填写全称".into())
        } else {
            Ok(OrgName(name))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Finds a cycle in a parent map (child name → parent name), returning the names on it.
/// Used by imports, where a whole tree arrives at once.
pub fn find_cycle<'a>(parents: &HashMap<&'a str, &'a str>) -> Option<Vec<&'a str>> {
    let mut names: Vec<&str> = parents.keys().copied().collect();
    names.sort_unstable();
    for start in names {
        let mut seen = vec![start];
        let mut at = start;
        while let Some(&parent) = parents.get(at) {
            if let Some(pos) = seen.iter().position(|&n| n == parent) {
                return Some(seen[pos..].to_vec());
            }
            seen.push(parent);
            at = parent;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_code_and_label() {
        for kind in OrgKind::ALL {
            assert_eq!(OrgKind::parse(kind.code()), Some(kind));
            assert_eq!(OrgKind::parse(kind.label_zh()), Some(kind));
        }
        assert_eq!(
            OrgKind::parse("中间层工会"),
            Some(OrgKind::IntermediateUnion)
        );
        assert_eq!(OrgKind::parse("区工会"), None);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            OrgName::parse("  和平区总工会 ").map(|n| n.into_string()),
            Ok("和平区总工会".into())
        );
        assert!(OrgName::parse("").is_err());
        assert!(OrgName::parse("a\nb").is_err());
        assert!(OrgName::parse(&"工".repeat(101)).is_err());
    }

    #[test]
    fn cycles_are_found() {
        let tree = HashMap::from([("b", "a"), ("c", "b")]);
        assert_eq!(find_cycle(&tree), None);
        let cyclic = HashMap::from([("b", "a"), ("c", "b"), ("a", "c")]);
        let cycle = find_cycle(&cyclic).unwrap_or_default();
        assert_eq!(cycle.len(), 3);
        let selfloop = HashMap::from([("a", "a")]);
        assert_eq!(find_cycle(&selfloop), Some(vec!["a"]));
    }
}
