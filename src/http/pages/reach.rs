//! The reach dashboard (`/reach`, `GET /api/v1/reach`): visits measured through share links
//! beside the online views units claim, against the notice's 1亿 target. Scoped like progress:
//! unit admins see their subtree.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::Html;

use super::{Nav, render};
use crate::app::AppState;
use crate::error::{ApiResult, AppResult};
use crate::http::session::{CurrentUser, Session};
use crate::service::reach::{self, Dashboard};

async fn load(state: &AppState, session: &Session) -> Result<Dashboard, crate::error::AppError> {
    let acting = session.acting();
    let campaign = state.campaign.get(&state.db).await?;
    let progress = state.progress.get(&state.db, &acting.scope).await?;
    reach::dashboard(&state.db, &acting, &campaign, progress.totals.online_views).await
}

#[derive(Template)]
#[template(path = "reach.html")]
struct ReachPage {
    nav: Nav,
    d: Dashboard,
    scope_name: String,
    /// Measured unique visitor-days as a share of the target, e.g. "0.0001%".
    measured_pct: String,
    claimed_pct: String,
    max_day: i64,
}

fn pct(part: i64, whole: u64) -> String {
    if whole == 0 {
        return "—".into();
    }
    format!("{:.4}%", part as f64 * 100.0 / whole as f64)
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> AppResult<Html<String>> {
    let d = load(&state, &session).await?;
    render(&ReachPage {
        nav: Nav::for_session(&session),
        scope_name: if session.role.sees_everything() {
            "全市".into()
        } else {
            session.org.name.clone()
        },
        measured_pct: pct(d.totals.visitor_days, d.target),
        claimed_pct: pct(d.claimed, d.target),
        max_day: d
            .by_day
            .iter()
            .map(|x| x.visitors)
            .max()
            .unwrap_or(0)
            .max(1),
        d,
    })
}

/// The same figures as JSON.
#[utoipa::path(get, path = "/api/v1/reach", tag = "activities",
    responses((status = 200, body = Dashboard)))]
pub async fn api(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> ApiResult<Json<Dashboard>> {
    Ok(Json(load(&state, &session).await?))
}
