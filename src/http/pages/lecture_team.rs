//! 天津市好网民宣讲团 pages. The public team page (`/lecture-team`); the staff side
//! (`/lecture-team/manage…`): units nominate worker good-netizen models, the city vets them, the
//! city union and the 网信办 (the city's or the district's liaison) each decide, the city puts the
//! endorsed on the one 公示 (`/publicity`), applies the closed 公示 to the roster, and keeps the
//! roster.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, form_status, format_time, render};
use crate::app::AppState;
use crate::db::campaigns::StoredCampaign;
use crate::db::lecture_team::{Member, Nomination};
use crate::domain::ids::CampaignId;
use crate::domain::lecture::{self as rules, NominationStatus};
use crate::domain::mask::personal_phone;
use crate::domain::publicity::{DEFAULT_WORKDAYS, PublicityKind, PublicityState};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path};
use crate::http::session::{CurrentUser, MaybeSession, Session};
use crate::service::acting::current_campaign;
use crate::service::lecture_team::{self as service, MemberInput, nominations};
use crate::service::publicity::DraftInput;

/// The photo route's body limit: one photo and the form around it.
pub const PHOTO_BODY_LIMIT: usize = rules::MAX_PHOTO_BYTES as usize + 64 * 1024;

// ---- The public team page ----

pub struct PublicMember {
    pub m: Member,
    pub model: bool,
}

#[derive(Template)]
#[template(path = "lecture_team.html")]
struct TeamPage {
    nav: Nav,
    name: String,
    worker_models: u32,
    members: Vec<PublicMember>,
    models: usize,
    venues: Vec<String>,
    forms: Vec<String>,
    calendar: Vec<CalendarLine>,
}

/// A confirmed upcoming lecture as the public calendar shows it (no contacts, no private data).
pub struct CalendarLine {
    pub u: crate::db::lectures::Upcoming,
    pub lecturers: String,
    pub venue: String,
}

pub async fn team(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    let members: Vec<PublicMember> = service::members(&state.db, &campaign)
        .await?
        .into_iter()
        .filter(|m| m.retired_at.is_none())
        .map(|m| PublicMember {
            model: m.nomination_id.is_some(),
            m,
        })
        .collect();
    let t = &campaign.campaign.lecture_team;
    render(&TeamPage {
        nav: session
            .as_ref()
            .map_or_else(Nav::anonymous, Nav::for_session),
        name: t.name.clone(),
        worker_models: t.worker_models,
        models: members.iter().filter(|m| m.model).count(),
        members,
        venues: t.venues.clone(),
        forms: t.forms.clone(),
        calendar: service::lectures::calendar(&state.db, &campaign, state.clock.today())
            .await?
            .into_iter()
            .map(|e| CalendarLine {
                venue: service::lectures::venue_label(&e.u.venue_type),
                lecturers: e.lecturers,
                u: e.u,
            })
            .collect(),
    })
}

pub async fn member_photo(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let served = service::member_photo(&state.db, &state.store, &campaign, id).await?;
    crate::http::range::serve_range(&state, &served, None).await
}

// ---- The staff side ----

/// A nomination as a list shows it.
pub struct Line {
    pub n: Nomination,
    pub status: &'static str,
    pub phone: String,
    pub union: &'static str,
    pub liaison: &'static str,
}

fn decision_label(d: &Option<String>) -> &'static str {
    match d.as_deref() {
        Some("approve") => "同意",
        Some("reject") => "不同意",
        _ => "未表态",
    }
}

fn line(session: &Session, n: Nomination) -> Line {
    let status = NominationStatus::from_code(&n.status).map_or("未知", |s| s.label());
    // The nominee's number: whole for the city and the nominating unit, masked for others.
    let unmasked = session.role == Role::CityAdmin
        || (session.role == Role::UnitAdmin && session.org.id == n.org_id);
    Line {
        status,
        phone: personal_phone(&n.phone, unmasked),
        union: decision_label(&n.union_decision),
        liaison: decision_label(&n.liaison_decision),
        n,
    }
}

pub struct Endorsed {
    pub id: i64,
    pub name: String,
    pub org_name: String,
    pub workplace: String,
}

pub struct ClosedModels {
    pub id: i64,
    pub title: String,
}

#[derive(Default)]
pub struct NominationForm {
    pub name: String,
    pub phone: String,
    pub workplace: String,
    pub post: String,
    pub political_status: String,
    pub accounts: String,
    pub deeds: String,
    pub summary: String,
    pub links: String,
}

impl NominationForm {
    fn input(&self, consent: bool) -> nominations::NominationInput {
        nominations::NominationInput {
            name: self.name.clone(),
            phone: self.phone.clone(),
            workplace: self.workplace.clone(),
            post: self.post.clone(),
            political_status: self.political_status.clone(),
            accounts: self.accounts.clone(),
            deeds: self.deeds.clone(),
            summary: self.summary.clone(),
            links: self.links.clone(),
            consent,
        }
    }
}

#[derive(Template)]
#[template(path = "lecture_team_manage.html")]
struct ManagePage {
    nav: Nav,
    csrf: String,
    team_name: String,
    may_nominate: bool,
    is_city: bool,
    keeps_roster: bool,
    quota: u32,
    used: usize,
    lines: Vec<Line>,
    form: NominationForm,
    errors: Vec<FieldError>,
    consent_text: &'static str,
    min_deeds: usize,
    max_deeds: usize,
    max_summary: usize,
    endorsed: Vec<Endorsed>,
    worker_models: u32,
    closed: Vec<ClosedModels>,
    members: Vec<Member>,
    categories: Vec<String>,
    message: Option<String>,
}

async fn manage_page(
    state: &AppState,
    session: &Session,
    campaign: &StoredCampaign,
    form: NominationForm,
    errors: Vec<FieldError>,
    message: Option<String>,
) -> AppResult<Html<String>> {
    let acting = session.acting();
    let list = nominations::list(&state.db, &acting, campaign).await?;
    let used = list.iter().filter(|n| n.org_id == session.org.id).count();
    let is_city = session.role == Role::CityAdmin;
    let (endorsed, closed) = if is_city {
        let endorsed = list
            .iter()
            .filter(|n| n.status == NominationStatus::Endorsed.code())
            .map(|n| Endorsed {
                id: n.id,
                name: n.name.clone(),
                org_name: n.org_name.clone(),
                workplace: n.workplace.clone(),
            })
            .collect();
        let closed = crate::db::publicity::list(&state.db, CampaignId(campaign.id))
            .await?
            .into_iter()
            .filter(|p| p.kind == PublicityKind::Models && p.state == PublicityState::Closed)
            .map(|p| ClosedModels {
                id: p.id,
                title: p.title,
            })
            .collect();
        (endorsed, closed)
    } else {
        (Vec::new(), Vec::new())
    };
    let keeps_roster = service::may_keep_roster(&acting);
    let t = &campaign.campaign.lecture_team;
    render(&ManagePage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        team_name: t.name.clone(),
        may_nominate: session.role == Role::UnitAdmin && rules::may_nominate(session.org.kind),
        is_city,
        keeps_roster,
        quota: t.nominations_per_unit,
        used,
        lines: list.into_iter().map(|n| line(session, n)).collect(),
        form,
        errors,
        consent_text: rules::CONSENT_TEXT,
        min_deeds: rules::MIN_DEEDS_CHARS,
        max_deeds: rules::MAX_DEEDS_CHARS,
        max_summary: rules::MAX_SUMMARY_CHARS,
        endorsed,
        worker_models: t.worker_models,
        closed,
        members: if keeps_roster {
            service::members(&state.db, campaign).await?
        } else {
            Vec::new()
        },
        categories: service::categories(campaign),
        message,
    })
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "nominated" => "推荐已报送，待市总工会审核。",
            "member" => "已加入宣讲团。",
            "retired" => "该成员已退出宣讲团。",
            "applied" => "公示结果已确定：公示期满未被撤下的人选已入选并加入宣讲团。",
            _ => return None,
        }
        .to_string(),
    )
}

pub async fn manage(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    crate::http::extract::Query(q): crate::http::extract::Query<DoneQuery>,
) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    manage_page(
        &state,
        &session,
        &campaign,
        NominationForm::default(),
        Vec::new(),
        done_message(q.done.as_deref()),
    )
    .await
}

/// The nomination form's fields (and the version, when editing).
#[derive(Deserialize, Default)]
pub struct NominationFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    workplace: String,
    #[serde(default)]
    post: String,
    #[serde(default)]
    political_status: String,
    #[serde(default)]
    accounts: String,
    #[serde(default)]
    deeds: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    links: String,
    #[serde(default)]
    consent: Option<String>,
    #[serde(default)]
    version: Option<i64>,
}

impl NominationFields {
    fn split(self) -> (NominationForm, bool, Option<i64>) {
        (
            NominationForm {
                name: self.name,
                phone: self.phone,
                workplace: self.workplace,
                post: self.post,
                political_status: self.political_status,
                accounts: self.accounts,
                deeds: self.deeds,
                summary: self.summary,
                links: self.links,
            },
            self.consent.is_some(),
            self.version,
        )
    }
}

/// Refusals a form page shows beside the form (with the typed values kept).
fn as_form_errors(e: AppError) -> Result<Vec<FieldError>, AppError> {
    match e {
        AppError::Invalid(errors) => Ok(errors),
        AppError::Conflict(_, message) => Ok(vec![FieldError::new("form", message)]),
        e => Err(e),
    }
}

pub async fn nominate(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(fields): Form<NominationFields>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let (form, consent, _) = fields.split();
    match nominations::nominate(
        &state.db,
        &session.acting(),
        &campaign,
        &form.input(consent),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/lecture-team/manage?done=nominated").into_response()),
        Err(e) => {
            let errors = as_form_errors(e)?;
            let status = if errors.iter().any(|f| f.field == "form") {
                axum::http::StatusCode::CONFLICT
            } else {
                form_status(&errors)
            };
            let page = manage_page(&state, &session, &campaign, form, errors, None).await?;
            Ok((status, page).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "lecture_nomination.html")]
struct NominationPage {
    nav: Nav,
    csrf: String,
    l: Line,
    created: String,
    links: Vec<String>,
    editable: bool,
    may_vet: bool,
    decides: Option<&'static str>,
    form: NominationForm,
    errors: Vec<FieldError>,
    consent_text: &'static str,
    min_deeds: usize,
    max_deeds: usize,
    max_summary: usize,
    message: Option<String>,
}

async fn nomination_page(
    state: &AppState,
    session: &Session,
    id: i64,
    form: Option<NominationForm>,
    errors: Vec<FieldError>,
    message: Option<String>,
) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    let n = nominations::get(&state.db, &session.acting(), &campaign, id).await?;
    let status = NominationStatus::from_code(&n.status);
    let own_unit = session.role == Role::UnitAdmin && session.org.id == n.org_id;
    let editable = own_unit && status.is_some_and(NominationStatus::editable);
    let shortlisted = status == Some(NominationStatus::Shortlisted);
    let decides = match session.role {
        Role::CityAdmin if shortlisted && n.union_decision.is_none() => Some("市总工会"),
        Role::CoOrganiserLiaison if shortlisted && n.liaison_decision.is_none() => Some("网信办"),
        _ => None,
    };
    let form = form.unwrap_or_else(|| NominationForm {
        name: n.name.clone(),
        phone: n.phone.clone(),
        workplace: n.workplace.clone(),
        post: n.post.clone(),
        political_status: n.political_status.clone(),
        accounts: n.accounts.clone(),
        deeds: n.deeds.clone(),
        summary: n.summary.clone(),
        links: n.links.clone(),
    });
    render(&NominationPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        created: format_time(n.created_at),
        links: n.links.lines().map(str::to_string).collect(),
        editable,
        may_vet: session.role == Role::CityAdmin && status == Some(NominationStatus::Submitted),
        decides,
        form,
        errors,
        consent_text: rules::CONSENT_TEXT,
        min_deeds: rules::MIN_DEEDS_CHARS,
        max_deeds: rules::MAX_DEEDS_CHARS,
        max_summary: rules::MAX_SUMMARY_CHARS,
        message,
        l: line(session, n),
    })
}

pub async fn nomination(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    crate::http::extract::Query(q): crate::http::extract::Query<DoneQuery>,
) -> AppResult<Html<String>> {
    let message = match q.done.as_deref() {
        Some("edited") => Some("已修改并重新报送。".to_string()),
        Some("vetted") => Some("已审核。".to_string()),
        Some("decided") => Some("已表态。".to_string()),
        Some("photo") => Some("照片已更新。".to_string()),
        _ => None,
    };
    nomination_page(&state, &session, id, None, Vec::new(), message).await
}

pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(fields): Form<NominationFields>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let (form, consent, version) = fields.split();
    let result = nominations::edit(
        &state.db,
        &session.acting(),
        &campaign,
        id,
        version.unwrap_or(-1),
        &form.input(consent),
    )
    .await;
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("/lecture-team/nominations/{id}?done=edited")).into_response(),
        ),
        Err(e) => {
            let errors = as_form_errors(e)?;
            let page = nomination_page(&state, &session, id, Some(form), errors, None).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct VetForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn vet(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<VetForm>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    nominations::vet(
        &state.db,
        &session.acting(),
        &campaign,
        id,
        f.version,
        f.decision == "approve",
        &f.reason,
    )
    .await?;
    Ok(Redirect::to(&format!("/lecture-team/nominations/{id}?done=vetted")).into_response())
}

pub async fn decide(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<VetForm>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    nominations::decide(
        &state.db,
        &session.acting(),
        &campaign,
        id,
        f.decision == "approve",
        &f.reason,
    )
    .await?;
    Ok(Redirect::to(&format!("/lecture-team/nominations/{id}?done=decided")).into_response())
}

pub async fn upload_photo(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let acting = session.acting();
    nominations::get(&state.db, &acting, &campaign, id).await?;
    let mut multipart =
        multipart.map_err(|_| AppError::invalid("photo", "请用页面上的表单选择照片后上传"))?;
    let mut bytes = Vec::new();
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::invalid("photo", "上传没有完成，请重新选择照片"))?
    {
        if field.name() != Some("photo") {
            continue;
        }
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|_| AppError::invalid("photo", "上传没有完成，请重新选择照片"))?
        {
            if (bytes.len() + chunk.len()) as u64 > rules::MAX_PHOTO_BYTES {
                return Err(AppError::invalid(
                    "photo",
                    format!(
                        "照片最大 {} MB，请压缩后再上传",
                        rules::MAX_PHOTO_BYTES / 1024 / 1024
                    ),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
    }
    if bytes.is_empty() {
        return Err(AppError::invalid("photo", "请选择照片"));
    }
    service::set_nomination_photo(&state.db, &state.store, &acting, &campaign, id, bytes).await?;
    Ok(Redirect::to(&format!("/lecture-team/nominations/{id}?done=photo")).into_response())
}

pub async fn nomination_photo(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let served =
        service::nomination_photo(&state.db, &state.store, &session.acting(), &campaign, id)
            .await?;
    crate::http::range::serve_range(&state, &served, None).await
}

/// The city drafts the models' 公示 from the endorsed nominations it ticks.
pub async fn draft_publicity(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let mut input = DraftInput {
        title: String::new(),
        notice: String::new(),
        contact: String::new(),
        workdays: DEFAULT_WORKDAYS,
    };
    let mut ids = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "title" => input.title = value,
            "notice" => input.notice = value,
            "contact" => input.contact = value,
            "workdays" => {
                input.workdays = value
                    .trim()
                    .parse()
                    .map_err(|_| AppError::invalid("workdays", "公示期请填写工作日天数，如 5"))?
            }
            "nominations" if ids.len() < rules::MAX_MEMBERS as usize => ids.push(
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| AppError::invalid("nominations", "推荐编号不对，请刷新页面"))?,
            ),
            _ => {}
        }
    }
    let id = service::draft_publicity(&state.db, &session.actor(), &campaign, &input, &ids).await?;
    Ok(Redirect::to(&format!("/publicity/{id}")).into_response())
}

pub async fn apply_publicity(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    service::apply_publicity(&state.db, &session.actor(), session.user.id, &campaign, id).await?;
    Ok(Redirect::to("/lecture-team/manage?done=applied#roster").into_response())
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    workplace: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    consent: Option<String>,
}

pub async fn add_member(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(f): Form<MemberForm>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let input = MemberInput {
        category: f.category,
        name: f.name,
        workplace: f.workplace,
        summary: f.summary,
        consent: f.consent.is_some(),
    };
    service::add_member(&state.db, &session.acting(), &campaign, &input).await?;
    Ok(Redirect::to("/lecture-team/manage?done=member#roster").into_response())
}

#[derive(Deserialize)]
pub struct RetireForm {
    #[serde(default)]
    reason: String,
}

pub async fn retire(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<RetireForm>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    service::retire(&state.db, &session.acting(), &campaign, id, &f.reason).await?;
    Ok(Redirect::to("/lecture-team/manage?done=retired#roster").into_response())
}
