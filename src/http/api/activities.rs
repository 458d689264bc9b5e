use crate::domain::ids::{ActivityId, OrgId};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::domain::activity::{ActivityInput, Status, Transition};
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery, Json as JsonBody};
use crate::http::session::CurrentUser;
use crate::service::activities::{self, Activity};
use crate::service::progress::{self, Progress};

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// `draft`, `submitted`, `returned`, `approved` or `confirmed`; empty for all.
    pub status: Option<String>,
}

/// Activities of units in scope, newest first.
#[utoipa::path(get, path = "/api/v1/activities", tag = "activities", params(ListQuery), responses((status = 200, body = [Activity])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<Activity>>> {
    let status = q
        .status
        .as_deref()
        .and_then(Status::parse)
        .map_or("", Status::code);
    let filter = crate::db::activities::ListFilter {
        status: status.to_string(),
        ..Default::default()
    };
    Ok(Json(
        activities::list(&state.db, &s.acting(), &filter).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewActivity {
    /// The holding unit; default the account's own.
    pub org_id: Option<OrgId>,
    #[serde(flatten)]
    pub input: ActivityInput,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Plans an activity (a draft).
#[utoipa::path(post, path = "/api/v1/activities", tag = "activities", request_body = NewActivity,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<NewActivity>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = activities::create(
        &state.db,
        &state.clock,
        &s.acting(),
        body.org_id,
        body.input,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One activity in scope.
#[utoipa::path(get, path = "/api/v1/activities/{activity_id}", tag = "activities", params(("activity_id" = i64, Path)),
    responses((status = 200, body = Activity), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(id): ApiPath<ActivityId>,
) -> ApiResult<Json<Activity>> {
    Ok(Json(activities::get(&state.db, &s.acting(), id).await?))
}

/// Saves the plan and report; the earlier version of a reported activity is kept.
#[utoipa::path(put, path = "/api/v1/activities/{activity_id}", tag = "activities", params(("activity_id" = i64, Path)), request_body = ActivityInput,
    responses((status = 200, body = Activity), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(id): ApiPath<ActivityId>,
    JsonBody(input): JsonBody<ActivityInput>,
) -> ApiResult<Json<Activity>> {
    let acting = s.acting();
    activities::update(&state.db, &state.clock, &acting, id, input).await?;
    Ok(Json(activities::get(&state.db, &acting, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct Step {
    pub step: Transition,
    /// Required for `return`.
    #[serde(default)]
    pub reason: String,
    /// The version of the report the caller looked at (its `version`). When given, the step
    /// applies to that version only: 409 if the report changed since.
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct StepDone {
    pub status: Status,
}

/// Moves an activity along the approval chain: submit, approve, return (with a reason), confirm.
#[utoipa::path(post, path = "/api/v1/activities/{activity_id}/transitions", tag = "activities", params(("activity_id" = i64, Path)), request_body = Step,
    responses((status = 200, body = StepDone), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn transition(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(id): ApiPath<ActivityId>,
    JsonBody(step): JsonBody<Step>,
) -> ApiResult<Json<StepDone>> {
    let status = activities::transition(
        &state.db,
        &state.clock,
        &s.acting(),
        id,
        step.step,
        &step.reason,
        step.version,
    )
    .await?;
    Ok(Json(StepDone { status }))
}

/// Quotas and progress of the units in scope, with the 12351 counters.
#[utoipa::path(get, path = "/api/v1/progress", tag = "activities", responses((status = 200, body = Progress)))]
pub async fn progress(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
) -> ApiResult<Json<Progress>> {
    let p = state.progress.get(&state.db, &s.scope()).await?;
    Ok(Json(Progress::clone(&p)))
}

/// The dashboard's charts: completion by unit, activities per week, formats and content
/// categories; every bar carries the link to the list it counts.
#[utoipa::path(get, path = "/api/v1/progress/charts", tag = "activities", responses((status = 200, body = crate::service::charts::Charts)))]
pub async fn charts(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
) -> ApiResult<Json<crate::service::charts::Charts>> {
    let p = state.progress.get(&state.db, &s.scope()).await?;
    Ok(Json(
        crate::service::charts::charts(&state.db, &s.acting(), &p).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct PaperQuery {
    /// `progress` (统计表, default), `allocation` (任务分配表) or `circular` (情况通报).
    #[serde(default)]
    sheet: String,
    /// `xlsx` (default) or `docx` (the circular only).
    #[serde(default)]
    format: String,
}

/// The paper of the account's scope as a file: the same bytes and name
/// (`2020网聚-统计表-和平区总工会-20200915.xlsx`, RFC 6266 `filename*`) as the progress page and
/// `wangju export progress` give.
#[utoipa::path(get, path = "/api/v1/progress/export", tag = "activities", params(PaperQuery),
    responses((status = 200, description = "the .xlsx or .docx file"), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiQuery(q): ApiQuery<PaperQuery>,
) -> ApiResult<axum::response::Response> {
    let docx = q.format.eq_ignore_ascii_case("docx");
    Ok(crate::http::pages::exports::paper(&state, &s, &q.sheet, docx).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct Quota {
    pub min_activities: i64,
}

/// Sets a unit's quota (the city for any unit; a unit admin for the units below it).
#[utoipa::path(put, path = "/api/v1/quotas/{org_id}", tag = "activities", params(("org_id" = i64, Path)), request_body = Quota,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_quota(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(org_id): ApiPath<OrgId>,
    JsonBody(q): JsonBody<Quota>,
) -> ApiResult<StatusCode> {
    progress::set_quota(&state.db, &s.acting(), org_id, q.min_activities).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Photos of an activity report, with where else each picture appears.
#[utoipa::path(get, path = "/api/v1/activities/{activity_id}/photos", tag = "activities",
    params(("activity_id" = i64, Path)), responses((status = 200, body = [crate::service::photos::Photo]), (status = 404, body = ErrorBody)))]
pub async fn photos(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(id): ApiPath<ActivityId>,
) -> ApiResult<Json<Vec<crate::service::photos::Photo>>> {
    Ok(Json(
        crate::service::photos::list(&state.db, &s.acting(), id).await?,
    ))
}

/// Adds one photo (the request body is the image: JPEG, PNG or WebP, at most 15 MB). Only a
/// re-encoded copy without metadata is kept.
#[utoipa::path(post, path = "/api/v1/activities/{activity_id}/photos", tag = "activities",
    params(("activity_id" = i64, Path)), request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_photo(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(id): ApiPath<ActivityId>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let photo_id =
        crate::service::photos::add(&state.db, &state.store, &s.acting(), id, body.to_vec())
            .await?;
    Ok((StatusCode::CREATED, Json(Created { id: photo_id })))
}

#[derive(Deserialize, ToSchema)]
pub struct BulkItem {
    pub id: ActivityId,
    /// The version the caller looked at; the step applies to that version only.
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct BulkStep {
    /// `approve` or `confirm` (returning needs a reason per report: one at a time).
    pub step: Transition,
    /// At most 1,000 reports.
    pub items: Vec<BulkItem>,
}

#[derive(Serialize, ToSchema)]
pub struct BulkDone {
    pub tally: crate::service::activity_bulk::Tally,
    /// One result per report, in the order sent.
    pub results: Vec<crate::service::activity_bulk::ItemResult>,
}

/// Approves or confirms many reports in one request. Each report is judged as a single step
/// would be (scope, approval chain, compare-and-set on `version`) and gets its own result and
/// audit entry; refused ones say why and change nothing. Safe to retry: reports already moved
/// at the version sent answer `already`.
#[utoipa::path(post, path = "/api/v1/activities/bulk-transitions", tag = "activities", request_body = BulkStep,
    responses((status = 200, body = BulkDone), (status = 422, body = ErrorBody)))]
pub async fn bulk_transition(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<BulkStep>,
) -> ApiResult<Json<BulkDone>> {
    use crate::service::activity_bulk;
    let items: Vec<activity_bulk::BulkItem> = body
        .items
        .iter()
        .map(|i| activity_bulk::BulkItem {
            id: i.id,
            version: i.version,
        })
        .collect();
    let results =
        activity_bulk::bulk_transition(&state.db, &s.acting(), body.step, &items, None).await?;
    Ok(Json(BulkDone {
        tally: activity_bulk::tally(&results),
        results,
    }))
}
