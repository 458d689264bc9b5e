//! `wangju reminders run`: one pass of the reminder job, as `serve` runs it every minute; safe
//! from cron on several nodes at once.

use chrono::NaiveDate;

use super::{RemindersCommand, report};
use crate::config::Settings;
use crate::db::Db;

pub(super) async fn run(
    db: &Db,
    settings: &Settings,
    today: NaiveDate,
    command: RemindersCommand,
) -> anyhow::Result<()> {
    match command {
        RemindersCommand::Run => {
            let r = crate::service::reminders::run_pass(db, today, settings.smtp.as_ref())
                .await
                .map_err(report)?;
            println!(
                "催报（{today}）：新建提醒 {} 条，发出邮件 {} 封，失败 {} 封（稍后重试），未发 {} 封。",
                r.created, r.mailed, r.failed, r.skipped
            );
        }
    }
    Ok(())
}
