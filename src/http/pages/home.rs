//! The public overview and the signed-in dashboard.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::{Nav, render};
use crate::app::AppState;
use crate::db::{orgs, users};
use crate::error::AppResult;
use crate::http::session::{CurrentUser, MaybeSession};
use crate::service::overview::{self, Overview};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
    o: Overview,
}

/// The same for every visitor (two variants: the top bar links to login or, for a signed-in
/// visitor, to the dashboard), so one rendering serves all until the campaign or day changes.
pub async fn overview(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> AppResult<Response> {
    let today = state.clock.today();
    let variant = usize::from(session.is_some());
    let body = match state.overview.get(today, variant) {
        Some(body) => body,
        None => {
            let o = overview::current(&state.db, today).await?;
            let mut nav = Nav::anonymous();
            nav.signed_in_hint = session.is_some();
            let Html(html) = render(&HomePage { nav, o })?;
            let body = Bytes::from(html);
            state.overview.put(today, variant, body.clone());
            body
        }
    };
    let mut response = Html(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(response)
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Nav,
    org_name: String,
    org_kind: &'static str,
    role: &'static str,
    orgs_in_scope: usize,
    users_in_scope: usize,
    may_view_orgs: bool,
    may_manage_users: bool,
    /// Reminders to the account's unit it has not read (newest first, a few).
    reminders: Vec<super::reminders::Line>,
    unread: i64,
}

pub async fn dashboard(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> AppResult<Html<String>> {
    let scope = session.scope();
    let orgs_in_scope = if session.role.may_view_orgs() {
        orgs::list(&state.db, &scope, None).await?.len()
    } else {
        0
    };
    let users_in_scope = if session.role.may_manage_users() {
        users::list(&state.db, &scope).await?.len()
    } else {
        0
    };
    let (reminders, unread) = if session.role.may_report_activities() {
        let list =
            crate::db::reminders::for_org(&state.db, session.org.id, session.user.id, true, 5)
                .await?;
        let unread =
            crate::db::reminders::unread_count(&state.db, session.org.id, session.user.id).await?;
        (
            list.into_iter().map(super::reminders::line).collect(),
            unread,
        )
    } else {
        (Vec::new(), 0)
    };
    render(&DashboardPage {
        nav: Nav::for_session(&session),
        org_name: session.org.name.clone(),
        org_kind: session.org.kind_label(),
        role: session.role.label_zh(),
        orgs_in_scope,
        users_in_scope,
        may_view_orgs: session.role.may_view_orgs(),
        may_manage_users: session.role.may_manage_users(),
        reminders,
        unread,
    })
}
