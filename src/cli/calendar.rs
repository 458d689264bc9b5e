//! `wangju calendar`: working days, and loading a year's holiday arrangement.

use anyhow::Context;

use super::{CalendarCommand, report, write_out};
use crate::db::Db;
use crate::db::audit::Actor;
use crate::domain::calendar::MAX_FILE_BYTES;
use crate::service::calendars;

pub(super) async fn run(db: &Db, actor: &Actor, command: CalendarCommand) -> anyhow::Result<()> {
    match command {
        CalendarCommand::Workdays { from, count } => {
            let calendar = calendars::current(db).await.map_err(report)?;
            let day = calendar
                .nth_workday(from, count)
                .map_err(|gap| anyhow::anyhow!("{gap}"))?;
            println!("{day}");
        }
        CalendarCommand::Import { file } => {
            let size = std::fs::metadata(&file)
                .with_context(|| format!("无法读取 {}", file.display()))?
                .len();
            if size > MAX_FILE_BYTES as u64 {
                anyhow::bail!(
                    "{} 有 {size} 字节，节假日文件最多 {MAX_FILE_BYTES} 字节",
                    file.display()
                );
            }
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("无法读取 {}（须为 UTF-8 文本）", file.display()))?;
            let year = calendars::import_toml(db, &source, actor)
                .await
                .map_err(report)?;
            println!("已导入 {year} 年节假日安排。");
        }
        CalendarCommand::Export { year, out } => {
            let text = calendars::export_toml(db, year).await.map_err(report)?;
            write_out(out, text.as_bytes())?;
        }
        CalendarCommand::List => {
            for year in calendars::current(db).await.map_err(report)?.years() {
                println!(
                    "{}\t{} 个假期\t{}",
                    year.year,
                    year.holidays.len(),
                    year.source
                );
            }
        }
    }
    Ok(())
}
