//! The city's recommendation page: per judged sub-project, the list picked from the final
//! ranking within its cap (overrides with a reason), the 公示 drafted from it, the package
//! download and the national results import.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, render};
use crate::app::AppState;
use crate::db::recommendation::NationalResult;
use crate::domain::ids::WorkId;
use crate::domain::publicity::{DEFAULT_WORKDAYS, MAX_WORKDAYS};
use crate::domain::recommendation::MAX_REASON_CHARS;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path, Query};
use crate::http::session::CurrentUser;
use crate::service::publicity::DraftInput;
use crate::service::recommendation::{self as service, SubList, national, package};

#[derive(Template)]
#[template(path = "recommendation.html")]
struct Page {
    nav: Nav,
    csrf: String,
    subs: Vec<SubList>,
    results: Vec<NationalResult>,
    done: String,
    max_reason: usize,
    workdays: u32,
    max_workdays: u32,
    notice: &'static str,
}

const NOTICE: &str = "经各单位推荐、专家评审，拟推荐以下作品参加全国评选，现予以公示。公示期间，如有异议，请通过本页面实名提出（写明具体事实，可附证明材料），或拨打受理电话反映。匿名及无具体事实的异议不予受理。";

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<DoneQuery>,
) -> AppResult<Html<String>> {
    let acting = session.acting();
    let subs = service::overview(&state.db, &acting).await?;
    let results = national::results(&state.db, &acting).await?;
    render(&Page {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        subs,
        results,
        done: q.done,
        max_reason: MAX_REASON_CHARS,
        workdays: DEFAULT_WORKDAYS,
        max_workdays: MAX_WORKDAYS,
        notice: NOTICE,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct PickForm {
    #[serde(default)]
    work_id: String,
    #[serde(default)]
    reason: String,
}

pub async fn pick(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<PickForm>,
) -> AppResult<Response> {
    let work: WorkId = form
        .work_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("work_id", "作品编号应为数字"))?;
    service::pick(&state.db, &session.acting(), &code, work, &form.reason).await?;
    Ok(Redirect::to(&format!("/recommendation?done=picked#sub-{code}")).into_response())
}

pub async fn fill(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let n = service::fill(&state.db, &session.acting(), &code).await?;
    Ok(Redirect::to(&format!("/recommendation?done=filled-{n}#sub-{code}")).into_response())
}

pub async fn remove(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(work): Path<WorkId>,
) -> AppResult<Response> {
    let code = service::remove(&state.db, &session.acting(), work).await?;
    Ok(Redirect::to(&format!("/recommendation?done=removed#sub-{code}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct PublicityForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    workdays: String,
}

pub async fn publicise(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<PublicityForm>,
) -> AppResult<Response> {
    let workdays = form.workdays.trim().parse().map_err(|_| {
        AppError::Invalid(vec![FieldError::new(
            "workdays",
            "公示期请填写工作日天数，如 5",
        )])
    })?;
    let id = service::draft_publicity(
        &state.db,
        &session.acting(),
        &code,
        &DraftInput {
            title: form.title,
            notice: form.notice,
            contact: form.contact,
            workdays,
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/publicity/{id}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct PackageQuery {
    #[serde(default)]
    sub_project: String,
}

/// The package as a zip, streamed while it is written.
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    headers: axum::http::HeaderMap,
    Query(q): Query<PackageQuery>,
) -> AppResult<Response> {
    let base = super::absolute_url(&state, &headers, "");
    let plan = package::plan_for(
        &state.db,
        &state.store,
        &session.acting(),
        q.sub_project.trim(),
        &base,
        state.clock.today(),
    )
    .await?;
    let disposition = attachment(&plan.ascii_name, &plan.name);
    let body = package::stream(state.store.clone(), plan);
    let mut response = axum::body::Body::from_stream(body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// RFC 6266: the ASCII stand-in and the UTF-8 name (RFC 5987).
fn attachment(ascii_name: &str, name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}")
}

#[derive(Template)]
#[template(path = "national_imported.html")]
struct ImportedPage {
    nav: Nav,
    imported: usize,
    errors: Vec<FieldError>,
}

/// The national result list from Excel or CSV, all or nothing.
pub async fn import_results(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    multipart: crate::http::extract::Multipart,
) -> AppResult<Response> {
    let bytes = super::orgs::uploaded_file(multipart).await?;
    let result = match crate::office::tabular::read_off_thread(bytes).await {
        Ok(table) => national::import(&state.db, &session.acting(), &table).await,
        Err(message) => Err(AppError::invalid("文件", message)),
    };
    let (imported, errors, status) = match result {
        Ok(n) => (n, Vec::new(), axum::http::StatusCode::OK),
        Err(AppError::Invalid(errors)) => (0, errors, axum::http::StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => return Err(e),
    };
    let page = render(&ImportedPage {
        nav: Nav::for_session(&session),
        imported,
        errors,
    })?;
    Ok((status, page).into_response())
}
