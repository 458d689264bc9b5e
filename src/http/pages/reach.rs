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
    target: String,
}

fn pct(part: i64, whole: u64) -> String {
    if whole == 0 {
        return "—".into();
    }
    let p = part as f64 * 100.0 / whole as f64;
    if p == 0.0 || p >= 0.01 {
        format!("{p:.2}%")
    } else {
        format!("{p:.6}%")
    }
}

/// 100000000 as 1亿, 50000 as 5万: the notice's way of writing its targets.
fn big(n: u64) -> String {
    if n >= 100_000_000 && n.is_multiple_of(1_000_000) {
        let y = n as f64 / 100_000_000.0;
        format!(
            "{}亿",
            format!("{y:.2}")
                .trim_end_matches('0')
                .trim_end_matches('.')
        )
    } else if n >= 10_000 && n.is_multiple_of(100) {
        let w = n as f64 / 10_000.0;
        format!(
            "{}万",
            format!("{w:.2}")
                .trim_end_matches('0')
                .trim_end_matches('.')
        )
    } else {
        n.to_string()
    }
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
        target: big(d.target),
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

#[cfg(test)]
mod tests {
    #[test]
    fn targets_read_as_the_notice_writes_them() {
        assert_eq!(super::big(100_000_000), "1亿");
        assert_eq!(super::big(50_000), "5万");
        assert_eq!(super::big(12_351), "12351");
        assert_eq!(super::pct(17, 100_000_000), "0.000017%");
        assert_eq!(super::pct(0, 100_000_000), "0.00%");
    }
}
