//! Sub-project pages (public), worker registration, submitting works from a phone, the
//! moderation queue, the stored files (never run by the browser), and units' participation
//! records for sub-projects hosted elsewhere.
//!
//! One module per page or action: `projects`, `registration`, `submit` (and fixing a returned
//! work), `list`, `show`, `decision`, `file`, `participations`. This file keeps what several
//! of them show (a sub-project's view, unit choices) and re-exports the handlers the route
//! table names.

mod decision;
mod file;
mod list;
mod participations;
mod projects;
mod registration;
mod show;
mod submit;

pub use decision::decide;
pub use file::file;
pub use list::{export, list};
pub use participations::{participations, record_participation};
pub use projects::{project, projects};
pub use registration::{register, register_form};
pub use show::show;
pub use submit::{fix_form, resubmit, submit, submit_form};

use crate::domain::ids::OrgId;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::orgs::{self, Scope};
use crate::domain::campaign::{Participation, SubProject};
use crate::error::AppResult;
use crate::http::pages::Nav;
// `templates/works.html` calls `super::format_time`, which from `list.rs` is this module.
use crate::http::pages::format_time;

/// A sub-project as its public page shows it.
pub struct ProjectView {
    pub code: String,
    pub name: String,
    pub host: String,
    pub description: String,
    pub hosted_here: bool,
    pub media: &'static str,
    pub entries: Vec<(String, String, Option<String>)>,
    pub contacts: Vec<crate::service::overview::ContactView>,
    pub rules: Vec<(String, &'static str)>,
}

fn project_view(s: &SubProject, signed_in: bool) -> ProjectView {
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
        contacts: crate::service::overview::contacts(&s.contacts, signed_in),
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

fn nav_of(session: &Option<crate::http::session::Session>) -> Nav {
    session
        .as_ref()
        .map_or_else(Nav::anonymous, Nav::for_session)
}

pub struct UnitChoice {
    pub id: OrgId,
    pub label: String,
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

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}
