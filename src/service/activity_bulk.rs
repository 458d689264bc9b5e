//! Approving or confirming many activity reports at once (a filtered list's checked rows, or
//! everything matching the filter). Each item is judged on its own, exactly as a single step
//! is — scope, standing, the approval chain, and a compare-and-set on the version the acting
//! admin saw — and gets its own result (done, already done, or refused and why) and its own
//! audit entry. Returning stays one at a time, because it needs its reason.
//!
//! The whole batch is one transaction: a failure of the database mid-way keeps nothing, so the
//! caller simply sends the same request again. A retry of a batch that did commit finds the
//! reports already in the target status at the version it names and answers "already done"
//! for them, without a second audit entry.

use serde::Serialize;

use crate::db::Db;
use crate::db::activities;
use crate::domain::activity::{self, Status, Transition};
use crate::domain::ids::ActivityId;
use crate::error::{AppError, Conflict};
use crate::service::acting::Acting;
use crate::service::activities::{audit_transition, standing};

/// Most reports one request acts on (a screenful of filters covers the 313 waiting at the
/// city; more than this is a filter worth narrowing).
pub const MAX_ITEMS: usize = 1000;

/// One report to act on, with what the acting admin saw of it.
#[derive(Debug, Clone, Copy)]
pub struct BulkItem {
    pub id: ActivityId,
    /// The version shown to the admin; the step applies to that version only.
    pub version: Option<i64>,
}

/// What became of one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Moved now (and audited).
    Done,
    /// It was already where the step leads, at the version named (a retried request).
    Already,
    /// Not moved; `reason` and `message` say why.
    Refused,
}

impl Outcome {
    pub fn label_zh(self) -> &'static str {
        match self {
            Outcome::Done => "已完成",
            Outcome::Already => "此前已完成",
            Outcome::Refused => "未处理",
        }
    }
}

/// The result for one report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemResult {
    pub id: ActivityId,
    /// The report's name (empty when it does not exist or is out of scope).
    pub name: String,
    pub org_name: String,
    pub outcome: Outcome,
    /// The status after the step (or as found, when refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// For a refusal: the stable reason code (`stale_version`, `wrong_state`,
    /// `changed_meanwhile`, `not_found`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// For a refusal: why, in Chinese.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// Counts over a batch's results.
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
pub struct Tally {
    pub done: usize,
    pub already: usize,
    pub refused: usize,
}

pub fn tally(results: &[ItemResult]) -> Tally {
    let mut t = Tally::default();
    for r in results {
        match r.outcome {
            Outcome::Done => t.done += 1,
            Outcome::Already => t.already += 1,
            Outcome::Refused => t.refused += 1,
        }
    }
    t
}

fn conflict_code(c: Conflict) -> &'static str {
    match c {
        Conflict::StaleVersion => "stale_version",
        Conflict::ChangedMeanwhile => "changed_meanwhile",
        _ => "wrong_state",
    }
}

/// Approves or confirms each of `items` (in the order given, each id once). `seen_at`, when
/// given (Unix seconds: when the list was shown), refuses reports changed after it — the
/// compare-and-set for "everything matching the filter", where no single version was shown.
pub async fn bulk_transition(
    db: &Db,
    acting: &Acting,
    step: Transition,
    items: &[BulkItem],
    seen_at: Option<i64>,
) -> Result<Vec<ItemResult>, AppError> {
    if !matches!(step, Transition::Approve | Transition::Confirm) {
        return Err(AppError::invalid(
            "操作",
            "批量操作只能“审核通过”或“确认”；退回请逐条处理并写明原因",
        ));
    }
    if !acting.role.may_report_activities() {
        return Err(AppError::Forbidden);
    }
    if items.is_empty() {
        return Err(AppError::invalid(
            "所选活动",
            "请至少勾选一个活动，或选择“全部符合筛选条件的活动”",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let items: Vec<BulkItem> = items
        .iter()
        .copied()
        .filter(|i| seen.insert(i.id))
        .collect();
    if items.len() > MAX_ITEMS {
        return Err(AppError::invalid(
            "所选活动",
            format!(
                "一次最多处理 {MAX_ITEMS} 个活动，这次选了 {} 个：请缩小筛选范围后分批处理",
                items.len()
            ),
        ));
    }
    let target = match step {
        Transition::Approve => Status::Approved,
        _ => Status::Confirmed,
    };
    let mut results = Vec::with_capacity(items.len());
    let mut tx = db.begin().await?;
    for item in items {
        let refused = |name: String, org: String, status, reason, message: String| ItemResult {
            id: item.id,
            name,
            org_name: org,
            outcome: Outcome::Refused,
            status,
            reason: Some(reason),
            message,
        };
        let row = activities::get_tx(&mut tx, item.id).await?;
        let Some(row) = row.filter(|r| r.org_path.starts_with(&acting.scope.prefix)) else {
            results.push(refused(
                String::new(),
                String::new(),
                None,
                "not_found",
                "活动不存在或不在您的管理范围内".into(),
            ));
            continue;
        };
        let (name, org) = (row.name.clone(), row.org_name.clone());
        let who = match standing(acting, &row) {
            Ok(who) => who,
            Err(_) => {
                results.push(refused(
                    name,
                    org,
                    Some(row.status),
                    "not_found",
                    "活动不在您的管理范围内".into(),
                ));
                continue;
            }
        };
        let version_ok = item.version.is_none_or(|v| v == row.version);
        if row.status == target && version_ok {
            results.push(ItemResult {
                id: item.id,
                name,
                org_name: org,
                outcome: Outcome::Already,
                status: Some(row.status),
                reason: None,
                message: String::new(),
            });
            continue;
        }
        if !version_ok {
            let seen = item.version.unwrap_or_default();
            results.push(refused(
                name,
                org,
                Some(row.status),
                conflict_code(Conflict::StaleVersion),
                format!(
                    "您看到的是第 {seen} 版，现在是第 {} 版：请打开看过最新内容后再{}",
                    row.version,
                    step.label_zh()
                ),
            ));
            continue;
        }
        if let Some(at) = seen_at
            && row.updated_at > at
        {
            results.push(refused(
                name,
                org,
                Some(row.status),
                conflict_code(Conflict::StaleVersion),
                format!(
                    "您打开列表之后，这个活动被修改过（现在{}）：请刷新列表后再{}",
                    row.status.label_zh(),
                    step.label_zh()
                ),
            ));
            continue;
        }
        let to = match activity::next_status(row.status, step, who) {
            Ok(to) => to,
            Err(message) => {
                results.push(refused(
                    name,
                    org,
                    Some(row.status),
                    conflict_code(Conflict::WrongState),
                    message,
                ));
                continue;
            }
        };
        let moved = activities::set_status(
            &mut tx,
            item.id,
            row.status.code(),
            row.version,
            to.code(),
            None,
        )
        .await?;
        if !moved {
            results.push(refused(
                name,
                org,
                Some(row.status),
                conflict_code(Conflict::ChangedMeanwhile),
                "这个活动刚被别人处理过，请刷新后再看".into(),
            ));
            continue;
        }
        audit_transition(&mut tx, acting, item.id, step, row.status, to, "").await?;
        results.push(ItemResult {
            id: item.id,
            name,
            org_name: org,
            outcome: Outcome::Done,
            status: Some(to),
            reason: None,
            message: String::new(),
        });
    }
    tx.commit().await?;
    Ok(results)
}
