//! Roles and what each may do. Scope (which orgs) is the account's org subtree; this module
//! says which kinds of action a role may take at all.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 市总管理员 (宣教网络部): the whole campaign.
    CityAdmin,
    /// 网信办联络员: the whole campaign, read-mostly.
    CoOrganiserLiaison,
    /// 区总/局集团公司/中间层 admin: its own subtree.
    UnitAdmin,
    /// 基层工会管理员: its own unit.
    GrassrootsAdmin,
    /// 审核员: assigned sub-projects.
    Moderator,
    /// 评审专家: assigned works.
    Reviewer,
    /// 职工: self.
    Worker,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::CityAdmin,
        Role::CoOrganiserLiaison,
        Role::UnitAdmin,
        Role::GrassrootsAdmin,
        Role::Moderator,
        Role::Reviewer,
        Role::Worker,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::CityAdmin => "city_admin",
            Role::CoOrganiserLiaison => "co_organiser_liaison",
            Role::UnitAdmin => "unit_admin",
            Role::GrassrootsAdmin => "grassroots_admin",
            Role::Moderator => "moderator",
            Role::Reviewer => "reviewer",
            Role::Worker => "worker",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::CityAdmin => "市总管理员",
            Role::CoOrganiserLiaison => "网信办联络员",
            Role::UnitAdmin => "单位管理员",
            Role::GrassrootsAdmin => "基层工会管理员",
            Role::Moderator => "审核员",
            Role::Reviewer => "评审专家",
            Role::Worker => "职工",
        }
    }

    /// The role stored under `code` (codes only, not labels).
    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn parse(text: &str) -> Option<Role> {
        let text = text.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.code() == text || r.label_zh() == text)
    }

    /// Staff run the campaign; their passwords follow the stricter policy.
    pub fn is_staff(self) -> bool {
        self != Role::Worker
    }

    /// Sees the whole campaign regardless of the org the account is bound to.
    pub fn sees_everything(self) -> bool {
        matches!(self, Role::CityAdmin | Role::CoOrganiserLiaison)
    }

    /// May look at the org tree (within scope).
    pub fn may_view_orgs(self) -> bool {
        matches!(
            self,
            Role::CityAdmin | Role::CoOrganiserLiaison | Role::UnitAdmin | Role::GrassrootsAdmin
        )
    }

    /// May create, rename or move orgs (within scope, below its own org).
    pub fn may_edit_orgs(self) -> bool {
        matches!(self, Role::CityAdmin | Role::UnitAdmin)
    }

    /// May list and manage accounts (within scope).
    pub fn may_manage_users(self) -> bool {
        matches!(
            self,
            Role::CityAdmin | Role::UnitAdmin | Role::GrassrootsAdmin
        )
    }

    /// Roles this role may hand out.
    pub fn may_grant(self, other: Role) -> bool {
        match self {
            Role::CityAdmin => true,
            Role::UnitAdmin => matches!(
                other,
                Role::UnitAdmin | Role::GrassrootsAdmin | Role::Worker
            ),
            Role::GrassrootsAdmin => matches!(other, Role::GrassrootsAdmin | Role::Worker),
            _ => false,
        }
    }

    /// May plan, report and approve offline activities (within scope).
    pub fn may_report_activities(self) -> bool {
        matches!(
            self,
            Role::CityAdmin | Role::UnitAdmin | Role::GrassrootsAdmin
        )
    }

    /// May decide on submitted works (the moderation queue).
    pub fn may_moderate(self) -> bool {
        matches!(self, Role::CityAdmin | Role::Moderator)
    }

    /// May submit works (workers, and unit admins filing for their members).
    pub fn may_submit_works(self) -> bool {
        matches!(
            self,
            Role::Worker | Role::CityAdmin | Role::UnitAdmin | Role::GrassrootsAdmin
        )
    }

    /// May see works: authors see their own, the others within their remit. Reviewers see
    /// works only through their blind score sheets (`may_review`), never the works pages.
    pub fn may_read_works(self) -> bool {
        !matches!(self, Role::CoOrganiserLiaison | Role::Reviewer)
    }

    /// Scores the works assigned to them, blind.
    pub fn may_review(self) -> bool {
        self == Role::Reviewer
    }

    /// Runs selection: reviewer pools and conflicts, rounds, assignment, closing.
    pub fn may_run_selection(self) -> bool {
        self == Role::CityAdmin
    }

    /// May read activity reports and progress (within scope).
    pub fn may_read_activities(self) -> bool {
        self.may_report_activities() || self == Role::CoOrganiserLiaison
    }

    /// May set quotas: the city for anyone, a unit admin for the units below it.
    pub fn may_allocate_quotas(self) -> bool {
        matches!(self, Role::CityAdmin | Role::UnitAdmin)
    }

    /// Drafting and publishing 公示, ruling on objections: the city union.
    pub fn may_publicise(self) -> bool {
        self == Role::CityAdmin
    }

    pub fn may_read_audit(self) -> bool {
        self == Role::CityAdmin
    }

    /// An administrator of a unit (or of the campaign).
    pub fn is_admin(self) -> bool {
        matches!(
            self,
            Role::CityAdmin | Role::CoOrganiserLiaison | Role::UnitAdmin | Role::GrassrootsAdmin
        )
    }

    /// Whether an account with this role at the org with path `own_path` may manage (see,
    /// reset, disable, edit) an account with `target` at `target_path`. The city manages every
    /// account; an admin manages the accounts it could create in the units below its own, and
    /// the non-admin accounts of its own unit, never a peer admin of its own unit (only an
    /// admin of a unit above may reset or disable an admin).
    pub fn may_manage_account(self, own_path: &str, target: Role, target_path: &str) -> bool {
        if self == Role::CityAdmin {
            return true;
        }
        if !self.may_manage_users() || !self.may_grant(target) || !target_path.starts_with(own_path)
        {
            return false;
        }
        target_path != own_path || !target.is_admin()
    }
}

/// Shown as its Chinese label (pages); stored and serialised as its code.
impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label_zh())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Some(role));
            assert_eq!(Role::parse(role.label_zh()), Some(role));
        }
    }

    #[test]
    fn peer_admins_do_not_manage_each_other() {
        let unit = "/1/5/";
        let below = "/1/5/23/";
        assert!(!Role::UnitAdmin.may_manage_account(unit, Role::UnitAdmin, unit));
        assert!(Role::UnitAdmin.may_manage_account(unit, Role::UnitAdmin, below));
        assert!(Role::UnitAdmin.may_manage_account(unit, Role::Worker, unit));
        assert!(!Role::GrassrootsAdmin.may_manage_account(below, Role::GrassrootsAdmin, below));
        assert!(Role::GrassrootsAdmin.may_manage_account(below, Role::Worker, below));
        assert!(!Role::UnitAdmin.may_manage_account(below, Role::Worker, unit));
        assert!(!Role::UnitAdmin.may_manage_account(unit, Role::CityAdmin, below));
        assert!(Role::CityAdmin.may_manage_account("/1/", Role::UnitAdmin, unit));
    }

    #[test]
    fn nobody_grants_more_than_they_hold() {
        assert!(!Role::UnitAdmin.may_grant(Role::CityAdmin));
        assert!(!Role::UnitAdmin.may_grant(Role::CoOrganiserLiaison));
        assert!(!Role::GrassrootsAdmin.may_grant(Role::UnitAdmin));
        assert!(!Role::Worker.may_grant(Role::Worker));
        assert!(Role::CityAdmin.may_grant(Role::Moderator));
    }
}
