//! HTTP: every route in one table (`route_table`), each with the access it needs. The router is
//! built from the table, and the access-matrix test walks the same table, so a new route is
//! covered by the matrix the moment it exists.

pub mod api;
pub mod assets;
pub mod error_response;
pub mod extract;
pub mod limit;
pub mod observe;
pub mod pages;
pub mod range;
pub mod routes;
pub mod session;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderName;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::domain::role::Role;
use crate::error::{ApiError, AppError};
use session::Session;

/// Who may call a route. Checked before the handler runs; handlers then check scope.
#[derive(Clone, Copy)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in account, even one that must still change its one-time password.
    AnySession,
    /// Any signed-in account that has set its own password.
    SignedIn,
    /// Signed-in accounts whose role passes the check (named for the docs and the matrix).
    Role(&'static str, fn(Role) -> bool),
}

impl Access {
    /// Whether an account with `role` (None: anonymous) passes this gate.
    pub fn admits(self, role: Option<Role>) -> bool {
        match self {
            Access::Public => true,
            Access::AnySession | Access::SignedIn => role.is_some(),
            Access::Role(_, check) => role.is_some_and(check),
        }
    }
}

/// One row of the route table.
#[derive(Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

fn r(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> (RouteSpec, MethodRouter<AppState>) {
    (
        RouteSpec {
            method,
            path,
            access,
        },
        handler,
    )
}

pub use routes::{route_table, routes};

/// Builds the whole router; tests mount it on port 0.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (spec, handler) in route_table() {
        let (access, template) = (spec.access, spec.path);
        let campaign_write = writes_campaign(&spec);
        let db = state.db.clone();
        let gate = middleware::from_fn(move |request: Request, next: Next| {
            observe::RouteSlot::set(&request, template);
            let db = campaign_write.then(|| db.clone());
            enforce(access, db, request, next)
        });
        router = router.route(spec.path, handler.route_layer(gate));
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            writes_refresh_progress,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::csrf_guard,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::load_session,
        ))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ))
        // A panicking handler answers 500 like any internal error; the connection and every
        // other request carry on.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(middleware::from_fn(localise_framework_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(observe::request_span))
        .layer(PropagateRequestIdLayer::new(HeaderName::from_static(
            observe::REQUEST_ID,
        )))
        .layer(SetRequestIdLayer::new(
            HeaderName::from_static(observe::REQUEST_ID),
            observe::RandomId,
        ))
        .layer(middleware::from_fn(observe::sanitise_request_id))
        .with_state(state)
}

/// A request that may have written (anything but GET/HEAD/OPTIONS) makes this node's next
/// dashboard read take fresh figures, so people see their own changes at once. Attendees'
/// check-ins and signing in and out do not: a storm of check-ins must not make every dashboard
/// read wait, and their counts show within `progress::MAX_AGE`.
async fn writes_refresh_progress(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) && !path.starts_with("/c/")
        && !path.starts_with("/api/v1/uploads")
        && !matches!(path, "/login" | "/logout" | "/api/v1/session");
    let response = next.run(request).await;
    if writes {
        state.progress.invalidate();
    }
    response
}

/// Writes that are not the campaign's: signing in and out, one's own password, and the
/// accounts and the org tree, which outlive a campaign (next year's campaign uses them).
const ACCOUNT_WRITES: &[&str] = &[
    "/login",
    "/logout",
    "/account/password",
    "/api/v1/session",
    "/orgs",
    "/orgs/import",
    "/orgs/{org_id}",
    "/orgs/{org_id}/invite",
    "/users",
    "/users/import",
    "/users/{user_id}/reset-password",
    "/users/{user_id}/status",
    "/users/{user_id}/email",
    "/users/{user_id}/profile",
    "/api/v1/orgs",
    "/api/v1/orgs/{org_id}",
    "/api/v1/users",
    "/api/v1/users/import",
    "/api/v1/users/{user_id}/email",
    "/api/v1/users/{user_id}/profile",
];

/// Whether a route writes into the campaign: every method but GET/HEAD/OPTIONS, except the
/// account writes above (listed exactly: a new route is a campaign write unless named there).
/// A closed campaign refuses all of them in `enforce`.
pub fn writes_campaign(spec: &RouteSpec) -> bool {
    let reads = matches!(spec.method, Method::GET | Method::HEAD | Method::OPTIONS);
    !reads && !ACCOUNT_WRITES.contains(&spec.path)
}

/// The gate of every route: its access, then — for a campaign write (`campaign_db` given) —
/// the one check that a closed campaign is read-only (`acting::ensure_open`).
async fn enforce(
    access: Access,
    campaign_db: Option<crate::db::Db>,
    request: Request,
    next: Next,
) -> Response {
    let session = request.extensions().get::<Session>();
    let refusal = match (access, session) {
        (Access::Public, _) => None,
        (_, None) => Some(AppError::Unauthenticated),
        (Access::AnySession, Some(_)) => None,
        (_, Some(s)) if s.user.must_change_password => Some(AppError::PasswordChangeRequired),
        (Access::SignedIn, Some(_)) => None,
        (Access::Role(_, check), Some(s)) => (!check(s.role)).then_some(AppError::Forbidden),
    };
    let refusal = match (refusal, campaign_db) {
        (None, Some(db)) => crate::service::acting::ensure_open(&db).await.err(),
        (refusal, _) => refusal,
    };
    match refusal {
        None => next.run(request).await,
        Some(e) if request.uri().path().starts_with("/api/") => ApiError(e).into_response(),
        Some(e) => e.into_response(),
    }
}

/// Headers on every response: a CSP with no inline script, no framing, no sniffing, a strict
/// referrer policy; pages for signed-in accounts are never cached.
async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let signed_in = request.headers().get(header::COOKIE).is_some_and(|c| {
        c.to_str()
            .is_ok_and(|c| c.contains(session::session_cookie_name(state.settings.secure_cookies)))
    });
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: header::HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    if state.settings.secure_cookies {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    if signed_in {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The path of the resumable upload's chunk route.
const UPLOAD_CHUNK: &str = "/api/v1/uploads/";

/// Every request ends within `request_timeout_seconds`, except an upload chunk: a phone on a
/// slow line may take minutes to send one, and as long as bytes keep coming it may (the
/// chunk's own idle timeout, `upload_idle_seconds`, ends a stalled one and keeps what arrived).
async fn request_timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let api = path.starts_with("/api/");
    if request.method() == Method::PATCH && path.starts_with(UPLOAD_CHUNK) {
        return next.run(request).await;
    }
    let limit = Duration::from_secs(state.settings.request_timeout_seconds.max(1));
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) if api => ApiError(AppError::TimedOut).into_response(),
        Err(_) => AppError::TimedOut.into_response(),
    }
}

/// A handler panicked: logged once with its message, answered as an internal error.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request handler panicked");
    // The path is not known here; a JSON body serves API clients and browsers alike.
    ApiError(AppError::Internal(anyhow::anyhow!("handler panicked"))).into_response()
}

/// Errors the framework answers itself (a body over its limit, a timeout, a malformed body
/// that no extractor of ours saw) come as English `text/plain`. They are answered like every
/// other error: in Chinese, as a page or as the API's JSON.
async fn localise_framework_errors(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let health = matches!(request.uri().path(), "/healthz" | "/livez");
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if health || !plain || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::REQUEST_TIMEOUT => AppError::TimedOut,
        StatusCode::SERVICE_UNAVAILABLE => AppError::Unavailable,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::invalid(
            "Content-Type",
            "请求的内容类型不对：表单用 application/x-www-form-urlencoded 或 multipart/form-data，接口用 application/json",
        ),
        s if s.is_server_error() => AppError::Internal(anyhow::anyhow!("framework error {s}")),
        _ => AppError::invalid("请求", "请求的格式不对，请刷新页面后重试"),
    };
    let mut localised = if api {
        ApiError(error).into_response()
    } else {
        error.into_response()
    };
    // Keep the framework's status where it was more precise (e.g. 400 vs 422).
    if !matches!(
        status,
        StatusCode::NOT_FOUND | StatusCode::UNSUPPORTED_MEDIA_TYPE
    ) && status.is_client_error()
    {
        *localised.status_mut() = status;
    }
    localised
}

/// 200 when the database answers, 503 when it does not.
async fn health(State(state): State<AppState>) -> Response {
    if state.db.ping().await {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

/// Liveness: the process answers, without touching the database. Also the bare-handler
/// baseline of the benchmark.
async fn live() -> &'static str {
    "ok"
}

async fn method_not_allowed(request: Request) -> Response {
    let e = AppError::MethodNotAllowed;
    if request.uri().path().starts_with("/api/") {
        ApiError(e).into_response()
    } else {
        e.into_response()
    }
}

async fn not_found(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        ApiError(AppError::NotFound).into_response()
    } else {
        AppError::NotFound.into_response()
    }
}
