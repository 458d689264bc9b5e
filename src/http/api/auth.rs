use crate::domain::ids::{OrgId, UserId};
use crate::http::extract::Json as JsonBody;
use axum::Json;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::http::session::{
    AnySession, MaybeSession, clear_session_cookie, client_ip, pre_session_token, session_cookie,
};
use crate::service::accounts;

#[derive(Serialize, ToSchema)]
pub struct CsrfToken {
    /// Send as `X-CSRF-Token` on writes.
    pub csrf_token: String,
}

/// A CSRF token: the session's when signed in, else a pre-session one (also set as a cookie).
#[utoipa::path(get, path = "/api/v1/csrf", tag = "auth", responses((status = 200, body = CsrfToken)))]
pub async fn csrf(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    jar: CookieJar,
) -> Response {
    match session {
        Some(s) => Json(CsrfToken { csrf_token: s.csrf }).into_response(),
        None => {
            let (jar, token) = pre_session_token(jar, state.settings.secure_cookies);
            (jar, Json(CsrfToken { csrf_token: token })).into_response()
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: UserId,
    pub login: String,
    pub display_name: String,
    pub role: String,
    pub role_label: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub must_change_password: bool,
    /// Token for writes in this session.
    pub csrf_token: String,
}

/// Signs in; sets the session cookie. A one-time password must be changed (in the web UI) before
/// anything but `me` and logout works.
#[utoipa::path(post, path = "/api/v1/session", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    parts: Parts,
    jar: CookieJar,
    JsonBody(req): JsonBody<LoginRequest>,
) -> ApiResult<Response> {
    let ip = client_ip(&parts);
    let (user, session) =
        crate::http::pages::auth::limited_login(&state, &req.login, &req.password, &ip).await?;
    let org = crate::db::orgs::get_by_id(&state.db, user.org_id).await?;
    let role = Some(user.role);
    let me = Me {
        id: user.id,
        login: user.login.clone(),
        display_name: user.display_name.clone(),
        role: user.role.code().to_string(),
        role_label: role.map_or("", |r| r.label_zh()).to_string(),
        org_id: user.org_id,
        org_name: org.map(|o| o.name).unwrap_or_default(),
        must_change_password: user.must_change_password,
        csrf_token: session.csrf.clone(),
    };
    let jar = jar.add(session_cookie(
        &session.token,
        state.settings.secure_cookies,
    ));
    Ok((jar, Json(me)).into_response())
}

/// Signs out.
#[utoipa::path(delete, path = "/api/v1/session", tag = "auth", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    AnySession(session): AnySession,
    jar: CookieJar,
) -> ApiResult<Response> {
    accounts::logout(&state.db, &session.token, &session.actor()).await?;
    let jar = jar.add(clear_session_cookie(state.settings.secure_cookies));
    Ok((axum::http::StatusCode::NO_CONTENT, jar).into_response())
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(AnySession(s): AnySession) -> Json<Me> {
    Json(Me {
        id: s.user.id,
        login: s.user.login.clone(),
        display_name: s.user.display_name.clone(),
        role: s.role.code().to_string(),
        role_label: s.role.label_zh().to_string(),
        org_id: s.org.id,
        org_name: s.org.name.clone(),
        must_change_password: s.user.must_change_password,
        csrf_token: s.csrf.clone(),
    })
}
