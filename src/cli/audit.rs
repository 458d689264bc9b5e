//! `wangju audit verify`: checks the audit log's hash chain; exits 2 when an entry was edited
//! or deleted, so cron and monitoring notice.

use std::process::ExitCode;

use super::AuditCommand;
use crate::db::Db;
use crate::db::audit::{self, Verdict};

pub(super) async fn run(db: &Db, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify => match audit::verify(db).await? {
            Verdict::Intact { entries } => {
                println!("审计日志完整：共 {entries} 条，哈希链校验通过。")
            }
            Verdict::Broken { at_id, reason } => {
                eprintln!("审计日志已被篡改：{reason}（自第 {at_id} 条起）");
                return Ok(ExitCode::from(2));
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
