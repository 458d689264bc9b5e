//! Works over JSON: registration, resumable uploads, submissions, moderation and participation
//! records. The submit page's script uses the upload endpoints; a mini-program can use them all.
//!
//! Upload protocol (resumable, like tus): `POST /api/v1/uploads` announces name and size and
//! returns an id; `PATCH /api/v1/uploads/{id}` with `Upload-Offset: <n>` sends bytes from n
//! on (any number of requests); `GET /api/v1/uploads/{id}` says how many bytes were kept, so a
//! phone that lost its connection continues from there. The request that completes the file
//! returns the automatic check.

use crate::domain::ids::WorkId;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::db::works::ParticipationRow;
use crate::domain::work::Decision;
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery, Json as JsonBody};
use crate::http::session::{CurrentUser, client_ip};
use crate::service::works::{
    self as service, ParticipationInput, Registration, Storage, Submission, UploadRequest,
    UploadView, Work,
};

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Registers a worker (phone number as login). Then sign in with `POST /api/v1/session`.
#[utoipa::path(post, path = "/api/v1/register", tag = "works", request_body = Registration,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    JsonBody(body): JsonBody<Registration>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let ip = client_ip(&parts);
    if !state.login_limiter.allow(&ip) {
        return Err(AppError::RateLimited.into());
    }
    match service::register(&state.db, &body, &ip).await {
        Ok(id) => Ok((StatusCode::CREATED, Json(Created { id: id.get() }))),
        Err(e) => {
            if matches!(e, AppError::Invalid(_)) {
                state.login_limiter.record_failure(&ip);
            }
            Err(e.into())
        }
    }
}

/// Announces an upload. A file larger than the sub-project allows is refused here, before any
/// byte is sent.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "works", request_body = UploadRequest,
    responses((status = 201, body = UploadView), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_upload(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<UploadRequest>,
) -> ApiResult<(StatusCode, Json<UploadView>)> {
    let view = service::start_upload(&state.db, &state.clock, &s.acting(), &body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Where an upload stands: `received` is the offset to resume from.
#[utoipa::path(get, path = "/api/v1/uploads/{upload_id}", tag = "works",
    params(("upload_id" = String, Path)), responses((status = 200, body = UploadView), (status = 404, body = ErrorBody)))]
pub async fn upload_status(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<UploadView>> {
    Ok(Json(
        service::get_upload(&state.db, &s.acting(), &id).await?,
    ))
}

/// Sends bytes from `Upload-Offset` on (raw body). 409 when the offset is not where the upload
/// stands (ask with GET and continue from `received`); 413 when the bytes pass the announced
/// size. The request that completes the file returns the check (`report`).
#[utoipa::path(patch, path = "/api/v1/uploads/{upload_id}", tag = "works",
    params(("upload_id" = String, Path), ("Upload-Offset" = u64, Header, description = "the byte offset this body starts at")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 200, body = UploadView), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn upload_chunk(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<UploadView>> {
    let offset = headers
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            AppError::invalid(
                "Upload-Offset",
                "请在 Upload-Offset 请求头中给出这段数据的起始字节位置",
            )
        })?;
    let scratch = state.scratch_dir();
    let storage = Storage {
        store: &state.store,
        progress: &state.upload_progress,
        scratch: &scratch,
        poster_helper: state.poster_helper.as_deref(),
    };
    let idle = std::time::Duration::from_secs(state.settings.upload_idle_seconds.max(1));
    let stream = idle_limited(body.into_data_stream(), idle);
    let view = service::receive(&state.db, &storage, &s.acting(), &id, offset, stream).await?;
    Ok(Json(view))
}

/// The body's bytes, ended with an error when none arrive for `idle` (the store keeps what
/// came before it, as for a dropped connection).
fn idle_limited<S, E>(
    body: S,
    idle: std::time::Duration,
) -> std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, String>> + Send>>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display,
{
    use futures_util::StreamExt;
    Box::pin(futures_util::stream::unfold(
        Some(body),
        move |state| async move {
            let mut body = state?;
            match tokio::time::timeout(idle, body.next()).await {
                Ok(Some(Ok(bytes))) => Some((Ok(bytes), Some(body))),
                Ok(Some(Err(e))) => Some((Err(e.to_string()), None)),
                Ok(None) => None,
                Err(_) => Some((Err("no bytes for the idle timeout".to_string()), None)),
            }
        },
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct WorksQuery {
    /// Sub-project code, e.g. `micro-video`.
    pub sub_project: Option<String>,
    /// `submitted`, `accepted`, `returned` or `rejected`.
    pub status: Option<String>,
    /// How many of the newest to return: 1 to 500, 100 when not given. The works list page
    /// (`/works`, paged) and its Excel export have them all.
    pub limit: Option<i64>,
}

/// Most works one call of `GET /api/v1/works` returns.
pub const MAX_LIST: i64 = 500;
const DEFAULT_LIST: i64 = 100;

/// The newest works the account may see: a worker's own, a unit's, or the moderation queue.
#[utoipa::path(get, path = "/api/v1/works", tag = "works", params(WorksQuery),
    responses((status = 200, body = [Work]), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiQuery(q): ApiQuery<WorksQuery>,
) -> ApiResult<Json<Vec<Work>>> {
    let limit = q.limit.unwrap_or(DEFAULT_LIST);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("limit 须在 1 到 {MAX_LIST} 之间（一次最多返回 {MAX_LIST} 件作品）"),
        )
        .into());
    }
    Ok(Json(
        service::newest(
            &state.db,
            &s.acting(),
            q.sub_project.as_deref().unwrap_or("").trim(),
            q.status.as_deref().unwrap_or("").trim(),
            limit,
        )
        .await?,
    ))
}

/// Submits a work with a checked upload and the declarations.
#[utoipa::path(post, path = "/api/v1/works", tag = "works", request_body = Submission,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<Submission>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = service::submit(&state.db, &state.clock, &s.acting(), body).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.get() })))
}

/// One work with its automatic findings.
#[utoipa::path(get, path = "/api/v1/works/{work_id}", tag = "works",
    params(("work_id" = i64, Path)), responses((status = 200, body = Work), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(id): ApiPath<WorkId>,
) -> ApiResult<Json<Work>> {
    Ok(Json(service::get(&state.db, &s.acting(), id).await?))
}

/// Fixes a returned work and sends it back to the queue.
#[utoipa::path(put, path = "/api/v1/works/{work_id}", tag = "works", params(("work_id" = i64, Path)),
    request_body = Submission,
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resubmit(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(id): ApiPath<WorkId>,
    JsonBody(body): JsonBody<Submission>,
) -> ApiResult<StatusCode> {
    service::resubmit(&state.db, &state.clock, &s.acting(), id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    pub decision: Decision,
    /// Required for every decision; the author reads it.
    pub reason: String,
}

/// A moderator accepts, returns or rejects a waiting work.
#[utoipa::path(post, path = "/api/v1/works/{work_id}/decision", tag = "works", params(("work_id" = i64, Path)),
    request_body = DecisionBody,
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(id): ApiPath<WorkId>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> ApiResult<StatusCode> {
    service::decide(&state.db, &s.acting(), id, body.decision, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Participation records of units in scope (sub-projects hosted elsewhere).
#[utoipa::path(get, path = "/api/v1/participations", tag = "works", responses((status = 200, body = [ParticipationRow])))]
pub async fn participations(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
) -> ApiResult<Json<Vec<ParticipationRow>>> {
    Ok(Json(service::participations(&state.db, &s.acting()).await?))
}

/// Records a unit's participation in a sub-project hosted by another organisation.
#[utoipa::path(post, path = "/api/v1/participations", tag = "works", request_body = ParticipationInput,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
pub async fn record_participation(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(body): JsonBody<ParticipationInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = service::record_participation(&state.db, &s.acting(), body).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}
