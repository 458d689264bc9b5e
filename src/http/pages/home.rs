//! The public overview and the signed-in dashboard.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::{Nav, render};
use crate::app::AppState;
use crate::db::activities::ListFilter;
use crate::db::{orgs, users};
use crate::domain::activity::Status;
use crate::domain::campaign::Participation;
use crate::domain::role::Role;
use crate::domain::work::WorkStatus;
use crate::error::AppResult;
use crate::http::extract::Query;
use crate::http::session::{CurrentUser, MaybeSession, Session};
use crate::service::acting::current_campaign;
use crate::service::overview::{self, Overview};
use crate::service::{activities, works};

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
            let o = overview::current(&state.db, today, session.is_some()).await?;
            let mut nav = Nav::anonymous();
            nav.signed_in_hint = session.is_some();
            let Html(html) = render(&HomePage { nav, o })?;
            let body = Bytes::from(html);
            state.overview.put(today, variant, body.clone());
            body
        }
    };
    let mut response = Html(body).into_response();
    // A signed-in visitor's variant (contacts' mobiles whole) leaves as no-store: the
    // security-header layer sets that on every signed-in response.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(response)
}

/// What a worker's home shows: where to submit, and their own works (returned ones first).
struct WorkerHome {
    /// Sub-projects Wangju takes works for: (code, name).
    open_projects: Vec<(String, String)>,
    /// Why submitting is closed today, if it is.
    closed: Option<String>,
    /// The newest `HOME_WORKS` of the worker's works.
    works: Vec<crate::service::works::Work>,
    /// All of them (the rest are on `/works`).
    total: i64,
    /// The newest `HOME_RETURNED` returned works, and how many are returned in all.
    returned_works: Vec<crate::service::works::Work>,
    returned: i64,
}

/// Works a worker's home lists, newest first; the works list (`/works`) has them all.
const HOME_WORKS: i64 = 20;
/// Returned works listed above them, newest first (all of them: `/works?status=returned`).
const HOME_RETURNED: i64 = 5;

/// A staff member's own figures: its unit's quota and completion, and what waits for it.
struct StaffFigures {
    unit: String,
    quota: Option<i64>,
    confirmed: i64,
    reported: i64,
    completion_percent: Option<i64>,
    /// (label, how many, where to act).
    waiting: Vec<(&'static str, i64, String)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Nav,
    org_name: String,
    org_kind: &'static str,
    role: &'static str,
    orgs_in_scope: usize,
    users_in_scope: i64,
    may_view_orgs: bool,
    may_manage_users: bool,
    /// Reminders to the account's unit it has not read (newest first, a few).
    reminders: Vec<super::reminders::Line>,
    unread: i64,
    /// Just registered and signed in.
    welcome: bool,
    worker: Option<WorkerHome>,
    figures: Option<StaffFigures>,
    /// The campaign is closed (已归档): read-only.
    archived: bool,
    is_city_admin: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DashboardQuery {
    #[serde(default)]
    welcome: Option<String>,
}

async fn worker_home(state: &AppState, session: &Session) -> AppResult<WorkerHome> {
    let campaign = current_campaign(&state.db).await?;
    let closed = works::submissions_open(&campaign, &state.clock).err();
    let open_projects = campaign
        .campaign
        .sub_projects
        .iter()
        .filter(|s| s.participation == Participation::Wangju)
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect();
    let acting = session.acting();
    let returned = WorkStatus::Returned.code();
    Ok(WorkerHome {
        open_projects,
        closed,
        // Returned works wait for the worker: the newest few above everything else.
        returned_works: works::newest(&state.db, &acting, "", returned, HOME_RETURNED).await?,
        returned: works::count(&state.db, &acting, returned).await?,
        total: works::count(&state.db, &acting, "").await?,
        works: works::newest(&state.db, &acting, "", "", HOME_WORKS).await?,
    })
}

async fn staff_figures(state: &AppState, session: &Session) -> AppResult<Option<StaffFigures>> {
    let role = session.role;
    if !(role.may_read_activities() || role.may_moderate()) {
        return Ok(None);
    }
    let acting = session.acting();
    let mut figures = StaffFigures {
        unit: session.org.name.clone(),
        quota: None,
        confirmed: 0,
        reported: 0,
        completion_percent: None,
        waiting: Vec::new(),
    };
    if role.may_read_activities() {
        let p = state.progress.get(&state.db, &session.scope()).await?;
        match p.rows.iter().find(|r| r.org_id == session.org.id) {
            Some(row) => {
                figures.quota = row.quota;
                figures.confirmed = row.counts.confirmed;
                figures.reported = row.counts.reported;
                figures.completion_percent = row.completion_percent;
            }
            None => {
                // The city (or a liaison): the whole campaign.
                figures.quota = Some(p.total_quota).filter(|q| *q > 0);
                figures.confirmed = p.totals.confirmed;
                figures.reported = p.totals.reported;
                figures.completion_percent =
                    figures.quota.map(|q| p.totals.confirmed * 100 / q.max(1));
            }
        }
    }
    let with_status = |status: &str| ListFilter {
        status: status.to_string(),
        ..ListFilter::default()
    };
    if role == Role::CityAdmin {
        for (status, label) in [
            ("approved", "待市总确认的报送"),
            ("submitted", "待审核的报送"),
        ] {
            let n = activities::count(&state.db, &acting, &with_status(status)).await?;
            figures
                .waiting
                .push((label, n, format!("/activities?status={status}")));
        }
    } else if role == Role::UnitAdmin {
        // Reports of the units below (the subtree but the admin's own unit), waiting for this
        // admin's approval.
        let n = activities::count(&state.db, &acting, &with_status(Status::Submitted.code()))
            .await?
            - activities::count_own(&state.db, &acting, Status::Submitted).await?;
        figures.waiting.push((
            "下级单位待审核的报送",
            n,
            "/activities?status=submitted".to_string(),
        ));
    }
    if role.may_report_activities() {
        let n = activities::count_own(&state.db, &acting, Status::Returned).await?;
        figures.waiting.push((
            "被退回待修改的本单位报送",
            n,
            "/activities?status=returned".to_string(),
        ));
    }
    if role.may_moderate() {
        let n = works::count(&state.db, &acting, WorkStatus::Submitted.code()).await?;
        figures.waiting.push((
            "待审核的作品",
            n,
            format!("/works?status={}", WorkStatus::Submitted.code()),
        ));
    }
    Ok(Some(figures))
}

pub async fn dashboard(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<DashboardQuery>,
) -> AppResult<Html<String>> {
    let scope = session.scope();
    let orgs_in_scope = if session.role.may_view_orgs() {
        orgs::list(&state.db, &scope, None).await?.len()
    } else {
        0
    };
    let users_in_scope = if session.role.may_manage_users() {
        users::count_in(&state.db, &scope).await?
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
    let worker = if session.role == Role::Worker {
        Some(worker_home(&state, &session).await?)
    } else {
        None
    };
    let figures = staff_figures(&state, &session).await?;
    render(&DashboardPage {
        archived: crate::db::archive::current_is_closed(&state.db).await?,
        is_city_admin: session.role == Role::CityAdmin,
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
        welcome: q.welcome.is_some(),
        worker,
        figures,
    })
}
