//! `wangju campaign`: importing a campaign file, printing one, starting a new year's campaign
//! from an earlier one, listing them.

use anyhow::Context;

use super::{CampaignCommand, report, write_out};
use crate::db::Db;
use crate::db::audit::Actor;
use crate::service::campaigns;

pub(super) async fn run(db: &Db, actor: &Actor, command: CampaignCommand) -> anyhow::Result<()> {
    match command {
        CampaignCommand::Import { file } => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("无法读取 {}", file.display()))?;
            let outcome = campaigns::import_toml(db, &source, actor)
                .await
                .map_err(report)?;
            println!(
                "{}活动 {}（新建单位 {} 个）。",
                if outcome.created {
                    "已导入"
                } else {
                    "已更新"
                },
                outcome.code,
                outcome.orgs_created
            );
        }
        CampaignCommand::Export { code, out } => {
            let text = campaigns::export_toml(db, code.as_deref())
                .await
                .map_err(report)?;
            write_out(out, text.as_bytes())?;
        }
        CampaignCommand::New {
            from,
            year,
            activate,
        } => {
            let outcome = campaigns::new_for_year(db, &from, year, activate, actor)
                .await
                .map_err(report)?;
            println!(
                "已从 {from} 新建 {year} 年活动 {}{}。",
                outcome.code,
                if activate {
                    "，并设为当前活动"
                } else {
                    ""
                }
            );
        }
        CampaignCommand::List => {
            for (code, year, current) in crate::db::campaigns::list_codes(db).await? {
                println!("{code}\t{year}{}", if current { "\t当前" } else { "" });
            }
        }
    }
    Ok(())
}
