//! The audit log, for city admins: newest first, filterable, with the chain's state.

use crate::http::extract::Query;
use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::{Nav, format_time, render};
use crate::app::AppState;
use crate::db::audit::{self, Filter, Verdict};
use crate::error::AppResult;
use crate::http::session::CurrentUser;
use crate::service::audit_view;

pub const PAGE_SIZE: i64 = 100;

#[derive(serde::Deserialize)]
pub struct VerifyQuery {
    verify: Option<String>,
}

pub struct EntryLine {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub action_label: &'static str,
    pub object: String,
    pub changes: Vec<audit_view::Change>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    entries: Vec<EntryLine>,
    actor: String,
    action: String,
    object_type: String,
    from: String,
    to: String,
    /// The filter's choices: (code, Chinese name).
    actions: &'static [(&'static str, &'static str)],
    object_types: &'static [(&'static str, &'static str)],
    /// An action filter that is a prefix (`org.`) rather than one of the listed actions.
    action_prefix: Option<String>,
    /// The same filter as a query string, for the next page and the export.
    query: String,
    next_before: Option<i64>,
    /// The verdict of a chain check, when one was asked for.
    chain: Option<(String, bool)>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(filter): Query<Filter>,
    Query(q): Query<VerifyQuery>,
) -> AppResult<Html<String>> {
    let entries = audit::list(&state.db, &filter, PAGE_SIZE).await?;
    let next_before = (entries.len() as i64 == PAGE_SIZE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    // Walking the whole chain reads every entry: only on request.
    let chain = if q.verify.is_some() {
        Some(match audit::verify(&state.db).await? {
            Verdict::Intact { entries } => {
                (format!("哈希链完整，共 {entries} 条记录，未发现篡改"), true)
            }
            Verdict::Broken { reason, .. } => (format!("哈希链已损坏：{reason}"), false),
        })
    } else {
        None
    };
    let lines = audit_view::lines(&state.db, entries).await?;
    let action_prefix = filter
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty() && !audit::ACTIONS.iter().any(|(c, _)| c == a))
        .map(String::from);
    render(&AuditPage {
        nav: Nav::for_session(&session),
        entries: lines
            .into_iter()
            .map(|l| EntryLine {
                id: l.id,
                at: format_time(l.at),
                actor: l.actor,
                ip: l.ip,
                action: l.action,
                action_label: l.action_label,
                object: l.object,
                changes: l.changes,
            })
            .collect(),
        query: query_of(&filter),
        actor: filter.actor.unwrap_or_default(),
        action: filter.action.unwrap_or_default(),
        object_type: filter.object_type.unwrap_or_default(),
        from: filter.from.unwrap_or_default(),
        to: filter.to.unwrap_or_default(),
        action_prefix,
        actions: audit::ACTIONS,
        object_types: audit::OBJECT_TYPES,
        next_before,
        chain,
    })
}

/// The filter (without the page position) as a URL query.
fn query_of(filter: &Filter) -> String {
    let pairs = [
        ("actor", &filter.actor),
        ("action", &filter.action),
        ("object_type", &filter.object_type),
        ("from", &filter.from),
        ("to", &filter.to),
    ];
    serde_urlencoded::to_string(
        pairs
            .iter()
            .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (*k, v)))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

/// The filtered log as an Excel sheet (newest first, up to `MAX_EXPORT_ENTRIES`).
pub async fn export(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(filter): Query<Filter>,
) -> AppResult<axum::response::Response> {
    let today = state.clock.today();
    let bytes = audit_view::workbook(&state.db, &filter, &session.org.name, today).await?;
    let day = today.format("%Y%m%d");
    Ok(super::download(
        bytes,
        super::XLSX,
        &format!("wangju-audit-{day}.xlsx"),
        &format!("审计日志-{day}.xlsx"),
    ))
}
