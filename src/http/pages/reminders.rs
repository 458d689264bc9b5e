//! Reminders (催报) in Wangju: the list an admin's unit received (marking them read), the ones
//! sent to units in its scope with how their e-mail went, and sending one by hand.

use crate::domain::ids::OrgId;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, format_time, render};
use crate::app::AppState;
use crate::db::reminders::{self as db_reminders, Reminder};
use crate::error::AppResult;
use crate::http::extract::{Form, Path, Query};
use crate::http::session::CurrentUser;
use crate::service::reminders;

/// A reminder as a page shows it.
pub struct Line {
    pub r: Reminder,
    pub when: String,
    pub mail: &'static str,
}

/// What the e-mail of a reminder came to, in Chinese.
pub fn mail_label(status: &str) -> &'static str {
    match status {
        db_reminders::PENDING | db_reminders::SENDING => "邮件待发送",
        db_reminders::SENT => "邮件已发送",
        db_reminders::FAILED => "邮件发送失败，将重试",
        db_reminders::SKIPPED => "未发邮件",
        _ => "",
    }
}

/// Keeps only the reasons written for people (why no e-mail was sent); a mail server's raw
/// error is for the operator's log.
pub fn public(mut r: Reminder) -> Reminder {
    if r.mail_status != db_reminders::SKIPPED {
        r.mail_error = None;
    }
    r
}

pub fn line(r: Reminder) -> Line {
    let r = public(r);
    Line {
        when: format_time(r.created_at),
        mail: mail_label(&r.mail_status),
        r,
    }
}

#[derive(Template)]
#[template(path = "reminders.html")]
struct RemindersPage {
    nav: Nav,
    csrf: String,
    received: Vec<Line>,
    sent: Vec<Line>,
    may_send: bool,
    message: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    sent: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Html<String>> {
    let received = db_reminders::for_org(&state.db, session.org.id, session.user.id, false, 200)
        .await?
        .into_iter()
        .map(line)
        .collect();
    let may_send = session.role.may_allocate_quotas();
    let sent = if may_send {
        db_reminders::sent_in_scope(&state.db, &session.scope().prefix, session.org.id, 200)
            .await?
            .into_iter()
            .map(line)
            .collect()
    } else {
        Vec::new()
    };
    render(&RemindersPage {
        nav: Nav::for_session(&session),
        csrf: session.csrf.clone(),
        received,
        sent,
        may_send,
        message: q.sent.map(
            |_| "催报已发出：对方单位管理员登录后即可看到；邮件随下一次催报任务（一分钟内）发出。",
        ),
    })
}

pub async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(reminder_id): Path<i64>,
) -> AppResult<Response> {
    reminders::mark_read(&state.db, session.org.id, session.user.id, reminder_id).await?;
    Ok(Redirect::to("/reminders").into_response())
}

#[derive(Deserialize)]
pub struct RemindForm {
    #[serde(default)]
    note: String,
}

/// An admin reminds a unit in its scope by hand, from the progress page.
pub async fn send(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(org_id): Path<OrgId>,
    Form(form): Form<RemindForm>,
) -> AppResult<Response> {
    reminders::send_manual(
        &state.db,
        &session.acting(),
        org_id,
        &form.note,
        state.clock.today(),
    )
    .await?;
    Ok(Redirect::to("/reminders?sent=1").into_response())
}
