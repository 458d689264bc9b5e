//! The works list as Excel, narrowed by the list's filter: one row per work with its
//! sub-project, authors, unit and 所属区, status and decision, and a link to its page. Read a
//! page at a time; authors' phones are never in it.

use chrono::NaiveDate;

use crate::db::Db;
use crate::db::works::ListFilter;
use crate::error::AppError;
use crate::office::sheet::{self, Cell, Column, Kind, Paper, Row, Sheet};
use crate::service::acting::{Acting, current_campaign};
use crate::service::activity_export::{district_names, district_path};
use crate::service::papers;

/// Most works one export holds (the whole national micro-video call fits); a larger list is
/// exported in parts by sub-project or unit.
pub const MAX_EXPORT_WORKS: i64 = 60_000;

/// Works read per query.
const CHUNK: i64 = 1_000;

/// The file: its bytes and (name, ASCII stand-in) such as `2020网聚-作品清单-天津市总工会-20200915.xlsx`.
pub struct WorksFile {
    pub bytes: Vec<u8>,
    pub name: String,
    pub ascii_name: String,
}

/// The works `filter` matches in the account's reach, issued by `issuer` on `today`, with
/// links on `base_url`.
pub async fn workbook(
    db: &Db,
    acting: &Acting,
    filter: &ListFilter,
    issuer: &str,
    today: NaiveDate,
    base_url: &str,
) -> Result<WorksFile, AppError> {
    let campaign = current_campaign(db).await?;
    let districts = district_names(db).await?;
    let projects: std::collections::HashMap<&str, &str> = campaign
        .campaign
        .sub_projects
        .iter()
        .map(|s| (s.code.as_str(), s.name.as_str()))
        .collect();
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    let mut total;
    loop {
        let page = super::page(db, acting, filter, cursor.as_deref(), CHUNK).await?;
        total = page.total;
        for w in page.items {
            if rows.len() as i64 >= MAX_EXPORT_WORKS {
                break;
            }
            let district = districts
                .get(district_path(&w.row.org_path))
                .cloned()
                .unwrap_or_default();
            rows.push(Row::data(vec![
                Cell::Int(rows.len() as i64 + 1),
                Cell::text(&w.row.title),
                Cell::text(
                    projects
                        .get(w.row.sub_project.as_str())
                        .copied()
                        .unwrap_or(w.row.sub_project.as_str()),
                ),
                Cell::text(w.authors.join("、")),
                Cell::text(&w.row.org_name),
                Cell::text(district),
                Cell::text(crate::clock::china_time_text(w.row.submitted_at)),
                Cell::text(w.status_label),
                Cell::text(w.row.decision_reason.clone().unwrap_or_default()),
                Cell::Link(format!("{base_url}/works/{}", w.row.id)),
            ]));
        }
        match page.next {
            Some(next) if (rows.len() as i64) < MAX_EXPORT_WORKS => cursor = Some(next),
            _ => break,
        }
    }
    let mut notes = Vec::new();
    if total > rows.len() as i64 {
        notes.push(format!(
            "符合条件的作品共 {total} 件，本表只含前 {MAX_EXPORT_WORKS} 件；请按子项目或单位分次导出。"
        ));
    }
    let sheet = Sheet {
        name: "作品清单".into(),
        title: "征集作品清单".into(),
        columns: vec![
            Column::new("序号", Kind::Ordinal),
            Column {
                width: Some(36.0),
                ..Column::new("作品名称", Kind::Text)
            },
            Column::new("子项目", Kind::Text),
            Column::new("作者", Kind::Text),
            Column::new("单位", Kind::Text),
            Column::new("所属区", Kind::Text),
            Column::new("提交时间", Kind::Text),
            Column::new("状态", Kind::Text),
            Column {
                width: Some(30.0),
                ..Column::new("审核意见", Kind::Text)
            },
            Column {
                width: Some(36.0),
                ..Column::new("作品链接", Kind::Text)
            },
        ],
        rows,
        total: false,
        notes,
    };
    let paper = Paper {
        campaign: papers::campaign_line(campaign.campaign.year, &campaign.campaign.title),
        as_of: today,
        issuer: issuer.to_string(),
    };
    let bytes =
        sheet::write(&paper, &[sheet]).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let (name, ascii_name) = papers::named_file(
        campaign.campaign.year,
        "作品清单",
        "works",
        issuer,
        today,
        "xlsx",
    );
    Ok(WorksFile {
        bytes,
        name,
        ascii_name,
    })
}
