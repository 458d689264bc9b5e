//! First start: migrate, load the built-in campaign, create the first city admin. Safe when
//! several nodes start at once (PostgreSQL advisory lock; a lock file beside a SQLite
//! database), and a no-op on every later start.

use std::fs::File;
use std::path::PathBuf;

use anyhow::Context;

use crate::db::audit::Actor;
use crate::db::users::{self, NewUser};
use crate::db::{Db, campaigns, orgs};
use crate::domain::campaign::{Campaign, TIANJIN_2020};
use crate::domain::org::OrgKind;
use crate::domain::role::Role;
use crate::service::accounts::{hash_password, one_time_password};
use crate::service::campaigns::store;

/// Login of the first city admin.
pub const FIRST_ADMIN: &str = "admin";

/// Printed once, on the start that created the first admin.
#[derive(Debug)]
pub struct FirstAdmin {
    pub login: String,
    pub one_time_password: String,
}

/// Brings a database up to date. `lock_file` serialises this across processes sharing one
/// SQLite file.
pub async fn prepare(db: &Db, lock_file: Option<PathBuf>) -> anyhow::Result<Option<FirstAdmin>> {
    let file_lock = match &lock_file {
        Some(path) => {
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)
                .with_context(|| format!("无法创建锁文件 {}", path.display()))?;
            let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file)).await??;
            Some(file)
        }
        None => None,
    };
    let pg_lock = db.lock_startup().await?;
    let result = prepare_locked(db).await;
    db.unlock_startup(pg_lock).await?;
    drop(file_lock);
    result
}

async fn prepare_locked(db: &Db) -> anyhow::Result<Option<FirstAdmin>> {
    db.migrate().await.context("数据库迁移失败")?;
    if campaigns::current(db).await?.is_none() {
        let campaign = Campaign::parse_toml(TIANJIN_2020)
            .map_err(|e| anyhow::anyhow!("内置活动文件有误：{e:?}"))?;
        store(db, &campaign, &Actor::system())
            .await
            .map_err(|e| anyhow::anyhow!("载入内置活动失败：{e:?}"))?;
    }
    if users::count(db).await? > 0 {
        return Ok(None);
    }
    let stored = campaigns::current(db).await?.context("没有当前活动")?;
    let city_name = stored
        .campaign
        .organisers
        .iter()
        .find(|o| o.kind == OrgKind::CityUnion)
        .map(|o| o.name.clone())
        .context("当前活动没有市总工会主办单位")?;
    let city = orgs::find_by_name(db, &city_name)
        .await?
        .context("市总工会不在组织树中")?;
    let password = one_time_password();
    let hash = hash_password(&password)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut tx = db.begin().await?;
    let id = users::insert(
        &mut tx,
        NewUser {
            login: FIRST_ADMIN,
            display_name: "市总管理员",
            phone: None,
            role: Role::CityAdmin,
            org_id: city.id,
            password_hash: &hash,
            must_change_password: true,
        },
    )
    .await?;
    crate::db::audit::append(
        &mut tx,
        &Actor::system(),
        crate::db::audit::Event {
            action: "user.create",
            object_type: "user",
            object_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({ "login": FIRST_ADMIN, "role": Role::CityAdmin.code(), "org_id": city.id })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(FirstAdmin {
        login: FIRST_ADMIN.to_string(),
        one_time_password: password,
    }))
}
