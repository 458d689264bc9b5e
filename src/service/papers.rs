//! The papers a union office hands upward, built from one progress snapshot: the statistics
//! sheet (统计表), the allocation table (任务分配表, Annex 1's layout) and the circular (情况通报)
//! as Excel. The same workbook comes from the page, the API and `wangju export`; its file name
//! says what it is, whose and as of when (`2020网聚-统计表-和平区总工会-20200915.xlsx`).
//!
//! Levels are kept apart: the first sheet holds the scope's top level only (for the city: the
//! district unions, then the bureau and group-company unions, in Annex 1's order), deeper
//! levels go on a second sheet grouped under their top unit with 小计, and no total ever adds a
//! unit to its own sub-units.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::db::Db;
use crate::domain::ids::OrgId;
use crate::domain::org::OrgKind;
use crate::error::{AppError, Doing};
use crate::office::sheet::{self, Cell, Column, Kind, Paper, Row, RowKind, Sheet};
use crate::service::acting::current_campaign;
use crate::service::progress::{Progress, ProgressRow};

/// Which paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// 统计表: every counter of every unit.
    Statistics,
    /// 任务分配表: Annex 1's layout, importable back.
    Allocation,
    /// 情况通报: the ranking and the 零报送 list.
    Circular,
}

impl Which {
    /// From the `sheet` parameter of the page, the API and the command line.
    pub fn parse(code: &str) -> Option<Which> {
        match code {
            "" | "progress" | "statistics" => Some(Which::Statistics),
            "allocation" => Some(Which::Allocation),
            "circular" => Some(Which::Circular),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Which::Statistics => "progress",
            Which::Allocation => "allocation",
            Which::Circular => "circular",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Which::Statistics => "统计表",
            Which::Allocation => "任务分配表",
            Which::Circular => "情况通报",
        }
    }
}

/// Whose paper it is.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// The issuing unit (填报单位), e.g. 天津市总工会 or 和平区总工会.
    pub name: String,
}

impl Issuer {
    /// The city's papers: issued by the campaign's city-union organiser.
    pub async fn city(db: &Db) -> Result<Issuer, AppError> {
        let campaign = current_campaign(db).await?;
        let name = campaign
            .campaign
            .organisers
            .iter()
            .find(|o| o.kind == OrgKind::CityUnion)
            .or(campaign.campaign.organisers.first())
            .map(|o| o.name.clone())
            .unwrap_or_else(|| "市总工会".to_string());
        Ok(Issuer { name })
    }
}

/// A finished file: its bytes and its names.
pub struct File {
    pub bytes: Vec<u8>,
    /// `2020网聚-统计表-和平区总工会-20200915.xlsx`.
    pub name: String,
    /// `wangju-2020-progress-20200915.xlsx`, for clients that cannot read RFC 6266's `filename*`.
    pub ascii_name: String,
}

/// `2020网聚-统计表-和平区总工会-20200915.xlsx` and its ASCII stand-in.
pub fn file_names(
    year: i32,
    which: Which,
    issuer: &str,
    as_of: NaiveDate,
    ext: &str,
) -> (String, String) {
    named_file(year, which.label_zh(), which.code(), issuer, as_of, ext)
}

/// Any paper's names: `{year}网聚-{label}-{unit}-{YYYYMMDD}.{ext}`, and
/// `wangju-{year}-{code}-{YYYYMMDD}.{ext}` for clients that cannot read `filename*`.
pub fn named_file(
    year: i32,
    label: &str,
    code: &str,
    issuer: &str,
    as_of: NaiveDate,
    ext: &str,
) -> (String, String) {
    let day = as_of.format("%Y%m%d");
    // Characters no file system takes are dropped from the unit's name.
    let unit: String = issuer
        .chars()
        .filter(|c| {
            !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') && !c.is_control()
        })
        .collect();
    (
        format!("{year}网聚-{label}-{unit}-{day}.{ext}"),
        format!("wangju-{year}-{code}-{day}.{ext}"),
    )
}

/// The campaign as a title line: 2020年“网聚职工正能量 争做中国好网民”主题活动.
pub fn campaign_line(year: i32, title: &str) -> String {
    format!("{year}年“{title}”主题活动")
}

/// The Excel workbook of `which` for the progress `p`, issued by `issuer` as of `as_of`.
pub async fn workbook(
    db: &Db,
    p: &Progress,
    which: Which,
    issuer: &Issuer,
    as_of: NaiveDate,
) -> Result<File, AppError> {
    let campaign = current_campaign(db).await?;
    let paper = Paper {
        campaign: campaign_line(campaign.campaign.year, &campaign.campaign.title),
        as_of,
        issuer: issuer.name.clone(),
    };
    let sheets = match which {
        Which::Statistics => {
            let mut sheets = statistics(p, &paper);
            let record =
                crate::service::lecture_team::lectures::record(db, &campaign, as_of).await?;
            sheets.push(team_sheet(
                &record,
                &campaign.campaign.lecture_team.name,
                &paper,
            ));
            sheets
        }
        Which::Allocation => allocation(p, &paper),
        Which::Circular => circular(p, &paper),
    };
    let bytes = sheet::write(&paper, &sheets).doing("writing the workbook")?;
    let (name, ascii_name) = file_names(campaign.campaign.year, which, &issuer.name, as_of, "xlsx");
    Ok(File {
        bytes,
        name,
        ascii_name,
    })
}

/// Districts first, then bureaus and group companies, then anything else.
fn level_order(r: &ProgressRow) -> u8 {
    if r.kind == OrgKind::DistrictUnion.label_zh() {
        0
    } else if r.kind == OrgKind::BureauGroup.label_zh() {
        1
    } else {
        2
    }
}

/// The scope's top units (whose parent is not in the table), in Annex 1's order: districts,
/// then bureaus and group companies, each in the quota table's order.
pub fn top_rows(p: &Progress) -> Vec<&ProgressRow> {
    let listed: std::collections::HashSet<OrgId> = p.rows.iter().map(|r| r.org_id).collect();
    let mut tops: Vec<&ProgressRow> = p
        .rows
        .iter()
        .filter(|r| r.parent_id.is_none_or(|id| !listed.contains(&id)))
        .collect();
    tops.sort_by_key(|r| (level_order(r), r.position.unwrap_or(i64::MAX), r.org_id));
    tops
}

/// Each listed unit's listed children, in quota-table order.
fn children(p: &Progress) -> HashMap<OrgId, Vec<&ProgressRow>> {
    let mut map: HashMap<OrgId, Vec<&ProgressRow>> = HashMap::new();
    let listed: std::collections::HashSet<OrgId> = p.rows.iter().map(|r| r.org_id).collect();
    for r in &p.rows {
        if let Some(parent) = r.parent_id.filter(|id| listed.contains(id)) {
            map.entry(parent).or_default().push(r);
        }
    }
    for list in map.values_mut() {
        list.sort_by_key(|r| (r.position.unwrap_or(i64::MAX), r.org_id));
    }
    map
}

/// Under `top`, every listed descendant in tree order with its depth below `top` (1 = child).
fn descendants<'a>(
    top: OrgId,
    kids: &HashMap<OrgId, Vec<&'a ProgressRow>>,
) -> Vec<(usize, &'a ProgressRow)> {
    let mut out = Vec::new();
    let mut stack: Vec<(usize, &ProgressRow)> = kids
        .get(&top)
        .map(|l| l.iter().rev().map(|r| (1, *r)).collect())
        .unwrap_or_default();
    while let Some((depth, r)) = stack.pop() {
        out.push((depth, r));
        if let Some(list) = kids.get(&r.org_id) {
            stack.extend(list.iter().rev().map(|c| (depth + 1, *c)));
        }
    }
    out
}

fn opt_int(n: Option<i64>) -> Cell {
    n.map_or(Cell::Empty, Cell::Int)
}

const RANK_NOTE: &str = "说明：完成率＝已确认线下活动数÷任务数，只计市总工会已确认的活动，单位的数字含其下级单位；名次在同级单位之间排列（区总工会之间、局和集团公司工会之间、同一上级的下级单位之间），完成率相同者名次并列。";

fn statistics_columns() -> Vec<Column> {
    vec![
        Column::new("序号", Kind::Ordinal),
        Column::new("单位", Kind::Text),
        Column::new("任务数", Kind::Count),
        Column::new("已计划", Kind::Count),
        Column::new("已报送", Kind::Count),
        Column::new("已确认", Kind::Count),
        Column::new("完成率", Kind::Ratio { num: 5, den: 2 }),
        Column::new("名次", Kind::Ordinal),
        Column::new("面对面接触职工（报告数）", Kind::Count),
        Column::new("扫码签到人数", Kind::Count),
        Column::new("动员基层工会", Kind::Count),
        Column::new("走进企业", Kind::Count),
        Column::new("新发展宣传员", Kind::Count),
        Column::new("在册宣传员", Kind::Count),
        Column::new("线上浏览量", Kind::Count),
        Column {
            title: "备注".into(),
            kind: Kind::Text,
            width: Some(30.0),
        },
    ]
}

fn remark(r: &ProgressRow) -> String {
    let mut parts = Vec::new();
    if r.zero_report {
        parts.push("零报送".to_string());
    }
    if r.quota_is_default {
        parts.push("最低任务数".to_string());
    }
    if let Some(q) = r.quota
        && r.children_quota > 0
    {
        if r.children_quota > q {
            parts.push(format!("下级分配{}场，多于本单位任务", r.children_quota));
        } else if r.children_quota < q {
            parts.push(format!("下级仅分配{}场，少于本单位任务", r.children_quota));
        }
    }
    parts.join("；")
}

fn statistics_row(seq: usize, indent: usize, r: &ProgressRow) -> Vec<Cell> {
    let c = &r.counts;
    vec![
        Cell::Int(seq as i64),
        Cell::text(format!("{}{}", "\u{3000}".repeat(indent), r.name)),
        opt_int(r.quota),
        Cell::Int(c.planned),
        Cell::Int(c.reported),
        Cell::Int(c.confirmed),
        r.completion.map_or(Cell::Empty, Cell::Ratio),
        opt_int(r.rank.map(|k| k as i64)),
        Cell::Int(c.participants),
        Cell::Int(c.verified),
        Cell::Int(c.grassroots_unions),
        Cell::Int(c.enterprises),
        Cell::Int(c.new_propagandists),
        Cell::Int(c.registered_propagandists),
        Cell::Int(c.online_views),
        Cell::text(remark(r)),
    ]
}

fn zero_note(p: &Progress) -> String {
    let zero: Vec<&str> = p
        .rows
        .iter()
        .filter(|r| r.zero_report)
        .map(|r| r.name.as_str())
        .collect();
    if zero.is_empty() {
        "零报送单位：无。".to_string()
    } else {
        format!("零报送单位（{} 个）：{}。", zero.len(), zero.join("、"))
    }
}

fn statistics(p: &Progress, paper: &Paper) -> Vec<Sheet> {
    let tops = top_rows(p);
    let kids = children(p);
    let issued = format!(
        "制表单位：{}　　制表日期：{}",
        paper.issuer,
        sheet::date_zh(paper.as_of)
    );
    let first = Sheet {
        name: "统计表".into(),
        title: "线下活动统计表".into(),
        columns: statistics_columns(),
        rows: tops
            .iter()
            .enumerate()
            .map(|(i, r)| Row::data(statistics_row(i + 1, 0, r)))
            .collect(),
        total: true,
        notes: vec![RANK_NOTE.into(), zero_note(p), issued.clone()],
    };
    let mut rows = Vec::new();
    for top in &tops {
        let below = descendants(top.org_id, &kids);
        if below.is_empty() {
            continue;
        }
        rows.push(Row {
            kind: RowKind::Group,
            cells: vec![Cell::text(format!(
                "{}（本单位任务 {} 场，已确认 {} 场）",
                top.name,
                top.quota.unwrap_or(0),
                top.counts.confirmed
            ))],
        });
        for (i, (depth, r)) in below.iter().enumerate() {
            rows.push(Row {
                kind: RowKind::Data {
                    counted: *depth == 1,
                },
                cells: statistics_row(i + 1, depth - 1, r),
            });
        }
        let mut label = vec![Cell::Empty; 2];
        label[1] = Cell::text(format!("{}下级单位小计", top.name));
        rows.push(Row {
            kind: RowKind::Subtotal,
            cells: label,
        });
    }
    let mut sheets = vec![first];
    if !rows.is_empty() {
        sheets.push(Sheet {
            name: "下级单位".into(),
            title: "线下活动统计表（下级单位）".into(),
            columns: statistics_columns(),
            rows,
            total: true,
            notes: vec![
                "说明：下级单位按所属单位分组；小计只加直属下级单位（其数字已含再下级单位），不把单位与其下级单位重复相加。名次在同一上级的下级单位之间排列。".into(),
                issued,
            ],
        });
    }
    sheets
}

/// The lecture team's record (宣讲团记录): members × 五进 venue types, each with the lectures,
/// the attendees who checked in and the audience the reports claim, and a 合计 row counted per
/// lecture (a lecture given by two members counts once, so it is not the sum of the rows).
pub fn team_sheet(
    record: &crate::service::lecture_team::lectures::Record,
    team: &str,
    paper: &Paper,
) -> Sheet {
    let mut columns = vec![
        Column::new("序号", Kind::Ordinal),
        Column::new("成员", Kind::Text),
        Column::new("类别", Kind::Text),
    ];
    // Narrow count columns whose headers wrap onto the header's two lines: 15 of them still
    // fit one landscape page wide at a legible size.
    let narrow = |title: String| Column {
        title,
        kind: Kind::Count,
        width: Some(9.0),
    };
    for v in &record.venues {
        columns.push(narrow(format!("{v}场次")));
        columns.push(narrow(format!("{v}签到人数")));
        columns.push(narrow(format!("{v}报告人数")));
    }
    columns.push(narrow("合计场次".into()));
    let cells = |c: &[(i64, i64, i64)]| -> Vec<Cell> {
        let mut out = Vec::new();
        for (n, checked, claimed) in c {
            out.extend([Cell::Int(*n), Cell::Int(*checked), Cell::Int(*claimed)]);
        }
        out.push(Cell::Int(c.iter().map(|x| x.0).sum()));
        out
    };
    let mut rows: Vec<Row> = record
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = vec![
                Cell::Int(i as i64 + 1),
                Cell::text(&r.name),
                Cell::text(if r.retired {
                    format!("{}（已退出）", r.category)
                } else {
                    r.category.clone()
                }),
            ];
            row.extend(cells(&r.cells));
            Row {
                kind: RowKind::Data { counted: false },
                cells: row,
            }
        })
        .collect();
    let mut total = vec![Cell::Empty, Cell::text("合计（按场次）"), Cell::Empty];
    total.extend(cells(&record.totals));
    rows.push(Row {
        kind: RowKind::Data { counted: false },
        cells: total,
    });
    let gaps = if record.gaps_this_month.is_empty() {
        format!("{}五进各方向均有宣讲安排。", record.month)
    } else {
        format!(
            "{}尚无宣讲：{}。",
            record.month,
            record.gaps_this_month.join("、")
        )
    };
    Sheet {
        name: "宣讲团记录".into(),
        title: format!("{team}宣讲记录"),
        columns,
        rows,
        total: false,
        notes: vec![
            "说明：只计讲师已确认、活动已经市总确认的宣讲；签到人数为扫码签到实数，报告人数为活动报告填报数。一场宣讲有几名讲师时每人各计一场，合计行按场次只计一次。".into(),
            gaps,
            format!(
                "制表单位：{}　　制表日期：{}",
                paper.issuer,
                sheet::date_zh(paper.as_of)
            ),
        ],
    }
}

/// Annex 1's three columns.
pub const ALLOCATION_HEADER: [&str; 3] = ["序号", "单位", "线下活动数量"];

fn allocation(p: &Progress, paper: &Paper) -> Vec<Sheet> {
    let tops: Vec<&ProgressRow> = top_rows(p)
        .into_iter()
        .filter(|r| r.quota.is_some())
        .collect();
    let kids = children(p);
    let columns = || {
        vec![
            Column::new(ALLOCATION_HEADER[0], Kind::Ordinal),
            Column::new(ALLOCATION_HEADER[1], Kind::Text),
            Column::new(ALLOCATION_HEADER[2], Kind::Count),
        ]
    };
    let issued = format!(
        "制表单位：{}　　制表日期：{}",
        paper.issuer,
        sheet::date_zh(paper.as_of)
    );
    let first = Sheet {
        name: "任务分配表".into(),
        title: "线下活动任务分配表".into(),
        columns: columns(),
        rows: tops
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Row::data(vec![
                    Cell::Int(i as i64 + 1),
                    Cell::text(&r.name),
                    opt_int(r.quota),
                ])
            })
            .collect(),
        total: true,
        notes: vec![
            "说明：本表可修改“线下活动数量”后在“活动进展”页导入；各局、集团公司工会不少于通知规定的最低数。".into(),
            issued.clone(),
        ],
    };
    let mut rows = Vec::new();
    for top in &tops {
        let below: Vec<(usize, &ProgressRow)> = descendants(top.org_id, &kids)
            .into_iter()
            .filter(|(_, r)| r.quota.is_some() && !r.quota_is_default)
            .collect();
        if below.is_empty() {
            continue;
        }
        let own = top.quota.unwrap_or(0);
        let split = if top.children_quota > own {
            format!("，下级合计 {} 场，多于本单位任务", top.children_quota)
        } else if top.children_quota < own {
            format!("，下级合计 {} 场，少于本单位任务", top.children_quota)
        } else {
            String::new()
        };
        rows.push(Row {
            kind: RowKind::Group,
            cells: vec![Cell::text(format!(
                "{}（本单位任务 {own} 场{split}）",
                top.name
            ))],
        });
        for (i, (depth, r)) in below.iter().enumerate() {
            rows.push(Row {
                kind: RowKind::Data {
                    counted: *depth == 1,
                },
                cells: vec![
                    Cell::Int(i as i64 + 1),
                    Cell::text(format!("{}{}", "\u{3000}".repeat(depth - 1), r.name)),
                    opt_int(r.quota),
                ],
            });
        }
        rows.push(Row {
            kind: RowKind::Subtotal,
            cells: vec![Cell::Empty, Cell::text("小计")],
        });
    }
    let mut sheets = vec![first];
    if !rows.is_empty() {
        sheets.push(Sheet {
            name: "下级单位分配".into(),
            title: "线下活动任务分配表（下级单位）".into(),
            columns: columns(),
            rows,
            total: false,
            notes: vec![
                "说明：各单位可把任务分给下级单位；下级合计多于本单位任务是允许的（提示），少于则标出。".into(),
                issued,
            ],
        });
    }
    sheets
}

/// The units a circular ranks: the scope's top units, or, when the scope is one unit, the
/// units directly under it. Grouped by whom they rank among, best first.
pub fn circular_units(p: &Progress) -> Vec<(String, Vec<&ProgressRow>)> {
    let tops = top_rows(p);
    let kids = children(p);
    let units: Vec<&ProgressRow> = match tops.as_slice() {
        [only] => kids.get(&only.org_id).cloned().unwrap_or_default(),
        _ => tops,
    };
    let mut groups: Vec<(String, Vec<&ProgressRow>)> = Vec::new();
    for r in units.into_iter().filter(|r| r.rank.is_some()) {
        match groups.iter_mut().find(|(among, _)| *among == r.rank_among) {
            Some((_, list)) => list.push(r),
            None => groups.push((r.rank_among.clone(), vec![r])),
        }
    }
    for (_, list) in &mut groups {
        list.sort_by_key(|r| (r.rank, r.position.unwrap_or(i64::MAX), r.org_id));
    }
    groups
}

fn circular(p: &Progress, paper: &Paper) -> Vec<Sheet> {
    let mut rows = Vec::new();
    for (among, list) in circular_units(p) {
        rows.push(Row {
            kind: RowKind::Group,
            cells: vec![Cell::text(format!("{among}（按完成率排名）"))],
        });
        for r in list {
            rows.push(Row::data(vec![
                opt_int(r.rank.map(|k| k as i64)),
                Cell::text(&r.name),
                opt_int(r.quota),
                Cell::Int(r.counts.confirmed),
                r.completion.map_or(Cell::Empty, Cell::Ratio),
                Cell::text(if r.zero_report { "零报送" } else { "" }),
            ]));
        }
    }
    vec![Sheet {
        name: "情况通报".into(),
        title: "线下活动任务完成情况通报".into(),
        columns: vec![
            Column::new("名次", Kind::Ordinal),
            Column::new("单位", Kind::Text),
            Column::new("任务数", Kind::Count),
            Column::new("已确认", Kind::Count),
            Column::new("完成率", Kind::Ratio { num: 3, den: 2 }),
            Column::new("备注", Kind::Text),
        ],
        rows,
        total: true,
        notes: vec![
            RANK_NOTE.into(),
            zero_note(p),
            format!(
                "制表单位：{}　　制表日期：{}",
                paper.issuer,
                sheet::date_zh(paper.as_of)
            ),
        ],
    }]
}
