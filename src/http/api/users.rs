use crate::domain::ids::UserId;
use crate::http::extract::{ApiPath, Json as JsonBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::db::users::{self, UserRow};
use crate::error::{ApiResult, AppError};
use crate::http::pages::users::{manages, present};
use crate::http::session::CurrentUser;
use crate::service::accounts::{self, NewAccount};

/// Accounts in scope (phones masked except for city admins).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = [UserRow])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
) -> ApiResult<Json<Vec<UserRow>>> {
    let rows = users::list(&state.db, &s.scope()).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|u| u.id == s.user.id || manages(&s, u))
            .map(|u| present(u, &s))
            .collect(),
    ))
}

/// One account in scope.
#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "users", params(("user_id" = i64, Path)),
    responses((status = 200, body = UserRow), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(user_id): ApiPath<UserId>,
) -> ApiResult<Json<UserRow>> {
    let row = crate::http::pages::users::in_scope(&state, &s, user_id).await?;
    Ok(Json(present(row, &s)))
}

#[derive(serde::Deserialize, ToSchema)]
pub struct EmailInput {
    /// The new address; empty clears it.
    pub email: String,
}

/// Sets or clears an account's e-mail address (where reminders are mailed).
#[utoipa::path(put, path = "/api/v1/users/{user_id}/email", tag = "users", params(("user_id" = i64, Path)),
    request_body = EmailInput,
    responses((status = 200, body = UserRow), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_email(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(user_id): ApiPath<UserId>,
    JsonBody(input): JsonBody<EmailInput>,
) -> ApiResult<Json<UserRow>> {
    let row = crate::http::pages::users::in_scope(&state, &s, user_id).await?;
    accounts::set_email(&state.db, row.id, &input.email, &s.actor()).await?;
    let row = users::get_row(&state.db, &s.scope(), row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(present(row, &s)))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: UserId,
    /// Shown once; the account must change it at first login.
    pub one_time_password: String,
}

/// Creates an account in scope with a one-time password.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewAccount,
    responses((status = 201, body = Created), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    JsonBody(input): JsonBody<NewAccount>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let (id, one_time_password) =
        accounts::create_account(&state.db, &s.scope(), s.role, &input, &s.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id,
            one_time_password,
        }),
    ))
}

/// Changes an account's name, role and unit (within scope; audited). A concurrent edit
/// answers 409.
#[utoipa::path(put, path = "/api/v1/users/{user_id}/profile", tag = "users", params(("user_id" = i64, Path)),
    request_body = accounts::ProfileChange,
    responses((status = 200, body = UserRow), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_profile(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    ApiPath(user_id): ApiPath<UserId>,
    JsonBody(input): JsonBody<accounts::ProfileChange>,
) -> ApiResult<Json<UserRow>> {
    let row = crate::http::pages::users::in_scope(&state, &s, user_id).await?;
    let scope = s.scope();
    let editor = accounts::Editor {
        user_id: s.user.id,
        role: s.role,
        org_path: &s.org.path,
        scope: &scope,
    };
    accounts::update_profile(&state.db, &editor, &row, &input, &s.actor()).await?;
    let row = users::get_row(&state.db, &scope, row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(present(row, &s)))
}

/// Creates staff accounts from an XLSX or CSV file (the request body; columns 登录名, 姓名,
/// 角色, 所属单位, optional 电子邮箱 and 手机号), all or none. The one-time passwords are in
/// this answer only.
#[utoipa::path(post, path = "/api/v1/users/import", tag = "users",
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 201, body = [crate::service::account_import::ImportedAccount]),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    CurrentUser(s): CurrentUser,
    body: axum::body::Bytes,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let table = crate::office::tabular::read_off_thread(body)
        .await
        .map_err(|m| AppError::invalid("文件", m))?;
    let made = crate::service::account_import::import_accounts(
        &state.db,
        &s.scope(),
        s.role,
        &table,
        &s.actor(),
    )
    .await?;
    let mut response = (StatusCode::CREATED, Json(made)).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
