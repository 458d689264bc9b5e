//! Works: worker registration, resumable uploads checked against the sub-project's rules,
//! submissions with declarations, moderation, and units' participation in the sub-projects
//! hosted elsewhere.
//!
//! An upload is a row plus parts in the file store (`uploads/<id>/<offset>`), so any node can
//! take the next chunk. The chunk that completes it triggers the check: the parts are joined
//! into a temporary local file, probed, a metadata-free copy is made, and both are kept in the
//! store under random keys. Only then can a work be submitted with it.
//!
//! One module per feature: `registration` (worker accounts), `uploads` (resumable uploads and
//! their check), `sweep` (abandoned uploads), `submit` (filing and fixing works), `read` (one
//! work, lists, history, the stored file), `moderation` (decisions and moderators'
//! sub-projects), `participations` (sub-projects hosted elsewhere). This file keeps what they
//! share about sub-projects and re-exports their public items, so callers keep writing
//! `service::works::submit`.

pub mod export;
mod moderation;
mod participations;
mod read;
mod registration;
mod submit;
mod sweep;
mod uploads;

pub use moderation::{
    assign_moderator, decide, hosted_sub_projects, moderated_codes, moderator_sub_projects,
    set_moderator_sub_projects,
};
pub use participations::{
    ParticipationInput, participation_summary, participations, record_participation,
};
pub use read::{ServedFile, Work, WorksPage, count, file, get, history, newest, page};
pub use registration::{Registration, register, union_by_invite};
pub use submit::{Submission, resubmit, submit};
pub use sweep::{Swept, sweep_abandoned, sweep_ticker};
pub use uploads::{
    MAX_OPEN_UPLOADS, Storage, UploadRequest, UploadView, get_upload, receive, start_upload,
};

use crate::clock::Clock;
use crate::db::campaigns::StoredCampaign;
use crate::domain::campaign::{FileRule, Participation, PhaseAction, SubProject};
use crate::error::{AppError, Conflict};

/// Largest upload when a sub-project names no size limit.
pub const DEFAULT_MAX_BYTES: u64 = 500 * 1024 * 1024;

/// The sub-project `code` of the current campaign.
pub fn sub_project<'a>(
    campaign: &'a StoredCampaign,
    code: &str,
) -> Result<&'a SubProject, AppError> {
    campaign
        .campaign
        .sub_projects
        .iter()
        .find(|s| s.code == code)
        .ok_or(AppError::NotFound)
}

/// A sub-project whose works Wangju takes (not one hosted on another platform).
fn hosted<'a>(campaign: &'a StoredCampaign, code: &str) -> Result<&'a SubProject, AppError> {
    let sub = sub_project(campaign, code)?;
    if sub.participation != Participation::Wangju {
        return Err(AppError::conflict(
            Conflict::HostedElsewhere,
            format!(
                "“{}”由{}承办，作品请按项目页上的平台入口提交；单位可在网聚登记参与情况。",
                sub.name, sub.host
            ),
        ));
    }
    Ok(sub)
}

/// Whether the call is open today, and if not, a message naming the window.
pub fn submissions_open(campaign: &StoredCampaign, clock: &Clock) -> Result<(), String> {
    let today = clock.today();
    if campaign.campaign.allows_on(today, PhaseAction::SubmitWorks) {
        return Ok(());
    }
    let window: Vec<String> = campaign
        .campaign
        .phases
        .iter()
        .filter(|p| p.allows.contains(&PhaseAction::SubmitWorks))
        .map(|p| format!("{} 至 {}", p.starts_on, p.ends_on))
        .collect();
    Err(format!(
        "今天（{today}）不在作品征集期内。征集期：{}",
        window.join("，")
    ))
}

fn max_bytes(sub: &SubProject) -> u64 {
    sub.rules
        .iter()
        .find_map(|r| match r {
            FileRule::MaxSize {
                megabytes,
                severity: crate::domain::campaign::Severity::Error,
            } => Some(u64::from(*megabytes) * 1024 * 1024),
            _ => None,
        })
        .unwrap_or(DEFAULT_MAX_BYTES)
}

fn needs_subtitles(sub: &SubProject) -> bool {
    sub.rules
        .iter()
        .any(|r| matches!(r, FileRule::SubtitlesDeclared { .. }))
}

/// What a worker reads about an upload the sweep deleted.
const EXPIRED: &str = "这个文件上传后长时间没有提交，已被清理：请重新选择文件上传";
