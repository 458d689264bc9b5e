//! The audit log: every login and every write, hash-chained. Each entry's hash covers the
//! previous entry's hash and all its own fields, so editing or deleting any entry breaks the
//! chain from that point on, and `wangju audit verify` says where.

use crate::domain::ids::UserId;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;

statements! {
    NEXT_ID = "UPDATE audit_head SET last_id = last_id + 1 WHERE id = 1 RETURNING last_id, last_hash";
    INSERT_ENTRY = "INSERT INTO audit_log (id, at, actor_id, actor_login, ip, action, object_type, object_id, before_json, after_json, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    SET_HEAD_HASH = "UPDATE audit_head SET last_hash = $1 WHERE id = 1";
    PAGE = "SELECT * FROM audit_log WHERE id >= $1 ORDER BY id LIMIT 1000";
    HEAD = "SELECT last_id, last_hash FROM audit_head WHERE id = 1";
    LIST = "SELECT * FROM audit_log
         WHERE ($1 = '' OR actor_login = $1)
           AND ($2 = '' OR substr(action, 1, length($2)) = $2)
           AND ($3 = '' OR object_type = $3)
           AND id < $4
           AND at >= $6 AND at < $7
         ORDER BY id DESC LIMIT $5";
    /// What an entry's object is called, for people reading the log (one per object type).
    NAME_OF_ORG = "SELECT name FROM orgs WHERE id = $1";
    NAME_OF_USER = "SELECT display_name || '（' || login || '）' FROM users WHERE id = $1";
    NAME_OF_ACTIVITY = "SELECT name FROM activities WHERE id = $1";
    NAME_OF_WORK = "SELECT title FROM works WHERE id = $1";
    NAME_OF_PROPAGANDIST = "SELECT name FROM propagandists WHERE id = $1";
    NAME_OF_PUBLICITY = "SELECT title FROM publicities WHERE id = $1";
}

/// Who did it and from where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub login: String,
    pub ip: String,
}

impl Actor {
    /// The command line, run by an operator on the server itself.
    pub fn cli() -> Actor {
        Actor {
            user_id: None,
            login: "cli".into(),
            ip: "local".into(),
        }
    }

    pub fn system() -> Actor {
        Actor {
            user_id: None,
            login: "system".into(),
            ip: "local".into(),
        }
    }
}

/// Every action code with its Chinese name, for people reading the log (and the filter's
/// choices). Codes are `object.verb`; a filter on `org.` takes all of an object's actions.
pub const ACTIONS: &[(&str, &str)] = &[
    ("login.success", "登录成功"),
    ("login.failure", "登录失败"),
    ("logout", "退出登录"),
    ("account.lock", "账号被锁定"),
    ("password.change", "修改密码"),
    ("password.reset", "重置密码"),
    ("user.create", "新建账号"),
    ("user.disable", "停用账号"),
    ("user.enable", "启用账号"),
    ("org.create", "新建单位"),
    ("org.update", "修改单位"),
    ("org.export", "导出组织架构"),
    ("org.invite_renew", "更换职工注册链接"),
    ("campaign.create", "导入活动"),
    ("campaign.update", "更新活动"),
    ("campaign.activate", "设为当前活动"),
    ("campaign.archive", "活动归档"),
    ("campaign.close", "结束活动（只读）"),
    ("campaign.reopen", "重新开放活动"),
    ("activity.create", "新建线下活动"),
    ("activity.update", "修改活动报告"),
    ("activity.submit", "报送活动"),
    ("activity.approve", "审核通过活动"),
    ("activity.return", "退回活动"),
    ("activity.confirm", "确认活动"),
    ("quota.set", "分配任务数"),
    ("quota.import", "导入任务分配"),
    ("circular.texts", "修改通报文号和首段"),
    ("propagandist.create", "登记宣传员"),
    ("reminder.auto", "自动催报"),
    ("reminder.summary", "提醒提交活动总结"),
    ("summary.narrative", "修改活动总结段落"),
    ("summary.district", "提交本单位活动总结"),
    ("reminder.send", "手动催报"),
    ("user.email", "修改电子邮箱"),
    ("user.profile", "修改账号姓名、角色或单位"),
    ("work.contact_view", "查看作者完整电话"),
    ("user.register", "职工注册"),
    ("work.submit", "提交作品"),
    ("work.resubmit", "修改后重新提交作品"),
    ("work.decide", "审核作品"),
    ("moderator.assign", "分配审核子项目"),
    ("participation.record", "登记子项目参与"),
    ("photo.add", "添加活动照片"),
    ("photo.remove", "删除活动照片"),
    ("demo.seed", "生成演示数据"),
    ("calendar.import", "导入节假日安排"),
    ("publicity.create", "新建公示"),
    ("publicity.publish", "发布公示"),
    ("publicity.close", "结束公示并发布结果"),
    ("objection.lodge", "提出异议"),
    ("objection.rule", "处理异议"),
];

/// The Chinese name of an action code.
pub fn action_label_zh(action: &str) -> &'static str {
    ACTIONS
        .iter()
        .find(|(code, _)| *code == action)
        .map_or("其他操作", |(_, label)| label)
}

/// Every object type with its Chinese name.
pub const OBJECT_TYPES: &[(&str, &str)] = &[
    ("org", "单位"),
    ("user", "账号"),
    ("session", "会话"),
    ("campaign", "主题活动"),
    ("activity", "线下活动"),
    ("propagandist", "宣传员"),
    ("work", "作品"),
    ("participation", "子项目参与记录"),
    ("reminder", "催报提醒"),
    ("calendar", "节假日安排"),
    ("publicity", "公示"),
    ("objection", "异议"),
];

/// The Chinese name of an object type.
pub fn object_label_zh(object_type: &str) -> &'static str {
    OBJECT_TYPES
        .iter()
        .find(|(code, _)| *code == object_type)
        .map_or("对象", |(_, label)| label)
}

/// What happened to what.
pub struct Event<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<UserId>,
    pub actor_login: String,
    pub ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn entry_hash(e: &Entry) -> String {
    // A JSON array is an unambiguous encoding of the fields (no delimiter games).
    let canonical = serde_json::json!([
        e.prev_hash,
        e.id,
        e.at,
        e.actor_id,
        e.actor_login,
        e.ip,
        e.action,
        e.object_type,
        e.object_id,
        e.before_json,
        e.after_json
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Appends an entry inside the caller's transaction, so the write and its record commit or
/// vanish together. Locks the chain head row, which orders appends from several nodes.
pub async fn append(tx: &mut Tx, actor: &Actor, event: Event<'_>) -> Result<(), sqlx::Error> {
    let (id, prev_hash): (i64, String) = on_tx!(tx, c => query_as(&NEXT_ID)
        .fetch_one(c)
        .await)?;
    let mut entry = Entry {
        id,
        at: unix_now(),
        actor_id: actor.user_id,
        actor_login: actor.login.clone(),
        ip: actor.ip.clone(),
        action: event.action.to_string(),
        object_type: event.object_type.to_string(),
        object_id: event.object_id,
        before_json: event.before.map(|v| v.to_string()),
        after_json: event.after.map(|v| v.to_string()),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry);
    on_tx!(tx, c => query(&INSERT_ENTRY)
        .bind(entry.id)
        .bind(entry.at)
        .bind(entry.actor_id)
        .bind(&entry.actor_login)
        .bind(&entry.ip)
        .bind(&entry.action)
        .bind(&entry.object_type)
        .bind(&entry.object_id)
        .bind(&entry.before_json)
        .bind(&entry.after_json)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    on_tx!(tx, c => query(&SET_HEAD_HASH)
        .bind(&entry.hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records an event in a transaction of its own (logins, which write nothing else).
pub async fn record(db: &Db, actor: &Actor, event: Event<'_>) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    append(&mut tx, actor, event).await?;
    tx.commit().await
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Verdict {
    Intact { entries: i64 },
    Broken { at_id: i64, reason: String },
}

/// Walks the whole chain. Reads in pages so memory stays flat on a long log.
pub async fn verify(db: &Db) -> Result<Verdict, sqlx::Error> {
    let mut prev = GENESIS.to_string();
    let mut expected_id = 1;
    loop {
        let page: Vec<Entry> = on_pool!(db, pool => query_as::<_, Entry>(&PAGE)
            .bind(expected_id)
            .fetch_all(pool)
            .await)?;
        if page.is_empty() {
            break;
        }
        for entry in page {
            if entry.id != expected_id {
                return Ok(Verdict::Broken {
                    at_id: expected_id,
                    reason: format!("第 {expected_id} 条记录缺失（已被删除）"),
                });
            }
            if entry.prev_hash != prev {
                return Ok(Verdict::Broken {
                    at_id: entry.id,
                    reason: format!("第 {} 条记录与上一条的链接不符", entry.id),
                });
            }
            if entry_hash(&entry) != entry.hash {
                return Ok(Verdict::Broken {
                    at_id: entry.id,
                    reason: format!("第 {} 条记录的内容被改动过", entry.id),
                });
            }
            prev = entry.hash;
            expected_id += 1;
        }
    }
    let (last_id, last_hash): (i64, String) = on_pool!(db, pool => query_as(&HEAD)
        .fetch_one(pool)
        .await)?;
    if last_id != expected_id - 1 || last_hash != prev {
        return Ok(Verdict::Broken {
            at_id: expected_id,
            reason: format!(
                "链头记录到第 {last_id} 条，实际只有 {} 条：末尾的记录被删除或改动过",
                expected_id - 1
            ),
        });
    }
    Ok(Verdict::Intact {
        entries: expected_id - 1,
    })
}

/// Filters for browsing the log.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
pub struct Filter {
    /// Exact login of the actor.
    pub actor: Option<String>,
    /// Action prefix, e.g. `login` or `org.`.
    pub action: Option<String>,
    /// Object type, e.g. `org`, `user`.
    pub object_type: Option<String>,
    /// First day (China time), `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day (China time, inclusive), `YYYY-MM-DD`.
    pub to: Option<String>,
    /// Entries with id below this (paging backwards).
    pub before: Option<i64>,
}

/// Unix seconds at the start of a China-time day given as `YYYY-MM-DD`; empty means none.
fn day_start(text: Option<&str>, field: &str) -> Result<Option<i64>, crate::error::AppError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        crate::error::AppError::invalid(field, format!("日期“{text}”请写成 2020-07-01 这样的格式"))
    })?;
    let midnight = day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp() - 8 * 3600);
    Ok(midnight)
}

pub async fn list(
    db: &Db,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<Entry>, crate::error::AppError> {
    let from = day_start(filter.from.as_deref(), "开始日期")?.unwrap_or(i64::MIN);
    let to = day_start(filter.to.as_deref(), "结束日期")?.map_or(i64::MAX, |t| t + 86_400);
    let actor = filter.actor.clone().unwrap_or_default();
    let action = filter.action.clone().unwrap_or_default();
    let object_type = filter.object_type.clone().unwrap_or_default();
    on_pool!(db, pool => query_as::<_, Entry>(&LIST)
        .bind(actor.trim())
        .bind(action.trim())
        .bind(object_type.trim())
        .bind(filter.before.unwrap_or(i64::MAX))
        .bind(limit)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await)
    .map_err(Into::into)
}

/// What the object of an entry is called (a unit's name, an activity's or a work's title, an
/// account's name and login), if it is of a type that has one and still exists.
pub async fn object_name(
    db: &Db,
    object_type: &str,
    object_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let statement: &'static super::sql::Sql = match object_type {
        "org" => &NAME_OF_ORG,
        "user" => &NAME_OF_USER,
        "activity" => &NAME_OF_ACTIVITY,
        "work" => &NAME_OF_WORK,
        "propagandist" => &NAME_OF_PROPAGANDIST,
        "publicity" => &NAME_OF_PUBLICITY,
        _ => return Ok(None),
    };
    let Ok(id) = object_id.trim().parse::<i64>() else {
        return Ok(None);
    };
    on_pool!(db, pool => query_scalar::<_, String>(statement)
        .bind(id)
        .fetch_optional(pool)
        .await)
}
