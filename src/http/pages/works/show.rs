//! One work's page: its details, the automatic check's findings and measurements, the
//! declarations, its history, and the moderator's decision form.

use crate::domain::ids::WorkId;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::DoneQuery;
use crate::app::AppState;
use crate::domain::work::{self, WorkStatus};
use crate::error::{AppResult, FieldError};
use crate::http::extract::{Path, Query};
use crate::http::pages::{Nav, format_time, render};
use crate::http::session::CurrentUser;
use crate::service::acting::current_campaign;
use crate::service::works::{self as service, Work};

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    nav: Nav,
    csrf: String,
    w: Work,
    project_name: String,
    history: Vec<(String, String, String, Option<String>)>,
    findings: Vec<(String, &'static str)>,
    measured: Vec<(&'static str, String)>,
    declared: Vec<(String, String)>,
    may_decide: bool,
    may_fix: bool,
    submitted_at: String,
    message: Option<&'static str>,
    errors: Vec<FieldError>,
    /// Whether the work is chosen for the showcase, for those who may choose (the author, the
    /// unit's admins); `None` for everyone else.
    showcase: Option<bool>,
    /// The national result (全国评选结果), once the city imported it.
    award: Option<String>,
}

fn findings_of(report: Option<&serde_json::Value>) -> Vec<(String, &'static str)> {
    let Some(findings) = report
        .and_then(|r| r.get("findings"))
        .and_then(|f| f.as_array())
    else {
        return Vec::new();
    };
    findings
        .iter()
        .filter_map(|f| {
            let message = f.get("message")?.as_str()?.to_string();
            let severity = match f.get("severity")?.as_str()? {
                "error" => "错误",
                _ => "提醒",
            };
            Some((message, severity))
        })
        .collect()
}

fn measured_of(report: Option<&serde_json::Value>) -> Vec<(&'static str, String)> {
    let Some(r) = report else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(d) = r.get("duration_s").and_then(|v| v.as_f64()) {
        out.push(("时长", crate::media::check::duration_zh(d)));
    }
    if let (Some(w), Some(h)) = (
        r.get("display_width").and_then(|v| v.as_u64()),
        r.get("display_height").and_then(|v| v.as_u64()),
    ) {
        out.push(("画面", format!("{w}×{h}")));
    }
    if let Some(s) = r.get("size_bytes").and_then(|v| v.as_u64()) {
        out.push(("大小", crate::media::check::size_zh(s)));
    }
    if let Some(c) = r.get("video_codec").and_then(|v| v.as_str()) {
        out.push(("视频编码", c.to_string()));
    }
    if let Some(c) = r.get("audio_codec").and_then(|v| v.as_str()) {
        out.push(("音频编码", c.to_string()));
    }
    if let Some(n) = r.get("subtitle_tracks").and_then(|v| v.as_array()) {
        out.push(("字幕轨", format!("{} 条", n.len())));
    }
    out
}

pub(super) async fn work_page(
    state: &AppState,
    session: &crate::http::session::Session,
    id: WorkId,
    message: Option<&'static str>,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let acting = session.acting();
    let w = service::get(&state.db, &acting, id).await?;
    let campaign = current_campaign(&state.db).await?;
    let project_name = service::sub_project(&campaign, &w.row.sub_project)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let history = service::history(&state.db, &w)
        .await?
        .into_iter()
        .map(|e| {
            let label = match e.action.as_str() {
                "submit" => "提交".to_string(),
                "resubmit" => "修改后重新提交".to_string(),
                other => WorkStatus::parse(other)
                    .map(|s| s.label_zh().to_string())
                    .unwrap_or_else(|| other.to_string()),
            };
            (format_time(e.at), e.actor_name, label, e.reason)
        })
        .collect();
    let declared = vec![
        (
            format!("原创及授权声明（{}版）", w.row.originality_version),
            format_time(w.row.originality_at),
        ),
        (
            format!("肖像使用同意（{}版）", w.row.portrait_version),
            format_time(w.row.portrait_at),
        ),
        (
            "关键内容配有字幕".to_string(),
            if w.row.subtitles_declared {
                "作者已声明，请审核时核对".to_string()
            } else {
                "未声明".to_string()
            },
        ),
    ];
    let status = crate::http::pages::form_status(&errors);
    let showcase = if w.row.owner_id == session.user.id || session.role.may_report_activities() {
        Some(
            crate::service::showcase::is_shown(
                &state.db,
                crate::db::reach::Kind::Work,
                w.row.id.get(),
            )
            .await?,
        )
    } else {
        None
    };
    let award = crate::db::recommendation::result_of(&state.db, id).await?;
    let page = render(&WorkPage {
        showcase,
        award,
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        findings: findings_of(w.report.as_ref()),
        measured: measured_of(w.report.as_ref()),
        may_decide: session.role.may_moderate() && work::may_decide(w.status()),
        may_fix: (w.row.owner_id == session.user.id || w.row.filed_by == session.user.id)
            && work::may_resubmit(w.status()),
        submitted_at: format_time(w.row.submitted_at),
        project_name,
        history,
        declared,
        message,
        errors,
        w,
    })?;
    Ok((status, page).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<WorkId>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let message = match q.done.as_str() {
        "submitted" => Some("作品已提交，审核员会在一个工作日内处理。"),
        "decided" => Some("审核结果已保存，作者会在“我的作品”中看到。"),
        "resubmitted" => Some("修改后的作品已重新提交。"),
        _ => None,
    };
    work_page(&state, &session, id, message, Vec::new()).await
}
