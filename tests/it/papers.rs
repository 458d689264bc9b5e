//! The papers the city hands upward (issue 11), read back as a clerk's software reads them: the
//! workbooks with calamine (not the writer's own types), checking typed cells, the title block,
//! 合计 and 小计 rows against the rows above them, and rankings within each level; Annex 1
//! imported in the notice's own layout; file names.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wangju::db::audit::Actor;
use wangju::domain::role::Role;
use wangju::service::demo::{self, Scale};

use crate::harness::{Agent, TestApp, each_backend, each_backend_on};

async fn id_of(app: &TestApp, name: &str) -> i64 {
    wangju::db::orgs::find_by_name(&app.state.db, name)
        .await
        .ok()
        .flatten()
        .map_or(-1, |o| o.id.get())
}

async fn create_org(admin: &Agent, name: &str, kind: &str, parent: i64) -> i64 {
    let (s, body) = admin
        .send_json(
            Method::POST,
            "/api/v1/orgs",
            &json!({"name": name, "kind": kind, "parent_id": parent}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap_or_default()
}

/// A downloaded workbook: its file name (from `filename*`) and bytes.
pub async fn download(agent: &Agent, path: &str) -> (String, Vec<u8>) {
    let r = agent.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let disposition = r.headers()[reqwest::header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap_or_default()
        .to_string();
    let encoded = disposition
        .split("filename*=UTF-8''")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let name = percent_encoding::percent_decode_str(&encoded)
        .decode_utf8_lossy()
        .to_string();
    let bytes = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    (name, bytes)
}

/// Every sheet of a workbook as (name, grid of cells).
pub fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("a workbook");
    let names = book.sheet_names().to_vec();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).expect("sheet");
            assert_eq!(range.start(), Some((0, 0)), "the title starts at A1");
            let grid = range.rows().map(|r| r.to_vec()).collect();
            (name, grid)
        })
        .collect()
}

fn text(cell: Option<&Data>) -> String {
    match cell {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Empty) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn number(cell: Option<&Data>, what: &str) -> f64 {
    match cell {
        Some(Data::Float(f)) => *f,
        Some(Data::Int(i)) => *i as f64,
        other => panic!("{what}: expected a number cell, found {other:?}"),
    }
}

/// Checks that `ranks` (with their completion rates) form a competition ranking: 1 for the
/// best, ties sharing a rank, the next rank skipping as many places as shared it.
fn assert_competition_ranking(label: &str, mut ranked: Vec<(f64, f64)>) {
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (i, (rank, rate)) in ranked.iter().enumerate() {
        let better = ranked.iter().filter(|(_, r)| r > rate).count();
        assert_eq!(
            *rank as usize,
            better + 1,
            "{label}: place {i} ranked {rank} with {rate}"
        );
    }
    if let Some((first, _)) = ranked.first() {
        assert_eq!(*first, 1.0, "{label}: the best is 1");
    }
}

const COUNT_COLUMNS: [usize; 11] = [2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14];

/// A count cell that may be blank (a unit without a quota of its own): blank adds nothing.
fn count(cell: Option<&Data>) -> f64 {
    match cell {
        Some(Data::Empty) | None => 0.0,
        other => number(other, "a count"),
    }
}

#[tokio::test]
async fn statistics_sheets_are_typed_titled_totalled_and_ranked_within_levels() {
    let day = NaiveDate::from_ymd_opt(2020, 9, 15).expect("date");
    each_backend_on(day, |app| async move {
        demo::seed(&app.state.db, Scale::City, false, &Actor::cli())
            .await
            .expect("seed");
        let admin = app.admin().await;
        let (name, bytes) = download(&admin, "/progress/export?sheet=progress").await;
        assert_eq!(name, "2020网聚-统计表-天津市总工会-20200915.xlsx");
        let book = sheets(&bytes);
        let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["统计表", "下级单位", "宣讲团记录"]);
        // The API gives the same paper under the same name.
        let (api_name, api_bytes) =
            download(&admin, "/api/v1/progress/export?sheet=progress").await;
        assert_eq!(api_name, name);
        assert_eq!(sheets(&api_bytes), book);

        // Sheet 1: the Annex 1 level only.
        let grid = &book[0].1;
        let title = text(grid[0].first());
        assert!(
            title.contains("网聚职工正能量") && title.contains("线下活动统计表"),
            "{title}"
        );
        let second: String = grid[1].iter().map(|c| text(Some(c))).collect();
        assert!(second.contains("填报单位：天津市总工会"), "{second}");
        assert!(second.contains("截至2020年9月15日"), "{second}");
        assert_eq!(text(grid[2].get(1)), "单位");
        assert_eq!(text(grid[2].get(6)), "完成率");
        let total_at = grid
            .iter()
            .position(|r| text(r.get(1)) == "合计")
            .expect("a 合计 row");
        let data = &grid[3..total_at];
        let (_, progress) = admin.json("/api/v1/progress").await;
        let api: HashMap<String, &Value> = progress["rows"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| (r["name"].as_str().unwrap_or_default().to_string(), r))
                    .collect()
            })
            .unwrap_or_default();
        let kinds: Vec<String> = data
            .iter()
            .map(|r| {
                api[&text(r.get(1))]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        let districts = kinds.iter().filter(|k| *k == "区总工会").count();
        assert_eq!(districts, 16, "the 16 district unions");
        assert!(
            kinds[..16].iter().all(|k| k == "区总工会"),
            "districts first"
        );
        assert!(
            kinds[16..].iter().all(|k| k == "局、集团公司工会"),
            "then bureaus: {kinds:?}"
        );
        assert!(data.len() > 16, "the demo has bureaus and group companies");
        assert_eq!(
            text(data[0].get(1)),
            "滨海新区总工会",
            "in the notice's order"
        );
        // Numbers are numbers, rates are ratios; 合计 adds the rows above.
        for row in data {
            for c in COUNT_COLUMNS {
                number(row.get(c), "a count");
            }
            let rate = number(row.get(6), "completion");
            let expected = number(row.get(5), "confirmed") / number(row.get(2), "quota");
            assert!((rate - expected).abs() < 1e-9);
        }
        for c in COUNT_COLUMNS {
            let sum: f64 = data.iter().map(|r| number(r.get(c), "a count")).sum();
            assert_eq!(number(grid[total_at].get(c), "合计"), sum, "column {c}");
        }
        let district_quota: f64 = data[..16].iter().map(|r| number(r.get(2), "quota")).sum();
        assert_eq!(district_quota, 100.0, "Annex 1's districts");
        // Ranks: among districts, and among bureaus, the same as the API's.
        for (kind, label) in [("区总工会", "districts"), ("局、集团公司工会", "bureaus")]
        {
            let ranked: Vec<(f64, f64)> = data
                .iter()
                .filter(|r| api[&text(r.get(1))]["kind"] == kind)
                .map(|r| (number(r.get(7), "rank"), number(r.get(6), "rate")))
                .collect();
            for r in data.iter().filter(|r| api[&text(r.get(1))]["kind"] == kind) {
                assert_eq!(
                    api[&text(r.get(1))]["rank"].as_f64(),
                    Some(number(r.get(7), "rank"))
                );
            }
            assert_competition_ranking(label, ranked);
        }
        // Every unit in the API ranks among its own level only.
        let mut groups: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
        for r in progress["rows"].as_array().into_iter().flatten() {
            if let (Some(rank), Some(rate)) = (r["rank"].as_f64(), r["completion"].as_f64()) {
                groups
                    .entry(r["rank_among"].as_str().unwrap_or_default().to_string())
                    .or_default()
                    .push((rank, rate));
            }
        }
        assert!(groups.len() > 3, "{:?}", groups.keys());
        for (among, ranked) in groups {
            assert_competition_ranking(&among, ranked);
        }

        // Sheet 2: deeper levels under their unit, 小计 adding the direct sub-units only.
        let grid = &book[1].1;
        let mut subtotals = Vec::new();
        let mut group: Vec<&Vec<Data>> = Vec::new();
        let mut grand = None;
        for row in &grid[3..] {
            let label = text(row.get(1));
            let first = text(row.first());
            if label.ends_with("下级单位小计") {
                for c in COUNT_COLUMNS {
                    let sum: f64 = group
                        .iter()
                        .filter(|r| !text(r.get(1)).starts_with('\u{3000}'))
                        .map(|r| count(r.get(c)))
                        .sum();
                    assert_eq!(count(row.get(c)), sum, "{label} column {c}");
                }
                subtotals.push(row);
                group.clear();
            } else if label == "合计" {
                grand = Some(row);
                break;
            } else if !first.is_empty() && row.get(1).is_none_or(|c| matches!(c, Data::Empty)) {
                group.clear(); // a group's heading
            } else {
                group.push(row);
            }
        }
        assert!(subtotals.len() >= 16, "every district has sub-units");
        let grand = grand.expect("合计 on the second sheet");
        for c in COUNT_COLUMNS {
            let sum: f64 = subtotals.iter().map(|r| count(r.get(c))).sum();
            assert_eq!(count(grand.get(c)), sum);
        }

        // The workbook's styles carry the percentage and the print setup.
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes.clone())).expect("zip");
        let mut styles = String::new();
        zip.by_name("xl/styles.xml")
            .expect("styles")
            .read_to_string(&mut styles)
            .expect("read");
        assert!(styles.contains("0.0%"), "rates formatted as percentages");
        let mut sheet1 = String::new();
        zip.by_name("xl/worksheets/sheet1.xml")
            .expect("sheet1")
            .read_to_string(&mut sheet1)
            .expect("read");
        assert!(sheet1.contains("paperSize=\"9\"") && sheet1.contains("orientation=\"landscape\""));
        assert!(sheet1.contains("fitToWidth") || sheet1.contains("fitToPage=\"1\""));
        assert!(sheet1.contains("state=\"frozen\""));

        // A district's own export: itself on the first sheet, its units on the second.
        let heping = app
            .signed_in(&app.user(Role::UnitAdmin, "和平区总工会").await)
            .await;
        let (name, bytes) = download(&heping, "/progress/export").await;
        assert_eq!(name, "2020网聚-统计表-和平区总工会-20200915.xlsx");
        let book = sheets(&bytes);
        assert_eq!(text(book[0].1[3].get(1)), "和平区总工会");
        assert_eq!(text(book[0].1[4].get(1)), "合计");

        // The circular ranks the districts 1.. among themselves, best first.
        let (name, bytes) = download(&admin, "/progress/export?sheet=circular").await;
        assert_eq!(name, "2020网聚-情况通报-天津市总工会-20200915.xlsx");
        let book = sheets(&bytes);
        let grid = &book[0].1;
        let ranks: Vec<f64> = grid[3..]
            .iter()
            .skip(1) // the districts' heading
            .take(16)
            .map(|r| number(r.first(), "rank"))
            .collect();
        assert_eq!(ranks[0], 1.0);
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
        let notes: String = grid.iter().map(|r| text(r.first())).collect();
        assert!(notes.contains("零报送单位"));

        // The public Annex 1 table: the district level only, totalling 100.
        let (_, overview) = app.agent().json("/api/v1/campaign").await;
        assert_eq!(overview["quota_sum"], 100, "{}", overview["quotas"]);
        assert_eq!(overview["quotas"].as_array().map(Vec::len), Some(16));
    })
    .await;
}

/// Annex 1 as the notice publishes it: a title row, then 序号/单位/线下活动数量 twice side by side,
/// a 合计 line and a note.
fn annex_one() -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let left = [
        ("滨海新区总工会", 10),
        ("和平区总工会", 6),
        ("河东区总工会", 6),
        ("河西区总工会", 6),
        ("南开区总工会", 6),
        ("河北区总工会", 6),
        ("红桥区总工会", 6),
        ("东丽区总工会", 6),
    ];
    let right = [
        "西青区总工会",
        "津南区总工会",
        "北辰区总工会",
        "武清区总工会",
        "宝坻区总工会",
        "静海区总工会",
        "宁河区总工会",
        "蓟州区总工会",
    ];
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let mut put = |r: u32, c: u16, s: &str| {
        sheet.write_string(r, c, s).expect("cell");
    };
    put(0, 0, "附件1");
    put(
        1,
        0,
        "2020年“网聚职工正能量 争做中国好网民”主题活动“12351+”计划任务分配表",
    );
    for (c, h) in [
        "序号",
        "单位",
        "线下活动数量",
        "序号",
        "单位",
        "线下活动数量",
    ]
    .iter()
    .enumerate()
    {
        put(2, c as u16, h);
    }
    for (i, ((l, n), r)) in left.iter().zip(right).enumerate() {
        let row = 3 + i as u32;
        sheet.write_number(row, 0, i as f64 + 1.0).expect("n");
        sheet.write_string(row, 1, *l).expect("s");
        sheet.write_number(row, 2, *n as f64).expect("n");
        sheet.write_number(row, 3, i as f64 + 9.0).expect("n");
        sheet.write_string(row, 4, r).expect("s");
        sheet.write_number(row, 5, 6.0).expect("n");
    }
    sheet.write_string(11, 0, "合  计").expect("s");
    sheet.write_number(11, 2, 100.0).expect("n");
    sheet
        .write_string(12, 0, "注：各局集团公司工会组织开展不少于1场线下活动。")
        .expect("s");
    book.save_to_buffer().expect("xlsx")
}

async fn quotas_by_kind(admin: &Agent) -> (i64, Vec<i64>, Vec<(String, i64)>) {
    let (_, p) = admin.json("/api/v1/progress").await;
    let rows = p["rows"].as_array().cloned().unwrap_or_default();
    let districts: Vec<i64> = rows
        .iter()
        .filter(|r| r["kind"] == "区总工会")
        .map(|r| r["quota"].as_i64().unwrap_or_default())
        .collect();
    let bureaus = rows
        .iter()
        .filter(|r| r["kind"] == "局、集团公司工会")
        .map(|r| {
            (
                r["name"].as_str().unwrap_or_default().to_string(),
                r["quota"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    (districts.iter().sum(), districts, bureaus)
}

#[tokio::test]
async fn annex_one_imports_in_the_notices_layout_and_round_trips() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let city = id_of(&app, "天津市总工会").await;
        create_org(&admin, "天津港（集团）有限公司工会", "bureau_group", city).await;
        let heping = id_of(&app, "和平区总工会").await;
        let (s, _) = admin
            .send_json(
                Method::PUT,
                &format!("/api/v1/quotas/{heping}"),
                &json!({"min_activities": 9}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(quotas_by_kind(&admin).await.0, 103);
        // The audit log names the unit, not its number.
        let (_, log) = admin.text("/audit").await;
        assert!(log.contains("单位 和平区总工会"), "the unit by name");

        // The notice's own Annex 1.
        let r = admin
            .upload("/quotas/import", "附件1.xlsx", annex_one())
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap_or_default();
        assert!(
            html.contains("设置了 16 个单位"),
            "the page says so at once"
        );
        let (sum, districts, bureaus) = quotas_by_kind(&admin).await;
        assert_eq!(sum, 100);
        assert_eq!(districts.len(), 16);
        assert_eq!(bureaus, vec![("天津港（集团）有限公司工会".to_string(), 1)]);

        // The exported allocation sheet comes back in unchanged.
        let (name, bytes) = download(&admin, "/progress/export?sheet=allocation").await;
        assert!(
            name.starts_with("2020网聚-任务分配表-天津市总工会-"),
            "{name}"
        );
        let book = sheets(&bytes);
        let grid = &book[0].1;
        assert_eq!(text(grid[2].get(2)), "线下活动数量");
        let total = grid
            .iter()
            .find(|r| text(r.get(1)) == "合计")
            .expect("合计");
        assert_eq!(
            number(total.get(2), "合计"),
            101.0,
            "16 districts and the port"
        );
        let r = admin.upload("/quotas/import", "back.xlsx", bytes).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(quotas_by_kind(&admin).await.0, 100);

        // An unknown layout is refused with where and what, and nothing is written.
        let before = app.count("quotas").await;
        let csv = "名称,场次\n和平区总工会,7\n";
        let r = admin
            .upload("/quotas/import", "x.csv", csv.as_bytes().to_vec())
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap_or_default();
        assert!(
            html.contains("第 1 行") && html.contains("A列“名称”"),
            "{html}"
        );
        assert!(html.contains("线下活动数量"));
        let bad = "单位,线下活动数量\n和平区总工会,七\n";
        let r = admin
            .upload("/quotas/import", "x.csv", bad.as_bytes().to_vec())
            .await;
        assert!(
            r.text()
                .await
                .unwrap_or_default()
                .contains("第 2 行 B 列（线下活动数量）")
        );
        assert_eq!(app.count("quotas").await, before);

        // Handing sub-units more than one's own quota is allowed, and warned.
        let binhai = id_of(&app, "滨海新区总工会").await;
        create_org(&admin, "天津港保税区总工会", "intermediate_union", binhai).await;
        create_org(&admin, "东疆综合保税区总工会", "intermediate_union", binhai).await;
        let unit = app
            .signed_in(&app.user(Role::UnitAdmin, "滨海新区总工会").await)
            .await;
        let more = "单位,线下活动数量\n天津港保税区总工会,6\n东疆综合保税区总工会,6\n";
        let r = unit
            .upload("/quotas/import", "more.csv", more.as_bytes().to_vec())
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap_or_default();
        assert!(
            html.contains("合计分配 12 场，多于其本身的任务 10 场"),
            "warned"
        );
        // The public table still holds Annex 1 only.
        let (_, overview) = app.agent().json("/api/v1/campaign").await;
        assert_eq!(overview["quota_sum"], 100);
    })
    .await;
}

/// A paragraph of a .docx as read back: its text and the East Asian font and size of its runs.
#[derive(Debug, Default)]
struct Para {
    text: String,
    fonts: Vec<String>,
    sizes: Vec<String>,
}

/// What a .docx says, parsed from its XML parts (not the writer's input).
#[derive(Debug, Default)]
struct Docx {
    paragraphs: Vec<Para>,
    /// Per table: whether each row is a repeated header row.
    tables: Vec<Vec<bool>>,
    footer_fields: Vec<String>,
    font_fallbacks: Vec<(String, String)>,
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("a zip");
    let mut xml = String::new();
    if let Ok(mut f) = zip.by_name(name) {
        f.read_to_string(&mut xml).expect("read");
    }
    xml
}

fn attr(e: &quick_xml::events::BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .map(|a| String::from_utf8_lossy(&a.value).to_string())
}

fn read_docx(bytes: &[u8]) -> Docx {
    use quick_xml::events::Event;
    let mut out = Docx::default();
    let xml = part(bytes, "word/document.xml");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut para: Option<Para> = None;
    let mut in_text = false;
    let mut depth_tables = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => match e.name().as_ref() {
                b"w:p" => para = Some(Para::default()),
                b"w:t" => in_text = true,
                b"w:rFonts" => {
                    if let (Some(p), Some(f)) = (para.as_mut(), attr(&e, b"w:eastAsia")) {
                        p.fonts.push(f);
                    }
                }
                b"w:sz" => {
                    if let (Some(p), Some(v)) = (para.as_mut(), attr(&e, b"w:val")) {
                        p.sizes.push(v);
                    }
                }
                b"w:tbl" => {
                    depth_tables += 1;
                    out.tables.push(Vec::new());
                }
                b"w:tr" => {
                    if let Some(t) = out.tables.last_mut() {
                        t.push(false);
                    }
                }
                b"w:tblHeader" => {
                    if let Some(last) = out.tables.last_mut().and_then(|t| t.last_mut()) {
                        *last = true;
                    }
                }
                _ => {}
            },
            Ok(Event::Text(t)) if in_text => {
                if let Some(p) = para.as_mut() {
                    p.text.push_str(&t.unescape().unwrap_or_default());
                }
            }
            Ok(Event::End(e)) => match e.name().as_ref() {
                b"w:t" => in_text = false,
                b"w:p" => {
                    if let Some(p) = para.take() {
                        out.paragraphs.push(p);
                    }
                }
                b"w:tbl" => depth_tables -= 1,
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    assert_eq!(depth_tables, 0);
    for name in ["word/footer1.xml", "word/footer.xml"] {
        let footer = part(bytes, name);
        let mut reader = quick_xml::Reader::from_str(&footer);
        let mut in_instr = false;
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) if e.name().as_ref() == b"w:instrText" => in_instr = true,
                Ok(Event::Text(t)) if in_instr => {
                    out.footer_fields
                        .push(t.unescape().unwrap_or_default().trim().to_string());
                    in_instr = false;
                }
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
        }
    }
    let fonts = part(bytes, "word/fontTable.xml");
    let mut reader = quick_xml::Reader::from_str(&fonts);
    let mut font = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => match e.name().as_ref() {
                b"w:font" => font = attr(&e, b"w:name").unwrap_or_default(),
                b"w:altName" => out
                    .font_fallbacks
                    .push((font.clone(), attr(&e, b"w:val").unwrap_or_default())),
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// Renders a file to PNG pages with LibreOffice and pdftoppm when both are installed (the test
/// does not depend on them), into `target/papers/`, and prints where.
pub fn render(name: &str, bytes: &[u8]) {
    let have = |tool: &str| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("soffice") || !have("pdftoppm") {
        println!("LibreOffice or pdftoppm not installed: {name} not rendered");
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/papers");
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join(name);
    if std::fs::write(&file, bytes).is_err() {
        return;
    }
    let profile = tempfile::tempdir().expect("profile");
    let converted = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.path().display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&dir)
        .arg(&file)
        .output();
    let pdf = file.with_extension("pdf");
    if converted.is_err() || !pdf.exists() {
        println!("LibreOffice could not convert {name}");
        return;
    }
    let stem = file.with_extension("");
    let _ = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60"])
        .arg(&pdf)
        .arg(&stem)
        .output();
    println!("rendered {name}: {}-*.png", stem.display());
}

#[tokio::test]
async fn the_circular_is_an_official_document_with_the_figures() {
    let day = NaiveDate::from_ymd_opt(2020, 9, 15).expect("date");
    each_backend_on(day, |app| async move {
        demo::seed(&app.state.db, Scale::City, false, &Actor::cli())
            .await
            .expect("seed");
        let admin = app.admin().await;
        let (_, p) = admin.json("/api/v1/progress").await;
        let t = &p["totals"];
        let confirmed = t["confirmed"].as_i64().unwrap_or_default();
        let quota = p["total_quota"].as_i64().unwrap_or_default();
        let participants = t["participants"].as_i64().unwrap_or_default();
        let (name, bytes) = download(&admin, "/progress/circular.docx").await;
        assert_eq!(name, "2020网聚-情况通报-天津市总工会-20200915.docx");
        let doc = read_docx(&bytes);
        let find = |needle: &str| {
            doc.paragraphs
                .iter()
                .find(|p| p.text.contains(needle))
                .unwrap_or_else(|| panic!("no paragraph with {needle}"))
        };
        // The red header: both organs, in the title font.
        let organ = find("中共天津市委网信办");
        assert!(organ.fonts.iter().all(|f| f == "方正小标宋简体"));
        let title = find("线下活动开展情况的通报");
        assert!(
            title.fonts.iter().all(|f| f == "方正小标宋简体"),
            "{title:?}"
        );
        assert!(title.sizes.iter().all(|s| s == "44"), "2号");
        // The first paragraph, written from the figures.
        let lead = find("截至9月15日，全市工会系统共开展线下活动");
        let rate = format!("{:.1}%", confirmed as f64 * 100.0 / quota as f64);
        for figure in [
            format!("共开展线下活动{confirmed}场"),
            format!("完成任务数（{quota}场）的{rate}"),
            format!("面对面接触职工{participants}人"),
        ] {
            assert!(lead.text.contains(&figure), "{figure} in {}", lead.text);
        }
        assert!(lead.fonts.iter().all(|f| f == "仿宋_GB2312"), "{lead:?}");
        assert!(lead.sizes.iter().all(|s| s == "32"), "3号");
        // The ranking tables repeat their header row; page numbers; font fallbacks.
        assert!(doc.tables.len() >= 2, "districts and bureaus");
        for table in &doc.tables {
            assert_eq!(table.first(), Some(&true), "header row repeats");
            assert!(table.iter().skip(1).all(|h| !h));
        }
        assert!(
            doc.footer_fields.iter().any(|f| f == "PAGE"),
            "{:?}",
            doc.footer_fields
        );
        assert!(
            doc.font_fallbacks
                .contains(&("仿宋_GB2312".to_string(), "仿宋".to_string()))
        );
        find("二、零报送单位");
        find("2020年9月15日");
        render("circular.docx", &bytes);
        let (_, xlsx) = download(&admin, "/progress/export?sheet=progress").await;
        render("statistics.xlsx", &xlsx);

        // The city sets the number and rewrites the paragraph; the edit is kept and used.
        let r = admin
            .post_form(
                "/progress/circular",
                &[
                    ("doc_number", "津工宣通〔2020〕5号"),
                    ("lead", "截至9月15日，各单位积极行动。"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = admin.text("/progress").await;
        assert!(html.contains("截至9月15日，各单位积极行动。"));
        let (_, bytes) = download(&admin, "/progress/circular.docx").await;
        let doc = read_docx(&bytes);
        assert!(
            doc.paragraphs
                .iter()
                .any(|p| p.text == "津工宣通〔2020〕5号")
        );
        assert!(
            doc.paragraphs
                .iter()
                .any(|p| p.text == "截至9月15日，各单位积极行动。")
        );
        assert_eq!(
            app.count("audit_log WHERE action = 'circular.texts'").await,
            1
        );
        let (_, log) = admin.text("/audit").await;
        assert!(log.contains("修改通报文号和首段"), "the action in Chinese");
        // Only the city may.
        let heping = app
            .signed_in(&app.user(Role::UnitAdmin, "和平区总工会").await)
            .await;
        let r = heping
            .post_form("/progress/circular", &[("doc_number", "x"), ("lead", "y")])
            .await;
        assert!(r.status().is_client_error());
    })
    .await;
}
