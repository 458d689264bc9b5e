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
