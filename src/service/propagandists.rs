//! The register of worker good-netizen propagandists (职工好网民宣传员), the "2" of 12351+.
//! Units register them; the same person is counted once per campaign.

use serde::{Deserialize, Serialize};

use crate::clock::unix_now;
use crate::db::audit::{self, Event};
use crate::db::{Db, is_unique_violation, on_pool, on_tx, orgs};
use crate::domain::mask::mask_phone;
use crate::domain::role::Role;
use crate::error::{AppError, FieldError};
use crate::service::accounts::valid_phone;
use crate::service::acting::{Acting, current_campaign};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewPropagandist {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// The accounts they post on, e.g. 抖音 @某某 (optional).
    #[serde(default)]
    pub accounts: String,
    /// Their unit; default the account's own.
    #[serde(default)]
    pub org_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Propagandist {
    pub id: i64,
    pub name: String,
    /// Masked unless the viewer is a city admin.
    pub phone: Option<String>,
    pub accounts: String,
    pub org_id: i64,
    pub org_name: String,
}

pub async fn list(db: &Db, acting: &Acting) -> Result<Vec<Propagandist>, AppError> {
    let campaign = current_campaign(db).await?;
    let mut rows: Vec<Propagandist> = on_pool!(db, pool => sqlx::query_as::<_, Propagandist>(
        "SELECT p.id, p.name, p.phone, p.accounts, p.org_id, o.name AS org_name
         FROM propagandists p JOIN orgs o ON o.id = p.org_id
         WHERE p.campaign_id = $1 AND o.path LIKE $2 ORDER BY o.path, p.id")
        .bind(campaign.id)
        .bind(format!("{}%", acting.scope.prefix))
        .fetch_all(pool)
        .await)?;
    if acting.role != Role::CityAdmin {
        for row in &mut rows {
            row.phone = row.phone.as_deref().map(mask_phone);
        }
    }
    Ok(rows)
}

/// Counts per org (for progress).
pub async fn counts(db: &Db, campaign_id: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    on_pool!(db, pool => sqlx::query_as(
        "SELECT org_id, COUNT(*) FROM propagandists WHERE campaign_id = $1 GROUP BY org_id")
        .bind(campaign_id)
        .fetch_all(pool)
        .await)
}

pub async fn register(db: &Db, acting: &Acting, input: &NewPropagandist) -> Result<i64, AppError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        errors.push(FieldError::new("姓名", "请填写宣传员姓名（不超过 50 字）"));
    }
    let phone = input
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if let Some(p) = phone
        && !valid_phone(p)
    {
        errors.push(FieldError::new("手机号", "手机号应为 11 位数字"));
    }
    let accounts = input.accounts.trim();
    if accounts.chars().count() > 300 {
        errors.push(FieldError::new("网络账号", "不超过 300 字"));
    }
    let org = match input.org_id {
        Some(id) => orgs::get(db, &acting.scope, id).await?,
        None => Some(acting.org.clone()),
    };
    if org.is_none() {
        errors.push(FieldError::new(
            "所在单位",
            "所在单位不存在或不在您的管理范围内",
        ));
    }
    let (Some(org), true) = (org, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let campaign = current_campaign(db).await?;
    // Same name and phone is the same person wherever registered; without a phone, the same
    // name in the same unit.
    let person_key = match phone {
        Some(p) => format!("{name}|{p}"),
        None => format!("{name}|@{}", org.id),
    };
    let mut tx = db.begin().await?;
    let id: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
        "INSERT INTO propagandists (campaign_id, org_id, name, phone, accounts, person_key, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(campaign.id)
        .bind(org.id)
        .bind(name)
        .bind(phone)
        .bind(accounts)
        .bind(&person_key)
        .bind(acting.user_id)
        .bind(unix_now())
        .fetch_one(c)
        .await)
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::invalid("姓名", format!("{name} 已登记为本次活动的宣传员，同一人只计一次"))
        } else {
            e.into()
        }
    })?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "propagandist.create",
            object_type: "propagandist",
            object_id: id.to_string(),
            before: None,
            after: Some(
                serde_json::json!({ "name": name, "org_id": org.id, "has_phone": phone.is_some() }),
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
