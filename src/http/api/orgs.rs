use crate::domain::ids::OrgId;
use crate::http::extract::{ApiPath, ApiQuery, Json as JsonBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::db::orgs::{self, Org};
use crate::domain::mask::contact_phone;
use crate::error::{ApiResult, AppError};
use crate::http::session::{CurrentUser, Session};
use crate::service::orgs::{self as service, OrgInput};

#[derive(Deserialize, IntoParams)]
pub struct Search {
    /// Part of the name.
    pub q: Option<String>,
}

/// An org as the API shows it: contact numbers by the contact rule (the caller is signed in).
fn present(mut org: Org, _session: &Session) -> Org {
    org.contact_phone = org.contact_phone.as_deref().map(|p| contact_phone(p, true));
    org
}

/// Orgs in the account's scope.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "orgs", params(Search), responses((status = 200, body = [Org])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiQuery(q): ApiQuery<Search>,
) -> ApiResult<Json<Vec<Org>>> {
    let list = orgs::list(&state.db, &s.scope(), q.q.as_deref()).await?;
    Ok(Json(list.into_iter().map(|o| present(o, &s)).collect()))
}

/// One org in scope; out of scope answers 404.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}", tag = "orgs", params(("org_id" = i64, Path)),
    responses((status = 200, body = Org), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(org_id): ApiPath<OrgId>,
) -> ApiResult<Json<Org>> {
    let org = orgs::get(&state.db, &s.scope(), org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(present(org, &s)))
}

/// Creates an org under a parent in scope.
#[utoipa::path(post, path = "/api/v1/orgs", tag = "orgs", request_body = OrgInput,
    responses((status = 201, body = Org), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(input): JsonBody<OrgInput>,
) -> ApiResult<(StatusCode, Json<Org>)> {
    let org = service::create(&state.db, &s.scope(), &input, &s.actor()).await?;
    Ok((StatusCode::CREATED, Json(present(org, &s))))
}

/// Edits (and possibly moves) an org in scope.
#[utoipa::path(put, path = "/api/v1/orgs/{org_id}", tag = "orgs", params(("org_id" = i64, Path)), request_body = OrgInput,
    responses((status = 200, body = Org), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(org_id): ApiPath<OrgId>,
    JsonBody(input): JsonBody<OrgInput>,
) -> ApiResult<Json<Org>> {
    let org = service::update(&state.db, &s.scope(), org_id, &input, &s.actor()).await?;
    Ok(Json(present(org, &s)))
}
