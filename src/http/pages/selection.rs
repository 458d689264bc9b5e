//! The city's selection pages: reviewer pools and conflicts per sub-project, starting the first
//! round, a round's assignments (moved by hand) and ranking, and closing it.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, render};
use crate::app::AppState;
use crate::db::selection::{self as db, ConflictRow, ReviewerRow};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::selection::TIE_RULE_ZH;
use crate::error::AppResult;
use crate::http::extract::{Form, Path, Query};
use crate::http::session::CurrentUser;
use crate::service::selection::{self as service, AssignmentsView, RoundView, SubProjectOverview};

#[derive(Template)]
#[template(path = "selection.html")]
struct OverviewPage {
    nav: Nav,
    csrf: String,
    subs: Vec<SubProjectOverview>,
    reviewers: Vec<ReviewerRow>,
    conflicts: Vec<ConflictRow>,
    done: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

pub async fn overview(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<DoneQuery>,
) -> AppResult<Html<String>> {
    let subs = service::overview(&state.db, &session.acting()).await?;
    render(&OverviewPage {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        subs,
        reviewers: db::reviewers(&state.db).await?,
        conflicts: db::conflicts(&state.db, None).await?,
        done: q.done,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct PoolForm {
    #[serde(default)]
    user_id: String,
}

fn user_id(text: &str) -> AppResult<UserId> {
    text.trim()
        .parse()
        .map_err(|_| crate::error::AppError::invalid("user_id", "请选择评审专家"))
}

pub async fn pool_add(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<PoolForm>,
) -> AppResult<Response> {
    let id = user_id(&form.user_id)?;
    service::add_to_pool(&state.db, &session.acting(), id, &code).await?;
    Ok(Redirect::to("/selection?done=pool").into_response())
}

pub async fn withdraw(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path((code, user)): Path<(String, UserId)>,
) -> AppResult<Response> {
    let moved = service::withdraw(&state.db, &session.acting(), user, &code).await?;
    Ok(Redirect::to(&format!("/selection?done=withdrawn-{moved}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct ConflictForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    note: String,
}

pub async fn declare_conflict(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<ConflictForm>,
) -> AppResult<Response> {
    let id = user_id(&form.user_id)?;
    let org = match form.org_id.trim() {
        "" => None,
        text => Some(
            text.parse::<OrgId>()
                .map_err(|_| crate::error::AppError::invalid("org_id", "回避单位编号应为数字"))?,
        ),
    };
    service::declare_conflict(
        &state.db,
        &session.acting(),
        id,
        org,
        &form.person,
        &form.note,
    )
    .await?;
    Ok(Redirect::to("/selection?done=conflict").into_response())
}

pub async fn start(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let round = service::open_first_round(&state.db, &session.acting(), &code).await?;
    Ok(Redirect::to(&format!("/selection/rounds/{round}")).into_response())
}

#[derive(Template)]
#[template(path = "selection_round.html")]
struct RoundPage {
    nav: Nav,
    csrf: String,
    view: RoundView,
    live: Option<service::LiveRanking>,
    tie_rule: &'static str,
    shown: i64,
}

#[derive(Template)]
#[template(path = "selection_assignments.html")]
struct AssignmentsPage {
    nav: Nav,
    csrf: String,
    view: AssignmentsView,
    /// The pool's `<option>`s, rendered once per pool revision.
    pool_options: std::sync::Arc<str>,
}

#[derive(Template)]
#[template(
    source = r#"{% for r in pool %}<option value="{{ r.id }}">{{ r.display_name }}</option>{% endfor %}"#,
    ext = "html"
)]
struct PoolOptions<'a> {
    pool: &'a [ReviewerRow],
}

pub fn points(centi: &Option<i64>) -> String {
    centi.map_or("—".into(), |c| format!("{:.2}", c as f64 / 100.0))
}

/// The round: its counts, the live (open) or frozen (closed) ranking, closing it.
pub async fn round(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(round_id): Path<i64>,
) -> AppResult<Html<String>> {
    let acting = session.acting();
    let view = service::round_view(&state.db, &state.campaign, &acting, round_id).await?;
    let live = if view.round.status == "open" {
        Some(service::live_ranking(&state.db, &state.rankings, &acting, &view.round).await?)
    } else {
        None
    };
    render(&RoundPage {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        view,
        live,
        tie_rule: TIE_RULE_ZH,
        shown: service::RANKING_SHOWN,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct AssignmentsQuery {
    /// The work the page of assignments continues after.
    #[serde(default)]
    from: Option<i64>,
}

/// A page of the round's assignments, each pending one movable to another reviewer.
pub async fn assignments(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(round_id): Path<i64>,
    Query(q): Query<AssignmentsQuery>,
) -> AppResult<Html<String>> {
    let view = service::assignments_view(
        &state.db,
        &state.campaign,
        &state.rankings,
        &session.acting(),
        round_id,
        q.from.unwrap_or(0),
    )
    .await?;
    let pool_options = state
        .rankings
        .pool_rendered(&view.round, &view.pool, |pool| {
            PoolOptions { pool }
                .render()
                .map_err(|e| crate::error::AppError::Internal(e.into()))
        })?;
    render(&AssignmentsPage {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        view,
        pool_options,
    })
}

pub async fn close(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(round_id): Path<i64>,
) -> AppResult<Response> {
    let next = service::close_round(&state.db, &session.acting(), round_id).await?;
    let to = next.map_or(round_id, |n| n);
    Ok(Redirect::to(&format!("/selection/rounds/{to}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    to: String,
}

pub async fn move_assignment(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(assignment_id): Path<i64>,
    Form(form): Form<MoveForm>,
) -> AppResult<Response> {
    let to = user_id(&form.to)?;
    let acting = session.acting();
    let round = db::assignment(&state.db, assignment_id)
        .await?
        .map(|a| a.round_id)
        .ok_or(crate::error::AppError::NotFound)?;
    service::move_assignment(&state.db, &acting, assignment_id, to).await?;
    Ok(Redirect::to(&format!("/selection/rounds/{round}/assignments")).into_response())
}

pub async fn assign(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(round_id): Path<i64>,
) -> AppResult<Response> {
    service::assign_round(&state.db, &session.acting(), round_id).await?;
    Ok(Redirect::to(&format!("/selection/rounds/{round_id}")).into_response())
}

#[derive(Template)]
#[template(path = "reviewers_imported.html")]
struct ImportedPage {
    nav: Nav,
    issued: Vec<service::Issued>,
    errors: Vec<crate::error::FieldError>,
}

/// Reviewer accounts from an Excel or CSV file, all or nothing; the one-time passwords are
/// shown once.
pub async fn import_reviewers(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    multipart: crate::http::extract::Multipart,
) -> AppResult<Response> {
    let bytes = super::orgs::uploaded_file(multipart).await?;
    let result = match crate::office::tabular::read_off_thread(bytes).await {
        Ok(table) => service::import_reviewers(&state.db, &session.acting(), &table).await,
        Err(message) => Err(crate::error::AppError::invalid("文件", message)),
    };
    let (issued, errors, status) = match result {
        Ok(issued) => (issued, Vec::new(), axum::http::StatusCode::OK),
        Err(crate::error::AppError::Invalid(errors)) => (
            Vec::new(),
            errors,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(e),
    };
    let page = render(&ImportedPage {
        nav: Nav::for_session(&session),
        issued,
        errors,
    })?;
    Ok((status, page).into_response())
}
