//! Server-rendered pages (askama templates under `templates/`).

pub mod activities;
pub mod archive;
pub mod audit;
pub mod auth;
pub mod checkin;
pub mod exports;
pub mod home;
pub mod lecture_team;
pub mod lectures;
pub mod orgs;
pub mod photos;
pub mod progress;
pub mod propagandists;
pub mod publicity;
pub mod qr;
pub mod quotas;
pub mod reach;
pub mod recommendation;
pub mod reminders;
pub mod review;
pub mod selection;
pub mod showcase;
pub mod summary;
pub mod users;
pub mod works;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Html;

use super::session::Session;
use crate::domain::role::Role;
use crate::error::{AppResult, Doing, FieldError};

/// The top bar: who is signed in and where they may go.
pub struct Nav {
    pub user: Option<NavUser>,
    /// CSRF token for the logout form.
    pub csrf: String,
    /// A shared (cached) page seen by a signed-in visitor: link to the dashboard, not login.
    pub signed_in_hint: bool,
    pub asset_version: &'static str,
}

pub struct NavUser {
    pub display_name: String,
    pub role_label: &'static str,
    pub org_name: String,
    pub may_view_orgs: bool,
    pub may_read_activities: bool,
    pub may_manage_users: bool,
    pub may_read_audit: bool,
    pub may_publicise: bool,
    pub may_read_works: bool,
    pub may_moderate: bool,
    pub may_review: bool,
    pub may_run_selection: bool,
    /// The lecture team's nominations and selection (city, 网信办, unit admins).
    pub may_lecture_team: bool,
}

impl Nav {
    pub fn anonymous() -> Nav {
        Nav {
            user: None,
            csrf: String::new(),
            signed_in_hint: false,
            asset_version: super::assets::VERSION,
        }
    }

    pub fn for_session(session: &Session) -> Nav {
        let role: Role = session.role;
        Nav {
            user: Some(NavUser {
                display_name: session.user.display_name.clone(),
                role_label: role.label_zh(),
                org_name: session.org.name.clone(),
                may_view_orgs: role.may_view_orgs() && !session.user.must_change_password,
                may_read_activities: role.may_read_activities()
                    && !session.user.must_change_password,
                may_manage_users: role.may_manage_users() && !session.user.must_change_password,
                may_read_audit: role.may_read_audit() && !session.user.must_change_password,
                may_publicise: role.may_publicise() && !session.user.must_change_password,
                may_read_works: role.may_read_works() && !session.user.must_change_password,
                may_moderate: role.may_moderate() && !session.user.must_change_password,
                may_review: role.may_review() && !session.user.must_change_password,
                may_run_selection: role.may_run_selection() && !session.user.must_change_password,
                may_lecture_team: matches!(
                    role,
                    Role::CityAdmin | Role::CoOrganiserLiaison | Role::UnitAdmin
                ) && !session.user.must_change_password,
            }),
            csrf: session.csrf.clone(),
            signed_in_hint: true,
            asset_version: super::assets::VERSION,
        }
    }
}

/// Renders a template; a rendering failure is an internal error, logged once.
pub fn render(template: &impl Template) -> AppResult<Html<String>> {
    template
        .render()
        .map(Html)
        .doing("rendering a page template")
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Nav,
    status: u16,
    message: &'a str,
    fields: &'a [FieldError],
}

/// The page shown for any error; never shows internals.
pub fn error_page(status: StatusCode, message: &str, fields: &[FieldError]) -> Html<String> {
    let page = ErrorPage {
        nav: Nav::anonymous(),
        status: status.as_u16(),
        message,
        fields,
    };
    Html(
        page.render()
            .unwrap_or_else(|_| format!("<h1>{}</h1><p>{}</p>", status.as_u16(), "出错了")),
    )
}

/// 422 when a form comes back with errors, 200 otherwise.
pub fn form_status(errors: &[FieldError]) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// Formats Unix seconds as China time, e.g. 2020-07-01 09:30:00.
pub fn format_time(unix: i64) -> String {
    crate::clock::china_time_text(unix)
}

/// A file download: `Content-Disposition: attachment` with an ASCII name and the Chinese name
/// (RFC 5987), so browsers save it under the Chinese name and old ones under the ASCII one.
pub fn download(
    bytes: Vec<u8>,
    content_type: &'static str,
    ascii_name: &str,
    name_zh: &str,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let encoded: String = name_zh
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut response = axum::body::Bytes::from(bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const CSV: &str = "text/csv; charset=utf-8";

/// `scheme://host` of the request, from its Host header, when that is a plain host name
/// (never anything a header injection could smuggle into a link).
pub fn origin(state: &crate::app::AppState, headers: &axum::http::HeaderMap) -> Option<String> {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })?;
    let scheme = if state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{host}"))
}

/// `path` (starting with `/`) as an absolute URL: on the configured `public_url`, or (when none
/// is set) on the host the request came in on.
pub fn absolute_url(
    state: &crate::app::AppState,
    headers: &axum::http::HeaderMap,
    path: &str,
) -> String {
    if !state.settings.public_url.is_empty() {
        return format!("{}{path}", state.settings.public_url);
    }
    let origin = origin(state, headers).unwrap_or_else(|| "http://localhost".into());
    format!("{origin}{path}")
}
