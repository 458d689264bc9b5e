//! Word documents out (.docx, via docx-rs): the circular (情况通报) as an official document in the
//! form of GB/T 9704-2012 as far as a generated document can go — A4 with the standard margins,
//! the issuing organs in red over a red line, the document number, the title in 方正小标宋简体,
//! the body in 仿宋_GB2312 3号 on a fixed 28-point line, headings in 黑体, the ranking table with
//! its header row repeated on every page, the 零报送 list, the issuing organs and date, and page
//! numbers (— 1 —) from a PAGE field in the footer.
//!
//! Fonts a machine lacks are named in the font table with their fallbacks (`w:altName`:
//! 仿宋_GB2312 → 仿宋, 方正小标宋简体 → 华文中宋, 楷体_GB2312 → 楷体), so Word and WPS pick a near
//! face rather than a Latin one. docx-rs writes neither `w:tblHeader` nor `w:altName`, so both are
//! added to its output parts before the file is zipped again.

use std::io::{Cursor, Read, Write};

use docx_rs::{
    AlignmentType, BorderType, Docx, Footer, LineSpacing, LineSpacingType, PageMargin, PageNum,
    Paragraph, ParagraphBorder, ParagraphBorderPosition, ParagraphBorders, Run, RunFonts,
    SpecialIndentType, Table, TableBorder, TableBorderPosition, TableBorders, TableCell, TableRow,
    VAlignType, WidthType,
};

/// What a circular holds.
pub struct Circular<'a> {
    /// The issuing organs, printed in red at the top and over the date at the end.
    pub organs: &'a [String],
    /// E.g. 津工宣通〔2020〕5号; empty leaves the line blank (above the red rule).
    pub doc_number: &'a str,
    /// E.g. 关于2020年“网聚职工正能量 争做中国好网民”主题活动线下活动开展情况的通报.
    pub title: &'a str,
    /// 主送机关, e.g. 各区总工会，各局、集团公司工会：
    pub addressees: &'a str,
    /// The first paragraph, written from the figures or as edited on the page.
    pub lead: &'a str,
    pub header: &'a [&'a str],
    /// Ranking tables, each under its heading (e.g. 区总工会).
    pub groups: &'a [(String, Vec<Vec<String>>)],
    pub zero_report: &'a [String],
    /// Typical activities (the best confirmed ones, each with a photo): a section of its own
    /// before the closing one; empty leaves it out.
    pub cases: &'a [CaseBlock],
    /// The closing paragraph (what units should do next).
    pub closing: &'a str,
    /// E.g. 2020年9月15日.
    pub date: &'a str,
}

/// A typical activity in a circular: its heading (unit and name), a line about it, its photo
/// (PNG bytes, width and height in pixels).
pub struct CaseBlock {
    pub heading: String,
    pub text: String,
    pub photo: Option<(Vec<u8>, u32, u32)>,
}

pub const BODY_FONT: &str = "仿宋_GB2312";
pub const TITLE_FONT: &str = "方正小标宋简体";
pub const HEADING_FONT: &str = "黑体";
pub const KAI_FONT: &str = "楷体_GB2312";
/// (font, fallback named in the font table).
pub const FALLBACKS: [(&str, &str); 3] = [
    (BODY_FONT, "仿宋"),
    (TITLE_FONT, "华文中宋"),
    (KAI_FONT, "楷体"),
];

/// Half-points: 3号 16 pt, 2号 22 pt, 4号 14 pt, 小四 12 pt.
pub(super) const SIZE_3: usize = 32;
pub(super) const SIZE_2: usize = 44;
pub(super) const SIZE_4: usize = 28;
pub(super) const SIZE_TABLE: usize = 24;
const RED: &str = "FF0000";
/// A 3号 character is 16 pt = 320 twips: the first line is indented by two.
const INDENT_2: i32 = 640;

pub(super) fn fonts(east_asia: &str) -> RunFonts {
    RunFonts::new()
        .east_asia(east_asia)
        .ascii("Times New Roman")
        .hi_ansi("Times New Roman")
}

pub(super) fn run(s: &str, font: &str, size: usize) -> Run {
    Run::new().add_text(s).size(size).fonts(fonts(font))
}

/// The title, its lines (split at `\n`, where the meaning breaks) kept in one paragraph.
pub(super) fn title_run(title: &str) -> Run {
    let mut r = Run::new().size(SIZE_2).fonts(fonts(TITLE_FONT));
    for (i, line) in title.split('\n').enumerate() {
        if i > 0 {
            r = r.add_break(docx_rs::BreakType::TextWrapping);
        }
        r = r.add_text(line);
    }
    r
}

/// The body's fixed 28-point line (22 lines a page).
fn exact_line() -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Exact)
        .line(560)
}

fn body(s: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(s, BODY_FONT, SIZE_3))
        .line_spacing(exact_line())
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(INDENT_2)),
            None,
            None,
        )
        .align(AlignmentType::Both)
}

fn heading(s: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(s, HEADING_FONT, SIZE_3))
        .line_spacing(exact_line())
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(INDENT_2)),
            None,
            None,
        )
        .keep_next(true)
}

fn cell(s: &str, header: bool, width: usize) -> TableCell {
    let font = if header { HEADING_FONT } else { BODY_FONT };
    TableCell::new()
        .width(width, WidthType::Dxa)
        .vertical_align(VAlignType::Center)
        .add_paragraph(
            Paragraph::new()
                .add_run(run(s, font, SIZE_TABLE))
                .align(AlignmentType::Center),
        )
}

/// The text block's width in twips (A4 less the left and right margins).
pub const TEXT_WIDTH: usize = 11906 - 1588 - 1474;

/// Column widths: a rate takes 1,500 twips ("1620.0%" on one line), other figures 1,000, and
/// the unit's name (the second column) what they leave.
fn column_widths(header: &[&str]) -> Vec<usize> {
    let fixed = |h: &str| if h.contains('率') { 1500 } else { 1000 };
    let others: usize = header
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, h)| fixed(h))
        .sum();
    header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i == 1 {
                TEXT_WIDTH.saturating_sub(others).max(1000)
            } else {
                fixed(h)
            }
        })
        .collect()
}

pub(super) fn borders() -> TableBorders {
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

/// The ranking table: the unit column takes what the figures leave.
fn ranking_table(header: &[&str], rows: &[Vec<String>]) -> Table {
    grid_table(header, rows, &column_widths(header))
}

/// A centred picture `width_twips` wide (at most the text block), its height in proportion.
fn picture(png: &[u8], width_px: u32, height_px: u32, width_twips: usize) -> Paragraph {
    let w = width_twips.min(TEXT_WIDTH) as u32;
    let h = if width_px == 0 {
        0
    } else {
        (u64::from(w) * u64::from(height_px) / u64::from(width_px)) as u32
    };
    let pic = docx_rs::Pic::new_with_dimensions(png.to_vec(), width_px, height_px)
        .size(w * EMU_PER_TWIP, h * EMU_PER_TWIP);
    Paragraph::new()
        .add_run(Run::new().add_image(pic))
        .align(AlignmentType::Center)
        .keep_next(true)
}

/// An A4 document in 公文 form: margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right
/// (GB/T 9704-2012, 5.2.1), the body font and size, page numbers (4号 半角宋体, one dash each
/// side, outside the text block).
fn page() -> Docx {
    let margin = PageMargin::new()
        .top(2098)
        .bottom(1984)
        .left(1588)
        .right(1474)
        .header(851)
        .footer(992);
    let footer = Footer::new().add_paragraph(
        Paragraph::new()
            .add_run(run("— ", "宋体", SIZE_4))
            .add_page_num(PageNum::new())
            .add_run(run(" —", "宋体", SIZE_4))
            .align(AlignmentType::Center),
    );
    Docx::new()
        .page_size(11906, 16838)
        .page_margin(margin)
        .default_fonts(fonts(BODY_FONT))
        .default_size(SIZE_3)
        .footer(footer)
}

/// One piece of a multi-section report (the campaign summary).
pub enum Block {
    /// 一、… in 黑体.
    Heading(String),
    /// （一）… in 楷体.
    Subheading(String),
    /// A body paragraph (split at `\n` into paragraphs).
    Body(String),
    /// A table: the header and its rows; widths in twips (empty: even columns).
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
        widths: Vec<usize>,
    },
    /// A PNG picture, `width_px` × `height_px`, set at `width_twips` wide (at most the text
    /// block), centred, with a caption under it.
    Image {
        png: Vec<u8>,
        width_px: u32,
        height_px: u32,
        width_twips: usize,
        caption: String,
    },
    PageBreak,
}

/// A report: title, a line under it (issuer and date, in 楷体), then its blocks; the date and
/// issuer again at the end.
pub struct Report<'a> {
    pub title: &'a str,
    pub subtitle: &'a str,
    pub blocks: &'a [Block],
    pub signature: &'a [String],
    pub date: &'a str,
}

/// Twips to EMU (1 twip = 635 EMU).
const EMU_PER_TWIP: u32 = 635;

/// A table with its header row marked (`cantSplit`) so that [`finish`] makes it repeat on
/// every page; `widths` in twips (evenly shared when they don't fit the header). Every row is
/// as wide as the header, or Word draws a ragged table.
fn grid_table<H: AsRef<str>>(header: &[H], rows: &[Vec<String>], widths: &[usize]) -> Table {
    let n = header.len().max(1);
    let widths: Vec<usize> = if widths.len() == n {
        widths.to_vec()
    } else {
        vec![TEXT_WIDTH / n; n]
    };
    let width = |i: usize| widths.get(i).copied().unwrap_or(1000);
    let head: Vec<TableCell> = header
        .iter()
        .enumerate()
        .map(|(i, h)| cell(h.as_ref(), true, width(i)))
        .collect();
    let mut table_rows = vec![TableRow::new(head).cant_split()];
    for r in rows {
        let cells: Vec<TableCell> = (0..n)
            .map(|i| cell(r.get(i).map_or("", String::as_str), false, width(i)))
            .collect();
        table_rows.push(TableRow::new(cells));
    }
    Table::new(table_rows)
        .set_grid(widths.clone())
        .width(widths.iter().sum(), WidthType::Dxa)
        .set_borders(borders())
}

/// The report as a .docx file.
pub fn report_docx(r: &Report<'_>) -> Result<Vec<u8>, String> {
    let mut doc = page();
    doc = doc
        .add_paragraph(Paragraph::new().line_spacing(exact_line()))
        .add_paragraph(
            Paragraph::new()
                .add_run(title_run(r.title))
                .align(AlignmentType::Center)
                .line_spacing(
                    LineSpacing::new()
                        .line_rule(LineSpacingType::Exact)
                        .line(700),
                ),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(run(r.subtitle, KAI_FONT, SIZE_3))
                .align(AlignmentType::Center)
                .line_spacing(exact_line()),
        )
        .add_paragraph(Paragraph::new().line_spacing(exact_line()));
    for block in r.blocks {
        doc = match block {
            Block::Heading(s) => doc.add_paragraph(heading(s)),
            Block::Subheading(s) => doc.add_paragraph(
                Paragraph::new()
                    .add_run(run(s, KAI_FONT, SIZE_3))
                    .line_spacing(exact_line())
                    .indent(
                        None,
                        Some(SpecialIndentType::FirstLine(INDENT_2)),
                        None,
                        None,
                    )
                    .keep_next(true),
            ),
            Block::Body(s) => {
                let mut d = doc;
                for p in s.split('\n').map(str::trim).filter(|p| !p.is_empty()) {
                    d = d.add_paragraph(body(p));
                }
                d
            }
            Block::Table {
                header,
                rows,
                widths,
            } => doc
                .add_table(grid_table(header, rows, widths))
                .add_paragraph(Paragraph::new()),
            Block::Image {
                png,
                width_px,
                height_px,
                width_twips,
                caption,
            } => {
                let w = (*width_twips).min(TEXT_WIDTH) as u32;
                let h = if *width_px == 0 {
                    0
                } else {
                    (u64::from(w) * u64::from(*height_px) / u64::from(*width_px)) as u32
                };
                let pic = docx_rs::Pic::new_with_dimensions(png.clone(), *width_px, *height_px)
                    .size(w * EMU_PER_TWIP, h * EMU_PER_TWIP);
                doc.add_paragraph(
                    Paragraph::new()
                        .add_run(Run::new().add_image(pic))
                        .align(AlignmentType::Center)
                        .keep_next(true),
                )
                .add_paragraph(
                    Paragraph::new()
                        .add_run(run(caption, KAI_FONT, SIZE_TABLE))
                        .align(AlignmentType::Center)
                        .line_spacing(LineSpacing::new().before(60).after(200)),
                )
            }
            Block::PageBreak => doc.add_paragraph(
                Paragraph::new().add_run(Run::new().add_break(docx_rs::BreakType::Page)),
            ),
        };
    }
    sign_and_pack(doc, r.signature, r.date)
}

/// The circular as a .docx file.
pub fn circular_docx(c: &Circular<'_>) -> Result<Vec<u8>, String> {
    // A4, margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right (GB/T 9704-2012, 5.2.1).
    let mut doc = page();
    // 版头: the organs in red, then the document number over a red rule.
    for organ in c.organs {
        doc = doc.add_paragraph(
            Paragraph::new()
                .add_run(run(organ, TITLE_FONT, 60).color(RED).character_spacing(40))
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().before(0).after(0)),
        );
    }
    let mut number = Paragraph::new()
        .add_run(run(c.doc_number, BODY_FONT, SIZE_3))
        .align(AlignmentType::Center)
        .line_spacing(LineSpacing::new().before(400).after(120));
    number.property = number.property.set_borders(
        ParagraphBorders::with_empty().set(
            ParagraphBorder::new(ParagraphBorderPosition::Bottom)
                .val(BorderType::Single)
                .size(18)
                .space(6)
                .color(RED),
        ),
    );
    doc = doc.add_paragraph(number).add_paragraph(Paragraph::new());
    // Title, 主送, the lead paragraph.
    doc = doc
        .add_paragraph(
            Paragraph::new()
                .add_run(title_run(c.title))
                .align(AlignmentType::Center)
                .line_spacing(
                    LineSpacing::new()
                        .line_rule(LineSpacingType::Exact)
                        .line(700),
                ),
        )
        .add_paragraph(Paragraph::new().line_spacing(exact_line()))
        .add_paragraph(
            Paragraph::new()
                .add_run(run(c.addressees, BODY_FONT, SIZE_3))
                .line_spacing(exact_line()),
        );
    for paragraph in c.lead.split('\n').map(str::trim).filter(|p| !p.is_empty()) {
        doc = doc.add_paragraph(body(paragraph));
    }
    doc = doc.add_paragraph(heading("一、各单位完成情况")).add_paragraph(body(
        "按市总工会已确认的线下活动数占任务数的比例（完成率）在同级单位之间排名，完成率相同者名次并列；单位的数字含其下级单位。",
    ));
    let chinese = ["（一）", "（二）", "（三）", "（四）", "（五）", "（六）"];
    if c.groups.is_empty() {
        doc = doc.add_paragraph(body("暂无设定任务的单位。"));
    }
    for (i, (among, rows)) in c.groups.iter().enumerate() {
        let label = format!("{}{among}", chinese.get(i).copied().unwrap_or(""));
        doc = doc
            .add_paragraph(
                Paragraph::new()
                    .add_run(run(&label, KAI_FONT, SIZE_3))
                    .line_spacing(exact_line())
                    .indent(
                        None,
                        Some(SpecialIndentType::FirstLine(INDENT_2)),
                        None,
                        None,
                    )
                    .keep_next(true),
            )
            .add_table(ranking_table(c.header, rows))
            .add_paragraph(Paragraph::new());
    }
    doc = doc.add_paragraph(heading("二、零报送单位"));
    let zero = if c.zero_report.is_empty() {
        "截至目前，没有零报送的单位。".to_string()
    } else {
        format!(
            "截至目前，以下{}个单位尚未报送线下活动：{}。请抓紧组织开展并及时报送。",
            c.zero_report.len(),
            c.zero_report.join("、")
        )
    };
    doc = doc.add_paragraph(body(&zero));
    let mut next = "三、下一步工作要求";
    if !c.cases.is_empty() {
        doc = doc.add_paragraph(heading("三、典型活动"));
        for (i, case) in c.cases.iter().enumerate() {
            doc = doc
                .add_paragraph(
                    Paragraph::new()
                        .add_run(run(
                            &format!("{}{}", chinese.get(i).copied().unwrap_or(""), case.heading),
                            KAI_FONT,
                            SIZE_3,
                        ))
                        .line_spacing(exact_line())
                        .indent(
                            None,
                            Some(SpecialIndentType::FirstLine(INDENT_2)),
                            None,
                            None,
                        )
                        .keep_next(true),
                )
                .add_paragraph(body(&case.text));
            if let Some((png, w, h)) = &case.photo {
                doc = doc.add_paragraph(picture(png, *w, *h, TEXT_WIDTH * 3 / 4));
            }
        }
        next = "四、下一步工作要求";
    }
    doc = doc.add_paragraph(heading(next));
    // The closing paragraph, the organs and the date stay on one page: the signature never
    // stands alone on a page of its own (GB/T 9704-2012, 7.3.5).
    doc = doc.add_paragraph(body(c.closing).keep_next(true).keep_lines(true));
    sign_and_pack(doc, c.organs, c.date)
}

/// Two blank lines, the issuing organs and the date on the right (kept with what precedes
/// them), then the packed file with `finish`'s additions.
fn sign_and_pack(mut doc: Docx, organs: &[String], date: &str) -> Result<Vec<u8>, String> {
    doc = doc
        .add_paragraph(Paragraph::new().line_spacing(exact_line()).keep_next(true))
        .add_paragraph(Paragraph::new().line_spacing(exact_line()).keep_next(true));
    let signature = organs.join("　　");
    for (i, line) in [signature.as_str(), date].into_iter().enumerate() {
        doc = doc.add_paragraph(
            Paragraph::new()
                .add_run(run(line, BODY_FONT, SIZE_3))
                .line_spacing(exact_line())
                .align(AlignmentType::Right)
                .indent(None, None, Some(INDENT_2 * 2), None)
                .keep_next(i == 0),
        );
    }
    let mut buf = Cursor::new(Vec::new());
    doc.build().pack(&mut buf).map_err(|e| e.to_string())?;
    finish(&buf.into_inner())
}

/// Adds what docx-rs cannot write: the repeated header row of each table (`w:tblHeader`, on the
/// rows marked `cantSplit`) and the fallback fonts in the font table (`w:altName`).
pub(super) fn finish(packed: &[u8]) -> Result<Vec<u8>, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(packed)).map_err(|e| e.to_string())?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut saw_fonts = false;
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    for name in names {
        let mut part = Vec::new();
        archive
            .by_name(&name)
            .map_err(|e| e.to_string())?
            .read_to_end(&mut part)
            .map_err(|e| e.to_string())?;
        let part = match name.as_str() {
            "word/document.xml" => String::from_utf8_lossy(&part)
                .replace("<w:cantSplit />", "<w:cantSplit /><w:tblHeader />")
                .into_bytes(),
            "word/fontTable.xml" => {
                saw_fonts = true;
                with_fallbacks(&String::from_utf8_lossy(&part)).into_bytes()
            }
            _ => part,
        };
        out.start_file(name.as_str(), options)
            .map_err(|e| e.to_string())?;
        out.write_all(&part).map_err(|e| e.to_string())?;
    }
    if !saw_fonts {
        return Err("docx-rs wrote no font table".into());
    }
    Ok(out.finish().map_err(|e| e.to_string())?.into_inner())
}

/// The font table with an entry for each Chinese font and its fallback.
fn with_fallbacks(table: &str) -> String {
    let mut entries = String::new();
    for (font, alt) in FALLBACKS.iter().chain([(HEADING_FONT, "SimHei")].iter()) {
        entries.push_str(&format!(
            r#"<w:font w:name="{font}"><w:altName w:val="{alt}" /><w:charset w:val="86" /><w:family w:val="modern" /><w:pitch w:val="fixed" /></w:font>"#
        ));
    }
    match table.rfind("</w:fonts>") {
        Some(end) => format!("{}{entries}{}", &table[..end], &table[end..]),
        None => table.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circular_has_its_header_row_repeated_and_its_fallback_fonts() {
        let groups = vec![(
            "区总工会".to_string(),
            vec![vec![
                "1".to_string(),
                "和平区总工会".to_string(),
                "6".to_string(),
                "3".to_string(),
                "50.0%".to_string(),
            ]],
        )];
        let zero = vec!["河东区总工会".to_string()];
        let organs = vec!["天津市总工会".to_string(), "中共天津市委网信办".to_string()];
        let bytes = circular_docx(&Circular {
            organs: &organs,
            doc_number: "津工宣通〔2020〕5号",
            title: "关于线下活动开展情况的通报",
            addressees: "各区总工会：",
            lead: "截至9月15日，全市工会系统共开展线下活动3场。",
            header: &["名次", "单位", "任务数", "已确认", "完成率"],
            groups: &groups,
            zero_report: &zero,
            cases: &[],
            closing: "请各单位抓紧推进。",
            date: "2020年9月15日",
        })
        .expect("docx");
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
        let mut xml = String::new();
        zip.by_name("word/document.xml")
            .expect("document.xml")
            .read_to_string(&mut xml)
            .expect("read");
        assert!(xml.contains("<w:tblHeader />"));
        assert!(xml.contains("和平区总工会") && xml.contains("河东区总工会"));
        let mut fonts = String::new();
        zip.by_name("word/fontTable.xml")
            .expect("fontTable.xml")
            .read_to_string(&mut fonts)
            .expect("read");
        assert!(fonts.contains(r#"w:name="仿宋_GB2312"><w:altName w:val="仿宋""#));
    }
}
