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
use crate::service::campaigns::CampaignCache;

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
    let person_key = propagandists::register_key(&text::person_key_name(name), phone, org.id);
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
                format!(
                    "{name} 已登记为本次活动的宣传员（同一手机号只登记一次，同一人只计一次）；调到别的单位请编辑原登记"
                ),
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

/// Phones shown whole to the city, masked for everyone else.
fn mask_for(acting: &Acting, rows: &mut [Propagandist]) {
    if acting.role != Role::CityAdmin {
        for row in rows {
            row.phone = row.phone.as_deref().map(mask_phone);
        }
    }
}

/// One page of the register in scope.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Page {
    pub items: Vec<Propagandist>,
    /// Everyone matching the search (all pages).
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next: Option<String>,
}

/// A keyset page of `size` entries (newest first) matching `search` (name or phone), after
/// `cursor`. An edited cursor, or one made for another search, is refused (422).
/// Per node, the register's totals by (campaign, scope, search), each with the register revision
/// it was counted at (`register_revision`, moved by triggers on every write): 32 admins paging a
/// register of 20,000 share one count until someone changes it.
#[derive(Default)]
pub struct RegisterTotals {
    counted: std::sync::Mutex<std::collections::HashMap<TotalKey, (i64, i64)>>,
    /// One count at a time: a burst of requests after a change counts once, the others wait
    /// for it and take its result.
    counting: tokio::sync::Mutex<()>,
}

/// (campaign, scope prefix, search) of a total.
type TotalKey = (i64, String, String);

/// Totals kept per node at most; past it the map starts again (searches are many and short-lived).
const TOTALS_KEPT: usize = 10_000;

impl RegisterTotals {
    fn get(&self, key: &TotalKey, rev: i64) -> Option<i64> {
        let counted = self.counted.lock().ok()?;
        counted
            .get(key)
            .filter(|(at, _)| *at == rev)
            .map(|(_, total)| *total)
    }

    fn put(&self, key: TotalKey, rev: i64, total: i64) {
        if let Ok(mut counted) = self.counted.lock() {
            if counted.len() >= TOTALS_KEPT {
                counted.clear();
            }
            counted.insert(key, (rev, total));
        }
    }
}

pub async fn page(
    db: &Db,
    caches: (&CampaignCache, &RegisterTotals),
    acting: &Acting,
    search: &str,
    cursor: Option<&str>,
    size: i64,
) -> Result<Page, AppError> {
    let (campaigns, totals) = caches;
    let search =
        text::line(search, 50).map_err(|m| AppError::invalid("搜索", format!("搜索词{m}")))?;
    let search = search.trim();
    let key = format!(
        "propagandists|{}|{search}|{}",
        acting.scope.prefix, acting.user_id
    );
    let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => crate::service::cursor::decode(&key, c)?.1,
        None => 0,
    };
    let campaign = campaigns.get(db).await?;
    // Read before counting: a write in between leaves the count newer than its revision, so
    // the next request counts again, never the other way round.
    let rev = propagandists::revision(db).await?;
    let size = size.clamp(1, 500);
    let mut items = propagandists::page(
        db,
        campaign.id,
        &acting.scope.prefix,
        search,
        after,
        size + 1,
    )
    .await?;
    let more = items.len() as i64 > size;
    items.truncate(size as usize);
    let next = match items.last() {
        Some(last) if more => Some(crate::service::cursor::encode(&key, "", last.id)),
        _ => None,
    };
    let counted = (campaign.id, acting.scope.prefix.clone(), search.to_string());
    let total = match totals.get(&counted, rev) {
        Some(total) => total,
        None => {
            let _one = totals.counting.lock().await;
            match totals.get(&counted, rev) {
                Some(total) => total,
                None => {
                    let total =
                        propagandists::count_page(db, campaign.id, &acting.scope.prefix, search)
                            .await?;
                    totals.put(counted, rev, total);
                    total
                }
            }
        }
    };
    mask_for(acting, &mut items);
    Ok(Page { items, total, next })
}

/// What an edit may change: everything but the campaign. Moving a person to another unit in
/// scope is an edit (they stay one person).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Edit {
    pub name: String,
    /// Whole number; leave out to keep the stored one (pages show it masked to units).
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub accounts: String,
    pub org_id: OrgId,
    /// `YYYY-MM-DD`, or empty.
    #[serde(default)]
    pub joined_on: String,
}

/// A joined date as people and spreadsheets write it: `2020-06-15`, `2020/6/15`, `2020.6.15`,
/// a date-time (the date is kept), or an Excel day number.
pub fn parse_joined_on(raw: &str) -> Result<Option<String>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let date_part = raw.split([' ', 'T']).next().unwrap_or(raw);
    let normalised = date_part.replace(['/', '.'], "-");
    if let Ok(d) = chrono::NaiveDate::parse_from_str(&normalised, "%Y-%m-%d") {
        return Ok(Some(d.to_string()));
    }
    if let Ok(days) = raw.parse::<i64>()
        && (20_000..=80_000).contains(&days)
        && let Some(d) = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|base| base.checked_add_signed(chrono::Duration::days(days)))
    {
        return Ok(Some(d.to_string()));
    }
    Err(format!("“{raw}”不是日期，请写成 2020-06-15 的样子"))
}

/// Checked fields of one entry.
struct Checked {
    name: String,
    phone: Option<String>,
    accounts: String,
    joined_on: Option<String>,
}

fn check(
    name: &str,
    phone: Option<&str>,
    accounts: &str,
    joined_on: &str,
) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = text::name(name, text::limits::PERSON_NAME).unwrap_or_else(|m| {
        errors.push(FieldError::new("姓名", format!("宣传员姓名{m}")));
        String::new()
    });
    let phone = phone.map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = phone
        && !valid_phone(p)
    {
        errors.push(FieldError::new(
            "手机号",
            format!("“{p}”不是 11 位手机号，请只填数字"),
        ));
    }
    let accounts = text::line(accounts, text::limits::SHORT_TEXT).unwrap_or_else(|m| {
        errors.push(FieldError::new("网络账号", format!("网络账号{m}")));
        String::new()
    });
    let joined_on = parse_joined_on(joined_on).unwrap_or_else(|m| {
        errors.push(FieldError::new("加入日期", m));
        None
    });
    if errors.is_empty() {
        Ok(Checked {
            name,
            phone: phone.map(str::to_string),
            accounts,
            joined_on,
        })
    } else {
        Err(errors)
    }
}

/// Edits an entry in scope, possibly moving it to another unit in scope; audited.
pub async fn edit(db: &Db, acting: &Acting, id: i64, input: &Edit) -> Result<(), AppError> {
    if !acting.role.may_report_activities() {
        return Err(AppError::Forbidden);
    }
    let current = propagandists::get(db, id, &acting.scope.prefix)
        .await?
        .ok_or(AppError::NotFound)?;
    // Units see phones masked: an empty or masked phone keeps the stored one.
    let phone = match input.phone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) if p.contains('*') => None,
        Some(p) => Some(p),
    };
    let phone = phone.map(str::to_string).or_else(|| current.phone.clone());
    let checked = check(
        &input.name,
        phone.as_deref(),
        &input.accounts,
        &input.joined_on,
    )
    .map_err(AppError::Invalid)?;
    let org = orgs::get(db, &acting.scope, input.org_id)
        .await?
        .ok_or_else(|| AppError::invalid("所在单位", "所在单位不存在或不在您的管理范围内"))?;
    if !org.is_union() {
        return Err(AppError::invalid(
            "所在单位",
            format!("“{}”不是工会组织", org.name),
        ));
    }
    let person_key = propagandists::register_key(
        &text::person_key_name(&checked.name),
        checked.phone.as_deref(),
        org.id,
    );
    let mut tx = db.begin().await?;
    let saved = propagandists::update(
        &mut tx,
        id,
        propagandists::Edit {
            name: &checked.name,
            phone: checked.phone.as_deref(),
            accounts: &checked.accounts,
            org_id: org.id,
            joined_on: checked.joined_on.as_deref(),
            person_key: &person_key,
        },
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::invalid("手机号", "这个手机号已登记为另一位宣传员，同一人只登记一次")
        } else {
            e.into()
        }
    })?;
    if !saved {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: if current.org_id == org.id {
                "propagandist.update"
            } else {
                "propagandist.move"
            },
            object_type: "propagandist",
            object_id: id.to_string(),
            before: Some(serde_json::json!({ "name": current.name, "org_id": current.org_id })),
            after: Some(serde_json::json!({ "name": checked.name, "org_id": org.id })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes an entry off the register; the reason is required and audited.
pub async fn remove(db: &Db, acting: &Acting, id: i64, reason: &str) -> Result<(), AppError> {
    if !acting.role.may_report_activities() {
        return Err(AppError::Forbidden);
    }
    let current = propagandists::get(db, id, &acting.scope.prefix)
        .await?
        .ok_or(AppError::NotFound)?;
    let reason = text::line(reason, text::limits::REASON)
        .map_err(|m| AppError::invalid("移除原因", format!("移除原因{m}")))?;
    if reason.trim().is_empty() {
        return Err(AppError::invalid(
            "移除原因",
            "请写明移除原因（如：调离本单位、本人申请退出、重复登记）",
        ));
    }
    let mut tx = db.begin().await?;
    if !propagandists::remove(&mut tx, id, reason.trim(), acting.user_id).await? {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "propagandist.remove",
            object_type: "propagandist",
            object_id: id.to_string(),
            before: Some(serde_json::json!({ "name": current.name, "org_id": current.org_id })),
            after: Some(serde_json::json!({ "reason": reason.trim() })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

const COL_NAME: &[&str] = &["姓名"];
const COL_PHONE: &[&str] = &["手机号", "手机", "手机号码", "联系电话"];
const COL_UNIT: &[&str] = &["单位", "所在单位", "工会", "所在工会"];
const COL_JOINED: &[&str] = &["加入日期", "加入时间", "登记日期"];
const COL_ACCOUNTS: &[&str] = &["网络账号", "平台账号", "账号"];

/// The import and export layout.
pub const HEADER: [&str; 5] = ["姓名", "手机号", "所在单位", "加入日期", "网络账号"];

/// What an import did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub imported: usize,
}

/// Imports a register from a table (name, phone, unit, joined date, accounts): every row is
/// checked first, and any error refuses the whole file, naming the row and the field. The
/// phone is the person's key: a phone already on the register (in any unit) or twice in the
/// file is an error, not a second person. Rows go in as multi-row INSERTs, one audit entry for
/// the import.
pub async fn import(
    db: &Db,
    acting: &Acting,
    table: &crate::office::tabular::Table,
) -> Result<ImportSummary, AppError> {
    use std::collections::HashMap;
    if !acting.role.may_report_activities() {
        return Err(AppError::Forbidden);
    }
    let (Some(c_name), Some(c_unit)) = (table.column(COL_NAME), table.column(COL_UNIT)) else {
        return Err(AppError::invalid(
            "表头",
            "第一行须有“姓名”“所在单位”两列（可选“手机号”“加入日期”“网络账号”）",
        ));
    };
    let (c_phone, c_joined, c_accounts) = (
        table.column(COL_PHONE),
        table.column(COL_JOINED),
        table.column(COL_ACCOUNTS),
    );
    let cell = |cells: &Vec<String>, i: Option<usize>| {
        i.and_then(|i| cells.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let campaign = current_campaign(db).await?;
    let units: HashMap<String, crate::db::orgs::Org> = orgs::list(db, &acting.scope, None)
        .await?
        .into_iter()
        .filter(|o| o.is_union())
        .map(|o| (o.name.clone(), o))
        .collect();
    let existing: HashMap<String, String> = propagandists::keys(db, campaign.id)
        .await?
        .into_iter()
        .collect();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(table.rows.len());
    for (line, cells) in &table.rows {
        if errors.len() >= 200 {
            break;
        }
        let phone = cell(cells, c_phone);
        let checked = check(
            &cell(cells, Some(c_name)),
            Some(phone.as_str()),
            &cell(cells, c_accounts),
            &cell(cells, c_joined),
        );
        let unit_name = cell(cells, Some(c_unit));
        let unit = units.get(&unit_name);
        if unit.is_none() {
            errors.push(FieldError::new(
                format!("第 {line} 行 所在单位"),
                if unit_name.is_empty() {
                    "请填写所在单位（与组织架构中的单位名称一致）".to_string()
                } else {
                    format!("“{unit_name}”不是您管理范围内的工会，请与组织架构中的名称一致")
                },
            ));
        }
        let checked = match checked {
            Ok(c) => c,
            Err(field_errors) => {
                errors.extend(
                    field_errors
                        .into_iter()
                        .map(|e| FieldError::new(format!("第 {line} 行 {}", e.field), e.message)),
                );
                continue;
            }
        };
        let Some(unit) = unit else { continue };
        let key = propagandists::register_key(
            &text::person_key_name(&checked.name),
            checked.phone.as_deref(),
            unit.id,
        );
        if let Some(first) = seen.get(&key) {
            errors.push(FieldError::new(
                format!("第 {line} 行 手机号"),
                format!("与第 {first} 行是同一人（同一手机号只登记一次）"),
            ));
            continue;
        }
        if let Some(where_) = existing.get(&key) {
            errors.push(FieldError::new(
                format!("第 {line} 行 手机号"),
                format!(
                    "{} 已登记在“{where_}”，同一人只计一次；调动单位请在名册中编辑原登记，并从表中删去这一行",
                    checked.name
                ),
            ));
            continue;
        }
        seen.insert(key.clone(), *line);
        rows.push(propagandists::Imported {
            org_id: unit.id,
            name: checked.name,
            phone: checked.phone,
            accounts: checked.accounts,
            person_key: key,
            joined_on: checked.joined_on,
        });
    }
    if table.rows.is_empty() {
        errors.push(FieldError::new("文件", "表头下面没有任何数据行"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let imported = rows.len();
    let mut tx = db.begin().await?;
    propagandists::insert_imported(&mut tx, campaign.id, acting.user_id, rows)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::invalid(
                    "文件",
                    "导入时发现有人刚被登记（同一手机号）：请刷新名册后重新导入",
                )
            } else {
                e.into()
            }
        })?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "propagandist.import",
            object_type: "propagandist",
            object_id: String::new(),
            before: None,
            after: Some(serde_json::json!({ "rows": imported })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ImportSummary { imported })
}

/// The register in scope as rows of the import layout (phones as the viewer may see them).
pub async fn export_rows(db: &Db, acting: &Acting) -> Result<Vec<Vec<String>>, AppError> {
    let rows = list(db, acting).await?;
    Ok(rows
        .into_iter()
        .map(|p| {
            vec![
                p.name,
                p.phone.unwrap_or_default(),
                p.org_name,
                p.joined_on.unwrap_or_default(),
                p.accounts,
            ]
        })
        .collect())
}
