//! Selection (评选) use cases: the city's reviewer pools and conflicts, opening a sub-project's
//! first round, the automatic assignment (and its re-run when a reviewer drops out), moving an
//! assignment by hand, the reviewer's blind score sheet, and closing a round, which freezes its
//! ranking and advances works by the round's rule into the next one.
//!
//! The seam for the recommendation step: [`final_ranking`] returns the ranking of a
//! sub-project's last closed round.

mod assignments;
mod import;
mod pools;
mod results;
mod sheets;

pub use assignments::*;
pub use import::*;
pub use pools::*;
pub use results::*;
pub use sheets::*;

use serde::Serialize;

use crate::clock::Clock;
use crate::db::Db;
use crate::db::audit::{self, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::selection::{self as db, Frozen, ReviewerRow, RoundRow, Save, SheetRow};
use crate::db::users;
use crate::domain::assignment::{self, Shortfall};
use crate::domain::campaign::{Participation, Round, SubProject};
use crate::domain::ids::{OrgId, UserId, WorkId};
use crate::domain::role::Role;
use crate::domain::selection::{self as rules, ScoreSheet, Scored, WorkResult};
use crate::error::{AppError, Conflict, FieldError};
use crate::service::acting::{Acting, current_campaign};

pub(super) fn city_only(acting: &Acting) -> Result<(), AppError> {
    if acting.role == Role::CityAdmin {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The sub-project `code` of the campaign, when it has review rounds.
pub fn judged<'a>(campaign: &'a StoredCampaign, code: &str) -> Result<&'a SubProject, AppError> {
    campaign
        .campaign
        .sub_projects
        .iter()
        .find(|s| {
            s.code == code && s.participation == Participation::Wangju && !s.rounds.is_empty()
        })
        .ok_or(AppError::NotFound)
}

/// The definition of a stored round.
pub fn definition<'a>(
    campaign: &'a StoredCampaign,
    round: &RoundRow,
) -> Result<&'a Round, AppError> {
    judged(campaign, &round.sub_project)?
        .rounds
        .iter()
        .find(|r| r.code == round.round_code)
        .ok_or(AppError::NotFound)
}
