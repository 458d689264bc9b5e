//! Quotas down the org tree and progress against them. A unit's progress counts the confirmed
//! activities anywhere in its subtree; bureau/group-company unions hold the campaign's minimum
//! unless given more.

use crate::domain::ids::OrgId;
use std::collections::HashMap;

use serde::Serialize;

use crate::db::activities::{self, OrgTally};
use crate::db::audit::{self, Event};
use crate::db::orgs::{self, Org, Scope};
use crate::db::{Db, quotas};
use crate::domain::activity::Status;
use crate::domain::org::OrgKind;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::acting::{Acting, current_campaign};

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// Activities confirmed by the city.
    pub confirmed: i64,
    /// Reported upward (submitted, approved or confirmed).
    pub reported: i64,
    /// All, drafts included.
    pub planned: i64,
    pub participants: i64,
    pub grassroots_unions: i64,
    pub enterprises: i64,
    pub new_propagandists: i64,
    pub online_views: i64,
    /// Propagandists on the register (the "2" of 12351+).
    pub registered_propagandists: i64,
    /// Attendance proven by QR check-in at confirmed activities (beside the claimed `participants`).
    pub verified: i64,
}

impl Counts {
    fn add(&mut self, t: &OrgTally) {
        self.planned += t.activities;
        let status = Some(t.status);
        if matches!(
            status,
            Some(Status::Submitted | Status::Approved | Status::Confirmed)
        ) {
            self.reported += t.activities;
        }
        if status == Some(Status::Confirmed) {
            self.confirmed += t.activities;
            self.participants += t.participants;
            self.grassroots_unions += t.grassroots_unions;
            self.enterprises += t.enterprises;
            self.new_propagandists += t.new_propagandists;
            self.online_views += t.online_views;
            self.verified += t.verified;
        }
    }

    fn merge(&mut self, o: &Counts) {
        self.confirmed += o.confirmed;
        self.reported += o.reported;
        self.planned += o.planned;
        self.participants += o.participants;
        self.grassroots_unions += o.grassroots_unions;
        self.enterprises += o.enterprises;
        self.new_propagandists += o.new_propagandists;
        self.online_views += o.online_views;
        self.registered_propagandists += o.registered_propagandists;
        self.verified += o.verified;
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgressRow {
    pub org_id: OrgId,
    pub name: String,
    pub kind: &'static str,
    pub depth: i64,
    pub parent_id: Option<OrgId>,
    /// The unit's quota of offline activities, if it has one.
    pub quota: Option<i64>,
    /// Whether the quota is the campaign's default for bureau/group-company unions.
    pub quota_is_default: bool,
    /// What its sub-units were given in all (to compare with its own quota).
    pub children_quota: i64,
    /// Its whole subtree.
    pub counts: Counts,
    /// Confirmed ÷ quota, in percent (capped display is the page's business).
    pub completion_percent: Option<i64>,
    /// Has a quota and nothing reported anywhere in its subtree (零报送).
    pub zero_report: bool,
    /// 1 = best completion among units with a quota.
    pub rank: Option<usize>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub campaign_code: String,
    pub rows: Vec<ProgressRow>,
    /// The whole scope.
    pub totals: Counts,
    pub total_quota: i64,
}

/// Units that take part in the quota table.
pub(crate) fn is_unit(org: &Org) -> bool {
    matches!(
        org.kind,
        OrgKind::DistrictUnion
            | OrgKind::IntermediateUnion
            | OrgKind::BureauGroup
            | OrgKind::Grassroots
    )
}

/// What progress is computed from: the whole campaign's figures, whatever the scope.
pub struct Snapshot {
    campaign_code: String,
    bureau_min: i64,
    /// Every org, in tree order.
    orgs: Vec<Org>,
    quotas: HashMap<OrgId, i64>,
    /// Each org's own counts (not its subtree's).
    own: HashMap<OrgId, Counts>,
}

/// Reads a snapshot: four queries, one of them grouped over the campaign's activities.
pub async fn snapshot(db: &Db) -> Result<Snapshot, AppError> {
    let campaign = current_campaign(db).await?;
    let orgs = orgs::list(db, &Scope::everything(), None).await?;
    let quotas: HashMap<OrgId, i64> = crate::db::quotas::list(db, campaign.id)
        .await?
        .into_iter()
        .map(|q| (q.org_id, q.min_activities))
        .collect();
    let mut own: HashMap<OrgId, Counts> = HashMap::new();
    let (first, last) = campaign
        .campaign
        .activity_dates()
        .map(|(f, l)| (f.to_string(), l.to_string()))
        .unwrap_or_default();
    for t in activities::tallies(db, campaign.id, &first, &last).await? {
        own.entry(t.org_id).or_default().add(&t);
    }
    for (org_id, n) in crate::db::propagandists::counts(db, campaign.id).await? {
        own.entry(org_id).or_default().registered_propagandists += n;
    }
    Ok(Snapshot {
        campaign_code: campaign.campaign.code.clone(),
        bureau_min: i64::from(campaign.campaign.quotas.bureau_group_min),
        orgs,
        quotas,
        own,
    })
}

/// Progress of the units in scope, read fresh from the database.
pub async fn progress(db: &Db, scope: &Scope) -> Result<Progress, AppError> {
    Ok(compute(&snapshot(db).await?, scope))
}

/// Progress of the units in scope, from a snapshot (no I/O).
pub fn compute(snap: &Snapshot, scope: &Scope) -> Progress {
    let bureau_min = snap.bureau_min;
    let list: Vec<&Org> = snap.orgs.iter().filter(|o| scope.contains(o)).collect();
    let quotas = &snap.quotas;
    // Sum each org's own tallies, then add them to every ancestor on its path.
    let by_id: HashMap<OrgId, &Org> = list.iter().map(|o| (o.id, *o)).collect();
    let mut subtree: HashMap<OrgId, Counts> = HashMap::new();
    let mut totals = Counts::default();
    for (org_id, counts) in &snap.own {
        let Some(org) = by_id.get(org_id) else {
            continue;
        };
        totals.merge(counts);
        for ancestor in org.path.split('/').filter_map(|s| s.parse::<OrgId>().ok()) {
            subtree.entry(ancestor).or_default().merge(counts);
        }
    }
    let mut children_quota: HashMap<OrgId, i64> = HashMap::new();
    for org in &list {
        if let (Some(parent), Some(q)) = (org.parent_id, quotas.get(&org.id)) {
            *children_quota.entry(parent).or_default() += q;
        }
    }
    let mut rows: Vec<ProgressRow> = list
        .iter()
        .filter(|o| is_unit(o) && (quotas.contains_key(&o.id) || o.kind != OrgKind::Grassroots))
        .map(|o| {
            let default = (o.kind == OrgKind::BureauGroup).then_some(bureau_min);
            let quota = quotas.get(&o.id).copied().or(default);
            let counts = subtree.get(&o.id).cloned().unwrap_or_default();
            ProgressRow {
                org_id: o.id,
                name: o.name.clone(),
                kind: o.kind_label(),
                depth: o.depth,
                parent_id: o.parent_id,
                quota,
                quota_is_default: !quotas.contains_key(&o.id) && default.is_some(),
                children_quota: children_quota.get(&o.id).copied().unwrap_or(0),
                completion_percent: quota.filter(|q| *q > 0).map(|q| counts.confirmed * 100 / q),
                zero_report: quota.is_some() && counts.reported == 0,
                counts,
                rank: None,
            }
        })
        .collect();
    // Competition ranking: equal completion, equal rank (1, 2, 2, 4).
    let mut percents: Vec<i64> = rows.iter().filter_map(|r| r.completion_percent).collect();
    percents.sort_unstable_by(|a, b| b.cmp(a));
    for row in &mut rows {
        row.rank = row
            .completion_percent
            .map(|p| 1 + percents.partition_point(|other| *other > p));
    }
    // The scope's quota: its top units' quotas (sub-units' quotas are splits of those).
    let listed: std::collections::HashSet<OrgId> = rows.iter().map(|r| r.org_id).collect();
    let total_quota = rows
        .iter()
        .filter(|r| r.parent_id.is_none_or(|p| !listed.contains(&p)))
        .filter_map(|r| r.quota)
        .sum();
    Progress {
        campaign_code: snap.campaign_code.clone(),
        rows,
        totals,
        total_quota,
    }
}

/// Progress as the dashboard serves it: one snapshot per node, shared by all requests, with
/// each scope's figures computed once per snapshot.
///
/// Freshness: a write through this node (any non-GET request; see `http::router`) makes the
/// next read wait for a new snapshot, so people see their own changes at once. Otherwise a
/// snapshot older than [`MAX_AGE`] is served while one request's worth of work refreshes it in
/// the background, so another node's writes show within `MAX_AGE` plus one refresh, and no
/// reader ever waits for a refresh it did not ask for.
#[derive(Clone, Default)]
pub struct ProgressCache(std::sync::Arc<CacheInner>);

/// How long another node's writes may take to show on this node's dashboards.
pub const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Default)]
pub struct CacheInner {
    /// Bumped by every write through this node.
    generation: std::sync::atomic::AtomicU64,
    current: std::sync::RwLock<Option<std::sync::Arc<Cached>>>,
    /// One refresh at a time.
    refresh: std::sync::Arc<tokio::sync::Mutex<()>>,
}

struct Cached {
    /// The write generation read before the snapshot's queries started.
    generation: u64,
    taken: std::time::Instant,
    snapshot: Snapshot,
    by_scope: std::sync::Mutex<HashMap<String, std::sync::Arc<Progress>>>,
}

impl Cached {
    fn for_scope(&self, scope: &Scope) -> std::sync::Arc<Progress> {
        if let Ok(map) = self.by_scope.lock()
            && let Some(p) = map.get(&scope.prefix)
        {
            return std::sync::Arc::clone(p);
        }
        let p = std::sync::Arc::new(compute(&self.snapshot, scope));
        if let Ok(mut map) = self.by_scope.lock() {
            map.insert(scope.prefix.clone(), std::sync::Arc::clone(&p));
        }
        p
    }
}

impl ProgressCache {
    /// Something changed through this node: the next read takes a new snapshot.
    pub fn invalidate(&self) {
        self.0
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    fn usable(&self, needed: u64) -> Option<std::sync::Arc<Cached>> {
        let current = self.0.current.read().ok()?.clone()?;
        (current.generation >= needed).then_some(current)
    }

    pub async fn get(&self, db: &Db, scope: &Scope) -> Result<std::sync::Arc<Progress>, AppError> {
        let needed = self.0.generation.load(std::sync::atomic::Ordering::Acquire);
        if let Some(cached) = self.usable(needed) {
            if cached.taken.elapsed() >= MAX_AGE {
                self.refresh_in_background(db.clone());
            }
            return Ok(cached.for_scope(scope));
        }
        let _one = self.0.refresh.lock().await;
        // Someone may have taken a snapshot while we waited; any started after we arrived will do.
        if let Some(cached) = self.usable(needed) {
            return Ok(cached.for_scope(scope));
        }
        Ok(self.take(db).await?.for_scope(scope))
    }

    /// Takes a snapshot and makes it current. The caller holds `refresh`.
    async fn take(&self, db: &Db) -> Result<std::sync::Arc<Cached>, AppError> {
        let generation = self.0.generation.load(std::sync::atomic::Ordering::Acquire);
        let taken = std::time::Instant::now();
        let snapshot = snapshot(db).await?;
        let cached = std::sync::Arc::new(Cached {
            generation,
            taken,
            snapshot,
            by_scope: Default::default(),
        });
        if let Ok(mut current) = self.0.current.write() {
            *current = Some(std::sync::Arc::clone(&cached));
        }
        Ok(cached)
    }

    fn refresh_in_background(&self, db: Db) {
        let Ok(guard) = std::sync::Arc::clone(&self.0.refresh).try_lock_owned() else {
            return; // a refresh is under way
        };
        let cache = self.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let stale = cache
                .0
                .current
                .read()
                .ok()
                .and_then(|c| c.as_ref().map(|c| c.taken.elapsed() >= MAX_AGE))
                .unwrap_or(true);
            if stale && let Err(e) = cache.take(&db).await {
                tracing::warn!(error = %e.message_zh(), "refreshing the progress snapshot failed");
            }
        });
    }
}

/// Why `acting` may not give `org` a quota of `n`, as (field, message); `None` when it may.
/// The city sets any unit's quota; a unit admin only those of the units below it.
fn quota_problem(
    acting: &Acting,
    org: &Org,
    n: i64,
    bureau_min: i64,
) -> Option<(&'static str, String)> {
    let city = acting.role == Role::CityAdmin;
    if !city && (acting.role != Role::UnitAdmin || org.id == acting.org.id) {
        Some((
            "单位",
            "本单位的任务由上级下达；您可以给下级单位分配任务".into(),
        ))
    } else if !is_unit(org) {
        Some(("单位", format!("“{}”不承担线下活动任务", org.name)))
    } else if !(0..=1000).contains(&n) {
        Some(("任务数", "线下活动任务数须在 0 到 1000 场之间".into()))
    } else if org.kind == OrgKind::BureauGroup && n < bureau_min {
        Some((
            "任务数",
            format!("各局、集团公司工会不少于 {bureau_min} 场线下活动"),
        ))
    } else {
        None
    }
}

/// Sets a unit's quota. The city sets any; a unit admin splits its own quota over the units
/// below it (not its own).
pub async fn set_quota(
    db: &Db,
    acting: &Acting,
    org_id: OrgId,
    min_activities: i64,
) -> Result<(), AppError> {
    let org = orgs::get(db, &acting.scope, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let campaign = current_campaign(db).await?;
    let bureau_min = i64::from(campaign.campaign.quotas.bureau_group_min);
    if let Some((field, message)) = quota_problem(acting, &org, min_activities, bureau_min) {
        return Err(AppError::invalid(field, message));
    }
    let mut tx = db.begin().await?;
    let before = quotas::get(&mut tx, campaign.id, org.id).await?;
    quotas::upsert(&mut tx, campaign.id, org.id, min_activities).await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "quota.set",
            object_type: "org",
            object_id: org.id.to_string(),
            before: before.map(|b| serde_json::json!({ "min_activities": b })),
            after: Some(serde_json::json!({ "min_activities": min_activities, "campaign": campaign.campaign.code })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The statistics sheet: one row per unit, in tree order.
pub const SHEET_HEADER: [&str; 13] = [
    "序号",
    "单位",
    "类型",
    "任务数",
    "已计划",
    "已报送",
    "已确认",
    "完成率",
    "面对面接触职工（报告数）",
    "动员基层工会",
    "走进企业",
    "新发展宣传员",
    "线上浏览量",
];

pub fn sheet_rows(p: &Progress) -> Vec<Vec<String>> {
    p.rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                format!(
                    "{}{}",
                    "\u{3000}".repeat(usize::try_from(r.depth.saturating_sub(1)).unwrap_or(0)),
                    r.name
                ),
                r.kind.to_string(),
                r.quota.map(|q| q.to_string()).unwrap_or_default(),
                r.counts.planned.to_string(),
                r.counts.reported.to_string(),
                r.counts.confirmed.to_string(),
                match (r.completion_percent, r.zero_report) {
                    (_, true) => "零报送".to_string(),
                    (Some(c), false) => format!("{c}%"),
                    (None, false) => String::new(),
                },
                r.counts.participants.to_string(),
                r.counts.grassroots_unions.to_string(),
                r.counts.enterprises.to_string(),
                r.counts.new_propagandists.to_string(),
                r.counts.online_views.to_string(),
            ]
        })
        .collect()
}

/// Annex 1's layout.
pub const ALLOCATION_HEADER: [&str; 3] = ["序号", "单位", "线下活动数量"];

/// The allocation table of the units in scope that hold a quota.
pub fn allocation_rows(p: &Progress) -> Vec<Vec<String>> {
    p.rows
        .iter()
        .filter_map(|r| r.quota.map(|q| (r, q)))
        .enumerate()
        .map(|(i, (r, q))| vec![(i + 1).to_string(), r.name.clone(), q.to_string()])
        .collect()
}

/// Imports an allocation table (单位, 线下活动数量): every row is checked first, and nothing is
/// written if any is wrong. Returns how many quotas were set.
pub async fn import_allocation(
    db: &Db,
    acting: &Acting,
    table: &crate::office::tabular::Table,
) -> Result<usize, AppError> {
    use crate::error::FieldError;
    let (Some(c_unit), Some(c_count)) = (
        table.column(&["单位", "单位名称"]),
        table.column(&["线下活动数量", "任务数", "数量"]),
    ) else {
        return Err(AppError::invalid(
            "表头",
            "第一行须有“单位”和“线下活动数量”两列（与附件1相同）",
        ));
    };
    let campaign = current_campaign(db).await?;
    let bureau_min = i64::from(campaign.campaign.quotas.bureau_group_min);
    let mut errors = Vec::new();
    let mut planned: Vec<(OrgId, i64)> = Vec::new();
    for (line, cells) in &table.rows {
        let unit = cells.get(c_unit).map(|s| s.trim()).unwrap_or_default();
        let count = cells.get(c_count).map(|s| s.trim()).unwrap_or_default();
        if unit.is_empty() || unit.starts_with("合") && unit.ends_with("计") {
            continue; // the 合计 line of Annex 1
        }
        let place = |field: &str| format!("第 {line} 行 {field}");
        let Some(org) = orgs::find_by_name(db, unit)
            .await?
            .filter(|o| acting.scope.contains(o))
        else {
            errors.push(FieldError::new(
                place("单位"),
                format!("“{unit}”不在组织架构中，或不在您的管理范围内"),
            ));
            continue;
        };
        let Ok(n) = count.parse::<i64>() else {
            errors.push(FieldError::new(
                place("线下活动数量"),
                format!("“{count}”不是整数"),
            ));
            continue;
        };
        if let Some((field, message)) = quota_problem(acting, &org, n, bureau_min) {
            let column = if field == "任务数" {
                "线下活动数量"
            } else {
                field
            };
            errors.push(FieldError::new(place(column), message));
        } else if planned.iter().any(|(id, _)| *id == org.id) {
            errors.push(FieldError::new(
                place("单位"),
                format!("“{unit}”在表中出现了两次"),
            ));
        } else {
            planned.push((org.id, n));
        }
    }
    if table.rows.is_empty() {
        errors.push(FieldError::new("文件", "表头下面没有任何数据行"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = db.begin().await?;
    for (org_id, n) in &planned {
        quotas::upsert(&mut tx, campaign.id, *org_id, *n).await?;
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "quota.import",
            object_type: "campaign",
            object_id: campaign.campaign.code.clone(),
            before: None,
            after: Some(serde_json::json!(
                planned
                    .iter()
                    .map(|(o, n)| serde_json::json!({"org_id": o, "min_activities": n}))
                    .collect::<Vec<_>>()
            )),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(planned.len())
}

/// The circular (通报): units ranked by completion, then the units with nothing reported.
pub const CIRCULAR_HEADER: [&str; 5] = ["名次", "单位", "任务数", "已确认", "完成率"];

/// The ranking part of the circular: units with a quota, best completion first.
pub fn circular_ranking(p: &Progress) -> Vec<Vec<String>> {
    let mut ranked: Vec<&ProgressRow> = p.rows.iter().filter(|r| r.rank.is_some()).collect();
    ranked.sort_by_key(|r| (r.rank, r.org_id));
    ranked
        .iter()
        .map(|r| {
            vec![
                r.rank.map(|k| k.to_string()).unwrap_or_default(),
                r.name.clone(),
                r.quota.map(|q| q.to_string()).unwrap_or_default(),
                r.counts.confirmed.to_string(),
                r.completion_percent
                    .map(|c| format!("{c}%"))
                    .unwrap_or_default(),
            ]
        })
        .collect()
}

/// The units with a quota and nothing reported (零报送), in tree order.
pub fn zero_report_names(p: &Progress) -> Vec<String> {
    p.rows
        .iter()
        .filter(|r| r.zero_report)
        .map(|r| r.name.clone())
        .collect()
}

pub fn circular_rows(p: &Progress) -> Vec<Vec<String>> {
    let mut rows = circular_ranking(p);
    let zero = zero_report_names(p);
    rows.push(Vec::new());
    let listed = if zero.is_empty() {
        "无".to_string()
    } else {
        zero.join("、")
    };
    rows.push(vec!["零报送单位".to_string(), listed]);
    rows
}
