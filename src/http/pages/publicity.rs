//! 公示 pages. The city's side (`/publicity…`): draft a list from accepted works, publish it,
//! rule on objections, close it. The public side (`/gongshi…`): the lists, the real-name
//! objection form while one runs, and the objector's receipt page.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{Nav, form_status, format_time, render};
use crate::app::AppState;
use crate::db::publicity::{self as db, Entry, Objection, Publicity};
use crate::domain::ids::CampaignId;
use crate::domain::publicity::{self as rules, DEFAULT_WORKDAYS, ObjectionState, PublicityState};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{Form, Path};
use crate::http::session::{CurrentUser, MaybeSession};
use crate::service::acting::current_campaign;
use crate::service::{calendars, publicity};

/// The route's body limit: the evidence file and the form around it.
pub const BODY_LIMIT: usize = rules::MAX_EVIDENCE_BYTES as usize + 64 * 1024;

/// Accepted works offered when drafting (the list shows them all; a 公示 takes up to 500).
const CANDIDATES_SHOWN: i64 = 2_000;

#[derive(Template)]
#[template(path = "publicity_list.html")]
struct ListPage {
    nav: Nav,
    csrf: String,
    items: Vec<Publicity>,
    candidates: Vec<Candidate>,
    errors: Vec<FieldError>,
    title: String,
    notice: String,
    contact: String,
    workdays: u32,
    max_workdays: u32,
}

const DEFAULT_NOTICE: &str = "经各单位推荐、专家评审，拟推荐以下作品参加全国评选，现予以公示。公示期间，如有异议，请通过本页面实名提出（写明具体事实，可附证明材料），或拨打受理电话反映。匿名及无具体事实的异议不予受理。";

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    list_page(
        &state,
        &session,
        &campaign,
        Vec::new(),
        DraftForm::default(),
    )
    .await
}

async fn list_page(
    state: &AppState,
    session: &crate::http::session::Session,
    campaign: &crate::db::campaigns::StoredCampaign,
    errors: Vec<FieldError>,
    form: DraftForm,
) -> AppResult<Html<String>> {
    let id = CampaignId(campaign.id);
    let page = ListPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        items: db::list(&state.db, id).await?,
        candidates: candidates(state, campaign).await?,
        errors,
        title: form.title,
        notice: if form.notice.is_empty() {
            DEFAULT_NOTICE.into()
        } else {
            form.notice
        },
        contact: form.contact,
        workdays: form.workdays.unwrap_or(DEFAULT_WORKDAYS),
        max_workdays: rules::MAX_WORKDAYS,
    };
    render(&page)
}

/// An accepted work offered for a 公示, with its place in the selection when a round has closed.
pub struct Candidate {
    pub id: i64,
    pub title: String,
    pub unit: String,
    pub sub_project: String,
    /// e.g. "终评第 2 名，86.50 分".
    pub ranking: Option<String>,
    /// Sort key: sub-project order, then rank (unranked last).
    order: (usize, i64, i64),
}

/// The accepted works, those ranked by a closed selection round first, best first.
async fn candidates(
    state: &AppState,
    campaign: &crate::db::campaigns::StoredCampaign,
) -> AppResult<Vec<Candidate>> {
    let works = db::accepted_works(&state.db, CampaignId(campaign.id), CANDIDATES_SHOWN).await?;
    let mut ranks = std::collections::HashMap::new();
    for p in &campaign.campaign.sub_projects {
        if let Some((round, ranking)) =
            crate::service::selection::final_ranking(&state.db, &p.code).await?
        {
            let round_name = p
                .rounds
                .iter()
                .find(|r| r.code == round)
                .map_or(round.clone(), |r| r.name.clone());
            for r in ranking {
                ranks.insert(
                    r.work_id.get(),
                    (
                        r.rank,
                        format!("{round_name}第 {} 名，{:.2} 分", r.rank, r.score),
                    ),
                );
            }
        }
    }
    let position = |code: &str| {
        campaign
            .campaign
            .sub_projects
            .iter()
            .position(|p| p.code == code)
            .unwrap_or(usize::MAX)
    };
    let mut out: Vec<Candidate> = works
        .into_iter()
        .map(|w| {
            let ranked = ranks.get(&w.id);
            Candidate {
                order: (
                    position(&w.sub_project),
                    ranked.map_or(i64::MAX, |r| r.0),
                    w.id,
                ),
                ranking: ranked.map(|r| r.1.clone()),
                sub_project: campaign
                    .campaign
                    .sub_projects
                    .iter()
                    .find(|p| p.code == w.sub_project)
                    .map_or(w.sub_project.clone(), |p| p.name.clone()),
                id: w.id,
                title: w.title,
                unit: w.unit,
            }
        })
        .collect();
    out.sort_by_key(|c| c.order);
    Ok(out)
}

#[derive(Default)]
struct DraftForm {
    title: String,
    notice: String,
    contact: String,
    workdays: Option<u32>,
    works: Vec<i64>,
}

impl DraftForm {
    /// The form's fields; `works` is repeated, one per ticked box.
    fn from_pairs(pairs: Vec<(String, String)>) -> Result<DraftForm, AppError> {
        let mut form = DraftForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "title" => form.title = value,
                "notice" => form.notice = value,
                "contact" => form.contact = value,
                "workdays" => {
                    form.workdays = Some(value.trim().parse().map_err(|_| {
                        AppError::invalid("workdays", "公示期请填写工作日天数，如 5")
                    })?)
                }
                "works" => {
                    if form.works.len() >= rules::MAX_ENTRIES {
                        return Err(AppError::invalid(
                            "works",
                            format!("一次公示最多 {} 项", rules::MAX_ENTRIES),
                        ));
                    }
                    form.works.push(
                        value
                            .parse()
                            .map_err(|_| AppError::invalid("works", "作品编号不对，请刷新页面"))?,
                    );
                }
                _ => {}
            }
        }
        Ok(form)
    }
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let campaign = current_campaign(&state.db).await?;
    let form = DraftForm::from_pairs(pairs)?;
    let input = publicity::DraftInput {
        title: form.title.clone(),
        notice: form.notice.clone(),
        contact: form.contact.clone(),
        workdays: form.workdays.unwrap_or(DEFAULT_WORKDAYS),
    };
    match publicity::draft_of_works(&state.db, &session.actor(), &campaign, &input, &form.works)
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!("/publicity/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let status = form_status(&errors);
            let page = list_page(&state, &session, &campaign, errors, form).await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// An objection as the city sees it (the objector's number whole: they may have to call).
pub struct ObjectionLine {
    pub o: Objection,
    pub when: String,
    pub state_label: &'static str,
    pub pending: bool,
}

#[derive(Template)]
#[template(path = "publicity.html")]
struct ManagePage {
    nav: Nav,
    csrf: String,
    p: Publicity,
    state_label: &'static str,
    entries: Vec<Entry>,
    objections: Vec<ObjectionLine>,
    message: Option<String>,
    errors: Vec<FieldError>,
}

async fn publicity_of_campaign(state: &AppState, id: i64) -> AppResult<Publicity> {
    let campaign = current_campaign(&state.db).await?;
    // Only the current campaign's lists are managed here.
    match db::one(&state.db, id).await? {
        Some(p) if p.campaign_id == CampaignId(campaign.id) => Ok(p),
        _ => Err(AppError::NotFound),
    }
}

async fn manage_page(
    state: &AppState,
    session: &crate::http::session::Session,
    id: i64,
    message: Option<String>,
    errors: Vec<FieldError>,
) -> AppResult<Html<String>> {
    let p = publicity_of_campaign(state, id).await?;
    let objections = db::objections(&state.db, id)
        .await?
        .into_iter()
        .map(|o| ObjectionLine {
            when: format_time(o.lodged_at),
            state_label: o.state.label(),
            pending: o.state == ObjectionState::Pending,
            o,
        })
        .collect();
    render(&ManagePage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        state_label: p.state.label(),
        entries: db::entries(&state.db, id).await?,
        p,
        objections,
        message,
        errors,
    })
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    crate::http::extract::Query(q): crate::http::extract::Query<DoneQuery>,
) -> AppResult<Html<String>> {
    let message = match q.done.as_deref() {
        Some("publish") => Some("已发布，公示期内任何人都可以在公示页面实名提出异议。".into()),
        Some("rule") => Some("已处理该异议，异议人凭回执可以看到处理结果。".into()),
        Some("close") => Some("公示已结束，最终名单已在公示页面发布。".into()),
        _ => None,
    };
    manage_page(&state, &session, id, message, Vec::new()).await
}

#[derive(Deserialize)]
pub struct VersionForm {
    version: i64,
}

pub async fn publish(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<VersionForm>,
) -> AppResult<Response> {
    publicity_of_campaign(&state, id).await?;
    let calendar = calendars::current(&state.db).await?;
    publicity::publish(
        &state.db,
        &session.actor(),
        &calendar,
        state.clock.today(),
        id,
        form.version,
    )
    .await?;
    Ok(Redirect::to(&format!("/publicity/{id}?done=publish")).into_response())
}

pub async fn close(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<VersionForm>,
) -> AppResult<Response> {
    let p = publicity_of_campaign(&state, id).await?;
    publicity::close(
        &state.db,
        &session.actor(),
        state.clock.today(),
        id,
        form.version,
    )
    .await?;
    // The models' 公示 decides the team: entries still listed join it as the 公示 closes
    // (idempotent; the lecture team page keeps a button to apply it again).
    if p.kind == crate::domain::publicity::PublicityKind::Models {
        let campaign = current_campaign(&state.db).await?;
        crate::service::lecture_team::apply_publicity(
            &state.db,
            &session.actor(),
            session.user.id,
            &campaign,
            id,
        )
        .await?;
    }
    Ok(Redirect::to(&format!("/publicity/{id}?done=close")).into_response())
}

#[derive(Deserialize)]
pub struct RulingForm {
    /// `upheld` or `dismissed`.
    outcome: String,
    reason: String,
    /// Ticked: withdraw the entry (only with an upheld objection).
    withdraw: Option<String>,
}

pub async fn rule(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path((id, objection_id)): Path<(i64, i64)>,
    Form(form): Form<RulingForm>,
) -> AppResult<Response> {
    publicity_of_campaign(&state, id).await?;
    let upheld = match form.outcome.as_str() {
        "upheld" => true,
        "dismissed" => false,
        _ => {
            return Err(AppError::invalid(
                "outcome",
                "请选择“异议成立”或“异议不成立”",
            ));
        }
    };
    let ruling = publicity::Ruling {
        upheld,
        reason: form.reason,
        withdraw: form.withdraw.is_some(),
    };
    match publicity::rule(&state.db, &session.actor(), id, objection_id, &ruling).await {
        Ok(()) => Ok(Redirect::to(&format!("/publicity/{id}?done=rule")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = manage_page(&state, &session, id, None, errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// An objection's evidence file, for the city only; served as a download, never inline.
pub async fn evidence(
    State(state): State<AppState>,
    CurrentUser(_session): CurrentUser,
    Path((id, objection_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    publicity_of_campaign(&state, id).await?;
    let o = db::objection(&state.db, id, objection_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (Some(key), Some(mime)) = (o.evidence_key, o.evidence_type) else {
        return Err(AppError::NotFound);
    };
    let ext = key.rsplit('.').next().unwrap_or("bin").to_string();
    // Served as stored works are: its own type only, sandboxed, never sniffed or cached.
    let served = crate::service::works::ServedFile {
        size: state.store.size(&key).await?,
        media_type: mime,
        download_name: format!("objection-{objection_id}.{ext}"),
        key,
    };
    crate::http::range::serve_range(&state, &served, None).await
}

// ---- The public side ----

/// A 公示 as the public sees it.
pub struct PublicItem {
    pub p: Publicity,
    pub state_label: &'static str,
}

#[derive(Template)]
#[template(path = "gongshi_list.html")]
struct PublicListPage {
    nav: Nav,
    items: Vec<PublicItem>,
}

pub async fn public_list(State(state): State<AppState>) -> AppResult<Html<String>> {
    let campaign = current_campaign(&state.db).await?;
    let items = db::list(&state.db, CampaignId(campaign.id))
        .await?
        .into_iter()
        .filter(|p| p.state != PublicityState::Draft)
        .map(|p| PublicItem {
            state_label: p.state.label(),
            p,
        })
        .collect();
    render(&PublicListPage {
        nav: Nav::anonymous(),
        items,
    })
}

#[derive(Template)]
#[template(path = "gongshi.html")]
struct PublicPage {
    nav: Nav,
    csrf: String,
    p: Publicity,
    entries: Vec<Entry>,
    contact: String,
    takes_objections: bool,
    closed: bool,
    errors: Vec<FieldError>,
    receipt: Option<String>,
    form: ObjectionFields,
    max_reason: usize,
}

#[derive(Default)]
pub struct ObjectionFields {
    pub entry_id: i64,
    pub name: String,
    pub phone: String,
    pub reason: String,
}

async fn public_publicity(state: &AppState, id: i64) -> AppResult<Publicity> {
    let p = publicity_of_campaign(state, id).await?;
    if p.state == PublicityState::Draft {
        return Err(AppError::NotFound);
    }
    Ok(p)
}

async fn public_page(
    state: &AppState,
    csrf: String,
    p: Publicity,
    errors: Vec<FieldError>,
    receipt: Option<String>,
    form: ObjectionFields,
) -> AppResult<Html<String>> {
    let today = state.clock.today();
    let takes = p.state == PublicityState::Open
        && matches!(
            (
                p.starts_on.as_deref().and_then(|d| d.parse().ok()),
                p.ends_on.as_deref().and_then(|d| d.parse().ok())
            ),
            (Some(s), Some(e)) if rules::takes_objections(s, e, today)
        );
    let mut entries = db::entries(&state.db, p.id).await?;
    let closed = p.state == PublicityState::Closed;
    // The final list is the entries that stayed; while it runs, every entry shows, withdrawn
    // ones marked.
    if closed {
        entries.retain(|e| e.withdrawn_reason.is_none());
    }
    render(&PublicPage {
        nav: Nav::anonymous(),
        csrf,
        contact: p.contact.clone(),
        entries,
        takes_objections: takes,
        closed,
        p,
        errors,
        receipt,
        form,
        max_reason: rules::MAX_REASON_CHARS,
    })
}

pub async fn public_show(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<i64>,
    jar: CookieJar,
) -> AppResult<Response> {
    let p = public_publicity(&state, id).await?;
    let (jar, csrf) = super::checkin::form_token(&state, session, jar);
    let page = public_page(
        &state,
        csrf,
        p,
        Vec::new(),
        None,
        ObjectionFields::default(),
    )
    .await?;
    Ok((jar, page).into_response())
}

/// Lodges an objection (multipart: the fields and an optional evidence file).
pub async fn lodge(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<i64>,
    jar: CookieJar,
    parts: axum::http::request::Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let p = public_publicity(&state, id).await?;
    let ip = crate::http::session::client_ip(&parts);
    let (jar, csrf) = super::checkin::form_token(&state, session, jar);
    let mut multipart =
        multipart.map_err(|_| AppError::invalid("异议", "请用公示页面上的表单提交异议"))?;
    let mut fields = ObjectionFields::default();
    let mut evidence: Option<Vec<u8>> = None;
    let broken = || AppError::invalid("异议", "提交没有完成，请重新提交");
    while let Some(mut field) = multipart.next_field().await.map_err(|_| broken())? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "evidence" {
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| broken())? {
                if (bytes.len() + chunk.len()) as u64 > rules::MAX_EVIDENCE_BYTES {
                    return Err(AppError::invalid(
                        "evidence",
                        format!(
                            "证明材料最大 {} MB，请压缩后再上传",
                            rules::MAX_EVIDENCE_BYTES / 1024 / 1024
                        ),
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            evidence = Some(bytes);
            continue;
        }
        let value = field.text().await.map_err(|_| broken())?;
        if value.len() > rules::MAX_REASON_CHARS * 4 + 16 {
            return Err(AppError::invalid(&name, "内容太长"));
        }
        match name.as_str() {
            "entry_id" => fields.entry_id = value.trim().parse().unwrap_or_default(),
            "name" => fields.name = value,
            "phone" => fields.phone = value,
            "reason" => fields.reason = value,
            _ => {}
        }
    }
    let input = publicity::ObjectionInput {
        entry_id: fields.entry_id,
        name: fields.name.clone(),
        phone: fields.phone.clone(),
        reason: fields.reason.clone(),
    };
    let outcome = publicity::lodge(
        &state.db,
        &state.store,
        state.clock.today(),
        id,
        &input,
        evidence.map(|bytes| publicity::Evidence { bytes }),
        &ip,
    )
    .await;
    match outcome {
        Ok(receipt) => {
            let page = public_page(
                &state,
                csrf,
                p,
                Vec::new(),
                Some(receipt),
                ObjectionFields::default(),
            )
            .await?;
            Ok((jar, page).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let status = form_status(&errors);
            let page = public_page(&state, csrf, p, errors, None, fields).await?;
            Ok((status, jar, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "objection_receipt.html")]
struct ReceiptPage {
    nav: Nav,
    r: db::Receipt,
    lodged: String,
    ruled: Option<String>,
    state_label: &'static str,
    pending: bool,
}

/// The objector's view of their own objection, by the receipt code they were given.
pub async fn receipt(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let r = publicity::receipt(&state.db, &code).await?;
    let page = render(&ReceiptPage {
        nav: Nav::anonymous(),
        lodged: format_time(r.lodged_at),
        ruled: r.ruled_at.map(format_time),
        state_label: r.state.label(),
        pending: r.state == ObjectionState::Pending,
        r,
    })?;
    let mut response = page.into_response();
    // The code in the address is the key to the page: keep it out of referrers and caches.
    let h = response.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
