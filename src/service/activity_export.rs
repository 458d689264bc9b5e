//! The activity list as Excel, streamed: rows are read a page at a time (keyset paging) and
//! written through rust_xlsxwriter's constant-memory mode, which flushes each row to a temporary
//! file, so 100,000 activities take tens of MB, not gigabytes. Cells are strings or numbers,
//! never formulas: a name starting with `=` stays text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Url, Workbook};

use crate::db::Db;
use crate::db::activities::{self, ActivityRow, After, ListFilter};
use crate::db::orgs::Scope;
use crate::domain::activity::ActivityInput;
use crate::error::{AppError, Doing};
use crate::service::acting::current_campaign;

/// Rows fetched per page.
const PAGE: i64 = 1_000;

/// Excel opens at most 65,530 hyperlinks per sheet; later links are written as text.
const MAX_LINKS: usize = 65_530;

/// (header, width in Latin characters; a CJK character takes two).
pub const COLUMNS: [(&str, f64); 21] = [
    ("序号", 8.0),
    ("活动名称", 44.0),
    ("主办单位", 34.0),
    ("所属区", 24.0),
    ("活动时间", 18.0),
    ("活动地点", 30.0),
    ("活动方式", 12.0),
    ("活动内容", 30.0),
    ("协办单位", 20.0),
    ("状态", 24.0),
    ("面对面参与职工（报告数）", 26.0),
    ("扫码签到人数", 14.0),
    ("涉及基层工会数", 16.0),
    ("走进企业数", 12.0),
    ("新发展宣传员", 14.0),
    ("直播或发布平台", 16.0),
    ("直播或发布链接", 40.0),
    ("线上浏览量", 12.0),
    ("新闻报道", 50.0),
    ("退回原因", 30.0),
    ("详情链接", 40.0),
];

/// The path of the district (or bureau) a unit belongs to: the first two ids of its path
/// (`/1/5/23/` → `/1/5/`); the city union's own path for the city union.
pub fn district_path(path: &str) -> &str {
    let mut slashes = path.match_indices('/').map(|(i, _)| i);
    match slashes.nth(2) {
        Some(end) => &path[..=end],
        None => path,
    }
}

/// Names of the districts and bureaus (the units right under the city union), by path.
pub async fn district_names(db: &Db) -> Result<HashMap<String, String>, AppError> {
    Ok(crate::db::orgs::list(db, &Scope::everything(), None)
        .await?
        .into_iter()
        .filter(|o| district_path(&o.path) == o.path)
        .map(|o| (o.path, o.name))
        .collect())
}

/// Writes the activities in `scope` matching `filter` (current campaign) to `out` as .xlsx.
/// `base_url` (e.g. `https://wangju.example.org`) makes each row link to the activity's page.
/// Returns the rows.
pub async fn write_xlsx(
    db: &Db,
    scope: &Scope,
    filter: &ListFilter,
    base_url: Option<String>,
    out: &Path,
) -> Result<usize, AppError> {
    let campaign = current_campaign(db).await?;
    let districts = district_names(db).await?;
    // The workbook lives on a blocking thread; pages come to it over a short channel, so at most
    // a few pages are in memory at once.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<ActivityRow>>(2);
    let path: PathBuf = out.to_path_buf();
    let writer = tokio::task::spawn_blocking(move || -> Result<usize, String> {
        let mut sheet = Sheet::new(base_url, districts, &path)?;
        while let Some(page) = receiver.blocking_recv() {
            for row in page {
                sheet.row(row)?;
            }
        }
        sheet.save(&path)
    });
    let mut after: Option<After> = None;
    loop {
        let page = activities::list(db, scope, campaign.id, filter, after.as_ref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(After {
            starts_at: last.starts_at.clone(),
            id: last.id,
        });
        let full = page.len() as i64 == PAGE;
        if sender.send(page).await.is_err() || !full {
            break; // the writer stopped (its error comes below), or that was the last page
        }
    }
    drop(sender);
    writer
        .await
        .doing("writing the activity export off the async threads")?
        .doing("writing the activity export")
}

struct Sheet {
    workbook: Workbook,
    districts: HashMap<String, String>,
    base_url: Option<String>,
    next_row: u32,
    links: usize,
}

impl Sheet {
    fn new(
        base_url: Option<String>,
        districts: HashMap<String, String>,
        out: &Path,
    ) -> Result<Sheet, String> {
        let mut workbook = Workbook::new();
        // Worksheet rows are flushed to temporary files beside the output, not kept in memory.
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            workbook.set_tempdir(dir).map_err(|e| e.to_string())?;
        }
        let bold = Format::new().set_bold();
        let sheet = workbook.add_worksheet_with_constant_memory();
        sheet.set_name("线下活动").map_err(|e| e.to_string())?;
        for (c, (title, width)) in COLUMNS.iter().enumerate() {
            sheet
                .set_column_width(c as u16, *width)
                .map_err(|e| e.to_string())?;
            sheet
                .write_string_with_format(0, c as u16, *title, &bold)
                .map_err(|e| e.to_string())?;
        }
        sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
        Ok(Sheet {
            workbook,
            districts,
            base_url: base_url.map(|b| b.trim_end_matches('/').to_string()),
            next_row: 1,
            links: 0,
        })
    }

    fn row(&mut self, row: ActivityRow) -> Result<(), String> {
        let input: ActivityInput = serde_json::from_str(&row.document).unwrap_or_default();
        let r = self.next_row;
        self.next_row += 1;
        let status = row.status.label_zh();
        let detail = self
            .base_url
            .as_ref()
            .map(|b| format!("{b}/activities/{}", row.id));
        let mut links_left = MAX_LINKS.saturating_sub(self.links);
        let sheet = self
            .workbook
            .worksheet_from_index(0)
            .map_err(|e| e.to_string())?;
        let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
        let text = |sheet: &mut rust_xlsxwriter::Worksheet, c: u16, v: &str| {
            // Strings only: the writer never turns a cell into a formula. A stored text longer
            // than a cell holds is cut and marked, so the export never fails on stored data.
            let v =
                crate::domain::text::cut_for_export(v, crate::domain::text::limits::EXPORT_CELL);
            sheet.write_string(r, c, v.as_ref()).map(|_| ()).map_err(e)
        };
        let number = |sheet: &mut rust_xlsxwriter::Worksheet, c: u16, v: i64| {
            sheet.write_number(r, c, v as f64).map(|_| ()).map_err(e)
        };
        let mut used = 0;
        let mut link = |sheet: &mut rust_xlsxwriter::Worksheet, c: u16, v: &str| {
            let linkable = (v.starts_with("https://") || v.starts_with("http://"))
                && v.chars().count() <= 2_000
                && !v.chars().any(|ch| ch.is_whitespace() || ch.is_control());
            if linkable && links_left > 0 {
                links_left -= 1;
                used += 1;
                sheet
                    .write_url_with_text(r, c, Url::new(v), v)
                    .map(|_| ())
                    .map_err(e)
            } else {
                let v = crate::domain::text::cut_for_export(
                    v,
                    crate::domain::text::limits::EXPORT_CELL,
                );
                sheet.write_string(r, c, v.as_ref()).map(|_| ()).map_err(e)
            }
        };
        let district = self
            .districts
            .get(district_path(&row.org_path))
            .map_or("", String::as_str);
        number(sheet, 0, i64::from(r))?;
        text(sheet, 1, &row.name)?;
        text(sheet, 2, &row.org_name)?;
        text(sheet, 3, district)?;
        text(sheet, 4, &row.starts_at.replace('T', " "))?;
        text(sheet, 5, &input.place)?;
        text(sheet, 6, &input.format_label())?;
        text(sheet, 7, &input.categories.join("、"))?;
        text(sheet, 8, &input.co_organisers)?;
        text(sheet, 9, status)?;
        number(sheet, 10, row.participants)?;
        number(sheet, 11, row.verified)?;
        number(sheet, 12, row.grassroots_unions)?;
        number(sheet, 13, row.enterprises)?;
        number(sheet, 14, row.new_propagandists)?;
        text(sheet, 15, &input.online_platform)?;
        link(sheet, 16, input.online_link.trim())?;
        number(sheet, 17, row.online_views)?;
        text(sheet, 18, &input.news_links)?;
        text(sheet, 19, row.return_reason.as_deref().unwrap_or_default())?;
        if let Some(detail) = &detail {
            link(sheet, 20, detail)?;
        }
        self.links += used;
        Ok(())
    }

    fn save(mut self, out: &Path) -> Result<usize, String> {
        self.workbook.save(out).map_err(|e| e.to_string())?;
        Ok((self.next_row - 1) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_belongs_to_the_district_under_the_city() {
        assert_eq!(district_path("/1/5/23/"), "/1/5/");
        assert_eq!(district_path("/1/5/"), "/1/5/");
        assert_eq!(district_path("/1/"), "/1/");
    }

    #[test]
    fn headers_are_wide_enough_to_read() {
        for (title, width) in COLUMNS {
            let needed: f64 = title
                .chars()
                .map(|c| if (c as u32) < 0x2E80 { 1.0 } else { 2.0 })
                .sum();
            assert!(width >= needed, "{title}: {width} < {needed}");
        }
    }
}
