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
    pub before: String,
    pub after: String,
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
    // Units by name, not by number ("单位 和平区总工会", not "单位 25").
    let org_names: std::collections::HashMap<String, String> =
        if entries.iter().any(|e| e.object_type == "org") {
            crate::db::orgs::list(&state.db, &crate::db::orgs::Scope::everything(), None)
                .await?
                .into_iter()
                .map(|o| (o.id.to_string(), o.name))
                .collect()
        } else {
            Default::default()
        };
    render(&AuditPage {
        nav: Nav::for_session(&session),
        entries: entries
            .into_iter()
            .map(|e| EntryLine {
                id: e.id,
                at: format_time(e.at),
                actor: e.actor_login,
                ip: e.ip,
                action_label: audit::action_label_zh(&e.action),
                object: match org_names
                    .get(&e.object_id)
                    .filter(|_| e.object_type == "org")
                {
                    Some(name) => format!("单位 {name}"),
                    None => format!("{} {}", audit::object_label_zh(&e.object_type), e.object_id),
                },
                action: e.action,
                before: e.before_json.unwrap_or_default(),
                after: e.after_json.unwrap_or_default(),
            })
            .collect(),
        actor: filter.actor.unwrap_or_default(),
        action: filter.action.unwrap_or_default(),
        object_type: filter.object_type.unwrap_or_default(),
        from: filter.from.unwrap_or_default(),
        to: filter.to.unwrap_or_default(),
        next_before,
        chain,
    })
}
