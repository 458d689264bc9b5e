//! Reminders (催报): those the account's unit received, those sent to units in its scope, and
//! sending one by hand.

use crate::domain::ids::OrgId;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::db::reminders::{self as db_reminders, Reminder};
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiPath, Json as JsonBody};
use crate::http::pages::reminders::public;
use crate::http::session::CurrentUser;
use crate::service::reminders;

#[derive(Serialize, ToSchema)]
pub struct Reminders {
    /// How many reminders to the account's unit it has not read.
    pub unread: i64,
    /// Reminders to the account's unit, newest first (at most 200).
    pub received: Vec<Reminder>,
    /// Reminders to units below it (city and unit admins), newest first (at most 200).
    pub sent: Vec<Reminder>,
}

/// Reminders received by the account's unit and sent to units in its scope.
#[utoipa::path(get, path = "/api/v1/reminders", tag = "reminders", responses((status = 200, body = Reminders)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
) -> ApiResult<Json<Reminders>> {
    let received = db_reminders::for_org(&state.db, s.org.id, s.user.id, false, 200).await?;
    let unread = db_reminders::unread_count(&state.db, s.org.id, s.user.id).await?;
    let sent = if s.role.may_allocate_quotas() {
        db_reminders::sent_in_scope(&state.db, &s.scope().prefix, s.org.id, 200).await?
    } else {
        Vec::new()
    };
    Ok(Json(Reminders {
        unread,
        received: received.into_iter().map(public).collect(),
        sent: sent.into_iter().map(public).collect(),
    }))
}

/// Marks a reminder to the account's unit as read (by this account).
#[utoipa::path(post, path = "/api/v1/reminders/{reminder_id}/read", tag = "reminders",
    params(("reminder_id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(reminder_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    reminders::mark_read(&state.db, s.org.id, s.user.id, reminder_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ManualReminder {
    /// An optional note to the unit (at most 500 characters).
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct Sent {
    pub id: i64,
}

/// Reminds a unit in scope by hand (the city any unit, a unit admin the units below it). The
/// unit's admins see it in Wangju at once; the e-mail goes out with the next pass of the job.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/reminders", tag = "reminders",
    params(("org_id" = i64, Path)), request_body = ManualReminder,
    responses((status = 201, body = Sent), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(org_id): ApiPath<OrgId>,
    JsonBody(input): JsonBody<ManualReminder>,
) -> ApiResult<(StatusCode, Json<Sent>)> {
    let id = reminders::send_manual(
        &state.db,
        &s.acting(),
        org_id,
        &input.note,
        state.clock.today(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Sent { id })))
}
