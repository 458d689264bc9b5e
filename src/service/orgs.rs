//! Changing the org tree: single edits from the admin pages, and whole-tree imports from a
//! spreadsheet. Imports are all-or-nothing, with one error per bad row.

use crate::domain::ids::OrgId;
use std::collections::HashMap;

use serde::Deserialize;

use crate::db::audit::{self, Actor, Event};
use crate::db::orgs::{self, NewOrg, Org, Scope};
use crate::db::{Db, Tx};
use crate::domain::mask::contact_phone;
use crate::domain::org::{OrgKind, OrgName, find_cycle};
use crate::domain::text;
use crate::error::{AppError, FieldError};
use crate::office::tabular::Table;
use crate::service::accounts::valid_phone;

/// The fields of an org as a form or API call gives them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OrgInput {
    pub name: String,
    /// `OrgKind` code or its Chinese label.
    pub kind: String,
    /// Parent org id; required except for top-level bodies.
    #[serde(default)]
    pub parent_id: Option<OrgId>,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
}

struct Checked {
    name: OrgName,
    kind: OrgKind,
    contact_name: Option<String>,
    contact_phone: Option<String>,
}

fn check_fields(input: &OrgInput) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = OrgName::parse(&input.name).map_err(|m| errors.push(FieldError::new("单位名称", m)));
    let kind = OrgKind::parse(&input.kind).ok_or_else(|| {
        errors.push(FieldError::new(
            "类型",
            format!(
                "类型“{}”不认识，可选：{}",
                input.kind.trim(),
                kind_choices()
            ),
        ))
    });
    let contact_name = text::optional_name(
        input.contact_name.as_deref().unwrap_or_default(),
        text::limits::PERSON_NAME,
    )
    .unwrap_or_else(|m| {
        errors.push(FieldError::new("联系人", format!("联系人姓名{m}")));
        None
    });
    let contact_phone = input
        .contact_phone
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(phone) = &contact_phone
        && !valid_phone(phone)
    {
        errors.push(FieldError::new(
            "联系电话",
            format!("“{phone}”不是有效电话：手机 11 位数字，座机写成 022-12345678"),
        ));
    }
    match (name, kind, errors.is_empty()) {
        (Ok(name), Ok(kind), true) => Ok(Checked {
            name,
            kind,
            contact_name,
            contact_phone,
        }),
        _ => Err(errors),
    }
}

fn kind_choices() -> String {
    OrgKind::ALL
        .iter()
        .map(|k| k.label_zh().split('（').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("、")
}

/// Kinds an admin below the city may give: its sub-units are intermediate or grassroots
/// unions. City-level kinds (and bureau/group-company unions, which answer to the city) are
/// the city's to set.
fn may_assign(scope: &Scope, kind: OrgKind) -> bool {
    *scope == Scope::everything()
        || matches!(kind, OrgKind::IntermediateUnion | OrgKind::Grassroots)
}

fn kind_refused(kind: OrgKind) -> AppError {
    AppError::invalid(
        "类型",
        format!(
            "只有市总管理员可以设置“{}”类型，您可以建立中间层工会或基层工会",
            kind.label_zh()
        ),
    )
}

/// Why an admin with `scope` may not make this change to the existing org `before`: one set of
/// rules for the form, the API and every row of an import. An admin's own unit keeps its
/// name, kind and place (they are the city's, or the unit above's, to set); its contacts it
/// may change.
fn edit_problems(
    scope: &Scope,
    before: &Org,
    after: &Checked,
    moves: bool,
) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if !scope.contains(before) {
        problems.push((
            "单位名称",
            "这个单位已存在，但不在您的管理范围内".to_string(),
        ));
        return problems;
    }
    let own_root = before.path == scope.prefix && *scope != Scope::everything();
    let kind_changes = after.kind != before.kind;
    if own_root && kind_changes {
        problems.push(("类型", "不能修改您自己所在单位的类型".into()));
    } else if kind_changes && !may_assign(scope, after.kind) {
        problems.push((
            "类型",
            format!(
                "只有市总管理员可以设置“{}”类型，您可以建立中间层工会或基层工会",
                after.kind.label_zh()
            ),
        ));
    }
    if own_root && after.name.as_str() != before.name {
        problems.push((
            "单位名称",
            "本单位的名称由上级单位设定，不能自己修改；如需更名，请联系上级单位".into(),
        ));
    }
    if own_root && moves {
        problems.push(("上级单位", "不能移动您自己所在的单位".into()));
    }
    problems
}

/// The refusal for a name another org already has. An org outside the caller's scope is not
/// named or described.
fn duplicate_name(name: &str, other: &Org, scope: &Scope) -> String {
    if scope.contains(other) {
        format!("已有名为“{name}”的单位，单位名称不能重复")
    } else {
        "这个名称已被您管理范围以外的单位使用，请用全称或加上所在区县等加以区分".into()
    }
}

/// Top-level bodies have no parent; everything else hangs under one.
fn may_be_root(kind: OrgKind) -> bool {
    matches!(
        kind,
        OrgKind::CityUnion | OrgKind::CoOrganiser | OrgKind::ExternalHost
    )
}

/// Creates an org under a parent in scope.
pub async fn create(
    db: &Db,
    scope: &Scope,
    input: &OrgInput,
    actor: &Actor,
) -> Result<Org, AppError> {
    let checked = check_fields(input).map_err(AppError::Invalid)?;
    if !may_assign(scope, checked.kind) {
        return Err(kind_refused(checked.kind));
    }
    let parent =
        match input.parent_id {
            Some(id) => Some(orgs::get(db, scope, id).await?.ok_or_else(|| {
                AppError::invalid("上级单位", "上级单位不存在或不在您的管理范围内")
            })?),
            None if may_be_root(checked.kind) && *scope == Scope::everything() => None,
            None => return Err(AppError::invalid("上级单位", "请选择上级单位")),
        };
    let mut tx = db.begin().await?;
    if let Some(other) = orgs::find_by_name_tx(&mut tx, checked.name.as_str()).await? {
        return Err(AppError::invalid(
            "单位名称",
            duplicate_name(checked.name.as_str(), &other, scope),
        ));
    }
    let org = insert_audited(
        &mut tx,
        NewOrg {
            parent: parent.as_ref(),
            name: checked.name.as_str(),
            kind: checked.kind,
            contact_name: checked.contact_name.as_deref(),
            contact_phone: checked.contact_phone.as_deref(),
        },
        actor,
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

/// Edits an org in scope: details, and its parent when `parent_id` names another org in
/// scope that is not inside it. The root of the editor's own scope cannot be moved.
pub async fn update(
    db: &Db,
    scope: &Scope,
    id: OrgId,
    input: &OrgInput,
    actor: &Actor,
) -> Result<Org, AppError> {
    let before = orgs::get(db, scope, id).await?.ok_or(AppError::NotFound)?;
    let checked = check_fields(input).map_err(AppError::Invalid)?;
    let moves = input.parent_id.is_some() && input.parent_id != before.parent_id;
    let problems = edit_problems(scope, &before, &checked, moves);
    if !problems.is_empty() {
        return Err(AppError::Invalid(
            problems
                .into_iter()
                .map(|(field, message)| FieldError::new(field, message))
                .collect(),
        ));
    }
    let mut tx = db.begin().await?;
    if let Some(other) = orgs::find_by_name_tx(&mut tx, checked.name.as_str()).await?
        && other.id != id
    {
        return Err(AppError::invalid(
            "单位名称",
            duplicate_name(checked.name.as_str(), &other, scope),
        ));
    }
    orgs::update_details(
        &mut tx,
        id,
        checked.name.as_str(),
        checked.kind,
        checked.contact_name.as_deref(),
        checked.contact_phone.as_deref(),
    )
    .await?;
    if moves && let Some(parent_id) = input.parent_id {
        let parent = orgs::get(db, scope, parent_id)
            .await?
            .ok_or_else(|| AppError::invalid("上级单位", "上级单位不存在或不在您的管理范围内"))?;
        if before.contains(&parent) {
            return Err(AppError::invalid(
                "上级单位",
                format!(
                    "不能把“{}”移到它自己或它的下级单位“{}”之下，这会形成循环",
                    before.name, parent.name
                ),
            ));
        }
        orgs::move_under(&mut tx, &before, &parent).await?;
    }
    let after = orgs::get_tx(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    audit_update(&mut tx, actor, &before, &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Inserts an org and records it in the audit log, in the caller's transaction.
pub(crate) async fn insert_audited(
    tx: &mut Tx,
    new: NewOrg<'_>,
    actor: &Actor,
) -> Result<Org, AppError> {
    let org = orgs::insert(tx, new).await?;
    audit::append(
        tx,
        actor,
        Event {
            action: "org.create",
            object_type: "org",
            object_id: org.id.to_string(),
            before: None,
            after: serde_json::to_value(&org).ok(),
        },
    )
    .await?;
    Ok(org)
}

async fn audit_update(
    tx: &mut Tx,
    actor: &Actor,
    before: &Org,
    after: &impl serde::Serialize,
) -> Result<(), AppError> {
    audit::append(
        tx,
        actor,
        Event {
            action: "org.update",
            object_type: "org",
            object_id: before.id.to_string(),
            before: serde_json::to_value(before).ok(),
            after: serde_json::to_value(after).ok(),
        },
    )
    .await?;
    Ok(())
}

/// Column names accepted on import (Chinese first, as in the export).
const COL_NAME: &[&str] = &["单位名称", "名称", "单位", "name"];
const COL_PARENT: &[&str] = &["上级单位", "上级", "parent"];
const COL_KIND: &[&str] = &["类型", "单位类型", "kind"];
const COL_CONTACT: &[&str] = &["联系人", "contact", "contact_name"];
const COL_PHONE: &[&str] = &["联系电话", "电话", "phone", "contact_phone"];

pub const EXPORT_HEADER: [&str; 5] = ["单位名称", "上级单位", "类型", "联系人", "联系电话"];

#[derive(Debug)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

struct Row {
    line: usize,
    parent: Option<String>,
    checked: Checked,
}

/// Imports a table of orgs: new names are created, known names updated (parent, kind,
/// contact). Rows may come in any order. Nothing is written if any row is wrong.
pub async fn import(
    db: &Db,
    scope: &Scope,
    table: &Table,
    actor: &Actor,
) -> Result<ImportSummary, AppError> {
    let column = |names: &[&str]| table.column(names);
    let (Some(c_name), Some(c_parent), Some(c_kind)) =
        (column(COL_NAME), column(COL_PARENT), column(COL_KIND))
    else {
        return Err(AppError::invalid(
            "表头",
            "第一行须有“单位名称”“上级单位”“类型”三列（可选“联系人”“联系电话”）",
        ));
    };
    let (c_contact, c_phone) = (column(COL_CONTACT), column(COL_PHONE));
    let cell = |cells: &Vec<String>, i: Option<usize>| {
        i.and_then(|i| cells.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let mut errors = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (line, cells) in &table.rows {
        let input = OrgInput {
            name: cell(cells, Some(c_name)),
            kind: cell(cells, Some(c_kind)),
            parent_id: None,
            contact_name: Some(cell(cells, c_contact)),
            contact_phone: Some(cell(cells, c_phone)),
        };
        let parent = Some(cell(cells, Some(c_parent))).filter(|p| !p.is_empty());
        match check_fields(&input) {
            Err(field_errors) => errors.extend(
                field_errors
                    .into_iter()
                    .map(|e| FieldError::new(format!("第 {line} 行 {}", e.field), e.message)),
            ),
            Ok(checked) => {
                if let Some(first) = first_line.get(checked.name.as_str()) {
                    errors.push(FieldError::new(
                        format!("第 {line} 行 单位名称"),
                        format!("“{}”与第 {first} 行重复", checked.name.as_str()),
                    ));
                    continue;
                }
                first_line.insert(checked.name.as_str().to_string(), *line);
                rows.push(Row {
                    line: *line,
                    parent,
                    checked,
                });
            }
        }
    }
    if table.rows.is_empty() {
        errors.push(FieldError::new("文件", "表头下面没有任何数据行"));
    }

    let mut tx = db.begin().await?;
    let existing = orgs::all_tx(&mut tx).await?;
    let by_name: HashMap<&str, &Org> = existing.iter().map(|o| (o.name.as_str(), o)).collect();
    let by_id: HashMap<OrgId, &Org> = existing.iter().map(|o| (o.id, o)).collect();
    let in_file: HashMap<&str, &Row> = rows.iter().map(|r| (r.checked.name.as_str(), r)).collect();

    // Final parent of every org after the import: the database's, overridden by the file.
    let mut parents: HashMap<&str, &str> = existing
        .iter()
        .filter_map(|o| {
            let parent = by_id.get(&o.parent_id?)?;
            Some((o.name.as_str(), parent.name.as_str()))
        })
        .collect();
    for row in &rows {
        let name = row.checked.name.as_str();
        let line = row.line;
        match by_name.get(name) {
            // An existing org: the rules of a single edit, row by row.
            Some(org) => {
                let moves = row.parent.as_deref().is_some_and(|p| {
                    org.parent_id
                        .and_then(|id| by_id.get(&id))
                        .is_none_or(|current| current.name != p)
                });
                for (field, message) in edit_problems(scope, org, &row.checked, moves) {
                    errors.push(FieldError::new(format!("第 {line} 行 {field}"), message));
                }
            }
            None if !may_assign(scope, row.checked.kind) => errors.push(FieldError::new(
                format!("第 {line} 行 类型"),
                format!(
                    "只有市总管理员可以设置“{}”类型",
                    row.checked.kind.label_zh()
                ),
            )),
            None => {}
        }
        match &row.parent {
            Some(parent) => {
                let known =
                    in_file.contains_key(parent.as_str()) || by_name.contains_key(parent.as_str());
                if !known {
                    errors.push(FieldError::new(
                        format!("第 {line} 行 上级单位"),
                        format!("上级单位“{parent}”既不在系统中，也不在本文件中"),
                    ));
                } else if let Some(org) = by_name.get(parent.as_str())
                    && !scope.contains(org)
                {
                    errors.push(FieldError::new(
                        format!("第 {line} 行 上级单位"),
                        format!("上级单位“{parent}”不在您的管理范围内"),
                    ));
                }
                parents.insert(name, parent.as_str());
            }
            None => {
                // An org already in the tree keeps its place when the parent cell is blank: a
                // unit admin's own export leaves its root's (out-of-scope) parent blank.
                if by_name.contains_key(name) {
                    continue;
                }
                if !(may_be_root(row.checked.kind) && *scope == Scope::everything()) {
                    errors.push(FieldError::new(
                        format!("第 {line} 行 上级单位"),
                        "请填写上级单位（只有市总工会、网信办和外部承办单位可以没有上级）",
                    ));
                }
                parents.remove(name);
            }
        }
    }
    if let Some(cycle) = find_cycle(&parents) {
        let lines: Vec<String> = cycle
            .iter()
            .filter_map(|n| in_file.get(n).map(|r| r.line.to_string()))
            .collect();
        errors.push(FieldError::new(
            format!("第 {} 行 上级单位", lines.join("、")),
            format!("上级关系形成了循环：{}", cycle.join(" → ")),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }

    // Apply parents before children: repeat passes until every row is placed.
    let mut summary = ImportSummary {
        created: 0,
        updated: 0,
        unchanged: 0,
    };
    let mut pending: Vec<&Row> = rows.iter().collect();
    while !pending.is_empty() {
        let mut next = Vec::new();
        let before_len = pending.len();
        for row in pending {
            let parent = match &row.parent {
                Some(p) => match orgs::find_by_name_tx(&mut tx, p).await? {
                    Some(org) => Some(org),
                    None => {
                        next.push(row);
                        continue;
                    }
                },
                None => None,
            };
            apply_row(&mut tx, row, parent.as_ref(), actor, &mut summary).await?;
        }
        if next.len() == before_len {
            // Cannot happen after the cycle check; refuse rather than loop.
            return Err(anyhow::anyhow!("org import made no progress").into());
        }
        pending = next;
    }
    tx.commit().await?;
    Ok(summary)
}

async fn apply_row(
    tx: &mut Tx,
    row: &Row,
    parent: Option<&Org>,
    actor: &Actor,
    summary: &mut ImportSummary,
) -> Result<(), AppError> {
    let c = &row.checked;
    match orgs::find_by_name_tx(tx, c.name.as_str()).await? {
        None => {
            insert_audited(
                tx,
                NewOrg {
                    parent,
                    name: c.name.as_str(),
                    kind: c.kind,
                    contact_name: c.contact_name.as_deref(),
                    contact_phone: c.contact_phone.as_deref(),
                },
                actor,
            )
            .await?;
            summary.created += 1;
        }
        Some(before) => {
            let same = before.kind == c.kind
                && before.contact_name == c.contact_name
                && before.contact_phone == c.contact_phone
                && (parent.is_none() || before.parent_id == parent.map(|p| p.id));
            if same {
                summary.unchanged += 1;
                return Ok(());
            }
            orgs::update_details(
                tx,
                before.id,
                c.name.as_str(),
                c.kind,
                c.contact_name.as_deref(),
                c.contact_phone.as_deref(),
            )
            .await?;
            if let Some(parent) = parent
                && before.parent_id != Some(parent.id)
            {
                orgs::move_under(tx, &before, parent).await?;
            }
            let after = orgs::get_tx(tx, before.id).await?;
            audit_update(tx, actor, &before, &after).await?;
            summary.updated += 1;
        }
    }
    Ok(())
}

/// The tree in scope as export rows, parents before children. Contact numbers are whole: the
/// export is for signed-in staff (and the command line), who call them.
pub async fn export_rows(db: &Db, scope: &Scope) -> Result<Vec<Vec<String>>, AppError> {
    let list = orgs::list(db, scope, None).await?;
    let names: HashMap<OrgId, &str> = list.iter().map(|o| (o.id, o.name.as_str())).collect();
    let mut sorted: Vec<&Org> = list.iter().collect();
    sorted.sort_by(|a, b| a.depth.cmp(&b.depth).then(a.id.cmp(&b.id)));
    Ok(sorted
        .into_iter()
        .map(|o| {
            let parent = o
                .parent_id
                .and_then(|p| names.get(&p).copied())
                .unwrap_or_default()
                .to_string();
            let phone = o
                .contact_phone
                .as_deref()
                .map(|p| contact_phone(p, true))
                .unwrap_or_default();
            vec![
                o.name.clone(),
                parent,
                o.kind_label()
                    .split('（')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                o.contact_name.clone().unwrap_or_default(),
                phone,
            ]
        })
        .collect())
}

/// A union's registration link token if one was made (for an admin whose scope holds it).
pub async fn existing_invite(
    db: &Db,
    acting: &crate::service::acting::Acting,
    org_id: OrgId,
) -> Result<Option<String>, AppError> {
    if !acting.role.may_manage_users() {
        return Err(AppError::NotFound);
    }
    let org = orgs::get(db, &acting.scope, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(orgs::invite_token(db, org.id).await?)
}

/// A union's registration link token: workers who open `/register?join=<token>` register into
/// that union. Made on first use by an admin whose scope holds the union; `renew` replaces it
/// (the old link stops working) and is audited.
pub async fn invite(
    db: &Db,
    acting: &crate::service::acting::Acting,
    org_id: OrgId,
    renew: bool,
) -> Result<String, AppError> {
    if !acting.role.may_manage_users() {
        return Err(AppError::NotFound);
    }
    let org = orgs::get(db, &acting.scope, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !org.is_union() {
        return Err(AppError::Conflict(format!(
            "“{}”不是工会组织，职工不能注册到这里",
            org.name
        )));
    }
    if !renew && let Some(token) = orgs::invite_token(db, org.id).await? {
        return Ok(token);
    }
    let token = crate::service::accounts::random_token()[..32].to_string();
    let mut tx = db.begin().await?;
    orgs::set_invite_token(&mut tx, org.id, &token, Some(acting.user_id), renew).await?;
    if renew {
        audit::append(
            &mut tx,
            &acting.actor,
            Event {
                action: "org.invite_renew",
                object_type: "org",
                object_id: org.id.to_string(),
                before: None,
                after: Some(serde_json::json!({"name": org.name})),
            },
        )
        .await?;
    }
    tx.commit().await?;
    // Another request may have made the first one at the same moment: read what is stored.
    orgs::invite_token(db, org.id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("invite token vanished")))
}
