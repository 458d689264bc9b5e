//! Accounts within scope: list, create (with a one-time password shown once), reset, disable.

use crate::domain::ids::{OrgId, UserId};
use crate::http::extract::Form;
use crate::http::extract::{Path, Query};
use askama::Template;
use axum::extract::{RawForm, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::{Nav, render};
use crate::app::AppState;
use crate::db::audit::{self, Event};
use crate::db::orgs;
use crate::db::users::{self, UserRow};
use crate::domain::mask::{login_shown, mask_email, personal_phone};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::session::{CurrentUser, Session};
use crate::service::account_import;
use crate::service::accounts::{self, NewAccount};
use crate::service::works;

pub struct RoleOption {
    pub code: &'static str,
    pub label: &'static str,
}

pub struct OrgOption {
    pub id: OrgId,
    pub name: String,
}

/// Masks the phone and e-mail address unless the viewer is a city admin.
pub fn present(mut row: UserRow, session: &Session) -> UserRow {
    let unmasked = session.role == Role::CityAdmin || row.id == session.user.id;
    row.phone = row.phone.as_deref().map(|p| personal_phone(p, unmasked));
    row.login = login_shown(&row.login, unmasked);
    if !unmasked {
        row.email = row.email.as_deref().map(mask_email);
    }
    row
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Nav,
    csrf: String,
    users: Vec<UserRow>,
    roles: Vec<RoleOption>,
    orgs: Vec<OrgOption>,
    errors: Vec<FieldError>,
    form: NewAccount,
    /// The search, how many accounts match it, and where the next page starts.
    q: String,
    total: i64,
    next_after: Option<i64>,
}

/// Accounts per page of the list.
pub const PAGE_SIZE: i64 = 200;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    /// The last account id of the previous page.
    #[serde(default)]
    after: i64,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Html<String>> {
    let empty = NewAccount {
        login: String::new(),
        display_name: String::new(),
        phone: None,
        email: None,
        role: String::new(),
        org_id: session.org.id,
    };
    users_page(&state, &session, Vec::new(), empty, &query)
        .await
        .map(|(_, h)| h)
}

async fn users_page(
    state: &AppState,
    session: &Session,
    errors: Vec<FieldError>,
    form: NewAccount,
    query: &ListQuery,
) -> AppResult<(StatusCode, Html<String>)> {
    let scope = session.scope();
    let q = crate::domain::text::line(&query.q, crate::domain::text::limits::LOGIN)
        .map_err(|m| AppError::invalid("搜索", format!("搜索内容{m}")))?;
    let (rows, total) = users::page(&state.db, &scope, &q, query.after, PAGE_SIZE).await?;
    let next_after = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|u| u.id.get()))
        .flatten();
    // Peer admins of one's own unit are in scope but not one's to manage: not listed.
    let users = rows
        .into_iter()
        .filter(|u| u.id == session.user.id || manages(session, u))
        .map(|u| present(u, session))
        .collect();
    let orgs = org_options(state, session).await?;
    let roles = role_options(session);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&UsersPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        users,
        roles,
        orgs,
        errors,
        form,
        q,
        total,
        next_after,
    })?;
    Ok((status, html))
}

#[derive(Template)]
#[template(path = "password_issued.html")]
struct IssuedPage {
    nav: Nav,
    login: String,
    password: String,
    user_id: UserId,
    reset: bool,
}

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org_id: String,
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<UserForm>,
) -> AppResult<Response> {
    let input = NewAccount {
        login: form.login.clone(),
        display_name: form.display_name.clone(),
        phone: Some(form.phone.clone()),
        email: Some(form.email.clone()),
        role: form.role.clone(),
        org_id: form.org_id.trim().parse().unwrap_or(OrgId(-1)),
    };
    match accounts::create_account(
        &state.db,
        &session.scope(),
        session.role,
        &input,
        &session.actor(),
    )
    .await
    {
        Ok((id, password)) => Ok(render(&IssuedPage {
            nav: Nav::for_session(&session),
            login: input.login.trim().to_string(),
            password,
            user_id: id,
            reset: false,
        })?
        .into_response()),
        Err(AppError::Invalid(errors)) => {
            Ok(
                users_page(&state, &session, errors, input, &ListQuery::default())
                    .await?
                    .into_response(),
            )
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    nav: Nav,
    csrf: String,
    user: UserRow,
    is_self: bool,
    errors: Vec<FieldError>,
    message: Option<&'static str>,
    /// For a moderator's page seen by the city admin: the sub-projects it may check.
    moderation: Option<Vec<SubProjectChoice>>,
    /// The roles and units the account may be given (empty on one's own page).
    roles: Vec<RoleOption>,
    orgs: Vec<OrgOption>,
}

/// The account's page, with `errors` from a form that came back and `message` after a save.
async fn user_page(
    state: &AppState,
    session: &Session,
    row: UserRow,
    errors: Vec<FieldError>,
    message: Option<&'static str>,
) -> AppResult<(StatusCode, Html<String>)> {
    let moderation = moderation_view(state, session, &row).await?;
    let is_self = row.id == session.user.id;
    let (roles, orgs) = if is_self {
        (Vec::new(), Vec::new())
    } else {
        (role_options(session), org_options(state, session).await?)
    };
    let status = super::form_status(&errors);
    let html = render(&UserPage {
        nav: Nav::for_session(session),
        csrf: session.csrf.clone(),
        is_self,
        user: present(row, session),
        errors,
        message,
        moderation,
        roles,
        orgs,
    })?;
    Ok((status, html))
}

fn role_options(session: &Session) -> Vec<RoleOption> {
    Role::ALL
        .into_iter()
        .filter(|r| session.role.may_grant(*r))
        .map(|r| RoleOption {
            code: r.code(),
            label: r.label_zh(),
        })
        .collect()
}

async fn org_options(state: &AppState, session: &Session) -> AppResult<Vec<OrgOption>> {
    Ok(orgs::list(&state.db, &session.scope(), None)
        .await?
        .into_iter()
        .map(|o| OrgOption {
            id: o.id,
            name: o.name,
        })
        .collect())
}

struct SubProjectChoice {
    code: String,
    name: String,
    checked: bool,
}

async fn moderation_view(
    state: &AppState,
    session: &Session,
    row: &UserRow,
) -> AppResult<Option<Vec<SubProjectChoice>>> {
    if session.role != Role::CityAdmin || row.role != Role::Moderator {
        return Ok(None);
    }
    let assigned = works::moderator_sub_projects(&state.db, row.id).await?;
    Ok(Some(
        works::hosted_sub_projects(&state.db)
            .await?
            .into_iter()
            .map(|(code, name)| SubProjectChoice {
                checked: assigned.iter().any(|(c, _)| *c == code),
                code,
                name,
            })
            .collect(),
    ))
}

/// The account `user_id` if the session may manage it (or it is the session's own); others are
/// not found, as if they did not exist.
pub async fn in_scope(state: &AppState, session: &Session, user_id: UserId) -> AppResult<UserRow> {
    let row = users::get_row(&state.db, &session.scope(), user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.id == session.user.id || manages(session, &row) {
        Ok(row)
    } else {
        Err(AppError::NotFound)
    }
}

/// Whether the session may manage the account (see `Role::may_manage_account`).
pub fn manages(session: &Session, row: &UserRow) -> bool {
    session
        .role
        .may_manage_account(&session.org.path, row.role, &row.org_path)
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(user_id): Path<UserId>,
    Query(q): Query<ShowQuery>,
) -> AppResult<Html<String>> {
    let row = in_scope(&state, &session, user_id).await?;
    let message = match q.saved.as_deref() {
        Some("sub-projects") => Some("审核的子项目已保存。"),
        Some("profile") => Some("姓名、角色和所属单位已保存。"),
        Some(_) => Some("电子邮箱已保存。"),
        None => None,
    };
    Ok(user_page(&state, &session, row, Vec::new(), message)
        .await?
        .1)
}

#[derive(Deserialize)]
pub struct ShowQuery {
    saved: Option<String>,
}

/// The city admin sets which sub-projects a moderator checks (checkboxes named `sub_project`).
pub async fn set_sub_projects(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(user_id): Path<UserId>,
    RawForm(body): RawForm,
) -> AppResult<Response> {
    let row = in_scope(&state, &session, user_id).await?;
    let codes: Vec<String> = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .map_err(|_| AppError::invalid("sub_project", "表单内容无法识别，请刷新页面后重试"))?
        .into_iter()
        .filter(|(k, _)| k == "sub_project")
        .map(|(_, v)| v)
        .collect();
    works::assign_moderator(&state.db, &session.acting(), row.id, &codes).await?;
    Ok(
        axum::response::Redirect::to(&format!("/users/{}?saved=sub-projects", row.id))
            .into_response(),
    )
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// Sets or clears an account's e-mail address (where reminders are mailed).
pub async fn set_email(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(user_id): Path<UserId>,
    Form(form): Form<EmailForm>,
) -> AppResult<Response> {
    let row = in_scope(&state, &session, user_id).await?;
    match accounts::set_email(&state.db, row.id, &form.email, &session.actor()).await {
        Ok(()) => {
            Ok(axum::response::Redirect::to(&format!("/users/{}?saved=1", row.id)).into_response())
        }
        Err(AppError::Invalid(errors)) => Ok(user_page(&state, &session, row, errors, None)
            .await?
            .into_response()),
        Err(e) => Err(e),
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(user_id): Path<UserId>,
) -> AppResult<Html<String>> {
    let row = in_scope(&state, &session, user_id).await?;
    if row.id == session.user.id {
        return Err(AppError::invalid(
            "账号",
            "请在“修改密码”页面修改自己的密码",
        ));
    }
    let password = accounts::reset_password(&state.db, row.id, &session.actor()).await?;
    render(&IssuedPage {
        nav: Nav::for_session(&session),
        login: row.login,
        password,
        user_id: row.id,
        reset: true,
    })
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    disabled: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(user_id): Path<UserId>,
    Form(form): Form<StatusForm>,
) -> AppResult<Response> {
    let row = in_scope(&state, &session, user_id).await?;
    if row.id == session.user.id {
        return Err(AppError::invalid("账号", "不能停用自己的账号"));
    }
    let disabled = form.disabled == "1";
    let mut tx = state.db.begin().await?;
    users::set_disabled(&mut tx, row.id, disabled).await?;
    if disabled {
        crate::db::sessions::delete_for_user(&mut tx, row.id, None).await?;
    }
    audit::append(
        &mut tx,
        &session.actor(),
        Event {
            action: if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            object_type: "user",
            object_id: row.id.to_string(),
            before: Some(serde_json::json!({ "disabled": row.disabled })),
            after: Some(serde_json::json!({ "disabled": disabled })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(axum::response::Redirect::to(&format!("/users/{}", row.id)).into_response())
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org_id: String,
}

/// Changes an account's name, role and unit (within scope; audited).
pub async fn set_profile(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(user_id): Path<UserId>,
    Form(form): Form<ProfileForm>,
) -> AppResult<Response> {
    let row = in_scope(&state, &session, user_id).await?;
    let input = accounts::ProfileChange {
        display_name: form.display_name,
        role: form.role,
        org_id: form.org_id.trim().parse().unwrap_or(OrgId(-1)),
    };
    let scope = session.scope();
    let editor = accounts::Editor {
        user_id: session.user.id,
        role: session.role,
        org_path: &session.org.path,
        scope: &scope,
    };
    match accounts::update_profile(&state.db, &editor, &row, &input, &session.actor()).await {
        Ok(()) => Ok(
            axum::response::Redirect::to(&format!("/users/{}?saved=profile", row.id))
                .into_response(),
        ),
        Err(AppError::Invalid(errors)) => Ok(user_page(&state, &session, row, errors, None)
            .await?
            .into_response()),
        Err(e) => Err(e),
    }
}

/// Staff accounts from an Excel or CSV file, all or none. The answer is the sheet of one-time
/// passwords itself (never stored, never cached); a file with errors comes back as the page
/// with every row's problem.
pub async fn import(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    multipart: crate::http::extract::Multipart,
) -> AppResult<Response> {
    let bytes = super::orgs::uploaded_file(multipart).await?;
    let scope = session.scope();
    let result = match crate::office::tabular::read_off_thread(bytes).await {
        Ok(table) => {
            account_import::import_accounts(
                &state.db,
                &scope,
                session.role,
                &table,
                &session.actor(),
            )
            .await
        }
        Err(message) => Err(AppError::invalid("文件", message)),
    };
    let made = match result {
        Ok(made) => made,
        Err(AppError::Invalid(errors)) => {
            let empty = NewAccount {
                login: String::new(),
                display_name: String::new(),
                phone: None,
                email: None,
                role: String::new(),
                org_id: session.org.id,
            };
            let (status, html) =
                users_page(&state, &session, errors, empty, &ListQuery::default()).await?;
            return Ok((status, html).into_response());
        }
        Err(e) => return Err(e),
    };
    let today = state.clock.today();
    let bytes =
        account_import::password_workbook(&state.db, &session.org.name, today, &made).await?;
    let day = today.format("%Y%m%d");
    let mut response = super::download(
        bytes,
        super::XLSX,
        &format!("wangju-accounts-{day}.xlsx"),
        &format!("新建账号与一次性密码-{day}.xlsx"),
    );
    let h = response.headers_mut();
    h.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    h.insert(
        "x-wangju-created",
        axum::http::HeaderValue::from(made.len()),
    );
    Ok(response)
}
