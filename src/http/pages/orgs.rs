//! The org tree: browse and search within scope, create, edit, import and export.

use crate::domain::ids::OrgId;
use crate::http::extract::Form;
use crate::http::extract::Multipart;
use crate::http::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, qr, render};
use crate::app::AppState;
use crate::db::audit::{self, Event};
use crate::db::orgs::{self, Org};
use crate::db::users;
use crate::domain::mask::contact_phone;
use crate::domain::org::OrgKind;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::session::{CurrentUser, Session};
use crate::office::tabular;
use crate::service::orgs::{self as service, EXPORT_HEADER, OrgInput};

/// One line of the tree as shown.
pub struct OrgLine {
    pub id: OrgId,
    pub name: String,
    pub kind: &'static str,
    pub depth: usize,
    /// Full-width spaces that indent the name in a drop-down list.
    pub indent: String,
    pub contact: String,
}

fn line(org: &Org, base_depth: i64) -> OrgLine {
    // Org pages are for signed-in staff: a contact's number is shown whole, to be called.
    let phone = org.contact_phone.as_deref().map(|p| contact_phone(p, true));
    let contact = match (&org.contact_name, phone) {
        (Some(n), Some(p)) => format!("{n} {p}"),
        (Some(n), None) => n.clone(),
        (None, Some(p)) => p,
        (None, None) => String::new(),
    };
    let depth = usize::try_from(org.depth - base_depth).unwrap_or(0);
    OrgLine {
        id: org.id,
        name: org.name.clone(),
        kind: org.kind_label(),
        depth,
        indent: "\u{3000}".repeat(depth),
        contact,
    }
}

/// Tree order: each org followed by its subtree (sorted by path segments as numbers).
fn tree_order(mut list: Vec<Org>) -> Vec<Org> {
    let key = |o: &Org| -> Vec<i64> { o.path.split('/').filter_map(|s| s.parse().ok()).collect() };
    list.sort_by_key(key);
    list
}

pub struct KindOption {
    pub code: &'static str,
    pub label: &'static str,
}

fn kind_options() -> Vec<KindOption> {
    OrgKind::ALL
        .iter()
        .map(|k| KindOption {
            code: k.code(),
            label: k.label_zh(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct OrgsPage {
    nav: Nav,
    csrf: String,
    q: String,
    lines: Vec<OrgLine>,
    total: usize,
    may_edit: bool,
    parents: Vec<OrgLine>,
    kinds: Vec<KindOption>,
    errors: Vec<FieldError>,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Html<String>> {
    page(&state, &session, &query.q, Vec::new(), query.done)
        .await
        .map(|(_, html)| html)
}

async fn page(
    state: &AppState,
    session: &Session,
    q: &str,
    errors: Vec<FieldError>,
    message: Option<String>,
) -> AppResult<(StatusCode, Html<String>)> {
    let scope = session.scope();
    let search = Some(q.trim()).filter(|s| !s.is_empty());
    let found = tree_order(orgs::list(&state.db, &scope, search).await?);
    let all = if search.is_some() {
        tree_order(orgs::list(&state.db, &scope, None).await?)
    } else {
        found.clone()
    };
    let base = all.iter().map(|o| o.depth).min().unwrap_or(0);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&OrgsPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        q: q.to_string(),
        total: found.len(),
        lines: found
            .iter()
            .map(|o| line(o, if search.is_some() { o.depth } else { base }))
            .collect(),
        may_edit: session.role.may_edit_orgs(),
        parents: all.iter().map(|o| line(o, base)).collect(),
        kinds: kind_options(),
        errors,
        message: message.map(|m| {
            if m == "1" {
                "已保存。".to_string()
            } else {
                m
            }
        }),
    })?;
    Ok((status, html))
}

#[derive(Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_phone: String,
}

impl OrgForm {
    fn input(&self) -> Result<OrgInput, AppError> {
        let parent_id = match self.parent_id.trim() {
            "" => None,
            id => Some(
                id.parse()
                    .map_err(|_| AppError::invalid("上级单位", "请从列表中选择上级单位"))?,
            ),
        };
        Ok(OrgInput {
            name: self.name.clone(),
            kind: self.kind.clone(),
            parent_id,
            contact_name: Some(self.contact_name.clone()),
            contact_phone: Some(self.contact_phone.clone()),
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<OrgForm>,
) -> AppResult<Response> {
    let result = match form.input() {
        Ok(input) => service::create(&state.db, &session.scope(), &input, &session.actor()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(org) => Ok(Redirect::to(&format!("/orgs/{}?done=1", org.id)).into_response()),
        Err(AppError::Invalid(errors)) => Ok(page(&state, &session, "", errors, None)
            .await?
            .into_response()),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    nav: Nav,
    csrf: String,
    org: OrgLine,
    kind_code: String,
    contact_name: String,
    contact_phone: String,
    parent_id: Option<OrgId>,
    /// The selected parent in the drop-down (`OrgId(-1)`: none).
    parent_sel: OrgId,
    parent_name: String,
    children: Vec<OrgLine>,
    accounts: usize,
    may_edit: bool,
    may_move: bool,
    parents: Vec<OrgLine>,
    kinds: Vec<KindOption>,
    errors: Vec<FieldError>,
    saved: bool,
    /// The workers' registration link, for a union and an admin who may manage accounts.
    invite: Option<InviteView>,
}

/// What the org page shows of a union's registration link.
struct InviteView {
    /// The absolute link, once made.
    url: Option<String>,
    renewed: bool,
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(org_id): Path<OrgId>,
    Query(q): Query<ShowQuery>,
    headers: HeaderMap,
) -> AppResult<Html<String>> {
    let done = q.done.as_deref();
    org_page(&state, &session, &headers, org_id, Vec::new(), done)
        .await
        .map(|(_, h)| h)
}

async fn org_page(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    org_id: OrgId,
    errors: Vec<FieldError>,
    done: Option<&str>,
) -> AppResult<(StatusCode, Html<String>)> {
    let scope = session.scope();
    let org = orgs::get(&state.db, &scope, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let all = tree_order(orgs::list(&state.db, &scope, None).await?);
    let base = all.iter().map(|o| o.depth).min().unwrap_or(0);
    let children = all
        .iter()
        .filter(|o| o.parent_id == Some(org.id))
        .map(|o| line(o, o.depth))
        .collect();
    let parent_name = match org.parent_id {
        Some(pid) => all
            .iter()
            .find(|o| o.id == pid)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| "（上级单位不在您的管理范围内）".into()),
        None => "（无，顶层单位）".into(),
    };
    let accounts = users::list(&state.db, &orgs::Scope::subtree(&org))
        .await?
        .iter()
        .filter(|u| u.org_id == org.id)
        .count();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&OrgPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        org: line(&org, org.depth),
        kind_code: org.kind.code().to_string(),
        contact_name: org.contact_name.clone().unwrap_or_default(),
        contact_phone: org.contact_phone.clone().unwrap_or_default(),
        parent_id: org.parent_id,
        parent_sel: org.parent_id.unwrap_or(OrgId(-1)),
        parent_name,
        children,
        accounts,
        may_edit: session.role.may_edit_orgs(),
        may_move: session.role.may_edit_orgs() && org.path != scope.prefix,
        parents: all
            .iter()
            .filter(|o| !org.contains(o))
            .map(|o| line(o, base))
            .collect(),
        kinds: kind_options(),
        errors,
        saved: done.is_some_and(|d| d != "invite"),
        invite: invite_view(state, session, headers, &org, done == Some("invite")).await?,
    })?;
    Ok((status, html))
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(org_id): Path<OrgId>,
    headers: HeaderMap,
    Form(form): Form<OrgForm>,
) -> AppResult<Response> {
    let scope = session.scope();
    let current = orgs::get(&state.db, &scope, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let result = match form.input() {
        Ok(mut input) => {
            // The root of one's own scope keeps its parent (the form shows no choice for it).
            if current.path == scope.prefix || input.parent_id.is_none() {
                input.parent_id = current.parent_id;
            }
            service::update(&state.db, &scope, org_id, &input, &session.actor()).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{org_id}?done=1")).into_response()),
        Err(AppError::Invalid(errors)) => {
            Ok(org_page(&state, &session, &headers, org_id, errors, None)
                .await?
                .into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(default)]
    format: Option<String>,
}

/// The tree in scope as XLSX (default) or CSV, in the import layout.
pub async fn export(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ExportQuery>,
) -> AppResult<Response> {
    let rows = service::export_rows(&state.db, &session.scope()).await?;
    let csv = q.format.as_deref() == Some("csv");
    let bytes = if csv {
        tabular::write_csv(&EXPORT_HEADER, &rows)
    } else {
        tabular::write_xlsx("组织架构", &EXPORT_HEADER, &rows)
    }
    .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    audit::record(
        &state.db,
        &session.actor(),
        Event {
            action: "org.export",
            object_type: "org",
            object_id: String::new(),
            before: None,
            after: Some(serde_json::json!({ "rows": rows.len(), "format": if csv { "csv" } else { "xlsx" } })),
        },
    )
    .await?;
    Ok(if csv {
        super::download(bytes, super::CSV, "orgs.csv", "组织架构.csv")
    } else {
        super::download(bytes, super::XLSX, "orgs.xlsx", "组织架构.xlsx")
    })
}

/// Reads the uploaded spreadsheet (form field `file`); the route's body limit bounds it.
pub async fn uploaded_file(Multipart(mut multipart): Multipart) -> AppResult<axum::body::Bytes> {
    let mut bytes = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::invalid("文件", "上传没有完成或格式不对，请重新选择文件上传"))?
    {
        if field.name() == Some("file") {
            bytes = Some(field.bytes().await.map_err(|_| AppError::TooLarge)?);
        }
    }
    bytes
        .filter(|b| !b.is_empty())
        .ok_or_else(|| AppError::invalid("文件", "请选择要导入的 xlsx 或 csv 文件"))
}

/// Imports a CSV or XLSX upload (field `file`). All rows or none.
pub async fn import(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    multipart: Multipart,
) -> AppResult<Response> {
    let bytes = uploaded_file(multipart).await?;
    let result = match tabular::read_off_thread(bytes).await {
        Ok(table) => service::import(&state.db, &session.scope(), &table, &session.actor()).await,
        Err(message) => Err(AppError::invalid("文件", message)),
    };
    match result {
        Ok(summary) => {
            let message = format!(
                "导入完成：新建 {} 个，更新 {} 个，未变 {} 个。",
                summary.created, summary.updated, summary.unchanged
            );
            Ok(page(&state, &session, "", Vec::new(), Some(message))
                .await?
                .into_response())
        }
        Err(AppError::Invalid(errors)) => Ok(page(&state, &session, "", errors, None)
            .await?
            .into_response()),
        Err(e) => Err(e),
    }
}

async fn invite_view(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    org: &Org,
    renewed: bool,
) -> AppResult<Option<InviteView>> {
    if !session.role.may_manage_users() || !org.is_union() {
        return Ok(None);
    }
    let url = orgs::invite_token(&state.db, org.id)
        .await?
        .map(|token| super::absolute_url(state, headers, &invite_path(&token)));
    Ok(Some(InviteView { url, renewed }))
}

fn invite_path(token: &str) -> String {
    format!("/register?join={token}")
}

#[derive(Deserialize, Default)]
pub struct InviteForm {
    /// Replace the link (the old one stops working).
    #[serde(default)]
    renew: Option<String>,
}

/// Makes the union's registration link, or replaces it.
pub async fn make_invite(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(org_id): Path<OrgId>,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    service::invite(&state.db, &session.acting(), org_id, form.renew.is_some()).await?;
    Ok(Redirect::to(&format!("/orgs/{org_id}?done=invite#invite")).into_response())
}

/// The union's registration link as a QR code (PNG, for WeChat groups and notice boards).
pub async fn invite_png(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(org_id): Path<OrgId>,
    headers: HeaderMap,
) -> AppResult<Response> {
    // Looking never makes a link: the org page's button (a POST) does.
    let token = service::existing_invite(&state.db, &session.acting(), org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let url = super::absolute_url(&state, &headers, &invite_path(&token));
    qr::png(&url, &format!("register-qr-{org_id}.png"))
}
