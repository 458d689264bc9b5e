//! `wangju org`: importing the org tree from a spreadsheet (all or nothing) and exporting it
//! unmasked (audited).

use anyhow::Context;

use super::{OrgCommand, report, write_out};
use crate::db::Db;
use crate::db::audit::{self, Actor};
use crate::db::orgs::Scope;
use crate::office::tabular;
use crate::service::orgs as org_service;

pub(super) async fn run(db: &Db, actor: &Actor, command: OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("无法读取 {}", file.display()))?;
            let table = tabular::read(&bytes).map_err(|m| anyhow::anyhow!(m))?;
            let s = org_service::import(db, &Scope::everything(), &table, actor)
                .await
                .map_err(report)?;
            println!(
                "导入完成：新建 {} 个，更新 {} 个，未变 {} 个。",
                s.created, s.updated, s.unchanged
            );
        }
        OrgCommand::Export { out } => {
            let rows = org_service::export_rows(db, &Scope::everything())
                .await
                .map_err(report)?;
            let xlsx = out.as_ref().is_some_and(|p| {
                p.extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
            });
            let bytes = if xlsx {
                tabular::write_xlsx("组织架构", &org_service::EXPORT_HEADER, &rows)
            } else {
                tabular::write_csv(&org_service::EXPORT_HEADER, &rows)
            }
            .map_err(|m| anyhow::anyhow!(m))?;
            audit::record(
                db,
                actor,
                audit::Event {
                    action: "org.export",
                    object_type: "org",
                    object_id: String::new(),
                    before: None,
                    after: Some(serde_json::json!({ "rows": rows.len(), "unmasked": true })),
                },
            )
            .await?;
            write_out(out, &bytes)?;
        }
    }
    Ok(())
}
