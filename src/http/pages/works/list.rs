//! The works list: a worker's own works, a unit admin's units', a moderator's queue (opening
//! on what is waiting, among its own sub-projects), everything for the city.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::works::ListFilter;
use crate::domain::campaign::Participation;
use crate::domain::ids::OrgId;
use crate::domain::work::WorkStatus;
use crate::error::{AppError, AppResult};
use crate::http::extract::Query;
use crate::http::pages::activities::SelectOption;
use crate::http::pages::{Nav, render};
use crate::http::session::{CurrentUser, Session};
use crate::service::acting::current_campaign;
use crate::service::activities;
use crate::service::works::{self as service, Work};

#[derive(Template)]
#[template(path = "works.html")]
struct WorksPage {
    nav: Nav,
    works: Vec<Work>,
    projects: Vec<(String, String)>,
    filter: WorksQuery,
    moderator: bool,
    worker: bool,
    /// A moderator's assigned sub-projects (names); `None` for other roles.
    assigned: Option<Vec<String>>,
    /// Units right under the account's own, to narrow the list to one's subtree.
    units: Vec<SelectOption>,
    total: i64,
    /// The whole filter as a query string (for the export and the next page).
    filter_query: String,
    next: Option<String>,
    later: bool,
}

/// Works a page shows.
const PAGE_SIZE: i64 = 100;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct WorksQuery {
    #[serde(default)]
    pub sub_project: String,
    #[serde(default)]
    pub status: String,
    /// Words in the title, an author's name or the unit's name.
    #[serde(default)]
    pub q: String,
    /// A unit in scope: its subtree.
    #[serde(default)]
    pub org: String,
    /// The next page's cursor (from the previous page).
    #[serde(default)]
    pub cursor: String,
}

/// The list filter a query asks for, checked against the account's scope, and its fields as
/// (key, value) pairs for links (without the cursor).
pub(crate) async fn filter_of(
    state: &AppState,
    session: &Session,
    q: &WorksQuery,
) -> AppResult<(ListFilter, Vec<(String, String)>)> {
    let search = crate::domain::text::line(&q.q, 50)
        .map_err(|m| AppError::invalid("搜索", format!("搜索词{m}")))?;
    let status = WorkStatus::parse(q.status.trim()).map_or("", WorkStatus::code);
    let mut filter = ListFilter {
        sub_project: q.sub_project.trim().chars().take(64).collect(),
        status: status.to_string(),
        search: search.trim().to_string(),
        ..Default::default()
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(org) = parse_org(&q.org)? {
        filter.under = activities::subtree_of(&state.db, &session.acting(), org).await?;
        pairs.push(("org".into(), org.to_string()));
    }
    for (key, value) in [
        ("sub_project", &filter.sub_project),
        ("status", &filter.status),
        ("q", &filter.search),
    ] {
        if !value.is_empty() {
            pairs.push((key.into(), value.clone()));
        }
    }
    Ok((filter, pairs))
}

fn parse_org(text: &str) -> AppResult<Option<OrgId>> {
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid("单位", "请从列表中选择单位")),
    }
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(filter): Query<WorksQuery>,
) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    let moderator = session.role.may_moderate();
    let mut filter = filter;
    if moderator && filter.status.is_empty() && filter.sub_project.is_empty() {
        // The queue opens on what is waiting.
        filter.status = WorkStatus::Submitted.code().to_string();
    }
    let (list_filter, pairs) = filter_of(&state, &session, &filter).await?;
    let page = service::page(
        &state.db,
        &session.acting(),
        &list_filter,
        Some(filter.cursor.as_str()),
        PAGE_SIZE,
    )
    .await?;
    let filter_query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let next = page.next.as_ref().map(|c| {
        let mut with = pairs.clone();
        with.push(("cursor".into(), c.clone()));
        format!(
            "/works?{}",
            serde_urlencoded::to_string(&with).unwrap_or_default()
        )
    });
    let units = if session.role != crate::domain::role::Role::Worker {
        crate::http::pages::activities::unit_choices(&state, &session, parse_org(&filter.org)?)
            .await?
    } else {
        Vec::new()
    };
    let assigned = if session.role == crate::domain::role::Role::Moderator {
        Some(service::moderator_sub_projects(&state.db, session.user.id).await?)
    } else {
        None
    };
    render(&WorksPage {
        nav: Nav::for_session(&session),
        works: page.items,
        units,
        total: page.total,
        filter_query,
        next,
        later: !filter.cursor.trim().is_empty(),
        // A moderator filters among its own sub-projects.
        projects: match &assigned {
            Some(subs) => subs.clone(),
            None => campaign
                .campaign
                .sub_projects
                .iter()
                .filter(|s| s.participation == Participation::Wangju)
                .map(|s| (s.code.clone(), s.name.clone()))
                .collect(),
        },
        assigned: assigned.map(|subs| subs.into_iter().map(|(_, name)| name).collect()),
        filter,
        moderator,
        worker: session.role == crate::domain::role::Role::Worker,
    })
}

/// The list as filtered, as Excel (staff only: a worker has only their own works).
pub async fn export(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(filter): Query<WorksQuery>,
    headers: axum::http::HeaderMap,
) -> AppResult<axum::response::Response> {
    if session.role == crate::domain::role::Role::Worker {
        return Err(AppError::Forbidden);
    }
    let (list_filter, _) = filter_of(&state, &session, &filter).await?;
    let base_url = crate::http::pages::origin(&state, &headers).unwrap_or_default();
    let file = service::export::workbook(
        &state.db,
        &session.acting(),
        &list_filter,
        &session.org.name,
        state.clock.today(),
        &base_url,
    )
    .await?;
    Ok(crate::http::pages::download(
        file.bytes,
        crate::http::pages::XLSX,
        &file.ascii_name,
        &file.name,
    ))
}
