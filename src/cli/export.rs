//! `wangju export`: the progress sheets of the whole campaign (statistics, allocation, the
//! circular as Excel or Word) and the streamed activity list.

use chrono::NaiveDate;

use super::{ExportCommand, report, write_out};
use crate::config::Settings;
use crate::db::Db;
use crate::db::orgs::Scope;
use crate::office::tabular;

pub(super) async fn run(
    db: &Db,
    settings: &Settings,
    today: NaiveDate,
    command: ExportCommand,
) -> anyhow::Result<()> {
    match command {
        ExportCommand::Progress { out, sheet } => {
            use crate::service::progress;
            let p = progress::progress(db, &Scope::everything())
                .await
                .map_err(report)?;
            let docx = out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("docx"));
            if docx && sheet != "circular" {
                anyhow::bail!(
                    "只有通报（--sheet circular）可以导出为 Word（.docx）；其他表请用 .xlsx"
                );
            }
            if docx {
                let bytes = crate::service::circular::circular_docx(db, &p, "全市", today)
                    .await
                    .map_err(report)?;
                write_out(Some(out.clone()), &bytes)?;
                println!("已导出 {}（Word 通报）。", out.display());
                return Ok(());
            }
            let bytes = match sheet.as_str() {
                "progress" => tabular::write_xlsx(
                    "统计表",
                    &progress::SHEET_HEADER,
                    &progress::sheet_rows(&p),
                ),
                "allocation" => tabular::write_xlsx(
                    "任务分配表",
                    &progress::ALLOCATION_HEADER,
                    &progress::allocation_rows(&p),
                ),
                "circular" => tabular::write_xlsx(
                    "通报",
                    &progress::CIRCULAR_HEADER,
                    &progress::circular_rows(&p),
                ),
                other => anyhow::bail!("不认识的表“{other}”：可选 progress、allocation、circular"),
            }
            .map_err(|m| anyhow::anyhow!(m))?;
            write_out(Some(out.clone()), &bytes)?;
            println!("已导出 {}（{} 个单位）。", out.display(), p.rows.len());
        }
        ExportCommand::Activities { out, base_url } => {
            let base_url = base_url.unwrap_or_else(|| format!("http://{}", settings.listen));
            let rows = crate::service::activity_export::write_xlsx(
                db,
                &Scope::everything(),
                &Default::default(),
                Some(base_url),
                &out,
            )
            .await
            .map_err(report)?;
            println!("已导出 {}（{rows} 个活动）。", out.display());
        }
    }
    Ok(())
}
