//! Staff accounts from a spreadsheet (登录名, 姓名, 角色, 所属单位, optional 电子邮箱 and
//! 手机号), all or none: every row's problems are reported with its row number and nothing is
//! written until the whole file is right. Each new account gets a one-time password; the
//! passwords exist only in the answer to the import (a sheet downloaded once), never on disk.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::db::audit::Actor;
use crate::db::audit::{self, Event};
use crate::db::orgs::Scope;
use crate::db::{Db, orgs, users};
use crate::domain::mask::valid_phone;
use crate::domain::role::Role;
use crate::error::{AppError, FieldError};
use crate::office::tabular::Table;
use crate::service::accounts::{hash_password, one_time_password, valid_login};

/// Most accounts one file may create: hashing each password takes a deliberate ~20 ms of a
/// core, so 500 accounts keep an import under a few seconds and a request well inside the
/// proxy's timeout. A larger roster is split into several files.
pub const MAX_IMPORT_ACCOUNTS: usize = 500;

/// An account an import made, with its one-time password (handed back once).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportedAccount {
    pub login: String,
    pub display_name: String,
    pub role: String,
    pub org: String,
    pub password: String,
}

struct Row {
    login: String,
    name: String,
    role: Role,
    org_id: crate::domain::ids::OrgId,
    org_name: String,
    email: Option<String>,
    phone: Option<String>,
}

/// Creates the accounts a sheet lists, within the importer's scope and the roles it may grant.
pub async fn import_accounts(
    db: &Db,
    scope: &Scope,
    importer_role: Role,
    table: &Table,
    actor: &Actor,
) -> Result<Vec<ImportedAccount>, AppError> {
    let (Some(c_login), Some(c_name), Some(c_role), Some(c_org)) = (
        table.column(&["登录名", "账号", "login"]),
        table.column(&["姓名", "name", "display_name"]),
        table.column(&["角色", "role"]),
        table.column(&["所属单位", "单位", "所在单位", "org"]),
    ) else {
        return Err(AppError::invalid(
            "表头",
            "第一行须有“登录名”“姓名”“角色”“所属单位”四列（可选“电子邮箱”“手机号”）",
        ));
    };
    let c_email = table.column(&["电子邮箱", "邮箱", "email"]);
    let c_phone = table.column(&["手机号", "手机", "phone"]);
    if table.rows.is_empty() {
        return Err(AppError::invalid("文件", "文件里没有数据行"));
    }
    if table.rows.len() > MAX_IMPORT_ACCOUNTS {
        return Err(AppError::invalid(
            "文件",
            format!(
                "一次最多导入 {MAX_IMPORT_ACCOUNTS} 个账号，这个文件有 {} 行，请分成几个文件",
                table.rows.len()
            ),
        ));
    }
    // Units by name, within the importer's scope only: a name outside it reads as unknown.
    let in_scope: HashMap<String, (crate::domain::ids::OrgId, String)> =
        orgs::list(db, scope, None)
            .await?
            .into_iter()
            .map(|o| (o.name.clone(), (o.id, o.name)))
            .collect();
    let cell = |cells: &[String], i: Option<usize>| {
        i.and_then(|i| cells.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (line, cells) in &table.rows {
        let at = format!("第 {line} 行");
        let before = errors.len();
        let (login, name, phone) = check_person(
            db,
            &at,
            cell(cells, Some(c_login)),
            &cell(cells, Some(c_name)),
            cell(cells, c_phone),
            &mut seen,
            &mut errors,
        )
        .await?;
        let role_text = cell(cells, Some(c_role));
        let role = match Role::parse(&role_text) {
            None => {
                errors.push(FieldError::new(
                    &at,
                    format!(
                        "角色“{role_text}”不认识，请填：{}",
                        Role::ALL
                            .into_iter()
                            .filter(|r| importer_role.may_grant(*r))
                            .map(Role::label_zh)
                            .collect::<Vec<_>>()
                            .join("、")
                    ),
                ));
                None
            }
            Some(role) if !importer_role.may_grant(role) => {
                errors.push(FieldError::new(
                    &at,
                    format!("您不能建立“{}”账号", role.label_zh()),
                ));
                None
            }
            Some(role) => Some(role),
        };
        let org_text = cell(cells, Some(c_org));
        let org = in_scope.get(&org_text).cloned();
        if org.is_none() {
            errors.push(FieldError::new(
                &at,
                if org_text.is_empty() {
                    "所属单位未填写".to_string()
                } else {
                    format!("所属单位“{org_text}”不在组织架构中或不在您的管理范围内，请用组织架构里的全称")
                },
            ));
        }
        let email = Some(cell(cells, c_email)).filter(|e| !e.is_empty());
        if let Some(e) = &email
            && !crate::mail::valid_email(e)
        {
            errors.push(FieldError::new(
                &at,
                format!("电子邮箱“{e}”格式不对，应写成 name@example.cn"),
            ));
        }
        if let (true, Some(role), Some((org_id, org_name))) = (errors.len() == before, role, org) {
            rows.push(Row {
                login,
                name,
                role,
                org_id,
                org_name,
                email,
                phone,
            });
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // Hash before the transaction opens, on the argon2 pool's threads side by side.
    let passwords: Vec<String> = rows.iter().map(|_| one_time_password()).collect();
    let pending: Vec<_> = passwords
        .iter()
        .map(|p| {
            let p = p.clone();
            tokio::spawn(async move { hash_password(&p).await })
        })
        .collect();
    let mut hashes = Vec::with_capacity(pending.len());
    for task in pending {
        hashes.push(
            task.await
                .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))??,
        );
    }
    let mut tx = db.begin().await?;
    let mut made = Vec::with_capacity(rows.len());
    for ((row, hash), password) in rows.into_iter().zip(&hashes).zip(passwords) {
        let id = users::insert(
            &mut tx,
            users::NewUser {
                login: &row.login,
                display_name: &row.name,
                phone: row.phone.as_deref(),
                role: row.role,
                org_id: row.org_id,
                password_hash: hash,
                must_change_password: true,
            },
        )
        .await
        .map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                AppError::invalid(
                    "登录名",
                    format!("登录名“{}”刚被占用，请换一个后重新导入", row.login),
                )
            } else {
                e.into()
            }
        })?;
        if row.email.is_some() {
            users::set_email(&mut tx, id, row.email.as_deref()).await?;
        }
        audit::append(
            &mut tx,
            actor,
            Event {
                action: "user.create",
                object_type: "user",
                object_id: id.to_string(),
                before: None,
                after: Some(serde_json::json!({
                    "login": row.login, "display_name": row.name, "role": row.role.code(),
                    "org_id": row.org_id, "email": row.email.is_some(), "via": "account_import",
                })),
            },
        )
        .await?;
        made.push(ImportedAccount {
            login: row.login,
            display_name: row.name,
            role: row.role.label_zh().to_string(),
            org: row.org_name,
            password,
        });
    }
    tx.commit().await?;
    Ok(made)
}

/// A roster row's login, name and phone, each checked: the login well-formed, once in the file
/// (`seen`, case-insensitive) and not taken; the name within its limit; the phone, if any, a
/// mobile or a landline. Problems go to `errors` under `at` (第 N 行).
pub(crate) async fn check_person(
    db: &Db,
    at: &str,
    login: String,
    name: &str,
    phone: String,
    seen: &mut HashSet<String>,
    errors: &mut Vec<FieldError>,
) -> Result<(String, String, Option<String>), AppError> {
    if !valid_login(&login) {
        errors.push(FieldError::new(
            at,
            format!("登录名“{login}”须为 3 至 64 个字母、数字或 . _ @ -"),
        ));
    } else if !seen.insert(login.to_ascii_lowercase()) {
        errors.push(FieldError::new(at, format!("登录名“{login}”在文件中重复")));
    } else if users::by_login(db, &login).await?.is_some() {
        errors.push(FieldError::new(
            at,
            format!("登录名“{login}”已被使用，请换一个"),
        ));
    }
    let name = crate::domain::text::name(name, crate::domain::text::limits::PERSON_NAME)
        .unwrap_or_else(|m| {
            errors.push(FieldError::new(at, format!("姓名{m}")));
            String::new()
        });
    let phone = Some(phone).filter(|p| !p.is_empty());
    if let Some(p) = &phone
        && !valid_phone(p)
    {
        errors.push(FieldError::new(
            at,
            format!("手机号“{p}”应为 11 位数字，座机写成 022-12345678"),
        ));
    }
    Ok((login, name, phone))
}

/// The one-time passwords as an Excel sheet for the importer to hand out: typed, titled, A4,
/// with a note that it is shown once and should be destroyed after use.
pub async fn password_workbook(
    db: &Db,
    issuer: &str,
    today: chrono::NaiveDate,
    made: &[ImportedAccount],
) -> Result<Vec<u8>, AppError> {
    use crate::office::sheet::{self, Cell, Column, Kind, Paper, Row, Sheet};
    let campaign = crate::service::acting::current_campaign(db).await?;
    let paper = Paper {
        campaign: crate::service::papers::campaign_line(
            campaign.campaign.year,
            &campaign.campaign.title,
        ),
        as_of: today,
        issuer: issuer.to_string(),
    };
    let rows = made
        .iter()
        .zip(1..)
        .map(|(a, n)| {
            Row::data(vec![
                Cell::Int(n),
                Cell::text(&a.login),
                Cell::text(&a.display_name),
                Cell::text(&a.role),
                Cell::text(&a.org),
                Cell::text(&a.password),
            ])
        })
        .collect();
    let sheet = Sheet {
        name: "账号与一次性密码".into(),
        title: "账号密码表".into(),
        columns: vec![
            Column::new("序号", Kind::Ordinal),
            Column::new("登录名", Kind::Text),
            Column::new("姓名", Kind::Text),
            Column::new("角色", Kind::Text),
            Column::new("所属单位", Kind::Text),
            Column::new("一次性密码", Kind::Text),
        ],
        rows,
        total: false,
        notes: vec![
            format!(
                "共 {} 个账号。一次性密码只在本表出现这一次，Wangju 不保存明文。",
                made.len()
            ),
            "请逐一转交本人；首次登录须修改密码。转交后请删除本表。".into(),
        ],
    };
    sheet::write(&paper, &[sheet]).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))
}
