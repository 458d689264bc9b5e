//! Word documents out (.docx, via docx-rs): the circular (通报) — a title, its date and campaign,
//! a ranking table, and the units that reported nothing (零报送).
//!
//! Every run names an East Asian font (宋体 for text, 黑体 for headings) so Word and WPS show
//! the Chinese in the fonts a union office expects instead of falling back to a Latin one.

use docx_rs::{
    AlignmentType, BorderType, Docx, Paragraph, Run, RunFonts, Table, TableBorder,
    TableBorderPosition, TableBorders, TableCell, TableRow, WidthType,
};

/// What a circular holds; the rows are the same as the Excel circular's.
pub struct Circular<'a> {
    /// E.g. 线下活动任务完成情况通报.
    pub title: &'a str,
    /// E.g. 2020年“网聚职工正能量 争做中国好网民”主题活动.
    pub campaign: &'a str,
    /// E.g. 2020年9月8日.
    pub date: &'a str,
    /// Which part of the org tree it covers (e.g. 全市, or a district's name).
    pub scope: &'a str,
    pub header: &'a [&'a str],
    pub ranking: &'a [Vec<String>],
    pub zero_report: &'a [String],
}

const BODY_FONT: &str = "宋体";
const HEADING_FONT: &str = "黑体";

fn fonts(east_asia: &str) -> RunFonts {
    RunFonts::new()
        .east_asia(east_asia)
        .ascii("Times New Roman")
        .hi_ansi("Times New Roman")
}

/// A run in the body font; `size` in half-points (24 = 小四, 28 = 四号, 36 = 小二).
fn text(s: &str, size: usize) -> Run {
    Run::new().add_text(s).size(size).fonts(fonts(BODY_FONT))
}

fn heading(s: &str, size: usize) -> Run {
    Run::new()
        .add_text(s)
        .size(size)
        .bold()
        .fonts(fonts(HEADING_FONT))
}

fn cell(s: &str, bold: bool) -> TableCell {
    let run = if bold { heading(s, 22) } else { text(s, 22) };
    TableCell::new().add_paragraph(Paragraph::new().add_run(run).align(AlignmentType::Center))
}

fn borders() -> TableBorders {
    let mut b = TableBorders::new();
    for position in [
        TableBorderPosition::Top,
        TableBorderPosition::Left,
        TableBorderPosition::Bottom,
        TableBorderPosition::Right,
        TableBorderPosition::InsideH,
        TableBorderPosition::InsideV,
    ] {
        b = b.set(
            TableBorder::new(position)
                .border_type(BorderType::Single)
                .size(4),
        );
    }
    b
}

/// The circular as a .docx file.
pub fn circular_docx(c: &Circular<'_>) -> Result<Vec<u8>, String> {
    let mut doc = Docx::new()
        .default_fonts(fonts(BODY_FONT))
        .default_size(24)
        .add_paragraph(
            Paragraph::new()
                .add_run(heading(c.title, 36))
                .align(AlignmentType::Center),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(text(c.campaign, 24))
                .align(AlignmentType::Center),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(text(&format!("范围：{}　　日期：{}", c.scope, c.date), 24))
                .align(AlignmentType::Center),
        )
        .add_paragraph(Paragraph::new().add_run(heading("一、完成情况排名", 28)))
        .add_paragraph(Paragraph::new().add_run(text(
            "按已确认线下活动占任务数的比例排名，完成率相同者名次并列；只计市总已确认的活动，上级单位含其下级单位。",
            24,
        )));
    let mut rows = vec![TableRow::new(
        c.header.iter().map(|h| cell(h, true)).collect(),
    )];
    for r in c.ranking {
        let mut cells: Vec<TableCell> = r.iter().map(|v| cell(v, false)).collect();
        // Keep every row as wide as the header, or Word draws a ragged table.
        while cells.len() < c.header.len() {
            cells.push(cell("", false));
        }
        rows.push(TableRow::new(cells));
    }
    if c.ranking.is_empty() {
        let mut cells = vec![cell("—", false), cell("暂无设定任务的单位", false)];
        while cells.len() < c.header.len() {
            cells.push(cell("", false));
        }
        rows.push(TableRow::new(cells));
    }
    let table = Table::new(rows)
        .width(5000, WidthType::Pct)
        .set_borders(borders());
    doc = doc
        .add_table(table)
        .add_paragraph(Paragraph::new())
        .add_paragraph(Paragraph::new().add_run(heading("二、零报送单位", 28)));
    let zero = if c.zero_report.is_empty() {
        "无。".to_string()
    } else {
        format!(
            "以下 {} 个单位尚未报送任何线下活动：{}。",
            c.zero_report.len(),
            c.zero_report.join("、")
        )
    };
    doc = doc.add_paragraph(Paragraph::new().add_run(text(&zero, 24)));
    let mut buf = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut buf).map_err(|e| e.to_string())?;
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circular_is_a_zip_with_the_units_in_it() {
        let ranking = vec![vec![
            "1".to_string(),
            "和平区总工会".to_string(),
            "6".to_string(),
            "3".to_string(),
            "50%".to_string(),
        ]];
        let zero = vec!["河东区总工会".to_string()];
        let bytes = circular_docx(&Circular {
            title: "线下活动任务完成情况通报",
            campaign: "2020年主题活动",
            date: "2020年9月8日",
            scope: "全市",
            header: &["名次", "单位", "任务数", "已确认", "完成率"],
            ranking: &ranking,
            zero_report: &zero,
        })
        .expect("docx");
        assert!(bytes.starts_with(b"PK"));
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
        let mut xml = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("word/document.xml").expect("document.xml"),
            &mut xml,
        )
        .expect("read");
        assert!(xml.contains("和平区总工会"));
        assert!(xml.contains("河东区总工会"));
        assert!(xml.contains("宋体"));
    }
}
