//! 天津市好网民宣讲团: the rules of nominating worker good-netizen models, selecting them jointly
//! (the city union and the 网信办 liaison must both approve) and keeping the team's roster. Pure
//! rules; the service applies them in transactions.

use super::org::OrgKind;

/// The version of the consent text a nominee agrees to (recorded with every nomination): their
/// data used for selection, their name, unit, photo and deed summary published if selected.
pub const CONSENT_VERSION: &str = "lecture-team-2020-v1";
/// The consent text shown on the forms, of that version.
pub const CONSENT_TEXT: &str = "被推荐人已知悉并同意：推荐材料用于“职工好网民榜样”评选；入选后其姓名、单位、照片和事迹简介在宣讲团页面和公示中公开；联系电话仅供组织方联系，不公开。";

/// A person's name, in characters.
pub const MAX_NAME_CHARS: usize = 20;
/// Workplace (工作单位) and post (职务), in characters.
pub const MAX_WORKPLACE_CHARS: usize = 60;
pub const MAX_POST_CHARS: usize = 30;
/// 政治面貌, in characters.
pub const MAX_POLITICAL_CHARS: usize = 20;
/// Online accounts (平台与账号, one a line), in characters.
pub const MAX_ACCOUNTS_CHARS: usize = 300;
/// 事迹材料: at least this many characters, at most that many.
pub const MIN_DEEDS_CHARS: usize = 100;
pub const MAX_DEEDS_CHARS: usize = 3_000;
/// The short deed summary shown on the public profile, in characters.
pub const MAX_SUMMARY_CHARS: usize = 200;
/// Links to the nominee's work online: at most this many, each at most that long.
pub const MAX_LINKS: usize = 5;
pub const MAX_LINK_CHARS: usize = 300;
/// A reason given when returning, rejecting or retiring, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// Nominations one unit may make when the campaign file does not say.
pub const DEFAULT_NOMINATIONS_PER_UNIT: u32 = 2;
/// Highest per-unit quota and team size a campaign file may set.
pub const MAX_NOMINATIONS_PER_UNIT: u32 = 20;
pub const MAX_WORKER_MODELS: u32 = 100;
/// Members the roster holds in all (models and other members, retired ones included).
pub const MAX_MEMBERS: i64 = 500;
/// A nominee's or member's photo, before re-encoding.
pub const MAX_PHOTO_BYTES: u64 = 10 * 1024 * 1024;
/// The category of a member who came through the selection.
pub const MODEL_CATEGORY: &str = "职工好网民榜样";
/// Categories the city and the 网信办 may add besides the campaign's representative groups.
pub const OTHER_CATEGORIES: [&str; 2] = ["专家", "讲师"];

/// Which unions nominate: the district, bureau and group-company unions.
pub fn may_nominate(kind: OrgKind) -> bool {
    matches!(kind, OrgKind::DistrictUnion | OrgKind::BureauGroup)
}

/// Where a nomination is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NominationStatus {
    /// Sent by the unit; the city vets it.
    Submitted,
    /// Sent back to the unit with a reason; the unit corrects and sends it again.
    Returned,
    /// Vetted by the city: on the shortlist for the joint selection.
    Shortlisted,
    /// Both the city union and the 网信办 approved: may go on the 公示.
    Endorsed,
    /// One of the two declined.
    Rejected,
    /// On the closed 公示, not withdrawn: a selected model.
    Selected,
}

impl NominationStatus {
    pub fn code(self) -> &'static str {
        match self {
            NominationStatus::Submitted => "submitted",
            NominationStatus::Returned => "returned",
            NominationStatus::Shortlisted => "shortlisted",
            NominationStatus::Endorsed => "endorsed",
            NominationStatus::Rejected => "rejected",
            NominationStatus::Selected => "selected",
        }
    }

    pub fn from_code(code: &str) -> Option<NominationStatus> {
        Some(match code {
            "submitted" => NominationStatus::Submitted,
            "returned" => NominationStatus::Returned,
            "shortlisted" => NominationStatus::Shortlisted,
            "endorsed" => NominationStatus::Endorsed,
            "rejected" => NominationStatus::Rejected,
            "selected" => NominationStatus::Selected,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            NominationStatus::Submitted => "已推荐，待市总审核",
            NominationStatus::Returned => "已退回，待修改",
            NominationStatus::Shortlisted => "已入围，待市总工会与网信办共同评选",
            NominationStatus::Endorsed => "双方同意，待公示",
            NominationStatus::Rejected => "未入选",
            NominationStatus::Selected => "公示期满，已入选",
        }
    }

    /// The nominating unit may correct it (and it counts against the quota until rejected).
    pub fn editable(self) -> bool {
        matches!(
            self,
            NominationStatus::Submitted | NominationStatus::Returned
        )
    }
}

/// One side of the joint selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// 市总工会 (a city admin).
    Union,
    /// 网信办 (a liaison account, the city's or the nominee's district's).
    Liaison,
}

impl Side {
    pub fn label(self) -> &'static str {
        match self {
            Side::Union => "市总工会",
            Side::Liaison => "网信办",
        }
    }
}

/// The outcome of the joint selection from the two sides' decisions (`true` approve): endorsed
/// only when both approved; rejected as soon as one declined; otherwise still shortlisted.
pub fn joint_outcome(union: Option<bool>, liaison: Option<bool>) -> NominationStatus {
    match (union, liaison) {
        (Some(true), Some(true)) => NominationStatus::Endorsed,
        (Some(false), _) | (_, Some(false)) => NominationStatus::Rejected,
        _ => NominationStatus::Shortlisted,
    }
}

/// Splits the links box into links: one a line, blank lines dropped; each must be http(s).
pub fn parse_links(raw: &str) -> Result<Vec<String>, String> {
    let links: Vec<String> = raw
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if links.len() > MAX_LINKS {
        return Err(format!(
            "作品链接最多 {MAX_LINKS} 条（现有 {} 条）",
            links.len()
        ));
    }
    for l in &links {
        if !(l.starts_with("https://") || l.starts_with("http://")) {
            return Err(format!("作品链接须以 http:// 或 https:// 开头：{l}"));
        }
        if l.chars().count() > MAX_LINK_CHARS || l.chars().any(char::is_whitespace) {
            return Err(format!(
                "作品链接每条不超过 {MAX_LINK_CHARS} 个字符、不含空格：{l}"
            ));
        }
    }
    Ok(links)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_only_when_both_sides_approve() {
        use NominationStatus as S;
        assert_eq!(joint_outcome(None, None), S::Shortlisted);
        assert_eq!(joint_outcome(Some(true), None), S::Shortlisted);
        assert_eq!(joint_outcome(None, Some(true)), S::Shortlisted);
        assert_eq!(joint_outcome(Some(true), Some(true)), S::Endorsed);
        assert_eq!(joint_outcome(Some(true), Some(false)), S::Rejected);
        assert_eq!(joint_outcome(Some(false), None), S::Rejected);
    }

    #[test]
    fn status_codes_round_trip() {
        for s in [
            NominationStatus::Submitted,
            NominationStatus::Returned,
            NominationStatus::Shortlisted,
            NominationStatus::Endorsed,
            NominationStatus::Rejected,
            NominationStatus::Selected,
        ] {
            assert_eq!(NominationStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(NominationStatus::from_code("nope"), None);
    }

    #[test]
    fn links_are_http_and_few() {
        assert_eq!(
            parse_links("https://a.cn/1\n\n http://b.cn/2 ").unwrap(),
            vec!["https://a.cn/1", "http://b.cn/2"]
        );
        assert!(parse_links("javascript:alert(1)").is_err());
        assert!(parse_links(&"https://a.cn\n".repeat(6)).is_err());
    }
}
