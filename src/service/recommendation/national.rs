//! National results (全国评选结果): the city imports the national list (Excel or CSV: the work by
//! number or title, and its award level — 一等奖, 二等奖, 三等奖, 优秀奖 or any level the list
//! names), all or nothing: every row must name a work accepted in this campaign, or nothing is
//! written and each bad row is named in Chinese. The header may sit under a title row and
//! use any of the usual names for its columns.

use std::collections::HashMap;

use serde_json::json;

use crate::clock::unix_now;
use crate::db::Db;
use crate::db::audit::{self, Event};
use crate::db::recommendation::{self as db, AcceptedWork, NationalResult};
use crate::domain::ids::{CampaignId, WorkId};
use crate::domain::recommendation::{MAX_RESULT_ROWS, award_level, award_order};
use crate::domain::role::Role;
use crate::error::{AppError, FieldError};
use crate::office::tabular::{MAX_HEAD_ROWS, Table};
use crate::service::acting::{Acting, current_campaign};

const ID_NAMES: [&str; 5] = ["作品编号", "编号", "作品id", "作品ID", "作品号"];
const TITLE_NAMES: [&str; 6] = ["作品名称", "作品", "作品标题", "名称", "标题", "作品名"];
const AWARD_NAMES: [&str; 8] = [
    "获奖等级",
    "奖项",
    "等级",
    "获奖情况",
    "奖次",
    "评选结果",
    "获奖",
    "奖项等级",
];
const UNIT_NAMES: [&str; 5] = ["单位", "作者单位", "推荐单位", "所在单位", "报送单位"];

fn normalised(cell: &str) -> String {
    cell.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '《' | '》' | '“' | '”' | '"'))
        .collect::<String>()
        .to_lowercase()
}

struct Layout {
    line: usize,
    id: Option<usize>,
    title: Option<usize>,
    award: usize,
    unit: Option<usize>,
}

/// The header row: the first within [`MAX_HEAD_ROWS`] naming an award column and a work
/// column (number or title).
fn layout(table: &Table) -> Result<Layout, FieldError> {
    for (line, cells) in table.lines().take(MAX_HEAD_ROWS) {
        let find = |names: &[&str]| {
            cells.iter().position(|c| {
                let c = normalised(c);
                names.iter().any(|n| normalised(n) == c)
            })
        };
        let (id, title, award, unit) = (
            find(&ID_NAMES),
            find(&TITLE_NAMES),
            find(&AWARD_NAMES),
            find(&UNIT_NAMES),
        );
        if let Some(award) = award
            && (id.is_some() || title.is_some())
        {
            return Ok(Layout {
                line,
                id,
                title,
                award,
                unit,
            });
        }
    }
    Err(FieldError::new(
        "表头",
        format!(
            "不认识这个表的格式：前 {MAX_HEAD_ROWS} 行中没有同时含“作品名称”（或“作品编号”）和“获奖等级”两列的表头行"
        ),
    ))
}

/// Works named by the file, matched and checked: (work, award) pairs, or every row's problem.
fn matched(
    table: &Table,
    works: &[AcceptedWork],
) -> Result<Vec<(WorkId, String, String)>, Vec<FieldError>> {
    let layout = layout(table).map_err(|e| vec![e])?;
    let by_id: HashMap<WorkId, &AcceptedWork> = works.iter().map(|w| (w.id, w)).collect();
    let mut by_title: HashMap<String, Vec<&AcceptedWork>> = HashMap::new();
    for w in works {
        by_title.entry(normalised(&w.title)).or_default().push(w);
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<WorkId, usize> = HashMap::new();
    let cell = |row: &[String], i: Option<usize>| {
        i.and_then(|i| row.get(i))
            .map(|c| c.trim().to_string())
            .unwrap_or_default()
    };
    let rows: Vec<(usize, &[String])> = table
        .lines()
        .filter(|(line, _)| *line > layout.line)
        .collect();
    if rows.len() > MAX_RESULT_ROWS {
        return Err(vec![FieldError::new(
            "文件",
            format!("一次最多导入 {MAX_RESULT_ROWS} 行结果"),
        )]);
    }
    for (line, row) in rows {
        let id_text = cell(row, layout.id);
        let title = cell(row, layout.title);
        let award_text = cell(row, Some(layout.award));
        if id_text.is_empty() && title.is_empty() && award_text.is_empty() {
            continue;
        }
        let field = format!("第 {line} 行");
        let named = if title.is_empty() {
            format!("编号 {id_text}")
        } else {
            format!("“{title}”")
        };
        let work = if !id_text.is_empty() {
            let id = id_text
                .trim_end_matches(".0")
                .parse::<i64>()
                .ok()
                .map(WorkId);
            match id.and_then(|id| by_id.get(&id)) {
                Some(w) => Some(*w),
                None => {
                    problems.push(FieldError::new(
                        &field,
                        format!("作品编号“{id_text}”不是本届活动中审核通过的作品"),
                    ));
                    continue;
                }
            }
        } else if !title.is_empty() {
            let mut found = by_title
                .get(&normalised(&title))
                .cloned()
                .unwrap_or_default();
            let unit = cell(row, layout.unit);
            if found.len() > 1 && !unit.is_empty() {
                found.retain(|w| normalised(&w.unit) == normalised(&unit));
            }
            match found.as_slice() {
                [w] => Some(*w),
                [] => {
                    problems.push(FieldError::new(
                        &field,
                        format!("作品{named}不是本届活动中审核通过的作品（请核对作品名称，或填写作品编号）"),
                    ));
                    continue;
                }
                many => {
                    problems.push(FieldError::new(
                        &field,
                        format!(
                            "有 {} 件作品名为{named}，请填写“作品编号”列以区分",
                            many.len()
                        ),
                    ));
                    continue;
                }
            }
        } else {
            problems.push(FieldError::new(&field, "没有填写作品名称或作品编号"));
            continue;
        };
        let Some(work) = work else { continue };
        let award = match award_level(&award_text) {
            Ok(a) => a,
            Err(m) => {
                problems.push(FieldError::new(&field, format!("作品{named}的{m}")));
                continue;
            }
        };
        if let Some(first) = seen.insert(work.id, line) {
            problems.push(FieldError::new(
                &field,
                format!("作品{named}在第 {first} 行已经出现过"),
            ));
            continue;
        }
        out.push((work.id, work.title.clone(), award));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if out.is_empty() {
        return Err(vec![FieldError::new("文件", "文件中没有获奖结果")]);
    }
    Ok(out)
}

/// Imports the national result list; returns how many works got a result.
pub async fn import(db_: &Db, acting: &Acting, table: &Table) -> Result<usize, AppError> {
    if acting.role != Role::CityAdmin {
        return Err(AppError::Forbidden);
    }
    let campaign = current_campaign(db_).await?;
    let id = CampaignId(campaign.id);
    let works = db::accepted(db_, id).await?;
    let results = matched(table, &works).map_err(AppError::Invalid)?;
    let at = unix_now();
    let mut tx = db_.begin().await?;
    for (work, _, award) in &results {
        db::upsert_result(&mut tx, id, *work, award, Some(acting.user_id), at).await?;
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "national_results.import",
            object_type: "campaign",
            object_id: campaign.id.to_string(),
            before: None,
            after: Some(json!({
                "count": results.len(),
                "results": results.iter().map(|(w, t, a)| json!({"work": w, "title": t, "award": a})).collect::<Vec<_>>(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(results.len())
}

/// The imported results, best level first (the city's page).
pub async fn results(db_: &Db, acting: &Acting) -> Result<Vec<NationalResult>, AppError> {
    if acting.role != Role::CityAdmin {
        return Err(AppError::Forbidden);
    }
    let campaign = current_campaign(db_).await?;
    let mut rows = db::results(db_, CampaignId(campaign.id)).await?;
    rows.sort_by_key(|r| (award_order(&r.award), r.sub_project.clone(), r.work_id));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[&str]]) -> Table {
        let mut lines: Vec<(usize, Vec<String>)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (i + 1, r.iter().map(|c| c.to_string()).collect()))
            .collect();
        let (header_line, header) = lines.remove(0);
        Table {
            header,
            header_line,
            rows: lines,
        }
    }

    fn works() -> Vec<AcceptedWork> {
        let w = |id, title: &str, unit: &str| AcceptedWork {
            id: WorkId(id),
            title: title.into(),
            unit: unit.into(),
            sub_project: "micro-video".into(),
        };
        vec![
            w(1, "战疫日记", "和平区总工会"),
            w(2, "匠心", "河西区总工会"),
            w(3, "匠心", "南开区总工会"),
        ]
    }

    #[test]
    fn a_title_row_and_header_variants_are_tolerated() {
        let t = table(&[
            &["2020年网络正能量微视频征集获奖名单", "", ""],
            &["序 号", "作品", "奖项", "推荐单位"],
            &["1", "《战疫日记》", "一等奖", ""],
            &["2", "匠心", "最佳创意奖", "南开区总工会"],
            &["", "", "", ""],
        ]);
        let got = matched(&t, &works()).expect("matched");
        assert_eq!(
            got.iter()
                .map(|(w, _, a)| (w.get(), a.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, "一等奖"), (3, "最佳创意奖")]
        );
    }

    #[test]
    fn unknown_ambiguous_and_repeated_works_are_named_by_row() {
        let t = table(&[
            &["作品名称", "获奖等级"],
            &["不存在的作品", "二等奖"],
            &["匠心", "三等奖"],
            &["战疫日记", "优秀奖"],
            &["战疫日记", "一等奖"],
            &["战疫日记", ""],
        ]);
        let errors = matched(&t, &works()).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["第 2 行", "第 3 行", "第 5 行", "第 6 行"]);
        assert!(errors[0].message.contains("不是本届活动中审核通过的作品"));
        assert!(errors[1].message.contains("作品编号"));
    }
}
