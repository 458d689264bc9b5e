//! The progress table: each unit in scope with its quota, its activities by status and the
//! 12351 counters, from the node's progress snapshot; city and unit admins set quotas from it.

use crate::domain::ids::OrgId;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use serde::Deserialize;

use super::{Nav, render};
use crate::app::AppState;
use crate::error::{AppResult, FieldError};
use crate::http::extract::Query;
use crate::http::session::{CurrentUser, Session};
use crate::service::progress::Progress;

#[derive(Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    nav: Nav,
    csrf: String,
    p: std::sync::Arc<Progress>,
    may_allocate: bool,
    own_org: OrgId,
    city: bool,
    message: Option<String>,
    errors: Vec<FieldError>,
    /// The circular's settings, for the city: (document number, first paragraph, edited?).
    circular: Option<(String, String, bool)>,
    /// Reach measured through share links in this scope (beside the claimed online views).
    measured: crate::db::reach::Totals,
    /// National results within the scope: (level, works), best first; and the total.
    awards: Vec<(String, i64)>,
    awarded: i64,
}

#[derive(Deserialize, Default)]
pub struct ProgressQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn progress_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ProgressQuery>,
) -> AppResult<Html<String>> {
    render_progress(
        &state,
        &session,
        q.done.map(|d| {
            if d == "circular" {
                "通报的文号和首段已保存，导出的 Word 通报将使用它们。".to_string()
            } else {
                "任务数已保存。".to_string()
            }
        }),
        Vec::new(),
    )
    .await
}

/// The progress page with a message or the errors of a quota change.
pub(super) async fn render_progress(
    state: &AppState,
    session: &Session,
    message: Option<String>,
    errors: Vec<FieldError>,
) -> AppResult<Html<String>> {
    let p = state.progress.get(&state.db, &session.scope()).await?;
    let city = session.role == crate::domain::role::Role::CityAdmin;
    let circular = if city {
        let campaign = crate::service::acting::current_campaign(&state.db).await?;
        let texts = crate::db::papers::get(&state.db, campaign.id).await?;
        let generated =
            crate::service::circular::lead_paragraph(&p, "全市工会系统", state.clock.today());
        let edited = texts.lead.is_some();
        Some((
            texts.doc_number.unwrap_or_default(),
            texts.lead.unwrap_or(generated),
            edited,
        ))
    } else {
        None
    };
    let campaign = state.campaign.get(&state.db).await?;
    let measured =
        crate::service::reach::measured(&state.db, campaign.id, &session.scope()).await?;
    let awards = crate::db::recommendation::awards_in_scope(
        &state.db,
        crate::domain::ids::CampaignId(campaign.id),
        &session.scope().prefix,
    )
    .await?;
    render(&ProgressPage {
        measured,
        awarded: awards.iter().map(|(_, n)| n).sum(),
        awards,
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        p,
        may_allocate: session.role.may_allocate_quotas(),
        own_org: session.org.id,
        city,
        message,
        errors,
        circular,
    })
}

#[derive(Deserialize)]
pub struct CircularForm {
    #[serde(default)]
    doc_number: String,
    #[serde(default)]
    lead: String,
    /// "1": forget the edit and write the paragraph from the figures again.
    #[serde(default)]
    regenerate: Option<String>,
}

/// The city sets the circular's document number and first paragraph (kept with the campaign).
pub async fn set_circular(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    crate::http::extract::Form(form): crate::http::extract::Form<CircularForm>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let lead = if form.regenerate.is_some() {
        ""
    } else {
        form.lead.as_str()
    };
    match crate::service::circular::set_texts(&state.db, &session.acting(), &form.doc_number, lead)
        .await
    {
        Ok(()) => {
            Ok(axum::response::Redirect::to("/progress?done=circular#circular").into_response())
        }
        Err(crate::error::AppError::Invalid(errors)) => {
            let page = render_progress(&state, &session, None, errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
