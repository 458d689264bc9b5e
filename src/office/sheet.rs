//! The papers a union office hands upward, as Excel: typed cells (counts are numbers, rates are
//! numbers shown as percentages, dates are dates), a title block naming the campaign, the sheet
//! and the date the figures stand at, a frozen header, column widths that fit Chinese, 小计 and
//! 合计 rows written as formulas with their values, A4 print setup (landscape when wide, the
//! header repeated on every page, fit to one page wide, page numbers) and the issuing unit.
//!
//! Text is only ever written as text, so a unit name starting with `=` never becomes a formula;
//! over-long text is cut and marked rather than failing the export.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError,
};

/// What a column holds, which decides its cell format and whether 小计/合计 add it up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    /// A count: a whole number, added up in 小计 and 合计.
    Count,
    /// A number that is not added up (序号, 名次).
    Ordinal,
    /// A rate shown as a percentage (0.0%); in 小计/合计 it is recomputed as the total of column
    /// `num` over the total of column `den`.
    Ratio {
        num: usize,
        den: usize,
    },
    Date,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub title: String,
    pub kind: Kind,
    /// Width in Excel's units (about one Latin character; a CJK character takes two). `None`:
    /// fitted to the content.
    pub width: Option<f64>,
}

impl Column {
    pub fn new(title: &str, kind: Kind) -> Column {
        Column {
            title: title.to_string(),
            kind,
            width: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// A ratio (0.5 shows as 50.0%).
    Ratio(f64),
    Date(NaiveDate),
    /// A score shown with two decimals (86.50); never added up.
    Score(f64),
    /// A web address written as a hyperlink (its text is the address).
    Link(String),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    /// A unit's row. `counted`: added into the 小计 above it, or the 合计 when the sheet has no
    /// 小计 (a sub-unit whose figures are already in its parent's row is not).
    Data { counted: bool },
    /// A heading over a group of rows (a district's name); its text spans the table.
    Group,
    /// Adds up the counted rows since the last group heading; the cells given are labels only.
    Subtotal,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub kind: RowKind,
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn data(cells: Vec<Cell>) -> Row {
        Row {
            kind: RowKind::Data { counted: true },
            cells,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Sheet {
    /// The tab's name (at most 31 characters, no `[]:*?/\`).
    pub name: String,
    /// The sheet's title under the campaign's name, e.g. 线下活动统计表.
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Ends the table with a 合计 row.
    pub total: bool,
    /// Lines under the table (说明, the 零报送 list, …).
    pub notes: Vec<String>,
}

/// What every sheet of a workbook says about itself.
#[derive(Debug, Clone)]
pub struct Paper {
    /// E.g. 2020年“网聚职工正能量 争做中国好网民”主题活动.
    pub campaign: String,
    /// The day the figures stand at (截至).
    pub as_of: NaiveDate,
    /// The issuing unit (填报单位), e.g. 天津市总工会.
    pub issuer: String,
}

/// Rows above the header: the title, then the issuing unit and the date.
pub const TITLE_ROWS: u32 = 2;
/// Longest text written into a cell; Excel's own limit is 32,767.
const MAX_CELL_CHARS: usize = 32_000;
const FONT: &str = "宋体";

/// 2020年9月15日.
pub fn date_zh(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// Width in Latin-character units: CJK and full-width characters count double.
pub fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) < 0x2E80 { 1 } else { 2 })
        .sum()
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_CELL_CHARS {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(MAX_CELL_CHARS).collect();
        s.push_str("…（内容过长，已截断）");
        s
    }
}

/// Column letters for a 0-based index: 0 → A, 27 → AB.
pub fn col_name(mut c: u16) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

struct Formats {
    title: Format,
    subtitle_left: Format,
    subtitle_right: Format,
    header: Format,
    text: Format,
    /// Text of several lines (a change list): wrapped, from the top.
    lines: Format,
    count: Format,
    ratio: Format,
    date: Format,
    score: Format,
    link: Format,
    group: Format,
    bold_text: Format,
    bold_count: Format,
    bold_ratio: Format,
    note: Format,
}

impl Formats {
    fn new() -> Formats {
        let base = Format::new().set_font_name(FONT).set_font_size(11);
        let cell = base
            .clone()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        let bold = cell.clone().set_bold().set_background_color("F2F2F2");
        Formats {
            title: base
                .clone()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_text_wrap(),
            subtitle_left: base.clone().set_align(FormatAlign::Left),
            subtitle_right: base.clone().set_align(FormatAlign::Right),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_background_color("D9E1F2"),
            text: cell.clone(),
            lines: cell.clone().set_text_wrap().set_align(FormatAlign::Top),
            count: cell.clone().set_num_format("#,##0"),
            ratio: cell.clone().set_num_format("0.0%"),
            date: cell.clone().set_num_format("yyyy\"年\"m\"月\"d\"日\""),
            score: cell.clone().set_num_format("0.00"),
            link: cell
                .clone()
                .set_font_color("0563C1")
                .set_underline(rust_xlsxwriter::FormatUnderline::Single),
            group: cell.clone().set_bold().set_background_color("EDEDED"),
            bold_text: bold.clone(),
            bold_count: bold.clone().set_num_format("#,##0"),
            bold_ratio: bold.set_num_format("0.0%"),
            note: base.set_text_wrap().set_align(FormatAlign::Top),
        }
    }
}

/// The workbook of `sheets`, each laid out as the module says.
pub fn write(paper: &Paper, sheets: &[Sheet]) -> Result<Vec<u8>, String> {
    let mut workbook = Workbook::new();
    let formats = Formats::new();
    for sheet in sheets {
        let ws = workbook.add_worksheet();
        write_sheet(ws, paper, sheet, &formats).map_err(|e| e.to_string())?;
    }
    workbook.save_to_buffer().map_err(|e| e.to_string())
}

fn write_sheet(
    ws: &mut Worksheet,
    paper: &Paper,
    sheet: &Sheet,
    f: &Formats,
) -> Result<(), XlsxError> {
    ws.set_name(&sheet.name)?;
    let ncols = sheet.columns.len().max(2) as u16;
    let last_col = ncols - 1;
    // Title block.
    let title = format!("{}{}", paper.campaign, sheet.title);
    span(ws, 0, 0, last_col, &title, &f.title)?;
    ws.set_row_height(0, 42)?;
    let split = (ncols / 2).max(1);
    let issuer = format!("填报单位：{}", paper.issuer);
    span(ws, 1, 0, split - 1, &issuer, &f.subtitle_left)?;
    let right = format!("截至{}", date_zh(paper.as_of));
    span(ws, 1, split, last_col, &right, &f.subtitle_right)?;
    // Header.
    let header_row = TITLE_ROWS;
    let mut widths: Vec<usize> = sheet
        .columns
        .iter()
        .map(|c| display_width(&c.title).min(16))
        .collect();
    for (c, column) in sheet.columns.iter().enumerate() {
        ws.write_string_with_format(header_row, c as u16, &column.title, &f.header)?;
    }
    ws.set_row_height(header_row, 32)?;
    // Rows.
    let first_data = header_row + 1;
    let mut r = first_data;
    let mut group_counted: Vec<u32> = Vec::new();
    let mut all_counted: Vec<u32> = Vec::new();
    let mut subtotals: Vec<u32> = Vec::new();
    for row in &sheet.rows {
        match &row.kind {
            RowKind::Group => {
                let label = match row.cells.first() {
                    Some(Cell::Text(t)) => cut(t),
                    _ => String::new(),
                };
                span(ws, r, 0, last_col, &label, &f.group)?;
                group_counted.clear();
            }
            RowKind::Data { counted } => {
                let mut lines = 1;
                for c in 0..sheet.columns.len() {
                    let cell = row.cells.get(c).unwrap_or(&Cell::Empty);
                    write_cell(ws, r, c as u16, cell, f, false)?;
                    if let Cell::Text(t) = cell
                        && let Some(w) = widths.get_mut(c)
                    {
                        // A cell of several lines is as wide as its longest line.
                        let longest = t.lines().map(display_width).max().unwrap_or(0);
                        *w = (*w).max(longest);
                        // Rows tall enough for the wrapped lines of a fixed-width column.
                        let room = sheet.columns[c].width.unwrap_or(48.0).max(12.0) - 2.0;
                        let wrapped: usize = t
                            .lines()
                            .map(|l| (display_width(l) as f64 / room).ceil().max(1.0) as usize)
                            .sum();
                        lines = lines.max(wrapped.min(40));
                    }
                }
                if lines > 1 {
                    ws.set_row_height(r, 15.0 * lines as f64)?;
                }
                if *counted {
                    group_counted.push(r);
                    all_counted.push(r);
                }
            }
            RowKind::Subtotal => {
                sum_row(ws, r, sheet, &row.cells, &group_counted, f)?;
                subtotals.push(r);
                group_counted.clear();
            }
        }
        r += 1;
    }
    if sheet.total {
        let label = sheet
            .columns
            .iter()
            .position(|c| c.kind == Kind::Text)
            .unwrap_or(0);
        let mut cells = vec![Cell::Empty; sheet.columns.len()];
        if let Some(slot) = cells.get_mut(label) {
            *slot = Cell::text("合计");
        }
        let over = if subtotals.is_empty() {
            &all_counted
        } else {
            &subtotals
        };
        sum_row(ws, r, sheet, &cells, over, f)?;
        r += 1;
    }
    let table_end = r.saturating_sub(1);
    // Notes under the table.
    r += 1;
    for note in &sheet.notes {
        let lines = note.chars().count() / 80 + 1;
        span(ws, r, 0, last_col, &cut(note), &f.note)?;
        ws.set_row_height(r, 15.0 * lines.min(20) as f64)?;
        r += 1;
    }
    // Widths: fitted to the content (CJK counted double), within reason.
    let mut total_width = 0.0;
    for (c, column) in sheet.columns.iter().enumerate() {
        let fitted = widths.get(c).copied().unwrap_or(8) as f64 + 2.0;
        let min = match column.kind {
            Kind::Text => 10.0,
            Kind::Date => 16.0,
            _ => 7.0,
        };
        let w = column.width.unwrap_or(fitted.clamp(min, 48.0));
        total_width += w;
        ws.set_column_width(c as u16, w)?;
    }
    // Freeze the title block and the header; print on A4.
    ws.set_freeze_panes(first_data, 0)?;
    ws.set_paper_size(9);
    if total_width > 95.0 {
        ws.set_landscape();
    } else {
        ws.set_portrait();
    }
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(header_row, header_row)?;
    ws.set_print_area(0, 0, r.max(table_end + 1), last_col)?;
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.5, 0.5, 0.6, 0.7, 0.3, 0.3);
    ws.set_footer("&C第 &P 页，共 &N 页");
    Ok(())
}

/// Text across columns `first..=last` of row `r` (merged when more than one).
fn span(
    ws: &mut Worksheet,
    r: u32,
    first: u16,
    last: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    if last > first {
        ws.merge_range(r, first, r, last, text, format)?;
    } else {
        ws.write_string_with_format(r, first, text, format)?;
    }
    Ok(())
}

fn write_cell(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    cell: &Cell,
    f: &Formats,
    bold: bool,
) -> Result<(), XlsxError> {
    let (text, count, ratio) = if bold {
        (&f.bold_text, &f.bold_count, &f.bold_ratio)
    } else {
        (&f.text, &f.count, &f.ratio)
    };
    match cell {
        Cell::Empty => {
            ws.write_blank(r, c, text)?;
        }
        Cell::Text(t) if !bold && t.contains('\n') => {
            ws.write_string_with_format(r, c, cut(t), &f.lines)?;
        }
        Cell::Text(t) => {
            ws.write_string_with_format(r, c, cut(t), text)?;
        }
        Cell::Int(n) => {
            ws.write_number_with_format(r, c, *n as f64, count)?;
        }
        Cell::Ratio(x) => {
            ws.write_number_with_format(r, c, *x, ratio)?;
        }
        Cell::Date(d) => {
            let day = ExcelDateTime::from_ymd(
                u16::try_from(d.year()).unwrap_or(1900),
                d.month() as u8,
                d.day() as u8,
            )?;
            ws.write_datetime_with_format(r, c, &day, &f.date)?;
        }
        Cell::Score(x) => {
            ws.write_number_with_format(r, c, *x, &f.score)?;
        }
        Cell::Link(url) => {
            // Only web addresses become links; anything else stays plain text.
            if (url.starts_with("http://") || url.starts_with("https://")) && url.len() < 2_000 {
                ws.write_url_with_format(r, c, url.as_str(), &f.link)?;
            } else {
                ws.write_string_with_format(r, c, cut(url), text)?;
            }
        }
    }
    Ok(())
}

/// A 小计 or 合计 row at `r`: counts added up over the rows `over` (as a formula, with its
/// value stored so readers that do not calculate see it), rates recomputed from the totals.
fn sum_row(
    ws: &mut Worksheet,
    r: u32,
    sheet: &Sheet,
    labels: &[Cell],
    over: &[u32],
    f: &Formats,
) -> Result<(), XlsxError> {
    for (c, column) in sheet.columns.iter().enumerate() {
        let col = col_name(c as u16);
        match column.kind {
            Kind::Count => {
                let value = subtotal_aware_sum(sheet, c, over);
                let formula = if over.is_empty() {
                    "=0".to_string()
                } else if is_contiguous(over) {
                    format!(
                        "=SUM({col}{}:{col}{})",
                        over[0] + 1,
                        over[over.len() - 1] + 1
                    )
                } else {
                    let cells: Vec<String> =
                        over.iter().map(|i| format!("{col}{}", i + 1)).collect();
                    format!("=SUM({})", cells.join(","))
                };
                if formula.len() < 8_000 {
                    ws.write_formula_with_format(
                        r,
                        c as u16,
                        Formula::new(formula).set_result(value.to_string()),
                        &f.bold_count,
                    )?;
                } else {
                    ws.write_number_with_format(r, c as u16, value as f64, &f.bold_count)?;
                }
            }
            Kind::Ratio { num, den } => {
                let n = subtotal_aware_sum(sheet, num, over);
                let d = subtotal_aware_sum(sheet, den, over);
                if d > 0 {
                    let value = n as f64 / d as f64;
                    let formula = format!(
                        "={}{row}/{}{row}",
                        col_name(num as u16),
                        col_name(den as u16),
                        row = r + 1
                    );
                    ws.write_formula_with_format(
                        r,
                        c as u16,
                        Formula::new(formula).set_result(value.to_string()),
                        &f.bold_ratio,
                    )?;
                } else {
                    ws.write_blank(r, c as u16, &f.bold_ratio)?;
                }
            }
            _ => {
                let cell = labels.get(c).unwrap_or(&Cell::Empty);
                write_cell(ws, r, c as u16, cell, f, true)?;
            }
        }
    }
    Ok(())
}

fn is_contiguous(rows: &[u32]) -> bool {
    rows.windows(2).all(|w| w[1] == w[0] + 1)
}

/// The sum of column `c` over worksheet rows `over`, where a row may be a 小计 (whose value is
/// the sum of the counted data rows of its group).
fn subtotal_aware_sum(sheet: &Sheet, c: usize, over: &[u32]) -> i64 {
    let mut sum = 0_i64;
    for r in over {
        let Some(i) = r.checked_sub(TITLE_ROWS + 1) else {
            continue;
        };
        let i = i as usize;
        match sheet.rows.get(i).map(|row| &row.kind) {
            Some(RowKind::Data { .. }) => {
                if let Some(Cell::Int(n)) = sheet.rows[i].cells.get(c) {
                    sum = sum.saturating_add(*n);
                }
            }
            Some(RowKind::Subtotal) => {
                // Counted data rows back to the group's heading.
                for row in sheet.rows[..i].iter().rev() {
                    match row.kind {
                        RowKind::Group | RowKind::Subtotal => break,
                        RowKind::Data { counted: true } => {
                            if let Some(Cell::Int(n)) = row.cells.get(c) {
                                sum = sum.saturating_add(*n);
                            }
                        }
                        RowKind::Data { counted: false } => {}
                    }
                }
            }
            _ => {}
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(25), "Z");
        assert_eq!(col_name(26), "AA");
        assert_eq!(col_name(27), "AB");
    }

    #[test]
    fn a_sheet_with_groups_and_totals_is_written() {
        let columns = vec![
            Column::new("单位", Kind::Text),
            Column::new("任务数", Kind::Count),
            Column::new("已确认", Kind::Count),
            Column::new("完成率", Kind::Ratio { num: 2, den: 1 }),
        ];
        let row = |n: &str, q: i64, c: i64| {
            Row::data(vec![
                Cell::text(n),
                Cell::Int(q),
                Cell::Int(c),
                Cell::Ratio(c as f64 / q as f64),
            ])
        };
        let sheet = Sheet {
            name: "表".into(),
            title: "测试".into(),
            columns,
            rows: vec![
                Row {
                    kind: RowKind::Group,
                    cells: vec![Cell::text("甲区")],
                },
                row("甲一", 3, 1),
                row("甲二", 3, 2),
                Row {
                    kind: RowKind::Subtotal,
                    cells: vec![Cell::text("小计")],
                },
            ],
            total: true,
            notes: vec!["说明".into()],
        };
        let paper = Paper {
            campaign: "2020年活动".into(),
            as_of: NaiveDate::from_ymd_opt(2020, 9, 15).unwrap_or_default(),
            issuer: "天津市总工会".into(),
        };
        let bytes = write(&paper, &[sheet]).unwrap_or_default();
        assert!(bytes.starts_with(b"PK"));
    }
}
