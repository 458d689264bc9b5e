//! Photos on an activity's page: added by the reporting unit (several at once from a phone's
//! gallery), shown as thumbnails, served like every stored file (never run by the browser).

use crate::domain::ids::ActivityId;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Path, Query};
use crate::http::session::CurrentUser;
use crate::media::photo::MAX_BYTES;
use crate::service::photos;

/// Most photos one upload form may carry.
pub const MAX_FILES: usize = 9;
/// The route's body limit: the files plus the form around them.
pub const BODY_LIMIT: usize = MAX_FILES * MAX_BYTES + 64 * 1024;

/// Adds the photos of the form's `photos` field; each is checked on its own, and the page says
/// which were refused and why.
pub async fn add(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<ActivityId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let acting = session.acting();
    // Out of scope is "not found" whatever was sent.
    crate::service::activities::get(&state.db, &acting, id).await?;
    let mut multipart = multipart
        .map_err(|_| AppError::invalid("照片", "请用页面上的“上传照片”表单选择照片后上传"))?;
    let mut added = 0;
    let mut refused: Vec<String> = Vec::new();
    let mut n = 0;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::invalid("照片", "上传没有完成，请重新选择照片"))?
    {
        if field.name() != Some("photos") {
            continue;
        }
        n += 1;
        let name: String = field
            .file_name()
            .unwrap_or("照片")
            .chars()
            .filter(|c| !c.is_control())
            .take(60)
            .collect();
        if n > MAX_FILES {
            refused.push(format!("{name}：一次最多上传 {MAX_FILES} 张"));
            continue;
        }
        // Read up to the limit, never more.
        let mut bytes = Vec::new();
        let mut too_big = false;
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|_| AppError::invalid("照片", "上传没有完成，请重新选择照片"))?
        {
            if bytes.len() + chunk.len() > MAX_BYTES {
                too_big = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        if too_big {
            refused.push(format!("{name}：超过 15 MB，请压缩后再上传"));
            continue;
        }
        if bytes.is_empty() {
            continue;
        }
        match photos::add(&state.db, &state.store, &acting, id, bytes).await {
            Ok(_) => added += 1,
            Err(AppError::Invalid(errors)) => {
                refused.extend(errors.into_iter().map(|e| format!("{name}：{}", e.message)));
            }
            Err(e) => return Err(e),
        }
    }
    if added == 0 && refused.is_empty() {
        return Err(AppError::invalid("照片", "请选择要上传的照片"));
    }
    if refused.is_empty() {
        return Ok(Redirect::to(&format!("/activities/{id}?done=photos#photos")).into_response());
    }
    let message = format!(
        "未完成：{}{}",
        if added > 0 {
            format!("已添加 {added} 张；")
        } else {
            String::new()
        },
        refused.join("；")
    );
    let a = crate::service::activities::get(&state.db, &acting, id).await?;
    Ok(
        super::activities::show_page(&state, &session, a, Some(message))
            .await?
            .into_response(),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct FileQuery {
    #[serde(default)]
    pub thumb: Option<String>,
}

pub async fn file(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path((id, photo_id)): Path<(ActivityId, i64)>,
    Query(q): Query<FileQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let served = photos::file(
        &state.db,
        &state.store,
        &session.acting(),
        id,
        photo_id,
        q.thumb.is_some(),
    )
    .await?;
    crate::http::range::serve_range(&state, &served, headers.get(axum::http::header::RANGE)).await
}

pub async fn remove(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path((id, photo_id)): Path<(ActivityId, i64)>,
) -> AppResult<Response> {
    photos::remove(&state.db, &state.store, &session.acting(), id, photo_id).await?;
    Ok(Redirect::to(&format!("/activities/{id}?done=photo_removed#photos")).into_response())
}
