//! Sessions on the request path: a middleware loads the session named by the cookie (idle
//! timeout enforced), a second one checks the CSRF token of every state-changing request, and
//! extractors hand handlers the signed-in account.

use std::net::SocketAddr;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::clock::unix_now;
use crate::db::audit::Actor;
use crate::db::orgs::{Org, Scope};
use crate::db::sessions;
use crate::db::users::User;
use crate::domain::role::Role;
use crate::error::{ApiError, AppError};
use crate::service::accounts::{hash_token, random_token};

/// Name of the cookie carrying a pre-login CSRF token (double-submit, for the login form):
/// with TLS the `__Host-` prefix, like the session cookie, so no other host can plant one.
pub fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-wangju_csrf"
    } else {
        "wangju_csrf"
    }
}
/// Form field or query parameter carrying the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
/// Header carrying the CSRF token (JSON API).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Name of the session cookie: with TLS the `__Host-` prefix pins it to this host and path.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-wangju_sid"
    } else {
        "wangju_sid"
    }
}

/// The signed-in account of this request, put in the request extensions by `load_session`.
#[derive(Clone)]
pub struct Session {
    pub user: User,
    pub role: Role,
    pub org: Org,
    pub token: String,
    pub csrf: String,
    pub ip: String,
}

impl Session {
    /// What this account may see.
    pub fn scope(&self) -> Scope {
        if self.sees_everything() {
            Scope::everything()
        } else {
            Scope::subtree(&self.org)
        }
    }

    /// Sees the whole campaign: the city, and the city's 网信办 liaison (not a district's).
    pub fn sees_everything(&self) -> bool {
        self.role.sees_everything() && !self.district_liaison()
    }

    /// A 网信办 liaison bound to a district (a 区委网信办 account): scoped to that district's
    /// subtree instead of the whole campaign.
    pub fn district_liaison(&self) -> bool {
        self.role == Role::CoOrganiserLiaison
            && self.org.kind == crate::domain::org::OrgKind::DistrictUnion
    }

    /// The account as the services see it.
    pub fn acting(&self) -> crate::service::acting::Acting {
        crate::service::acting::Acting {
            user_id: self.user.id,
            role: self.role,
            org: self.org.clone(),
            scope: self.scope(),
            actor: self.actor(),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id),
            login: self.user.login.clone(),
            ip: self.ip.clone(),
        }
    }
}

/// The client address: the socket peer, or, when the peer is one of `trusted_proxies`, the
/// address the proxy names in `X-Forwarded-For` (resolved once per request by
/// `observe::observe`). Login and check-in limits and the audit log key on it.
pub fn client_ip(parts: &Parts) -> String {
    if let Some(ip) = parts.extensions.get::<crate::http::observe::ClientIp>() {
        return ip.0.to_string();
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Loads the session named by the cookie. Expired or unknown sessions are dropped silently:
/// the request proceeds as anonymous and protected routes answer "please log in".
pub async fn load_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let name = session_cookie_name(state.settings.secure_cookies);
    if let Some(token) = jar.get(name).map(|c| c.value().to_string()) {
        let (mut parts, body) = request.into_parts();
        let ip = client_ip(&parts);
        match lookup(&state, &token, ip).await {
            Ok(Some(session)) => {
                parts.extensions.insert(session);
            }
            Ok(None) => {}
            Err(e) => return e.into_response(),
        }
        request = Request::from_parts(parts, body);
    }
    next.run(request).await
}

async fn lookup(state: &AppState, token: &str, ip: String) -> Result<Option<Session>, AppError> {
    if token.len() != 64 {
        return Ok(None);
    }
    let id_hash = hash_token(token);
    let Some(signed) = sessions::signed(&state.db, &id_hash).await? else {
        return Ok(None);
    };
    let now = unix_now();
    let idle_limit = state.settings.session_idle_minutes * 60;
    if now - signed.last_seen_at > idle_limit {
        let mut tx = state.db.begin().await?;
        sessions::delete(&mut tx, &id_hash).await?;
        tx.commit().await?;
        return Ok(None);
    }
    let sessions::Signed {
        csrf_token,
        last_seen_at,
        user,
        org,
    } = signed;
    let (Some(role), false) = (Some(user.role), user.disabled) else {
        return Ok(None);
    };
    // Writing on every request would queue every page behind the writer; a minute's
    // resolution is plenty for a 30-minute timeout.
    if now - last_seen_at >= 60 {
        sessions::touch(&state.db, &id_hash, now).await?;
    }
    Ok(Some(Session {
        user,
        role,
        org,
        token: token.to_string(),
        csrf: csrf_token,
        ip,
    }))
}

/// Refuses any state-changing request whose CSRF token does not match the session's (or,
/// before login, the pre-session cookie's). The token may come in the `X-CSRF-Token` header,
/// the `_csrf` query parameter (multipart forms) or the `_csrf` form field.
pub async fn csrf_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let is_api = request.uri().path().starts_with("/api/");
    let refuse = |e: AppError| {
        if is_api {
            ApiError(e).into_response()
        } else {
            e.into_response()
        }
    };
    let expected = match request.extensions().get::<Session>() {
        Some(session) => Some(session.csrf.clone()),
        None => CookieJar::from_headers(request.headers())
            .get(csrf_cookie_name(state.settings.secure_cookies))
            .map(|c| c.value().to_string()),
    };
    let Some(expected) = expected.filter(|t| !t.is_empty()) else {
        return refuse(AppError::Csrf);
    };
    let from_header = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let from_query = request
        .uri()
        .query()
        .and_then(|q| url_form_value(q.as_bytes(), CSRF_FIELD));
    let (provided, request) = match from_header.or(from_query) {
        Some(token) => (Some(token), request),
        None => {
            let is_form = request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
            if !is_form {
                return refuse(AppError::Csrf);
            }
            let (parts, body) = request.into_parts();
            let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
                return refuse(AppError::TooLarge);
            };
            let token = url_form_value(&bytes, CSRF_FIELD);
            (token, Request::from_parts(parts, Body::from(bytes)))
        }
    };
    match provided {
        Some(token) if same_token(&token, &expected) => next.run(request).await,
        _ => refuse(AppError::Csrf),
    }
}

/// Largest urlencoded form accepted.
pub const FORM_LIMIT: usize = 256 * 1024;

fn url_form_value(bytes: &[u8], key: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Compares digests, so the time taken does not depend on how much of the token matched.
fn same_token(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// Makes sure an anonymous visitor has a pre-session CSRF token; returns it and the jar to
/// send back.
pub fn pre_session_token(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(existing) = jar
        .get(csrf_cookie_name(secure))
        .map(|c| c.value().to_string())
        && existing.len() == 64
    {
        return (jar, existing);
    }
    let token = random_token();
    let cookie = Cookie::build((csrf_cookie_name(secure), token.clone()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .build();
    (jar.add(cookie), token)
}

/// The session cookie for a new login. Session cookies only: closing the browser ends it.
pub fn session_cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build((session_cookie_name(secure), token.to_string()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build()
}

pub fn clear_session_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = session_cookie("", secure);
    cookie.make_removal();
    cookie
}

/// A signed-in account that has set its own password. Anonymous requests get 401 (pages:
/// redirect to login); accounts still on a one-time password are sent to change it.
pub struct CurrentUser(pub Session);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, AppError> {
        let session = parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(AppError::Unauthenticated)?;
        if session.user.must_change_password {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok(CurrentUser(session))
    }
}

/// Any signed-in account, including one that must still change its one-time password.
pub struct AnySession(pub Session);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .map(AnySession)
            .ok_or(AppError::Unauthenticated)
    }
}

/// Removes sessions idle past the timeout, every few minutes.
pub async fn sweep_idle(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        tick.tick().await;
        let cutoff = unix_now() - state.settings.session_idle_minutes * 60;
        if let Err(e) = sessions::purge_idle(&state.db, cutoff).await {
            tracing::warn!(error = %e, "could not purge idle sessions");
        }
    }
}

/// The session if there is one; never rejects.
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(parts.extensions.get::<Session>().cloned()))
    }
}
