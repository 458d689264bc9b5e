//! Worker registration: the public form's fields, the union a registration link names, and
//! creating the worker's account bound to its union (with the privacy consent, audited).

use crate::db::audit::{self, Actor, Event};
use crate::db::orgs::{self, Scope};
use crate::db::users::{self, NewUser};
use crate::db::{Db, is_unique_violation};
use crate::domain::ids::OrgId;
use crate::domain::ids::UserId;
use crate::domain::mask::valid_phone;
use crate::domain::password::check_new_password;
use crate::domain::role::Role;
use crate::domain::work;
use crate::error::{AppError, FieldError};
use crate::service::accounts::hash_password;

/// What a worker fills in to register.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub real_name: String,
    /// The mobile number; it is also the login.
    pub phone: String,
    /// One of the unions the public form lists (the Annex 1 level); ignored with `join`.
    #[serde(default)]
    pub org_id: OrgId,
    /// The code of a union's registration link (`/register?join=…`): registers into that union,
    /// at any depth of the tree.
    #[serde(default)]
    pub join: Option<String>,
    pub password: String,
    /// The privacy notice (`work::PRIVACY_TEXT`) was accepted.
    #[serde(default)]
    pub consent: bool,
}

/// The union a registration link names; `None` for an unknown or replaced link.
pub async fn union_by_invite(db: &Db, code: &str) -> Result<Option<orgs::Org>, AppError> {
    let code = code.trim();
    if code.len() != 32 || !code.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(orgs::by_invite(db, code).await?.filter(|o| o.is_union()))
}

/// Creates a worker account bound to a union in the tree. Returns the account id.
pub async fn register(db: &Db, reg: &Registration, ip: &str) -> Result<UserId, AppError> {
    let mut errors = Vec::new();
    let name = crate::domain::text::name(&reg.real_name, 20).unwrap_or_default();
    let name = name.as_str();
    let n = name.chars().count();
    if !(2..=20).contains(&n) || name.chars().any(|c| c.is_ascii_digit()) {
        errors.push(FieldError::new(
            "real_name",
            "请填写 2 到 20 个字的真实姓名",
        ));
    }
    let phone = reg.phone.trim();
    if !(valid_phone(phone) && phone.len() == 11) {
        errors.push(FieldError::new(
            "phone",
            "请填写 11 位手机号，它也是您的登录名",
        ));
    }
    if let Err(message) = check_new_password(Role::Worker, &reg.password, phone) {
        errors.push(FieldError::new("password", message));
    }
    if !reg.consent {
        errors.push(FieldError::new(
            "consent",
            "请阅读并勾选个人信息收集说明，否则无法注册",
        ));
    }
    let joining = reg.join.as_deref().filter(|c| !c.trim().is_empty());
    let org = match joining {
        Some(code) => union_by_invite(db, code).await?,
        None => orgs::get(db, &Scope::everything(), reg.org_id).await?,
    };
    match &org {
        None if joining.is_some() => errors.push(FieldError::new(
            "join",
            "注册链接已失效，请向所在工会索取新的注册链接或二维码",
        )),
        None => errors.push(FieldError::new("org_id", "请选择您所在的工会")),
        Some(_) if joining.is_some() => {}
        Some(o) if o.depth > 1 => errors.push(FieldError::new(
            "org_id",
            "请在列表中选择您所在的区、局或集团公司工会",
        )),
        Some(o) if !o.is_union() => errors.push(FieldError::new(
            "org_id",
            format!("“{}”不是工会组织，请选择您所在的工会", o.name),
        )),
        _ => {}
    }
    let Some(org) = org.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let hash = hash_password(&reg.password).await?;
    let mut tx = db.begin().await?;
    let id = users::insert(
        &mut tx,
        NewUser {
            login: phone,
            display_name: name,
            phone: Some(phone),
            role: Role::Worker,
            org_id: org.id,
            password_hash: &hash,
            must_change_password: false,
        },
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            // Worded so it does not confirm that the number is registered.
            AppError::invalid(
                "phone",
                "无法用这个手机号完成注册。如果您以前注册过，请直接登录；忘记密码请联系所在工会管理员重置",
            )
        } else {
            e.into()
        }
    })?;
    users::record_consent(&mut tx, id, work::PRIVACY_VERSION).await?;
    audit::append(
        &mut tx,
        &Actor {
            user_id: Some(id),
            login: phone.to_string(),
            ip: ip.to_string(),
        },
        Event {
            action: "user.register",
            object_type: "user",
            object_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "role": Role::Worker.code(), "org_id": org.id, "consent_version": work::PRIVACY_VERSION,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
