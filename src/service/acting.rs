//! Who is acting and in which campaign: the two things nearly every use case starts from.
//! `Acting` is the signed-in account as the services see it (role, org, scope and audit
//! identity; built by `http::session::Session::acting`), and `current_campaign` is the campaign
//! every page and command works on. They live here, not with activities, because works,
//! check-ins, progress, reminders and the rest share them.

use crate::db::Db;
use crate::db::audit::Actor;
use crate::db::campaigns::{self, StoredCampaign};
use crate::db::orgs::{Org, Scope};
use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::error::AppError;

/// Who is acting: the account's role, org and scope, and its audit identity.
pub struct Acting {
    pub user_id: UserId,
    pub role: Role,
    pub org: Org,
    pub scope: Scope,
    pub actor: Actor,
}

/// The current campaign; "not found" while none is loaded.
pub async fn current_campaign(db: &Db) -> Result<StoredCampaign, AppError> {
    campaigns::current(db).await?.ok_or(AppError::NotFound)
}

/// What every refused write says once the campaign is closed.
pub const CLOSED_MESSAGE: &str = "本次活动已结束并归档，只能查看，不能修改。";

/// Refuses a write while the current campaign is closed (archived, read-only). Every write
/// passes here: the router's gate calls it for each write route (`http::router`), the reminder
/// job before each pass, and the command line before changing a campaign.
pub async fn ensure_open(db: &Db) -> Result<(), AppError> {
    if crate::db::archive::current_is_closed(db).await? {
        return Err(AppError::conflict(
            crate::error::Conflict::CampaignClosed,
            CLOSED_MESSAGE,
        ));
    }
    Ok(())
}
