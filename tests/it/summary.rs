//! The campaign summary (活动总结, issue 15 item 4), over real HTTP on both backends: the Word
//! document read back (sections, figures that match the progress API, chart images and a case
//! photo in word/media) and rendered with LibreOffice when it is installed; the Excel appendix
//! with numeric cells; the narratives' versions (history, restore, a stale edit refused); the
//! districts' submissions by the deadline with reminders; bad input refused in Chinese.

use std::io::{Cursor, Read};

use calamine::Data;
use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wangju::db::audit::Actor;
use wangju::domain::role::Role;
use wangju::service::demo::{self, Scale};

use crate::harness::{Agent, TestApp, each_backend_on};
use crate::papers::{download, render, sheets};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, m, d).expect("date")
}

/// The .docx's parts: the text of each paragraph, and the names of the media files.
struct Docx {
    paragraphs: Vec<String>,
    media: Vec<(String, Vec<u8>)>,
}

fn read_docx(bytes: &[u8]) -> Docx {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a .docx is a zip");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("document.xml")
        .read_to_string(&mut xml)
        .expect("read");
    let mut paragraphs = Vec::new();
    for p in xml.split("</w:p>") {
        let mut text = String::new();
        let mut rest = p;
        while let Some(start) = rest.find("<w:t") {
            let after = &rest[start..];
            // <w:t> or <w:t xml:space="preserve">, not <w:tbl…> or <w:tc…>.
            let Some(close) = after.find('>') else { break };
            let tag = &after[..close];
            if tag == "<w:t" || tag.starts_with("<w:t ") {
                let body = &after[close + 1..];
                let end = body.find("</w:t>").unwrap_or(body.len());
                text.push_str(&body[..end]);
                rest = &body[end..];
            } else {
                rest = &after[close..];
            }
        }
        if !text.is_empty() {
            paragraphs.push(
                text.replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\""),
            );
        }
    }
    let names: Vec<String> = zip
        .file_names()
        .filter(|n| n.starts_with("word/media/"))
        .map(str::to_string)
        .collect();
    let media = names
        .into_iter()
        .map(|n| {
            let mut b = Vec::new();
            zip.by_name(&n)
                .expect("media")
                .read_to_end(&mut b)
                .expect("read");
            (n, b)
        })
        .collect();
    Docx { paragraphs, media }
}

fn has(doc: &Docx, needle: &str) -> bool {
    doc.paragraphs.iter().any(|p| p.contains(needle))
}

fn cjk_font_installed() -> bool {
    wangju::office::chart::ChartFont::find("").is_some()
}

/// A picture like a phone's.
fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1200, 800, |x, y| {
        image::Rgb([
            (x / 5) as u8,
            (y / 4) as u8,
            if (x / 60 + y / 60) % 2 == 0 { 200 } else { 60 },
        ])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode");
    out.into_inner()
}

/// 和平区总工会 holds and reports an activity with a photo; the city confirms it.
async fn confirmed_activity_with_photo(app: &TestApp, admin: &Agent) -> i64 {
    let heping = app
        .signed_in(&app.user(Role::UnitAdmin, "和平区总工会").await)
        .await;
    let (s, body) = heping
        .send_json(
            Method::POST,
            "/api/v1/activities",
            &json!({"name": "和平区职工网络安全知识竞赛", "starts_at": "2020-06-28T09:30", "place": "和平区职工之家",
                    "format": "知识竞赛", "categories": ["网络安全知识技能"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().expect("id");
    let (s, body) = heping
        .send_json(
            Method::PUT,
            &format!("/api/v1/activities/{id}"),
            &json!({"name": "和平区职工网络安全知识竞赛", "starts_at": "2020-06-28T09:30", "place": "和平区职工之家",
                    "format": "知识竞赛", "categories": ["网络安全知识技能"], "participants": 99_999,
                    "grassroots_unions": 12, "enterprises": 8, "new_propagandists": 30,
                    "online_platform": "津工E家", "online_link": "https://example.org/live/9", "online_views": 20000,
                    "news_links": "和平区融媒体中心 https://example.org/news/9",
                    "summary": "组织辖区企业职工开展网络安全知识竞赛，现场答题与线上直播同步进行。"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let r = heping
        .upload_files(
            &format!("/activities/{id}/photos"),
            "photos",
            vec![("现场.jpg", photo())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for (agent, step) in [(&heping, "submit"), (admin, "approve"), (admin, "confirm")] {
        let (s, body) = agent
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": step}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{step}: {body}");
    }
    id
}

#[tokio::test]
async fn the_summary_document_is_written_from_live_data() {
    each_backend_on(day(7, 1), |app| async move {
        demo::seed(&app.state.db, Scale::City, false, &Actor::cli())
            .await
            .expect("seed");
        let admin = app.admin().await;
        confirmed_activity_with_photo(&app, &admin).await;
        app.state.clock.set_today(day(11, 25));
        let (_, p) = admin.json("/api/v1/progress").await;
        let confirmed = p["totals"]["confirmed"].as_i64().expect("confirmed");
        let quota = p["total_quota"].as_i64().expect("quota");
        let participants = p["totals"]["participants"].as_i64().expect("participants");

        let (name, bytes) = download(&admin, "/summary/summary.docx").await;
        assert_eq!(name, "2020网聚-活动总结-20201125.docx");
        let doc = read_docx(&bytes);
        for heading in [
            "一、总体情况",
            "二、各单位任务完成情况",
            "三、线下活动开展情况",
            "四、子项目参与情况",
            "五、评选推荐与全国获奖情况",
            "六、职工好网民模范与宣讲",
            "七、网上传播情况",
            "八、典型案例",
            "九、各单位总结报送情况",
        ] {
            assert!(has(&doc, heading), "{heading}");
        }
        // The figures are the progress API's.
        let rate = format!("{:.1}%", confirmed as f64 * 100.0 / quota as f64);
        assert!(
            has(&doc, &format!("共开展线下活动{confirmed}场（经市总工会确认），完成全市任务数（{quota}场）的{rate}")),
            "{:?}",
            doc.paragraphs.iter().find(|p| p.contains("截至"))
        );
        let shown = if participants >= 100_000 {
            format!("{:.1}万", participants as f64 / 10_000.0)
        } else {
            participants.to_string()
        };
        assert!(has(&doc, &format!("面对面接触职工{shown}人")));
        // The per-district table: 和平区总工会 with its confirmed count.
        let heping = p["rows"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["name"] == "和平区总工会"))
            .expect("和平");
        assert!(doc.paragraphs.iter().any(|x| x == "和平区总工会"));
        assert!(
            doc.paragraphs
                .iter()
                .any(|x| x.as_str() == heping["counts"]["confirmed"].to_string().as_str())
        );
        // The typical case with its photo; every district listed as not yet submitted.
        assert!(has(&doc, "和平区总工会：和平区职工网络安全知识竞赛"));
        assert!(has(&doc, "现场答题与线上直播同步进行"));
        assert!(has(&doc, "未报送"));
        let pngs = doc
            .media
            .iter()
            .filter(|(_, b)| b.starts_with(&[137, 80, 78, 71]))
            .count();
        if cjk_font_installed() {
            // Five charts and the case photo.
            assert!(pngs >= 6, "{} media: {:?}", pngs, doc.media.iter().map(|m| &m.0).collect::<Vec<_>>());
            assert!(has(&doc, "图1  各单位线下活动任务完成率"));
        } else {
            assert!(pngs >= 1, "the case photo");
        }
        render("summary.docx", &bytes);
        // Issue 11: the city's Word circular shows the best confirmed activities with a photo.
        let (_, circular) = download(&admin, "/progress/circular.docx").await;
        let c = read_docx(&circular);
        assert!(has(&c, "三、典型活动") && has(&c, "四、下一步工作要求"));
        assert!(has(&c, "和平区总工会：和平区职工网络安全知识竞赛"));
        assert!(
            c.media.iter().any(|(_, b)| b.starts_with(&[137, 80, 78, 71])),
            "the photo is embedded"
        );
        render("circular-cases.docx", &circular);

        // The appendix: typed sheets with numbers.
        let (name, xlsx) = download(&admin, "/summary/summary.xlsx").await;
        assert_eq!(name, "2020网聚-活动总结附表-20201125.xlsx");
        let book = sheets(&xlsx);
        let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
        for sheet in ["12351+目标", "各单位完成情况", "活动形式", "子项目参与", "各单位总结报送"] {
            assert!(names.contains(&sheet), "{sheet} in {names:?}");
        }
        let units = &book.iter().find(|(n, _)| n == "各单位完成情况").expect("sheet").1;
        let row = units
            .iter()
            .find(|r| r.get(1) == Some(&Data::String("和平区总工会".into())))
            .expect("和平 row");
        let number = |c: Option<&Data>| match c {
            Some(Data::Float(f)) => *f,
            Some(Data::Int(i)) => *i as f64,
            other => panic!("not a number: {other:?}"),
        };
        assert_eq!(
            number(row.get(4)) as i64,
            heping["counts"]["confirmed"].as_i64().expect("n")
        );
        assert!(number(row.get(5)) > 0.0, "completion is a number");
        let targets = &book.iter().find(|(n, _)| n == "12351+目标").expect("sheet").1;
        let face = targets
            .iter()
            .find(|r| matches!(r.first(), Some(Data::String(s)) if s.starts_with("面对面")))
            .expect("row");
        assert_eq!(number(face.get(2)) as i64, participants);
        render("summary-appendix.xlsx", &xlsx);
    })
    .await;
}

#[tokio::test]
async fn narratives_keep_versions_and_a_stale_edit_is_refused() {
    each_backend_on(day(11, 10), |app| async move {
        let admin = app.admin().await;
        // No data yet: the document still comes, and says so.
        let (_, bytes) = download(&admin, "/summary/summary.docx").await;
        let doc = read_docx(&bytes);
        assert!(has(&doc, "本次活动尚无报送数据"), "{:?}", doc.paragraphs);
        assert!(has(&doc, "九、各单位总结报送情况"));
        render("summary-empty.docx", &bytes);
        let (_, xlsx) = download(&admin, "/summary/summary.xlsx").await;
        assert!(!sheets(&xlsx).is_empty());

        let (s, v) = admin.json("/api/v1/summary").await;
        assert_eq!(s, StatusCode::OK);
        let overview = &v["sections"][0];
        assert_eq!(overview["code"], "overview");
        assert_eq!(overview["version"], 0);
        assert_eq!(overview["edited"], false);

        let put = |base: i64, body: String| {
            let admin = &admin;
            async move {
                admin
                    .send_json(
                        Method::PUT,
                        "/api/v1/summary/sections/overview",
                        &json!({"body": body, "base_version": base}),
                    )
                    .await
            }
        };
        let (s, body) = put(0, "全市工会系统积极行动，活动扎实开展。".into()).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["version"], 1);
        // Another editor still holding version 0 is refused, in Chinese.
        let (s, body) = put(0, "另一位同事的修改。".into()).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("请刷新页面") && message.contains("第1版"),
            "{message}"
        );
        let (s, _) = put(1, "第二稿：活动覆盖全市各区。".into()).await;
        assert_eq!(s, StatusCode::OK);
        // Too long.
        let (s, body) = put(2, "字".repeat(3_001)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("不能超过 3000 个字"), "{body}");
        // An unknown section does not exist.
        let (s, _) = admin
            .send_json(
                Method::PUT,
                "/api/v1/summary/sections/nonsense",
                &json!({"body": "x", "base_version": 0}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // The page shows the history and restores version 1 as version 3.
        let (_, page) = admin.text("/summary").await;
        assert!(page.contains("修改记录（2 版）"), "history on the page");
        assert!(page.contains("第二稿：活动覆盖全市各区。"));
        let r = admin
            .post_form(
                "/summary/sections/overview/restore",
                &[("version", "1"), ("base_version", "2")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        // A restore made from a page that is out of date is refused too.
        let r = admin
            .post_form(
                "/summary/sections/overview/restore",
                &[("version", "2"), ("base_version", "2")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let (_, v) = admin.json("/api/v1/summary").await;
        let overview = &v["sections"][0];
        assert_eq!(overview["version"], 3);
        assert_eq!(overview["text"], "全市工会系统积极行动，活动扎实开展。");
        let history = overview["history"].as_array().expect("history");
        assert_eq!(history.len(), 3);
        assert!(
            history
                .iter()
                .all(|h| !h["author_name"].as_str().unwrap_or_default().is_empty())
        );
        // The edit is what the document carries.
        let (_, bytes) = download(&admin, "/summary/summary.docx").await;
        assert!(has(
            &read_docx(&bytes),
            "全市工会系统积极行动，活动扎实开展。"
        ));
        // Back to the figures through the page's button.
        let r = admin
            .post_form(
                "/summary/sections/overview",
                &[
                    ("body", "ignored"),
                    ("base_version", "3"),
                    ("regenerate", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, v) = admin.json("/api/v1/summary").await;
        assert_eq!(v["sections"][0]["edited"], false);
        assert_eq!(
            app.count("audit_log WHERE action = 'summary.narrative'")
                .await,
            4
        );

        // The city's 网信办 liaison reads; it does not edit or export.
        let liaison = app
            .signed_in(
                &app.user(Role::CoOrganiserLiaison, "中共天津市委网信办")
                    .await,
            )
            .await;
        let (s, page) = liaison.text("/summary").await;
        assert_eq!(s, StatusCode::OK);
        assert!(!page.contains("保存为新的一版"));
        assert_eq!(
            liaison.get("/summary/summary.docx").await.status(),
            StatusCode::FORBIDDEN
        );
        let (s, _) = liaison
            .send_json(
                Method::PUT,
                "/api/v1/summary/sections/overview",
                &json!({"body": "x", "base_version": 4}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

/// Posts the district form: text, base version, and an optional file.
async fn submit(
    agent: &Agent,
    body: &str,
    base: i64,
    file: Option<(&str, Vec<u8>)>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new()
        .text("body", body.to_string())
        .text("base_version", base.to_string());
    if let Some((name, bytes)) = file {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    }
    agent
        .client
        .post(format!(
            "{}/summary/district?_csrf={}",
            agent.base, agent.csrf
        ))
        .multipart(form)
        .send()
        .await
        .expect("post")
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

#[tokio::test]
async fn districts_submit_by_the_deadline_and_are_reminded() {
    each_backend_on(day(11, 10), |app| async move {
        let admin = app.admin().await;
        let heping = app
            .signed_in(&app.user(Role::UnitAdmin, "和平区总工会").await)
            .await;
        let hexi = app
            .signed_in(&app.user(Role::UnitAdmin, "河西区总工会").await)
            .await;
        let (s, page) = heping.text("/summary/district").await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("2020年11月20日"),
            "the deadline from the campaign file"
        );
        assert!(page.contains("尚未提交"));

        // Seven days before: every district that has not submitted is reminded, once.
        let created = wangju::service::reminders::create_due(&app.state.db, day(11, 13))
            .await
            .expect("pass");
        let districts = app
            .count("orgs WHERE kind IN ('district_union', 'bureau_group')")
            .await;
        assert!(districts > 10);
        assert_eq!(
            created as i64,
            app.count("reminders WHERE kind = 'summary'").await
        );
        assert_eq!(
            app.count("reminders WHERE kind = 'summary'").await,
            districts
        );
        assert_eq!(
            wangju::service::reminders::create_due(&app.state.db, day(11, 13))
                .await
                .expect("again"),
            0
        );
        let (_, reminders) = heping.text("/reminders").await;
        assert!(
            reminders.contains("请于11月20日前提交本单位活动总结"),
            "{reminders}"
        );

        // Bad input: no text, a file of another type, then a good submission with a PDF.
        let r = submit(&heping, "  ", 0, None).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap_or_default()
                .contains("请填写本单位活动总结正文")
        );
        let r = submit(
            &heping,
            "和平区活动总结。",
            0,
            Some(("总结.txt", b"plain text".to_vec())),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap_or_default()
                .contains("附件只能是 Word（.docx）或 PDF（.pdf）文件")
        );
        let r = submit(
            &heping,
            "和平区活动总结。",
            0,
            Some(("假的.pdf", b"not a pdf".to_vec())),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = submit(&heping, &"长".repeat(20_001), 0, None).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = submit(
            &heping,
            "和平区全年开展线下活动二十场。",
            0,
            Some(("和平区总结.pdf", pdf())),
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        // A second form made from the same (empty) state is stale.
        let r = submit(&heping, "同事的另一稿。", 0, None).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.unwrap_or_default().contains("请刷新页面"));
        // A resubmission without a file keeps the earlier one.
        let r = submit(&heping, "和平区全年开展线下活动二十二场（修订）。", 1, None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, page) = heping.text("/summary/district").await;
        assert!(
            page.contains("第 2 次") && page.contains("和平区总结.pdf"),
            "{page}"
        );

        // Three days before: 和平 is not reminded again, the others are.
        let before = app.count("reminders WHERE kind = 'summary'").await;
        let heping_id = wangju::db::orgs::find_by_name(&app.state.db, "和平区总工会")
            .await
            .expect("q")
            .expect("org")
            .id;
        wangju::service::reminders::create_due(&app.state.db, day(11, 17))
            .await
            .expect("pass");
        assert_eq!(
            app.count("reminders WHERE kind = 'summary'").await,
            before + districts - 1
        );
        assert_eq!(
            app.count(&format!(
                "reminders WHERE kind = 'summary' AND org_id = {heping_id}"
            ))
            .await,
            1
        );

        // The city's summary lists who has submitted; the file comes back whole.
        let (_, page) = admin.text("/summary").await;
        assert!(
            page.contains("已报 <b id=\"submitted-count\">1</b> 个"),
            "count"
        );
        assert!(page.contains("和平区全年开展线下活动二十二场（修订）。"));
        let (name, bytes) = download(&admin, &format!("/summary/district/{heping_id}/file")).await;
        assert_eq!(name, "和平区总结.pdf");
        assert_eq!(bytes, pdf());
        assert_eq!(
            hexi.get(&format!("/summary/district/{heping_id}/file"))
                .await
                .status(),
            StatusCode::NOT_FOUND,
            "another district does not see it"
        );
        let (_, bytes) = download(&admin, "/summary/summary.docx").await;
        let doc = read_docx(&bytes);
        assert!(
            has(&doc, "应报") && has(&doc, "已报1个"),
            "{:?}",
            doc.paragraphs.iter().find(|p| p.contains("应报"))
        );
        // After the deadline: refused, saying why.
        app.state.clock.set_today(day(11, 21));
        let r = submit(&hexi, "河西区总结。", 0, None).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(
            r.text()
                .await
                .unwrap_or_default()
                .contains("截止日期（2020年11月20日）已过")
        );
        let (_, page) = hexi.text("/summary/district").await;
        assert!(page.contains("提交截止日期已过"));
    })
    .await;
}
