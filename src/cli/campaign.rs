//! `wangju campaign`: importing a campaign file, printing one, starting a new year's campaign
//! from an earlier one, listing them; archiving a campaign, checking an archive, closing and
//! reopening a campaign.

use anyhow::Context;

use std::path::PathBuf;
use std::process::ExitCode;

use super::{CampaignCommand, report, write_out};
use crate::app::AppState;
use crate::db::audit::Actor;
use crate::service::{archive, campaigns};

/// `wangju campaign archive --verify FILE.zip`: the report in Chinese; exit status 1 on any
/// mismatch.
pub(super) async fn verify(file: PathBuf) -> anyhow::Result<ExitCode> {
    let shown = file.display().to_string();
    let report = tokio::task::spawn_blocking(move || archive::verify(&file)).await?;
    println!("核对档案 {shown}");
    for line in &report.lines {
        println!("  ✓ {line}");
    }
    for problem in &report.problems {
        println!("  ✗ {problem}");
    }
    if report.ok() {
        println!("结论：档案完整，与清单一致，审计哈希链完整。");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "结论：档案有 {} 处问题，不可作为完整档案。",
            report.problems.len()
        );
        Ok(ExitCode::from(1))
    }
}

pub(super) async fn run(
    state: &AppState,
    actor: &Actor,
    command: CampaignCommand,
) -> anyhow::Result<()> {
    let db = &state.db;
    match command {
        CampaignCommand::Archive { code, out, .. } => {
            let (Some(code), Some(out)) = (code, out) else {
                anyhow::bail!("请给出 --code 活动代码 和 --out 文件.zip");
            };
            let started = std::time::Instant::now();
            let written = archive::write(db, &state.store, &code, &out, actor, state.clock.today())
                .await
                .map_err(report)?;
            let rows: u64 = written.rows.values().sum();
            println!(
                "已归档 {}：{} 个文件，{:.1} MB，用时 {:.1} 秒。",
                out.display(),
                written.entries,
                written.bytes as f64 / 1_048_576.0,
                started.elapsed().as_secs_f64()
            );
            println!(
                "  数据 {} 张表 {rows} 行；审计日志 {} 条；作品文件 {} 个；活动照片 {} 张。",
                written.rows.len(),
                written.audit_entries,
                written.work_files,
                written.photo_files
            );
            println!(
                "  档案摘要（manifest.json 的 SHA-256）：{}",
                written.manifest_sha256
            );
            println!("  压缩包 SHA-256：{}", written.zip_sha256);
            if !written.missing.is_empty() {
                eprintln!(
                    "注意：文件存储中缺少 {} 个文件，未能归档（已写入 README 和清单）：",
                    written.missing.len()
                );
                for m in written.missing.iter().take(20) {
                    eprintln!("  {m}");
                }
            }
        }
        CampaignCommand::Close { code } => {
            let archive = archive::close(db, &code, actor).await.map_err(report)?;
            println!(
                "活动 {code} 已结束并归档（档案 {}，摘要 {}）：此后只能查看，不能修改。",
                archive.file_name, archive.manifest_sha256
            );
        }
        CampaignCommand::Reopen { code, reason } => {
            archive::reopen(db, &code, &reason, actor)
                .await
                .map_err(report)?;
            println!("活动 {code} 已重新开放（原因已记入审计日志）。");
        }
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
