//! `wangju export`: the progress sheets of the whole campaign (statistics, allocation, the
//! circular as Excel or Word), the streamed activity list and the streamed recommendation
//! package.

use chrono::NaiveDate;

use super::{ExportCommand, report, write_out};
use crate::config::Settings;
use crate::db::Db;
use crate::db::orgs::Scope;

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
                let issuer = crate::service::papers::Issuer::city(db)
                    .await
                    .map_err(report)?;
                let store = crate::store::FileStore::from_settings(settings)?;
                let file =
                    crate::service::circular::circular_docx(db, &store, &p, &issuer, true, today)
                        .await
                        .map_err(report)?;
                let out = if out.is_dir() {
                    out.join(&file.name)
                } else {
                    out
                };
                write_out(Some(out.clone()), &file.bytes)?;
                println!("已导出 {}（Word 通报）。", out.display());
                return Ok(());
            }
            let which = crate::service::papers::Which::parse(&sheet).ok_or_else(|| {
                anyhow::anyhow!("不认识的表“{sheet}”：可选 progress、allocation、circular")
            })?;
            let issuer = crate::service::papers::Issuer::city(db)
                .await
                .map_err(report)?;
            let file = crate::service::papers::workbook(db, &p, which, &issuer, today)
                .await
                .map_err(report)?;
            // A folder gets the file under its proper name.
            let out = if out.is_dir() {
                out.join(&file.name)
            } else {
                out
            };
            write_out(Some(out.clone()), &file.bytes)?;
            println!("已导出 {}（{} 个单位）。", out.display(), p.rows.len());
        }
        ExportCommand::Summary { out } => {
            let acting = crate::service::summary::city_acting(db)
                .await
                .map_err(report)?;
            std::fs::create_dir_all(&out)?;
            let store = crate::store::FileStore::from_settings(settings)?;
            let files = crate::service::summary::export_files(
                db,
                &store,
                &acting,
                today,
                &settings.chart_font,
                &[true, false],
            )
            .await
            .map_err(report)?;
            for file in files {
                let path = out.join(&file.name);
                write_out(Some(path.clone()), &file.bytes)?;
                println!("已导出 {}（{} 字节）。", path.display(), file.bytes.len());
            }
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
        ExportCommand::Recommendation {
            out,
            sub_project,
            base_url,
        } => {
            use crate::service::recommendation::package;
            let base_url = base_url
                .or_else(|| (!settings.public_url.is_empty()).then(|| settings.public_url.clone()))
                .unwrap_or_else(|| format!("http://{}", settings.listen));
            let store = crate::store::FileStore::from_settings(settings)?;
            let code = sub_project.unwrap_or_default();
            let plan = package::plan(
                db,
                &store,
                code.trim(),
                base_url.trim_end_matches('/'),
                today,
            )
            .await
            .map_err(report)?;
            let out = if out.is_dir() {
                out.join(&plan.name)
            } else {
                out
            };
            let (works, file_bytes) = (plan.works, plan.file_bytes);
            let written = package::write_file(store, plan, &out)
                .await
                .map_err(report)?;
            println!(
                "已导出 {}（{works} 件作品，作品文件 {:.1} MB，压缩包 {:.1} MB）。",
                out.display(),
                file_bytes as f64 / 1_048_576.0,
                written as f64 / 1_048_576.0
            );
        }
    }
    Ok(())
}
