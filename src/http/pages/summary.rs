//! The campaign summary (活动总结): the city's page (each section's narrative with its editor
//! and history, the districts' submissions, the .docx and .xlsx downloads) and a district's
//! page to submit its own summary. Pages and the JSON API share `service::summary`.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::extract::multipart::MultipartRejection;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, render};
use crate::app::AppState;
use crate::domain::ids::OrgId;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Form, Path, Query};
use crate::http::session::CurrentUser;
use crate::service::summary::{self, DistrictView, SectionView, Submission};

/// The body limit of the district's form: the largest file and the text, with room for the
/// multipart framing.
pub const BODY_LIMIT: usize = summary::MAX_DISTRICT_FILE + 256 * 1024;

pub struct HistoryLine {
    pub version: i64,
    pub author: String,
    pub when: String,
    pub body: String,
}

pub struct SectionLine {
    pub s: SectionView,
    pub history: Vec<HistoryLine>,
}

pub struct SubmissionLine {
    pub s: Submission,
    pub when: String,
}

#[derive(Template)]
#[template(path = "summary.html")]
struct SummaryPage {
    nav: Nav,
    csrf: String,
    may_edit: bool,
    message: Option<String>,
    sections: Vec<SectionLine>,
    submissions: Vec<SubmissionLine>,
    submitted: usize,
    due: String,
    max_narrative: usize,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<Done>,
) -> AppResult<Html<String>> {
    let acting = session.acting();
    if !summary::may_read(&acting) {
        return Err(AppError::Forbidden);
    }
    let f = summary::figures(&state.db, &state.store, &acting, state.clock.today()).await?;
    let sections = summary::sections(&state.db, &f)
        .await?
        .into_iter()
        .map(|s| SectionLine {
            history: s
                .history
                .iter()
                .map(|v| HistoryLine {
                    version: v.version,
                    author: v.author_name.clone(),
                    when: summary::time_zh(v.created_at),
                    body: if v.body.trim().is_empty() {
                        "（恢复为按数据生成的段落）".into()
                    } else {
                        v.body.clone()
                    },
                })
                .collect(),
            s,
        })
        .collect();
    let submitted = f
        .submissions
        .iter()
        .filter(|s| s.submitted.is_some())
        .count();
    render(&SummaryPage {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        may_edit: acting.role == crate::domain::role::Role::CityAdmin,
        message: q.done.map(|d| match d.as_str() {
            "restored" => "已恢复所选版本（作为新的一版保存）。".to_string(),
            _ => "段落已保存为新的一版，导出的 Word 将使用它。".to_string(),
        }),
        sections,
        submissions: f
            .submissions
            .iter()
            .map(|s| SubmissionLine {
                when: s
                    .submitted
                    .as_ref()
                    .map(|d| summary::time_zh(d.submitted_at))
                    .unwrap_or_default(),
                s: s.clone(),
            })
            .collect(),
        submitted,
        due: f
            .due
            .map(crate::office::sheet::date_zh)
            .unwrap_or_else(|| "未设置".into()),
        max_narrative: summary::MAX_NARRATIVE,
    })
}

#[derive(Deserialize)]
pub struct NarrativeForm {
    #[serde(default)]
    body: String,
    base_version: i64,
    /// "1": back to the paragraph written from the figures.
    #[serde(default)]
    regenerate: Option<String>,
}

pub async fn save(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(section): Path<String>,
    Form(form): Form<NarrativeForm>,
) -> AppResult<Response> {
    let body = if form.regenerate.is_some() {
        ""
    } else {
        form.body.as_str()
    };
    summary::save_narrative(
        &state.db,
        &session.acting(),
        &section,
        form.base_version,
        body,
    )
    .await?;
    Ok(Redirect::to(&format!("/summary?done=saved#{section}")).into_response())
}

#[derive(Deserialize)]
pub struct RestoreForm {
    version: i64,
    base_version: i64,
}

pub async fn restore(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(section): Path<String>,
    Form(form): Form<RestoreForm>,
) -> AppResult<Response> {
    summary::restore_narrative(
        &state.db,
        &session.acting(),
        &section,
        form.base_version,
        form.version,
    )
    .await?;
    Ok(Redirect::to(&format!("/summary?done=restored#{section}")).into_response())
}

async fn export(
    state: &AppState,
    session: &crate::http::session::Session,
    word: bool,
) -> AppResult<Response> {
    let file = summary::export(
        &state.db,
        &state.store,
        &session.acting(),
        state.clock.today(),
        &state.settings.chart_font,
        word,
    )
    .await?;
    Ok(super::download(
        file.bytes,
        if word { super::DOCX } else { super::XLSX },
        &file.ascii_name,
        &file.name,
    ))
}

pub async fn docx(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> AppResult<Response> {
    export(&state, &session, true).await
}

pub async fn xlsx(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> AppResult<Response> {
    export(&state, &session, false).await
}

#[derive(Template)]
#[template(path = "summary_district.html")]
struct DistrictPage {
    nav: Nav,
    csrf: String,
    v: DistrictView,
    due: String,
    when: String,
    message: Option<String>,
    max_text: usize,
    max_mb: usize,
}

pub async fn district_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<Done>,
) -> AppResult<Html<String>> {
    let v = summary::district_view(&state.db, &session.acting(), state.clock.today()).await?;
    render(&DistrictPage {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        due: v
            .due
            .map(crate::office::sheet::date_zh)
            .unwrap_or_else(|| "未设置".into()),
        when: v
            .submitted
            .as_ref()
            .map(|d| summary::time_zh(d.submitted_at))
            .unwrap_or_default(),
        v,
        message: q
            .done
            .map(|_| "本单位活动总结已提交。截止日期前可以修改后重新提交。".to_string()),
        max_text: summary::MAX_DISTRICT_TEXT,
        max_mb: summary::MAX_DISTRICT_FILE / 1024 / 1024,
    })
}

/// The district's form: `body`, `base_version` and an optional `file`.
pub async fn district_submit(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    multipart: Result<axum::extract::Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let unfinished = || AppError::invalid("附件", "上传没有完成，请重新选择文件后提交");
    let mut multipart =
        multipart.map_err(|_| AppError::invalid("总结正文", "请用页面上的表单提交"))?;
    let (mut body, mut base, mut file) = (String::new(), 0_i64, None);
    while let Some(mut field) = multipart.next_field().await.map_err(|_| unfinished())? {
        match field.name() {
            Some("body") => body = field.text().await.map_err(|_| unfinished())?,
            Some("base_version") => {
                base = field
                    .text()
                    .await
                    .map_err(|_| unfinished())?
                    .trim()
                    .parse()
                    .map_err(|_| AppError::invalid("版本", "页面已过期，请刷新后再提交"))?
            }
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_string();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| unfinished())? {
                    if bytes.len() + chunk.len() > summary::MAX_DISTRICT_FILE {
                        return Err(AppError::invalid(
                            "附件",
                            format!(
                                "附件最大 {} MB，请压缩后再上传",
                                summary::MAX_DISTRICT_FILE / 1024 / 1024
                            ),
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                if !bytes.is_empty() {
                    file = Some(summary::Upload { name, bytes });
                }
            }
            _ => {}
        }
    }
    summary::submit_district(
        &state.db,
        &state.store,
        &session.acting(),
        state.clock.today(),
        &body,
        base,
        file,
    )
    .await?;
    Ok(Redirect::to("/summary/district?done=1").into_response())
}

pub async fn district_file(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(org_id): Path<OrgId>,
) -> AppResult<Response> {
    let f = summary::district_file(&state.db, &state.store, &session.acting(), org_id).await?;
    let kind = if f.ascii_name.ends_with(".pdf") {
        "application/pdf"
    } else {
        super::DOCX
    };
    Ok(super::download(f.bytes, kind, &f.ascii_name, &f.name))
}

/// The summary's sections and the districts' submissions.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SummaryJson {
    pub sections: Vec<SectionView>,
    pub submissions: Vec<Submission>,
    pub district_summary_due: Option<chrono::NaiveDate>,
}

#[utoipa::path(get, path = "/api/v1/summary", tag = "summary",
    responses((status = 200, body = SummaryJson), (status = 403, body = crate::error::ErrorBody)))]
pub async fn api_get(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> crate::error::ApiResult<Json<SummaryJson>> {
    let acting = session.acting();
    if !summary::may_read(&acting) {
        return Err(AppError::Forbidden.into());
    }
    let f = summary::figures(&state.db, &state.store, &acting, state.clock.today()).await?;
    Ok(Json(SummaryJson {
        sections: summary::sections(&state.db, &f).await?,
        submissions: f.submissions.clone(),
        district_summary_due: f.due,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NarrativeInput {
    /// The paragraph (at most 3,000 characters); empty: written from the figures again.
    #[serde(default)]
    pub body: String,
    /// The version the edit was made from (0: never edited).
    pub base_version: i64,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Saved {
    pub version: i64,
}

#[utoipa::path(put, path = "/api/v1/summary/sections/{section}", tag = "summary",
    params(("section" = String, Path)), request_body = NarrativeInput,
    responses((status = 200, body = Saved), (status = 409, body = crate::error::ErrorBody),
               (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_save(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    crate::http::extract::ApiPath(section): crate::http::extract::ApiPath<String>,
    crate::http::extract::Json(input): crate::http::extract::Json<NarrativeInput>,
) -> crate::error::ApiResult<Json<Saved>> {
    let version = summary::save_narrative(
        &state.db,
        &session.acting(),
        &section,
        input.base_version,
        &input.body,
    )
    .await?;
    Ok(Json(Saved { version }))
}

#[utoipa::path(get, path = "/api/v1/summary/district", tag = "summary",
    responses((status = 200, body = DistrictView), (status = 403, body = crate::error::ErrorBody)))]
pub async fn api_district(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> crate::error::ApiResult<Json<DistrictView>> {
    Ok(Json(
        summary::district_view(&state.db, &session.acting(), state.clock.today()).await?,
    ))
}
