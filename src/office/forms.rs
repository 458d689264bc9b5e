//! The 推荐表 (recommendation form) as Word: one A4 page per recommended work in one document,
//! a titled, ruled form a clerk prints, signs and stamps — the work, its sub-project, authors
//! and contact, unit, link, the judging result, the description, why it is recommended, and
//! the recommending unit's opinion with room for the seal and date. Fonts and fallbacks as the
//! circular's (`office::word`).

use std::io::Cursor;

use docx_rs::{
    AlignmentType, BreakType, Docx, Footer, LineSpacing, LineSpacingType, PageMargin, PageNum,
    Paragraph, Run, Table, TableCell, TableRow, VAlignType, WidthType,
};

use super::word::{
    BODY_FONT, HEADING_FONT, SIZE_2, SIZE_4, SIZE_TABLE, TEXT_WIDTH, TITLE_FONT, borders, finish,
    fonts, run,
};

/// One work's form.
pub struct Form {
    /// 序号 within its sub-project's list.
    pub number: usize,
    pub sub_project: String,
    pub title: String,
    pub authors: String,
    pub phone: String,
    pub unit: String,
    pub link: String,
    /// E.g. 终评第 2 名，得分 86.50.
    pub judging: String,
    pub description: String,
    pub reason: String,
}

/// What every page says: the campaign line, the recommending unit and the date line.
pub struct Header<'a> {
    /// 2020年“网聚职工正能量 争做中国好网民”主题活动.
    pub campaign: &'a str,
    /// 天津市总工会.
    pub issuer: &'a str,
}

/// Longest description printed on a form (it must fit its page); the rest is cut and marked.
pub const MAX_DESCRIPTION_CHARS: usize = 400;

/// Label column and value columns, in twips: 标签 | 内容 | 标签 | 内容.
const LABEL: usize = 1700;
const SHORT_VALUE: usize = 2600;

fn label(s: &str) -> TableCell {
    let mut cell = TableCell::new()
        .width(LABEL, WidthType::Dxa)
        .vertical_align(VAlignType::Center);
    for line in s.split('\n') {
        cell = cell.add_paragraph(
            Paragraph::new()
                .add_run(run(line, HEADING_FONT, SIZE_TABLE))
                .align(AlignmentType::Center),
        );
    }
    cell
}

fn value(s: &str, width: usize, span: usize) -> TableCell {
    let mut cell = TableCell::new()
        .width(width, WidthType::Dxa)
        .vertical_align(VAlignType::Center);
    for line in s.split('\n') {
        cell = cell.add_paragraph(
            Paragraph::new()
                .add_run(run(line, BODY_FONT, SIZE_TABLE))
                .align(AlignmentType::Left),
        );
    }
    if span > 1 { cell.grid_span(span) } else { cell }
}

/// A row of a label and one value across the other three columns, `height` twips at least.
fn wide(l: &str, v: &str, height: Option<f32>) -> TableRow {
    let row = TableRow::new(vec![label(l), value(v, TEXT_WIDTH - LABEL, 3)]);
    match height {
        Some(h) => row.row_height(h).height_rule(docx_rs::HeightRule::AtLeast),
        None => row
            .row_height(560.0)
            .height_rule(docx_rs::HeightRule::AtLeast),
    }
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max).collect();
        s.push_str("……（全文见作品页）");
        s
    }
}

fn form_table(f: &Form) -> Table {
    let long_value = TEXT_WIDTH - LABEL * 2 - SHORT_VALUE;
    let opinion = TableCell::new()
        .width(TEXT_WIDTH - LABEL, WidthType::Dxa)
        .grid_span(3)
        .vertical_align(VAlignType::Bottom)
        .add_paragraph(Paragraph::new())
        .add_paragraph(Paragraph::new())
        .add_paragraph(
            Paragraph::new()
                .add_run(run("（盖章）", BODY_FONT, SIZE_TABLE))
                .align(AlignmentType::Right)
                .indent(None, None, Some(1200), None),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(run("年　　月　　日", BODY_FONT, SIZE_TABLE))
                .align(AlignmentType::Right)
                .indent(None, None, Some(600), None),
        );
    let rows = vec![
        wide("作品名称", &f.title, None),
        wide("征集项目", &f.sub_project, None),
        TableRow::new(vec![
            label("作　　者"),
            value(&f.authors, long_value, 1),
            label("联系电话"),
            value(&f.phone, SHORT_VALUE, 1),
        ])
        .row_height(560.0)
        .height_rule(docx_rs::HeightRule::AtLeast),
        wide("作者单位", &f.unit, None),
        wide("作品链接", &f.link, None),
        wide("评审情况", &f.judging, None),
        wide(
            "作品简介",
            &cut(&f.description, MAX_DESCRIPTION_CHARS),
            Some(3600.0),
        ),
        wide("推荐理由", &f.reason, Some(1400.0)),
        TableRow::new(vec![label("推荐单位\n意　　见"), opinion])
            .row_height(2000.0)
            .height_rule(docx_rs::HeightRule::AtLeast),
    ];
    Table::new(rows)
        .set_grid(vec![LABEL, long_value, LABEL, SHORT_VALUE])
        .width(TEXT_WIDTH, WidthType::Dxa)
        .set_borders(borders())
}

/// The forms as one .docx, a page each.
pub fn recommendation_docx(header: &Header<'_>, forms: &[Form]) -> Result<Vec<u8>, String> {
    let margin = PageMargin::new()
        .top(1440)
        .bottom(1300)
        .left(1588)
        .right(1474)
        .header(851)
        .footer(700);
    let footer = Footer::new().add_paragraph(
        Paragraph::new()
            .add_run(run("— ", "宋体", SIZE_4))
            .add_page_num(PageNum::new())
            .add_run(run(" —", "宋体", SIZE_4))
            .align(AlignmentType::Center),
    );
    let mut doc = Docx::new()
        .page_size(11906, 16838)
        .page_margin(margin)
        .default_fonts(fonts(BODY_FONT))
        .default_size(SIZE_TABLE)
        .footer(footer);
    for (i, f) in forms.iter().enumerate() {
        let mut title = Paragraph::new()
            .add_run(run(header.campaign, TITLE_FONT, SIZE_4))
            .align(AlignmentType::Center);
        if i > 0 {
            // Each form starts a page of its own.
            title = Paragraph::new()
                .add_run(Run::new().add_break(BreakType::Page))
                .add_run(run(header.campaign, TITLE_FONT, SIZE_4))
                .align(AlignmentType::Center);
        }
        doc = doc
            .add_paragraph(title)
            .add_paragraph(
                Paragraph::new()
                    .add_run(run("优秀作品推荐表", TITLE_FONT, SIZE_2))
                    .align(AlignmentType::Center)
                    .line_spacing(
                        LineSpacing::new()
                            .line_rule(LineSpacingType::Auto)
                            .before(120)
                            .after(240),
                    ),
            )
            .add_paragraph(
                Paragraph::new()
                    .add_run(run(
                        &format!(
                            "推荐单位：{}　　　　　　　　　　序号：{:02}",
                            header.issuer, f.number
                        ),
                        BODY_FONT,
                        SIZE_TABLE,
                    ))
                    .line_spacing(LineSpacing::new().after(120)),
            )
            .add_table(form_table(f));
    }
    if forms.is_empty() {
        doc = doc.add_paragraph(Paragraph::new().add_run(run(
            "推荐名单为空。",
            BODY_FONT,
            SIZE_TABLE,
        )));
    }
    let mut buf = Cursor::new(Vec::new());
    doc.build().pack(&mut buf).map_err(|e| e.to_string())?;
    finish(&buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn form(n: usize) -> Form {
        Form {
            number: n,
            sub_project: "网络正能量微视频征集".into(),
            title: format!("战疫日记{n}"),
            authors: "张三、李四".into(),
            phone: "13800000000".into(),
            unit: "和平区总工会".into(),
            link: "https://wangju.example/works/1".into(),
            judging: "终评第 1 名，得分 90.00".into(),
            description: "简介".repeat(300),
            reason: "经专家评审推荐".into(),
        }
    }

    #[test]
    fn one_page_per_work() {
        let bytes = recommendation_docx(
            &Header {
                campaign: "2020年“网聚职工正能量 争做中国好网民”主题活动",
                issuer: "天津市总工会",
            },
            &[form(1), form(2), form(3)],
        )
        .expect("docx");
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
        let mut xml = String::new();
        zip.by_name("word/document.xml")
            .expect("document.xml")
            .read_to_string(&mut xml)
            .expect("read");
        assert_eq!(xml.matches(r#"w:type="page""#).count(), 2);
        assert_eq!(xml.matches("优秀作品推荐表").count(), 3);
        assert!(xml.contains("战疫日记3") && xml.contains("（全文见作品页）"));
    }
}
