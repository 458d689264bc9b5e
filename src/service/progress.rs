//! Quotas down the org tree and progress against them. A unit's progress counts the confirmed
//! activities anywhere in its subtree (a lecture's activity only when the campaign's
//! `lecture_team.lectures_count_toward_quota` says so); bureau/group-company unions hold the
//! campaign's minimum unless given more.

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
    /// Confirmed ÷ quota, in whole percent rounded down (capped display is the page's business).
    pub completion_percent: Option<i64>,
    /// Confirmed ÷ quota as a ratio (1/6 is 0.1666…), what rankings compare and sheets show
    /// as a percentage.
    pub completion: Option<f64>,
    /// The unit's place in Annex 1 (the quota table's order), if it has a quota there.
    pub position: Option<i64>,
    /// Has a quota and nothing reported anywhere in its subtree (零报送).
    pub zero_report: bool,
    /// 1 = best completion among its peers with a quota; ties share a rank (1, 2, 2, 4).
    /// Peers: the district unions among themselves, the bureau/group-company unions among
    /// themselves, and below them the units under the same parent. The same in every scope.
    pub rank: Option<usize>,
    /// Whom `rank` is among, e.g. 区总工会, 局、集团公司工会 or 滨海新区总工会下级单位.
    pub rank_among: String,
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
    /// Each unit's position in the quota table.
    positions: HashMap<OrgId, i64>,
    /// Each unit's rank among its peers and whom it ranks among, computed once over the whole
    /// campaign so that a unit has the same rank in every scope.
    ranks: HashMap<OrgId, (usize, String)>,
}

/// Reads a snapshot: four queries, one of them grouped over the campaign's activities.
pub async fn snapshot(db: &Db) -> Result<Snapshot, AppError> {
    let campaign = current_campaign(db).await?;
    let orgs = orgs::list(db, &Scope::everything(), None).await?;
    let quota_rows = crate::db::quotas::list(db, campaign.id).await?;
    let positions: HashMap<OrgId, i64> =
        quota_rows.iter().map(|q| (q.org_id, q.position)).collect();
    let quotas: HashMap<OrgId, i64> = quota_rows
        .into_iter()
        .map(|q| (q.org_id, q.min_activities))
        .collect();
    let mut own: HashMap<OrgId, Counts> = HashMap::new();
    let (first, last) = campaign
        .campaign
        .activity_dates()
        .map(|(f, l)| (f.to_string(), l.to_string()))
        .unwrap_or_default();
    let with_lectures = campaign.campaign.lecture_team.lectures_count_toward_quota;
    for t in activities::tallies(db, campaign.id, &first, &last, with_lectures).await? {
        own.entry(t.org_id).or_default().add(&t);
    }
    for (org_id, n) in crate::db::propagandists::counts(db, campaign.id).await? {
        own.entry(org_id).or_default().registered_propagandists += n;
    }
    let mut snap = Snapshot {
        campaign_code: campaign.campaign.code.clone(),
        bureau_min: i64::from(campaign.campaign.quotas.bureau_group_min),
        orgs,
        quotas,
        own,
        positions,
        ranks: HashMap::new(),
    };
    snap.ranks = peer_ranks(&snap);
    Ok(snap)
}

/// Ranks every unit with a quota among its peers (see [`ProgressRow::rank`]), by completion,
/// ties sharing a rank.
fn peer_ranks(snap: &Snapshot) -> HashMap<OrgId, (usize, String)> {
    let all = compute(snap, &Scope::everything());
    let by_id: HashMap<OrgId, &Org> = snap.orgs.iter().map(|o| (o.id, o)).collect();
    // Peers: same parent; at the top (under the city union) also the same kind.
    let mut groups: HashMap<(Option<OrgId>, Option<OrgKind>), Vec<f64>> = HashMap::new();
    let key = |r: &ProgressRow| -> (Option<OrgId>, Option<OrgKind>, String) {
        let parent = r.parent_id.and_then(|p| by_id.get(&p));
        match parent {
            Some(p) if is_unit(p) => (r.parent_id, None, format!("{}下级单位", p.name)),
            _ => {
                let kind = by_id.get(&r.org_id).map(|o| o.kind);
                let label = kind.map_or("", |k| k.label_zh());
                (
                    r.parent_id,
                    kind,
                    label.split('（').next().unwrap_or(label).to_string(),
                )
            }
        }
    };
    for r in &all.rows {
        if let Some(c) = r.completion {
            let (p, k, _) = key(r);
            groups.entry((p, k)).or_default().push(c);
        }
    }
    for list in groups.values_mut() {
        list.sort_unstable_by(|a, b| b.total_cmp(a));
    }
    all.rows
        .iter()
        .filter_map(|r| {
            let c = r.completion?;
            let (p, k, label) = key(r);
            let list = groups.get(&(p, k))?;
            Some((
                r.org_id,
                (1 + list.partition_point(|other| *other > c), label),
            ))
        })
        .collect()
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
    let rows: Vec<ProgressRow> = list
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
                completion: quota
                    .filter(|q| *q > 0)
                    .map(|q| counts.confirmed as f64 / q as f64),
                position: snap.positions.get(&o.id).copied(),
                zero_report: quota.is_some() && counts.reported == 0,
                counts,
                rank: snap.ranks.get(&o.id).map(|(k, _)| *k),
                rank_among: snap
                    .ranks
                    .get(&o.id)
                    .map(|(_, among)| among.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
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

/// Header names of the unit and the count columns of an allocation table.
const UNIT_NAMES: [&str; 3] = ["单位", "单位名称", "单位全称"];
const COUNT_NAMES: [&str; 5] = [
    "线下活动数量",
    "线下活动数量（场）",
    "任务数",
    "数量",
    "线下活动任务数",
];

fn normalised(cell: &str) -> String {
    cell.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Where the (unit, count) column pairs of an allocation table are: the first row within
/// `MAX_HEAD_ROWS` that names both, e.g. Annex 1 as published (a title row, then
/// 序号/单位/线下活动数量 twice side by side), the plain three columns, or the exported sheet.
/// Returns the header's line and the pairs.
pub fn allocation_layout(
    table: &crate::office::tabular::Table,
) -> Result<(usize, Vec<(usize, usize)>), crate::error::FieldError> {
    use crate::error::FieldError;
    use crate::office::tabular::MAX_HEAD_ROWS;
    for (line, cells) in table.lines().take(MAX_HEAD_ROWS) {
        let is = |c: &String, names: &[&str]| names.contains(&normalised(c).as_str());
        let units: Vec<usize> = (0..cells.len())
            .filter(|&i| is(&cells[i], &UNIT_NAMES))
            .collect();
        let mut pairs = Vec::new();
        for (k, &u) in units.iter().enumerate() {
            let end = units.get(k + 1).copied().unwrap_or(cells.len());
            if let Some(c) = (u + 1..end).find(|&i| is(&cells[i], &COUNT_NAMES)) {
                pairs.push((u, c));
            }
        }
        if !pairs.is_empty() {
            return Ok((line, pairs));
        }
    }
    let (line, first) = table
        .lines()
        .find(|(_, cells)| cells.iter().filter(|c| !c.is_empty()).count() >= 2)
        .unwrap_or((table.header_line, table.header.as_slice()));
    let seen: Vec<String> = first
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_empty())
        .take(6)
        .map(|(i, c)| format!("{}列“{c}”", crate::office::sheet::col_name(i as u16)))
        .collect();
    Err(FieldError::new(
        "表头",
        format!(
            "不认识这个表的格式：前 {MAX_HEAD_ROWS} 行中没有同时含“单位”和“线下活动数量”两列的表头行（第 {line} 行是：{}）。可用的格式：通知附件1（标题行下为“序号、单位、线下活动数量”，可左右两组并排）、只有这三列的表，或从本系统导出的任务分配表",
            if seen.is_empty() {
                "空行".to_string()
            } else {
                seen.join("、")
            }
        ),
    ))
}

/// What an allocation import did: how many quotas were set, and warnings (a unit whose sub-units
/// were handed more than its own quota; allowed, as units may aim higher).
#[derive(Debug, Default)]
pub struct Imported {
    pub set: usize,
    pub warnings: Vec<String>,
}

/// Imports an allocation table (单位, 线下活动数量) in any layout [`allocation_layout`] knows:
/// every row is checked first, and nothing is written if any is wrong. A row that gives the
/// acting admin's own unit its present quota is passed over (an exported sheet comes back
/// with it), as are 合计 and 小计 rows and notes.
pub async fn import_allocation(
    db: &Db,
    acting: &Acting,
    table: &crate::office::tabular::Table,
) -> Result<Imported, AppError> {
    use crate::error::FieldError;
    use crate::office::sheet::col_name;
    let (header_line, pairs) = allocation_layout(table).map_err(|e| AppError::Invalid(vec![e]))?;
    let campaign = current_campaign(db).await?;
    let bureau_min = i64::from(campaign.campaign.quotas.bureau_group_min);
    let present: HashMap<OrgId, i64> = quotas::list(db, campaign.id)
        .await?
        .into_iter()
        .map(|q| (q.org_id, q.min_activities))
        .collect();
    let mut errors = Vec::new();
    let mut planned: Vec<(OrgId, i64)> = Vec::new();
    let mut orgs_seen: HashMap<OrgId, Org> = HashMap::new();
    let mut any_row = false;
    for (line, cells) in table.lines().filter(|(line, _)| *line > header_line) {
        for &(c_unit, c_count) in &pairs {
            let unit = cells.get(c_unit).map(|s| s.trim()).unwrap_or_default();
            let count = cells.get(c_count).map(|s| s.trim()).unwrap_or_default();
            let label = normalised(unit);
            let before = c_unit
                .checked_sub(1)
                .and_then(|i| cells.get(i))
                .map(|s| normalised(s))
                .unwrap_or_default();
            if unit.is_empty()
                || ["合计", "小计", "总计"]
                    .iter()
                    .any(|t| label.contains(t) || before == *t)
            {
                continue; // blank, a 合计/小计 line, or a note under the table
            }
            any_row = true;
            let place = |column: usize, field: &str| {
                format!("第 {line} 行 {} 列（{field}）", col_name(column as u16))
            };
            let Some(org) = orgs::find_by_name(db, unit)
                .await?
                .filter(|o| acting.scope.contains(o))
            else {
                errors.push(FieldError::new(
                    place(c_unit, "单位"),
                    format!("“{unit}”不在组织架构中，或不在您的管理范围内"),
                ));
                continue;
            };
            let Ok(n) = count.parse::<i64>() else {
                errors.push(FieldError::new(
                    place(c_count, "线下活动数量"),
                    if count.is_empty() {
                        "没有填写场数".to_string()
                    } else {
                        format!("“{count}”不是整数")
                    },
                ));
                continue;
            };
            // An exported sheet comes back with one's own quota as it stands, and with the
            // bureaus' default minimum: neither is a change.
            let held_default = !present.contains_key(&org.id)
                && org.kind == OrgKind::BureauGroup
                && n == bureau_min;
            if held_default || (org.id == acting.org.id && present.get(&org.id) == Some(&n)) {
                continue;
            }
            if let Some((field, message)) = quota_problem(acting, &org, n, bureau_min) {
                let column = if field == "任务数" {
                    place(c_count, "线下活动数量")
                } else {
                    place(c_unit, field)
                };
                errors.push(FieldError::new(column, message));
            } else if planned.iter().any(|(id, _)| *id == org.id) {
                errors.push(FieldError::new(
                    place(c_unit, "单位"),
                    format!("“{unit}”在表中出现了两次"),
                ));
            } else {
                planned.push((org.id, n));
                orgs_seen.insert(org.id, org);
            }
        }
    }
    if !any_row {
        errors.push(FieldError::new(
            "文件",
            format!("表头（第 {header_line} 行）下面没有任何数据行"),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // Sub-units handed more than their parent's own quota: allowed, but said.
    let mut after = present.clone();
    for (org_id, n) in &planned {
        after.insert(*org_id, *n);
    }
    let mut by_parent: std::collections::BTreeMap<OrgId, i64> = Default::default();
    for org in orgs_seen.values() {
        if let Some(parent) = org.parent_id {
            by_parent.entry(parent).or_default();
        }
    }
    let all = orgs::list(db, &acting.scope, None).await?;
    for org in &all {
        if let Some(parent) = org.parent_id
            && let (Some(sum), Some(q)) = (by_parent.get_mut(&parent), after.get(&org.id))
        {
            *sum += q;
        }
    }
    let mut warnings = Vec::new();
    for (parent, sum) in by_parent {
        if let (Some(own), Some(p)) = (after.get(&parent), all.iter().find(|o| o.id == parent))
            && sum > *own
        {
            warnings.push(format!(
                "{}的下级单位合计分配 {sum} 场，多于其本身的任务 {own} 场（允许，请确认）",
                p.name
            ));
        }
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
    Ok(Imported {
        set: planned.len(),
        warnings,
    })
}
