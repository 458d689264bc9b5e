//! The register of worker good-netizen propagandists (职工好网民宣传员), the "2" of 12351+.
//! Units register them; the same person is counted once per campaign.

use crate::domain::ids::OrgId;
use serde::Deserialize;

use crate::db::audit::{self, Event};
pub use crate::db::propagandists::Propagandist;
use crate::db::{Db, is_unique_violation, orgs, propagandists};
use crate::domain::mask::mask_phone;
use crate::domain::role::Role;
use crate::domain::text;
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
    pub org_id: Option<OrgId>,
}

pub async fn list(db: &Db, acting: &Acting) -> Result<Vec<Propagandist>, AppError> {
    let campaign = current_campaign(db).await?;
    let mut rows = propagandists::list(db, campaign.id, &acting.scope.prefix).await?;
    if acting.role != Role::CityAdmin {
        for row in &mut rows {
            row.phone = row.phone.as_deref().map(mask_phone);
        }
    }
    Ok(rows)
}

pub async fn register(db: &Db, acting: &Acting, input: &NewPropagandist) -> Result<i64, AppError> {
    let mut errors = Vec::new();
    let name = text::name(&input.name, text::limits::PERSON_NAME).unwrap_or_else(|m| {
        errors.push(FieldError::new("姓名", format!("宣传员姓名{m}")));
        String::new()
    });
    let name = name.as_str();
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
    let accounts = text::line(&input.accounts, text::limits::SHORT_TEXT).unwrap_or_else(|m| {
        errors.push(FieldError::new("网络账号", format!("网络账号{m}")));
        String::new()
    });
    let accounts = accounts.as_str();
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
    let key_name = text::person_key_name(name);
    let person_key = match phone {
        Some(p) => format!("{key_name}|{p}"),
        None => format!("{key_name}|@{}", org.id),
    };
    let mut tx = db.begin().await?;
    let id = propagandists::insert(
        &mut tx,
        propagandists::NewPropagandist {
            campaign_id: campaign.id,
            org_id: org.id,
            name,
            phone,
            accounts,
            person_key: &person_key,
            created_by: acting.user_id,
            consent_version: None,
            source: "register",
        },
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::invalid(
                "姓名",
                format!("{name} 已登记为本次活动的宣传员，同一人只计一次"),
            )
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
