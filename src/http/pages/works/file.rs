//! The stored file of a work, served through `http::range` (metadata-free copy only).

use crate::domain::ids::WorkId;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;

use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::Path;
use crate::http::session::CurrentUser;
use crate::service::works as service;

/// Serves the metadata-free copy with HTTP range requests (video seeking), as an attachment-
/// safe type: `nosniff`, a sandboxing CSP and an explicit disposition, so a hostile upload can
/// never run as a page.
pub async fn file(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<WorkId>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let served = service::file(&state.db, &state.store, &session.acting(), id).await?;
    crate::http::range::serve_range(&state, &served, headers.get(header::RANGE)).await
}
