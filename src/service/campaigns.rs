//! Loading and exporting campaigns. Import is all-or-nothing: one transaction creates or
//! updates the campaign, the orgs it names and its quota table, with an audit entry.

use crate::db::audit::{self, Actor, Event};
use crate::db::orgs::{self, NewOrg, Org};
use crate::db::{Db, Tx, campaigns};
use crate::domain::campaign::{Campaign, CampaignFileError};
use crate::domain::org::OrgKind;
use crate::error::{AppError, Conflict, FieldError};
use crate::service::orgs::insert_audited;

#[derive(Debug)]
pub struct ImportOutcome {
    pub code: String,
    pub created: bool,
    pub orgs_created: usize,
}

impl From<Vec<CampaignFileError>> for AppError {
    fn from(errors: Vec<CampaignFileError>) -> AppError {
        AppError::Invalid(
            errors
                .into_iter()
                .map(|e| {
                    let place = match e.line {
                        Some(line) => format!("第 {line} 行 {}", e.field),
                        None => e.field,
                    };
                    FieldError::new(place, e.message)
                })
                .collect(),
        )
    }
}

/// Parses and stores a campaign file.
pub async fn import_toml(db: &Db, source: &str, actor: &Actor) -> Result<ImportOutcome, AppError> {
    let campaign = Campaign::parse_toml(source)?;
    store(db, &campaign, actor).await
}

/// Stores a validated campaign: creates it, or updates the one with the same code in place.
pub async fn store(db: &Db, campaign: &Campaign, actor: &Actor) -> Result<ImportOutcome, AppError> {
    let mut tx = db.begin().await?;
    let orgs_created = ensure_orgs(&mut tx, campaign, actor).await?;
    let existing = campaigns::by_code_tx(&mut tx, &campaign.code).await?;
    let (id, created) = match existing {
        Some(stored) => {
            // A closed (archived) campaign's file is part of its record: it stays as archived.
            if crate::db::archive::closed(db, stored.id).await?.is_some() {
                return Err(AppError::conflict(
                    crate::error::Conflict::CampaignClosed,
                    crate::service::acting::CLOSED_MESSAGE,
                ));
            }
            campaigns::update(&mut tx, stored.id, campaign).await?;
            audit::append(
                &mut tx,
                actor,
                Event {
                    action: "campaign.update",
                    object_type: "campaign",
                    object_id: campaign.code.clone(),
                    before: serde_json::to_value(&stored.campaign).ok(),
                    after: serde_json::to_value(campaign).ok(),
                },
            )
            .await?;
            (stored.id, false)
        }
        None => {
            let id = campaigns::insert(&mut tx, campaign).await?;
            audit::append(
                &mut tx,
                actor,
                Event {
                    action: "campaign.create",
                    object_type: "campaign",
                    object_id: campaign.code.clone(),
                    before: None,
                    after: serde_json::to_value(campaign).ok(),
                },
            )
            .await?;
            (id, true)
        }
    };
    let mut quota_rows = Vec::with_capacity(campaign.quotas.units.len());
    for unit in &campaign.quotas.units {
        let org = orgs::find_by_name_tx(&mut tx, &unit.unit)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!("quota unit {} vanished inside the transaction", unit.unit)
            })?;
        quota_rows.push((org.id, unit.min_activities));
    }
    crate::db::quotas::replace(&mut tx, id, &quota_rows).await?;
    if created && !campaigns::has_current(&mut tx).await? {
        campaigns::set_current(&mut tx, id).await?;
    }
    tx.commit().await?;
    Ok(ImportOutcome {
        code: campaign.code.clone(),
        created,
        orgs_created,
    })
}

/// Makes sure every org the campaign names exists: organisers at the top, quota units under
/// the city union, sub-project hosts as external hosts (unless they are already in the tree).
async fn ensure_orgs(tx: &mut Tx, campaign: &Campaign, actor: &Actor) -> Result<usize, AppError> {
    let mut created = 0;
    let mut city: Option<Org> = None;
    for organiser in &campaign.organisers {
        let (org, new) = ensure(tx, &organiser.name, organiser.kind, None, actor).await?;
        created += usize::from(new);
        if organiser.kind == OrgKind::CityUnion && city.is_none() {
            city = Some(org);
        }
    }
    let city = city.ok_or_else(|| AppError::invalid("organisers", "主办单位中须有市总工会"))?;
    for unit in &campaign.quotas.units {
        let (_, new) = ensure(tx, &unit.unit, unit.kind, Some(&city), actor).await?;
        created += usize::from(new);
    }
    for sp in &campaign.sub_projects {
        let (_, new) = ensure(tx, &sp.host, OrgKind::ExternalHost, None, actor).await?;
        created += usize::from(new);
    }
    Ok(created)
}

async fn ensure(
    tx: &mut Tx,
    name: &str,
    kind: OrgKind,
    parent: Option<&Org>,
    actor: &Actor,
) -> Result<(Org, bool), AppError> {
    if let Some(org) = orgs::find_by_name_tx(tx, name).await? {
        return Ok((org, false));
    }
    let org = insert_audited(
        tx,
        NewOrg {
            parent,
            name,
            kind,
            contact_name: None,
            contact_phone: None,
        },
        actor,
    )
    .await?;
    Ok((org, true))
}

/// The campaign as a file, with the quota table as it stands in the database.
pub async fn export_toml(db: &Db, code: Option<&str>) -> Result<String, AppError> {
    let stored = match code {
        Some(code) => campaigns::by_code(db, code).await?,
        None => campaigns::current(db).await?,
    }
    .ok_or(AppError::NotFound)?;
    let mut campaign = stored.campaign;
    let rows = crate::db::quotas::list(db, stored.id).await?;
    for unit in &mut campaign.quotas.units {
        if let Some(row) = rows.iter().find(|r| r.org_name == unit.unit) {
            unit.min_activities = u32::try_from(row.min_activities).unwrap_or(u32::MAX);
        }
    }
    Ok(campaign.to_toml())
}

/// Starts `year`'s campaign from an earlier one (see `Campaign::for_year`).
pub async fn new_for_year(
    db: &Db,
    from_code: &str,
    year: i32,
    make_current: bool,
    actor: &Actor,
) -> Result<ImportOutcome, AppError> {
    let from = campaigns::by_code(db, from_code)
        .await?
        .ok_or_else(|| AppError::invalid("--from", format!("没有编码为“{from_code}”的活动")))?;
    let next = from.campaign.for_year(year);
    if campaigns::by_code(db, &next.code).await?.is_some() {
        return Err(AppError::conflict(
            Conflict::AlreadyExists,
            format!(
                "编码为“{}”的活动已存在；如需修改请导出后编辑再导入",
                next.code
            ),
        ));
    }
    let outcome = store(db, &next, actor).await?;
    if make_current {
        let mut tx = db.begin().await?;
        let stored = campaigns::by_code_tx(&mut tx, &next.code)
            .await?
            .ok_or(AppError::NotFound)?;
        campaigns::set_current(&mut tx, stored.id).await?;
        audit::append(
            &mut tx,
            actor,
            Event {
                action: "campaign.activate",
                object_type: "campaign",
                object_id: next.code.clone(),
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(outcome)
}

/// The current campaign, parsed once per node and shared by every request that only reads it
/// (the public pages): parsing the campaign document per request cost the sub-project page
/// most of its throughput. The copy is checked against the database's (id, revision) of the
/// current campaign at most every [`CampaignCache::CHECK_EVERY`] — a tiny row, no document — and
/// reloaded when either changed, so an import on any node shows everywhere within a few
/// seconds; `invalidate` makes this node's next read reload at once.
#[derive(Default)]
pub struct CampaignCache {
    inner: std::sync::RwLock<Option<CachedCampaign>>,
    /// One refresh at a time; the others wait for it and take its result.
    refresh: tokio::sync::Mutex<()>,
}

struct CachedCampaign {
    stamp: (i64, i64),
    checked: std::time::Instant,
    campaign: std::sync::Arc<campaigns::StoredCampaign>,
}

impl CampaignCache {
    /// How often the copy is checked against the database.
    pub const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

    fn fresh(&self) -> Option<std::sync::Arc<campaigns::StoredCampaign>> {
        let guard = self.inner.read().ok()?;
        let c = guard.as_ref()?;
        (c.checked.elapsed() < Self::CHECK_EVERY).then(|| c.campaign.clone())
    }

    /// The current campaign ("not found" while none is loaded).
    pub async fn get(
        &self,
        db: &Db,
    ) -> Result<std::sync::Arc<campaigns::StoredCampaign>, AppError> {
        if let Some(c) = self.fresh() {
            return Ok(c);
        }
        let _one = self.refresh.lock().await;
        if let Some(c) = self.fresh() {
            return Ok(c);
        }
        let stamp = campaigns::current_stamp(db)
            .await?
            .ok_or(AppError::NotFound)?;
        let same = self.inner.read().ok().and_then(|g| {
            g.as_ref()
                .filter(|c| c.stamp == stamp)
                .map(|c| c.campaign.clone())
        });
        let campaign = match same {
            Some(c) => c,
            None => std::sync::Arc::new(campaigns::current(db).await?.ok_or(AppError::NotFound)?),
        };
        if let Ok(mut guard) = self.inner.write() {
            *guard = Some(CachedCampaign {
                stamp,
                checked: std::time::Instant::now(),
                campaign: campaign.clone(),
            });
        }
        Ok(campaign)
    }

    /// Drops this node's copy (after an import through this node).
    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.inner.write() {
            *guard = None;
        }
    }
}
