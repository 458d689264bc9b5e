//! The audit log as a union clerk reads it: actions and objects named in Chinese ("修改单位
//! 和平区总工会", not "org 25"), each change as 字段：修改前 → 修改后 with field names and coded
//! values (roles, units, yes/no) in words, and the same lines as an Excel sheet.

use std::collections::HashMap;

use crate::db::Db;
use crate::db::audit::{self, Entry, Filter};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::office::sheet::{self, Cell, Column, Kind, Paper, Row, Sheet};

/// Most entries one Excel export holds; a longer period is exported in parts (by date range).
pub const MAX_EXPORT_ENTRIES: i64 = 10_000;

/// One field an entry changed (or set, or cleared).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One entry as a clerk reads it.
#[derive(Debug, Clone)]
pub struct Line {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub action_label: &'static str,
    /// 单位 和平区总工会; 线下活动 网络安全知识竞赛; 账号 张三（zhangsan）.
    pub object: String,
    pub changes: Vec<Change>,
}

/// The Chinese name of a field the log records.
fn field_label(key: &str) -> &str {
    match key {
        "login" => "登录名",
        "display_name" => "姓名",
        "name" => "名称",
        "role" => "角色",
        "org_id" => "所属单位",
        "parent_id" => "上级单位",
        "email" | "email_set" => "电子邮箱",
        "phone" => "手机号",
        "disabled" => "已停用",
        "kind" => "单位类型",
        "contact_name" => "联系人",
        "contact_phone" => "联系电话",
        "status" => "状态",
        "from" => "原状态",
        "to" => "新状态",
        "reason" => "原因",
        "note" => "附言",
        "min_activities" => "任务数",
        "quota" => "任务数",
        "title" => "标题",
        "version" => "版本",
        "sub_projects" => "子项目",
        "decision" => "审核结论",
        "via" => "方式",
        "count" => "数量",
        "outcome" => "结果",
        "ruling" => "处理结论",
        "consent_version" => "同意书版本",
        "workdays" => "工作日数",
        "starts_on" => "开始日期",
        "days_before" => "提前天数",
        "deadline" => "截止日期",
        "message" => "内容",
        "checkins" => "签到人次",
        "propagandists" => "宣传员人数",
        "activities" => "线下活动数",
        "admins" => "管理员账号",
        "orgs_created" => "新建单位数",
        "quotas" => "任务分配条数",
        "review_assignments" => "评审分配份数",
        "scale" => "规模",
        "ends_on" => "结束日期",
        other => other,
    }
}

/// A value in words: roles by name, units by name, yes/no, lists joined.
fn value_text(key: &str, value: &serde_json::Value, orgs: &HashMap<i64, String>) -> String {
    use serde_json::Value as V;
    match (key, value) {
        (_, V::Null) => "（空）".into(),
        (_, V::Bool(b)) => if *b { "是" } else { "否" }.into(),
        ("role", V::String(code)) => {
            Role::parse(code).map_or(code.clone(), |r| r.label_zh().into())
        }
        ("org_id" | "parent_id", V::Number(n)) => n
            .as_i64()
            .and_then(|id| orgs.get(&id).cloned())
            .unwrap_or_else(|| n.to_string()),
        ("reason", V::String(v)) if v.is_ascii() => match v.as_str() {
            "wrong_password" => "密码错误".into(),
            "unknown_login" => "登录名不存在".into(),
            "locked" => "账号已锁定".into(),
            "disabled" => "账号已停用".into(),
            other => other.into(),
        },
        ("via", V::String(v)) => match v.as_str() {
            "account_import" => "Excel 批量导入".into(),
            "reviewer_import" => "评审专家导入".into(),
            other => other.into(),
        },
        (_, V::String(s)) => s.clone(),
        (_, V::Array(items)) => items
            .iter()
            .map(|v| value_text(key, v, orgs))
            .collect::<Vec<_>>()
            .join("、"),
        (_, other) => other.to_string(),
    }
}

/// The fields `before` and `after` hold, field by field (in key order); an unchanged field is
/// left out when both sides have it.
pub fn changes(
    before: Option<&str>,
    after: Option<&str>,
    orgs: &HashMap<i64, String>,
) -> Vec<Change> {
    let parse = |text: Option<&str>| {
        text.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .unwrap_or(serde_json::Value::Null)
    };
    let (before, after) = (parse(before), parse(after));
    let empty = serde_json::Map::new();
    let as_map = |v: &serde_json::Value| v.as_object().cloned();
    match (as_map(&before), as_map(&after)) {
        (None, None) => {
            // Not objects: one line for the whole value, if any.
            if before.is_null() && after.is_null() {
                Vec::new()
            } else {
                vec![Change {
                    field: "内容".into(),
                    before: value_text("", &before, orgs),
                    after: value_text("", &after, orgs),
                }]
            }
        }
        (b, a) => {
            let (b, a) = (
                b.unwrap_or_else(|| empty.clone()),
                a.unwrap_or_else(|| empty.clone()),
            );
            let mut keys: Vec<&String> = b.keys().collect();
            keys.extend(a.keys().filter(|k| !b.contains_key(*k)));
            keys.into_iter()
                .filter(|k| !(b.contains_key(*k) && a.contains_key(*k) && b[*k] == a[*k]))
                .map(|k| Change {
                    field: field_label(k).to_string(),
                    before: b.get(k).map_or("—".into(), |v| value_text(k, v, orgs)),
                    after: a.get(k).map_or("—".into(), |v| value_text(k, v, orgs)),
                })
                .collect()
        }
    }
}

/// Entries as lines a clerk reads: objects by name, changes field by field.
pub async fn lines(db: &Db, entries: Vec<Entry>) -> Result<Vec<Line>, AppError> {
    let orgs: HashMap<i64, String> =
        crate::db::orgs::list(db, &crate::db::orgs::Scope::everything(), None)
            .await?
            .into_iter()
            .map(|o| (o.id.get(), o.name))
            .collect();
    let mut names: HashMap<(String, String), Option<String>> = HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let key = (e.object_type.clone(), e.object_id.clone());
        let name = match names.get(&key) {
            Some(n) => n.clone(),
            None => {
                let n = audit::object_name(db, &e.object_type, &e.object_id).await?;
                names.insert(key, n.clone());
                n
            }
        };
        let kind = audit::object_label_zh(&e.object_type);
        let object = match name {
            Some(name) => format!("{kind} {name}"),
            None if e.object_id.is_empty() => kind.to_string(),
            None => format!("{kind} {}", e.object_id),
        };
        out.push(Line {
            changes: changes(e.before_json.as_deref(), e.after_json.as_deref(), &orgs),
            id: e.id,
            at: e.at,
            actor: e.actor_login,
            ip: e.ip,
            action_label: audit::action_label_zh(&e.action),
            action: e.action,
            object,
        });
    }
    Ok(out)
}

/// The filtered log (newest first, at most [`MAX_EXPORT_ENTRIES`]) as an Excel sheet.
pub async fn workbook(
    db: &Db,
    filter: &Filter,
    issuer: &str,
    today: chrono::NaiveDate,
) -> Result<Vec<u8>, AppError> {
    let entries = audit::list(db, filter, MAX_EXPORT_ENTRIES).await?;
    let cut = entries.len() as i64 == MAX_EXPORT_ENTRIES;
    let lines = lines(db, entries).await?;
    let campaign = crate::service::acting::current_campaign(db).await?;
    let paper = Paper {
        campaign: crate::service::papers::campaign_line(
            campaign.campaign.year,
            &campaign.campaign.title,
        ),
        as_of: today,
        issuer: issuer.to_string(),
    };
    let rows = lines
        .iter()
        .map(|l| {
            let changes = l
                .changes
                .iter()
                .map(|c| {
                    if c.before == "—" {
                        format!("{}：{}", c.field, c.after)
                    } else {
                        format!("{}：{} → {}", c.field, c.before, c.after)
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            Row::data(vec![
                Cell::Int(l.id),
                Cell::text(crate::clock::china_time_text(l.at)),
                Cell::text(&l.actor),
                Cell::text(&l.ip),
                Cell::text(l.action_label),
                Cell::text(&l.object),
                Cell::text(changes),
            ])
        })
        .collect();
    let mut notes = vec![describe(filter)];
    if cut {
        notes.push(format!(
            "只导出了最近的 {MAX_EXPORT_ENTRIES} 条；更早的记录请缩小日期范围后分次导出。"
        ));
    }
    let sheet = Sheet {
        name: "审计日志".into(),
        title: "审计日志".into(),
        columns: vec![
            Column::new("编号", Kind::Ordinal),
            Column::new("时间", Kind::Text),
            Column::new("操作人", Kind::Text),
            Column::new("来源", Kind::Text),
            Column::new("操作", Kind::Text),
            Column::new("对象", Kind::Text),
            Column {
                width: Some(60.0),
                ..Column::new("修改内容", Kind::Text)
            },
        ],
        rows,
        total: false,
        notes,
    };
    sheet::write(&paper, &[sheet]).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))
}

/// The filter in words, for the sheet's note.
fn describe(filter: &Filter) -> String {
    let mut parts = Vec::new();
    if let Some(a) = filter.actor.as_deref().filter(|a| !a.trim().is_empty()) {
        parts.push(format!("操作人 {a}"));
    }
    if let Some(a) = filter.action.as_deref().filter(|a| !a.trim().is_empty()) {
        let label = audit::ACTIONS
            .iter()
            .find(|(code, _)| *code == a.trim())
            .map_or_else(|| format!("以 {a} 开头的操作"), |(_, l)| (*l).to_string());
        parts.push(label);
    }
    if let Some(t) = filter
        .object_type
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        parts.push(format!("对象：{}", audit::object_label_zh(t.trim())));
    }
    match (filter.from.as_deref(), filter.to.as_deref()) {
        (Some(f), Some(t)) if !f.is_empty() && !t.is_empty() => parts.push(format!("{f} 至 {t}")),
        (Some(f), _) if !f.is_empty() => parts.push(format!("{f} 起")),
        (_, Some(t)) if !t.is_empty() => parts.push(format!("至 {t}")),
        _ => {}
    }
    if parts.is_empty() {
        "筛选条件：全部记录（最新的在前）".into()
    } else {
        format!("筛选条件：{}（最新的在前）", parts.join("，"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_field_by_field_in_words() {
        let orgs = HashMap::from([
            (7, "和平区总工会".to_string()),
            (8, "河西区总工会".to_string()),
        ]);
        let c = changes(
            Some(r#"{"display_name":"孙六","role":"worker","org_id":7}"#),
            Some(r#"{"display_name":"孙六六","role":"grassroots_admin","org_id":7}"#),
            &orgs,
        );
        assert_eq!(
            c,
            vec![
                Change {
                    field: "姓名".into(),
                    before: "孙六".into(),
                    after: "孙六六".into()
                },
                Change {
                    field: "角色".into(),
                    before: "职工".into(),
                    after: "基层工会管理员".into()
                },
            ]
        );
        let c = changes(None, Some(r#"{"org_id":8,"disabled":true}"#), &orgs);
        let field = |name: &str| c.iter().find(|x| x.field == name).cloned();
        assert_eq!(
            field("所属单位").map(|x| x.after),
            Some("河西区总工会".into())
        );
        assert_eq!(
            field("已停用"),
            Some(Change {
                field: "已停用".into(),
                before: "—".into(),
                after: "是".into()
            })
        );
        assert!(changes(None, None, &orgs).is_empty());
    }
}
