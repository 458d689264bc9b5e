//! Sub-project pages (public), worker registration, submitting works from a phone, the
//! moderation queue, the stored files (range requests, never run by the browser), and units'
//! participation records for sub-projects hosted elsewhere.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::{Nav, format_time, render};
use crate::app::AppState;
use crate::db::orgs::{self, Scope};
use crate::domain::campaign::{Participation, SubProject};
use crate::domain::mask::mask_phone;
use crate::domain::work::{self, Decision, WorkInput, WorkStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path, Query};
use crate::http::session::{CurrentUser, MaybeSession, client_ip, pre_session_token};
use crate::service::acting::current_campaign;
use crate::service::works::{self as service, ParticipationInput, Registration, Submission, Work};

/// A sub-project as its public page shows it.
pub struct ProjectView {
    pub code: String,
    pub name: String,
    pub host: String,
    pub description: String,
    pub hosted_here: bool,
    pub media: &'static str,
    pub entries: Vec<(String, String, Option<String>)>,
    pub contacts: Vec<(String, String)>,
    pub rules: Vec<(String, &'static str)>,
}

fn project_view(s: &SubProject) -> ProjectView {
    ProjectView {
        code: s.code.clone(),
        name: s.name.clone(),
        host: s.host.clone(),
        description: s.description.clone(),
        hosted_here: s.participation == Participation::Wangju,
        media: s.media.label_zh(),
        entries: s
            .platform_entries
            .iter()
            .map(|e| (e.kind.label_zh().to_string(), e.name.clone(), e.url.clone()))
            .collect(),
        contacts: s
            .contacts
            .iter()
            .map(|c| {
                let phones: Vec<String> = c.phones.iter().map(|p| mask_phone(p)).collect();
                (c.name.clone(), phones.join("、"))
            })
            .collect(),
        rules: s
            .rules
            .iter()
            .map(|r| {
                (
                    r.describe_zh(),
                    match r.severity() {
                        crate::domain::campaign::Severity::Error => "必须",
                        crate::domain::campaign::Severity::Warning => "建议",
                    },
                )
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    nav: Nav,
    campaign: String,
    projects: Vec<ProjectView>,
    open: Result<(), String>,
}

fn nav_of(session: &Option<crate::http::session::Session>) -> Nav {
    session
        .as_ref()
        .map_or_else(Nav::anonymous, Nav::for_session)
}

pub async fn projects(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    render(&ProjectsPage {
        nav: nav_of(&session),
        open: service::submissions_open(&campaign, &state.clock),
        campaign: campaign.campaign.title.clone(),
        projects: campaign
            .campaign
            .sub_projects
            .iter()
            .map(project_view)
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    nav: Nav,
    p: ProjectView,
    open: Result<(), String>,
    signed_in: bool,
    may_submit: bool,
    may_record: bool,
}

pub async fn project(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    let sub = service::sub_project(&campaign, &code)?;
    let role = session.as_ref().map(|s| s.role);
    render(&ProjectPage {
        nav: nav_of(&session),
        p: project_view(sub),
        open: service::submissions_open(&campaign, &state.clock),
        signed_in: session.is_some(),
        may_submit: role.is_some_and(|r| r.may_submit_works()),
        may_record: role.is_some_and(|r| r.may_report_activities()),
    })
}

// ---------------------------------------------------------------------------------------------
// Registration

pub struct UnitChoice {
    pub id: i64,
    pub label: String,
}

/// Unions a worker may name on the public form: the city union and the units under it (the
/// district, bureau and group-company unions of the notice's Annex 1). The tree below them is
/// not published to anonymous visitors.
async fn union_choices(state: &AppState) -> AppResult<Vec<UnitChoice>> {
    Ok(orgs::list(&state.db, &Scope::everything(), None)
        .await?
        .into_iter()
        .filter(|o| o.depth <= 1 && o.is_union())
        .map(|o| UnitChoice {
            id: o.id,
            label: format!("{}{}", "　".repeat(o.depth.clamp(0, 6) as usize), o.name),
        })
        .collect())
}

/// The unions in a scope, for "which unit" choices on staff forms.
async fn unions_in(state: &AppState, scope: &Scope) -> AppResult<Vec<UnitChoice>> {
    Ok(orgs::list(&state.db, scope, None)
        .await?
        .into_iter()
        .filter(|o| o.is_union())
        .map(|o| UnitChoice {
            id: o.id,
            label: o.name,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    nav: Nav,
    csrf: String,
    units: Vec<UnitChoice>,
    /// The union a registration link names (then the choice is fixed).
    joining: Option<String>,
    /// A link was followed but names no union (unknown or replaced).
    stale_link: bool,
    privacy: &'static str,
    form: RegisterForm,
    errors: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    pub real_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub org_id: String,
    /// A union's registration link code (`/register?join=…`).
    #[serde(default)]
    pub join: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub password2: String,
    #[serde(default)]
    pub consent: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterQuery {
    #[serde(default)]
    pub join: String,
}

/// The union a registration link names, as the page shows it.
async fn joining(state: &AppState, code: &str) -> AppResult<(Option<String>, bool)> {
    if code.trim().is_empty() {
        return Ok((None, false));
    }
    Ok(match service::union_by_invite(&state.db, code).await? {
        Some(org) => (Some(org.name), false),
        None => (None, true),
    })
}

pub async fn register_form(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<RegisterQuery>,
    jar: CookieJar,
) -> AppResult<Response> {
    if session.is_some() {
        return Ok(Redirect::to("/works").into_response());
    }
    let (jar, csrf) = pre_session_token(jar, state.settings.secure_cookies);
    let (joining, stale_link) = joining(&state, &q.join).await?;
    let page = render(&RegisterPage {
        nav: Nav::anonymous(),
        csrf,
        units: union_choices(&state).await?,
        joining: joining.clone(),
        stale_link,
        privacy: work::PRIVACY_TEXT,
        form: RegisterForm {
            join: if joining.is_some() {
                q.join
            } else {
                String::new()
            },
            ..RegisterForm::default()
        },
        errors: Vec::new(),
    })?;
    Ok((jar, page).into_response())
}

pub async fn register(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    jar: CookieJar,
    Form(form): Form<RegisterForm>,
) -> AppResult<Response> {
    let ip = client_ip(&parts);
    if !state.login_limiter.allow(&ip) {
        return Err(AppError::RateLimited);
    }
    let mut errors = Vec::new();
    if form.password != form.password2 {
        errors.push(FieldError::new("password2", "两次输入的密码不一致"));
    }
    let reg = Registration {
        real_name: form.real_name.clone(),
        phone: form.phone.trim().to_string(),
        org_id: form.org_id.trim().parse().unwrap_or(0),
        join: Some(form.join.trim().to_string()).filter(|j| !j.is_empty()),
        password: form.password.clone(),
        consent: form.consent.is_some(),
    };
    let result = if errors.is_empty() {
        service::register(&state.db, &reg, &ip).await.map(|_| ())
    } else {
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/login?registered={}", reg.phone)).into_response()),
        Err(AppError::Invalid(errors)) => {
            // Failed registrations count like failed logins (phone-number probing).
            state.login_limiter.record_failure(&ip);
            let (jar, csrf) = pre_session_token(jar, state.settings.secure_cookies);
            let (joining, stale_link) = joining(&state, &form.join).await?;
            let page = render(&RegisterPage {
                nav: Nav::anonymous(),
                csrf,
                units: union_choices(&state).await?,
                joining,
                stale_link,
                privacy: work::PRIVACY_TEXT,
                form: RegisterForm {
                    password: String::new(),
                    password2: String::new(),
                    ..form
                },
                errors,
            })?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, jar, page).into_response())
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Submitting

#[derive(Template)]
#[template(path = "work_form.html")]
struct WorkFormPage {
    nav: Nav,
    csrf: String,
    p: ProjectView,
    open: Result<(), String>,
    /// Set when fixing a returned work.
    work_id: Option<i64>,
    form: WorkForm,
    errors: Vec<FieldError>,
    units: Vec<UnitChoice>,
    originality: &'static str,
    portrait: &'static str,
    subtitles: &'static str,
    needs_subtitles: bool,
    max_bytes: u64,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct WorkForm {
    #[serde(default)]
    pub upload_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub authors: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub originality: Option<String>,
    #[serde(default)]
    pub portrait: Option<String>,
    #[serde(default)]
    pub subtitles: Option<String>,
}

impl WorkForm {
    fn submission(&self, sub_project: &str) -> Submission {
        Submission {
            sub_project: sub_project.to_string(),
            upload_id: self.upload_id.trim().to_string(),
            input: WorkInput {
                title: self.title.clone(),
                authors: vec![self.authors.clone()],
                contact_phone: self.contact_phone.clone(),
                description: self.description.clone(),
                originality: self.originality.is_some(),
                portrait: self.portrait.is_some(),
                subtitles: self.subtitles.is_some(),
            },
            org_id: self.org_id.trim().parse().ok(),
        }
    }
}

async fn work_form_page(
    state: &AppState,
    session: &crate::http::session::Session,
    code: &str,
    work_id: Option<i64>,
    form: WorkForm,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let sub = service::sub_project(&campaign, code)?;
    if sub.participation != Participation::Wangju {
        return Ok(Redirect::to(&format!("/projects/{}", sub.code)).into_response());
    }
    let units = if session.role.may_report_activities() {
        unions_in(state, &session.scope()).await?
    } else {
        Vec::new()
    };
    let status = super::form_status(&errors);
    let page = render(&WorkFormPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        needs_subtitles: sub.rules.iter().any(|r| {
            matches!(
                r,
                crate::domain::campaign::FileRule::SubtitlesDeclared { .. }
            )
        }),
        max_bytes: sub
            .rules
            .iter()
            .find_map(|r| match r {
                crate::domain::campaign::FileRule::MaxSize { megabytes, .. } => {
                    Some(u64::from(*megabytes) * 1024 * 1024)
                }
                _ => None,
            })
            .unwrap_or(service::DEFAULT_MAX_BYTES),
        p: project_view(sub),
        open: service::submissions_open(&campaign, &state.clock),
        work_id,
        form,
        errors,
        units,
        originality: work::ORIGINALITY_TEXT,
        portrait: work::PORTRAIT_TEXT,
        subtitles: work::SUBTITLES_TEXT,
    })?;
    Ok((status, page).into_response())
}

pub async fn submit_form(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let form = WorkForm {
        authors: if session.role == crate::domain::role::Role::Worker {
            session.user.display_name.clone()
        } else {
            String::new()
        },
        contact_phone: session.user.phone.clone().unwrap_or_default(),
        ..WorkForm::default()
    };
    work_form_page(&state, &session, &code, None, form, Vec::new()).await
}

pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<WorkForm>,
) -> AppResult<Response> {
    let acting = session.acting();
    match service::submit(&state.db, &state.clock, &acting, form.submission(&code)).await {
        Ok(id) => Ok(Redirect::to(&format!("/works/{id}?done=submitted")).into_response()),
        Err(AppError::Invalid(errors)) => {
            work_form_page(&state, &session, &code, None, form, errors).await
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Lists, one work, decisions

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
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct WorksQuery {
    #[serde(default)]
    pub sub_project: String,
    #[serde(default)]
    pub status: String,
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
    let works = service::list(
        &state.db,
        &session.acting(),
        filter.sub_project.trim(),
        filter.status.trim(),
    )
    .await?;
    let assigned = if session.role == crate::domain::role::Role::Moderator {
        Some(service::moderator_sub_projects(&state.db, session.user.id).await?)
    } else {
        None
    };
    render(&WorksPage {
        nav: Nav::for_session(&session),
        works,
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
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
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

async fn work_page(
    state: &AppState,
    session: &crate::http::session::Session,
    id: i64,
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
    let status = super::form_status(&errors);
    let page = render(&WorkPage {
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
    Path(id): Path<i64>,
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

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

pub async fn decide(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let Some(decision) = Decision::parse(form.decision.trim()) else {
        let errors = vec![FieldError::new("decision", "请选择通过、退回修改或不通过")];
        return work_page(&state, &session, id, None, errors).await;
    };
    match service::decide(&state.db, &session.acting(), id, decision, &form.reason).await {
        Ok(()) => Ok(Redirect::to(&format!("/works/{id}?done=decided")).into_response()),
        Err(AppError::Invalid(errors)) => work_page(&state, &session, id, None, errors).await,
        Err(e) => Err(e),
    }
}

pub async fn fix_form(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let w = service::get(&state.db, &session.acting(), id).await?;
    let form = WorkForm {
        upload_id: w.row.upload_id.clone(),
        title: w.row.title.clone(),
        authors: w.authors.join("、"),
        contact_phone: if w.row.owner_id == session.user.id {
            w.contact.clone()
        } else {
            String::new()
        },
        description: w.row.description.clone(),
        ..WorkForm::default()
    };
    work_form_page(
        &state,
        &session,
        &w.row.sub_project,
        Some(id),
        form,
        Vec::new(),
    )
    .await
}

pub async fn resubmit(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<WorkForm>,
) -> AppResult<Response> {
    let acting = session.acting();
    let w = service::get(&state.db, &acting, id).await?;
    let submission = form.submission(&w.row.sub_project);
    match service::resubmit(&state.db, &state.clock, &acting, id, submission).await {
        Ok(()) => Ok(Redirect::to(&format!("/works/{id}?done=resubmitted")).into_response()),
        Err(AppError::Invalid(errors)) => {
            work_form_page(&state, &session, &w.row.sub_project, Some(id), form, errors).await
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The stored file

/// Serves the metadata-free copy with HTTP range requests (video seeking), as an attachment-
/// safe type: `nosniff`, a sandboxing CSP and an explicit disposition, so a hostile upload can
/// never run as a page.
pub async fn file(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let served = service::file(&state.db, &state.store, &session.acting(), id).await?;
    crate::http::range::serve_range(&state, &served, headers.get(header::RANGE)).await
}

// ---------------------------------------------------------------------------------------------
// Participation in sub-projects hosted elsewhere

#[derive(Template)]
#[template(path = "participations.html")]
struct ParticipationsPage {
    nav: Nav,
    csrf: String,
    summary: Vec<(String, String, bool, i64)>,
    list: Vec<crate::db::works::ParticipationRow>,
    external: Vec<(String, String)>,
    units: Vec<UnitChoice>,
    may_record: bool,
    form: ParticipationForm,
    errors: Vec<FieldError>,
    message: Option<&'static str>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ParticipationForm {
    #[serde(default)]
    pub sub_project: String,
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub work_title: String,
    #[serde(default)]
    pub authors: String,
    #[serde(default)]
    pub submitted_to: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub submitted_on: String,
}

async fn participations_page(
    state: &AppState,
    session: &crate::http::session::Session,
    form: ParticipationForm,
    errors: Vec<FieldError>,
    message: Option<&'static str>,
) -> AppResult<Response> {
    let acting = session.acting();
    let campaign = current_campaign(&state.db).await?;
    let summary = service::participation_summary(&state.db, &acting.scope)
        .await?
        .into_iter()
        .map(|(s, n)| (s.name, s.host, s.participation == Participation::Wangju, n))
        .collect();
    let units = unions_in(state, &acting.scope).await?;
    let status = super::form_status(&errors);
    let page = render(&ParticipationsPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        summary,
        list: service::participations(&state.db, &acting).await?,
        external: campaign
            .campaign
            .sub_projects
            .iter()
            .filter(|s| s.participation == Participation::External)
            .map(|s| (s.code.clone(), format!("{}（{}）", s.name, s.host)))
            .collect(),
        units,
        may_record: session.role.may_report_activities(),
        form,
        errors,
        message,
    })?;
    Ok((status, page).into_response())
}

pub async fn participations(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let message = (q.done == "recorded").then_some("参与情况已登记，计入本单位及上级单位的统计。");
    participations_page(
        &state,
        &session,
        ParticipationForm::default(),
        Vec::new(),
        message,
    )
    .await
}

pub async fn record_participation(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<ParticipationForm>,
) -> AppResult<Response> {
    let input = ParticipationInput {
        sub_project: form.sub_project.clone(),
        org_id: form.org_id.trim().parse().ok(),
        work_title: form.work_title.clone(),
        authors: form.authors.clone(),
        submitted_to: form.submitted_to.clone(),
        reference: form.reference.clone(),
        submitted_on: form.submitted_on.clone(),
    };
    match service::record_participation(&state.db, &session.acting(), input).await {
        Ok(_) => Ok(Redirect::to("/participations?done=recorded").into_response()),
        Err(AppError::Invalid(errors)) => {
            participations_page(&state, &session, form, errors, None).await
        }
        Err(e) => Err(e),
    }
}
