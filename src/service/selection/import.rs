//! Reviewer accounts from a spreadsheet.

use super::*;

// Reviewer accounts from a spreadsheet.

/// A reviewer account made by an import, with its one-time password (shown once).
#[derive(Debug, Clone, Serialize)]
pub struct Issued {
    pub login: String,
    pub display_name: String,
    pub password: String,
}

/// Reviewer accounts from a spreadsheet (columns 登录名, 姓名, 手机号, 所在单位, 评审子项目),
/// all or nothing: every row's problems are reported with its row number and nothing is
/// written until the whole file is right. A blank unit means the city union; sub-projects are
/// codes or names separated by 、 , ; or spaces.
pub async fn import_reviewers(
    db: &Db,
    acting: &Acting,
    table: &crate::office::tabular::Table,
) -> Result<Vec<Issued>, AppError> {
    city_only(acting)?;
    let campaign = current_campaign(db).await?;
    let (Some(c_login), Some(c_name)) = (
        table.column(&["登录名", "login"]),
        table.column(&["姓名", "name", "display_name"]),
    ) else {
        return Err(AppError::invalid(
            "表头",
            "第一行须有“登录名”“姓名”两列（可选“手机号”“所在单位”“评审子项目”）",
        ));
    };
    let c_phone = table.column(&["手机号", "phone"]);
    let c_org = table.column(&["所在单位", "单位", "org"]);
    let c_subs = table.column(&["评审子项目", "子项目", "sub_projects"]);
    let cell = |cells: &Vec<String>, i: Option<usize>| {
        i.and_then(|i| cells.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let city = campaign
        .campaign
        .organisers
        .iter()
        .find(|o| o.kind == crate::domain::org::OrgKind::CityUnion)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    struct Row {
        login: String,
        name: String,
        phone: Option<String>,
        org: OrgId,
        subs: Vec<String>,
    }
    let mut errors = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if table.rows.is_empty() {
        errors.push(FieldError::new("文件", "文件里没有数据行"));
    }
    for (line, cells) in &table.rows {
        let at = format!("第 {line} 行");
        let before = errors.len();
        let (login, name, phone) = crate::service::account_import::check_person(
            db,
            &at,
            cell(cells, Some(c_login)),
            &cell(cells, Some(c_name)),
            cell(cells, c_phone),
            &mut seen,
            &mut errors,
        )
        .await?;
        let org_name = Some(cell(cells, c_org))
            .filter(|o| !o.is_empty())
            .unwrap_or_else(|| city.clone());
        let org = crate::db::orgs::find_by_name(db, &org_name).await?;
        if org.is_none() {
            errors.push(FieldError::new(
                &at,
                format!("所在单位“{org_name}”不在组织架构中，请先建立或改用已有的单位名称"),
            ));
        }
        let mut subs = Vec::new();
        for part in cell(cells, c_subs)
            .split(|c: char| matches!(c, '、' | ',' | '，' | ';' | '；') || c.is_whitespace())
            .filter(|p| !p.is_empty())
        {
            match campaign
                .campaign
                .sub_projects
                .iter()
                .find(|s| (s.code == part || s.name == part) && !s.rounds.is_empty())
            {
                Some(s) if !subs.contains(&s.code) => subs.push(s.code.clone()),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    &at,
                    format!("“{part}”不是设有评审轮次的子项目"),
                )),
            }
        }
        if let (true, Some(org)) = (errors.len() == before, org) {
            rows.push(Row {
                login,
                name,
                phone,
                org: org.id,
                subs,
            });
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut issued = Vec::new();
    let mut hashes = Vec::new();
    for row in &rows {
        let password = crate::service::accounts::one_time_password();
        hashes.push(crate::service::accounts::hash_password(&password).await?);
        issued.push(Issued {
            login: row.login.clone(),
            display_name: row.name.clone(),
            password,
        });
    }
    let mut tx = db.begin().await?;
    for (row, hash) in rows.iter().zip(&hashes) {
        let id = users::insert(
            &mut tx,
            users::NewUser {
                login: &row.login,
                display_name: &row.name,
                phone: row.phone.as_deref(),
                role: Role::Reviewer,
                org_id: row.org,
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
        for code in &row.subs {
            db::pool_add(&mut tx, id, campaign.id, code, Some(acting.user_id)).await?;
        }
        audit::append(&mut tx, &acting.actor, Event {
            action: "user.create",
            object_type: "user",
            object_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({"login": row.login, "display_name": row.name, "role": Role::Reviewer.code(),
                "org_id": row.org, "sub_projects": row.subs, "via": "reviewer_import"})),
        })
        .await?;
    }
    tx.commit().await?;
    Ok(issued)
}
