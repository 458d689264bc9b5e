//! Recommendation end to end: the list is picked from the final ranking within the campaign
//! file's cap (overrides need a reason; two admins taking the last place at once: one wins),
//! it feeds a 公示 through the one 公示 mechanism (which fixes the list), the package streams
//! the 汇总表, the 推荐表 and the clean files named 序号-作品名.扩展名 (works the 公示 withdrew
//! left out), and the national results import is all or nothing and shows on the work to its
//! author and unit and in progress.

use std::io::{Cursor, Read};

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wangju::domain::role::Role;

use crate::harness::{Agent, TestApp, each_backend_on, location};

const OWNER: &str = "rec-worker";
const UNIT: &str = "河西区总工会";

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 9, 15).expect("date")
}

struct Setup {
    admin: Agent,
    worker: Agent,
    /// Accepted works, in the final ranking's order (best first).
    works: Vec<i64>,
}

/// `n` accepted micro-videos by one worker in 河西区, titled with characters no file system
/// takes (`/`, `:`), and (when `ranked`) a closed 终评 ranking them in submission order.
async fn setup(app: &TestApp, n: usize, ranked: bool) -> Setup {
    let admin = app.admin().await;
    app.account(OWNER, "作者王五", "13811112222", Role::Worker, UNIT)
        .await;
    let worker = app.signed_in(OWNER).await;
    let video = std::fs::read(crate::media::files().path("ok.mp4")).expect("video");
    let mut works = Vec::new();
    for i in 0..n {
        let upload = worker
            .upload_work("micro-video", &format!("原始文件{i}.mp4"), &video, 1 << 20)
            .await;
        assert_eq!(upload["verdict"], "accepted", "{upload}");
        let (s, body) = worker
            .send_json(
                Method::POST,
                "/api/v1/works",
                &json!({"sub_project": "micro-video", "upload_id": upload["id"], "title": format!("车间/好网民:{i}"),
                        "description": "一段关于复工复产的短片", "authors": ["作者王五", "作者赵六"],
                        "contact_phone": "13811112222", "originality": true, "portrait": true, "subtitles": true}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().expect("id");
        let r = admin
            .post_form(
                &format!("/works/{id}/decision"),
                &[("decision", "accept"), ("reason", "符合要求")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        works.push(id);
    }
    if ranked {
        rank(app, &works).await;
    }
    Setup {
        admin,
        worker,
        works,
    }
}

/// A closed 终评 whose frozen ranking is `works` in order (the selection tests cover how a
/// round closes; here the recommendation starts from its result).
async fn rank(app: &TestApp, works: &[i64]) {
    app.sql(
        "INSERT INTO review_rounds (campaign_id, sub_project, round_code, seq, status, opened_at, closed_at)
         VALUES ((SELECT MAX(id) FROM campaigns), 'micro-video', 'final', 3, 'closed', 0, 0)",
    )
    .await;
    for (i, w) in works.iter().enumerate() {
        app.sql(&format!(
            "INSERT INTO round_works (round_id, work_id, rank, score_centi, normalised_milli, advanced)
             VALUES ((SELECT MAX(id) FROM review_rounds), {w}, {}, {}, {}, 0)",
            i + 1,
            9050 - 100 * i as i64,
            1000 - 100 * i as i64
        ))
        .await;
    }
}

async fn picks(app: &TestApp) -> Vec<i64> {
    wangju::db::testing::column(
        &app.state.db,
        "SELECT work_id FROM recommendations ORDER BY work_id",
    )
    .await
    .expect("picks")
}

async fn audited(app: &TestApp, action: &str) -> Vec<String> {
    wangju::db::testing::column(
        &app.state.db,
        &format!(
            "SELECT COALESCE(after_json, '') FROM audit_log WHERE action = '{action}' ORDER BY id"
        ),
    )
    .await
    .expect("audit")
}

async fn set_cap(app: &TestApp, cap: u32) {
    app.sql(&format!(
        "UPDATE campaigns SET document = REPLACE(document, '\"recommend_max\":10', '\"recommend_max\":{cap}')"
    ))
    .await;
}

#[tokio::test]
async fn picks_follow_the_ranking_within_the_cap_and_overrides_need_a_reason() {
    each_backend_on(day(), |app| async move {
        let s = setup(&app, 4, false).await;
        set_cap(&app, 3).await;
        let [w0, w1, w2, w3] = [s.works[0], s.works[1], s.works[2], s.works[3]];
        let pick = |work: i64, reason: &'static str| {
            let admin = &s.admin;
            async move {
                admin
                    .post_form(
                        "/recommendation/micro-video/pick",
                        &[("work_id", &work.to_string()), ("reason", reason)],
                    )
                    .await
            }
        };

        // Before the 终评 has closed nothing can be picked.
        let (status, page) = s.admin.text("/recommendation").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("终评尚未结束"), "{page}");
        assert_eq!(pick(w0, "").await.status(), StatusCode::CONFLICT);
        rank(&app, &s.works).await;
        let (_, page) = s.admin.text("/recommendation").await;
        assert!(page.contains("推荐名额 <b>3</b> 个"), "{page}");

        // Passing over better-ranked works without a reason: refused in Chinese, nothing kept.
        let r = pick(w2, "").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.expect("body");
        assert!(body.contains("越过排名更靠前的 2 件作品推荐"), "{body}");
        assert!(picks(&app).await.is_empty());
        // With a reason it is kept, and the reason is audited.
        assert_eq!(
            pick(w2, "题材新颖，代表性强").await.status(),
            StatusCode::SEE_OTHER
        );
        let log = audited(&app, "recommendation.pick").await;
        assert!(
            log[0].contains("题材新颖，代表性强") && log[0].contains("越过排名"),
            "{log:?}"
        );

        // Filling from the ranking takes the best not yet picked, up to the cap.
        let r = s
            .admin
            .post_form("/recommendation/micro-video/fill", &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(picks(&app).await, vec![w0, w1, w2]);
        // The cap holds: the fourth is refused, nothing written.
        let r = pick(w3, "特别推荐的理由").await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.expect("body").contains("推荐名额为 3 个"));
        assert_eq!(picks(&app).await.len(), 3);

        // Two admins take the one free place at once: one wins, the cap is never passed.
        let r = s
            .admin
            .post_form(&format!("/recommendation/works/{w0}/remove"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(audited(&app, "recommendation.remove").await.len(), 1);
        app.account(
            "city-rec-two",
            "第二位管理员",
            "13600000002",
            Role::CityAdmin,
            "天津市总工会",
        )
        .await;
        let other = app.signed_in("city-rec-two").await;
        let first = w0.to_string();
        let second = w3.to_string();
        let form_a = [("work_id", first.as_str()), ("reason", "")];
        let form_b = [
            ("work_id", second.as_str()),
            ("reason", "两位管理员同时推荐"),
        ];
        let (a, b) = tokio::join!(
            s.admin
                .post_form("/recommendation/micro-video/pick", &form_a),
            other.post_form("/recommendation/micro-video/pick", &form_b),
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
        assert_eq!(picks(&app).await.len(), 3);

        // A work outside the sub-project's accepted works cannot be picked at all.
        let r = s
            .admin
            .post_form(&format!("/recommendation/works/{w1}/remove"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = pick(999_999, "理由充分的推荐").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(picks(&app).await.len(), 2);
    })
    .await;
}

fn zip_names(bytes: &[u8]) -> Vec<String> {
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    zip.file_names().map(str::to_string).collect()
}

fn zip_entry(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let mut out = Vec::new();
    zip.by_name(name)
        .expect("entry")
        .read_to_end(&mut out)
        .expect("read");
    out
}

fn part_text(office: &[u8], part: &str) -> String {
    String::from_utf8(zip_entry(office, part)).expect("xml")
}

#[tokio::test]
async fn the_list_feeds_a_publicity_and_the_package_holds_the_expected_files() {
    each_backend_on(day(), |app| async move {
        let s = setup(&app, 3, true).await;
        let r = s.admin.post_form("/recommendation/micro-video/fill", &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        // The 公示 is drafted through the one 公示 mechanism and fixes the list.
        let r = s
            .admin
            .post_form(
                "/recommendation/micro-video/publicity",
                &[
                    ("title", "网络正能量微视频征集拟推荐作品公示"),
                    ("notice", "拟推荐以下作品参加全国评选，现予以公示。"),
                    ("contact", "022-23456789"),
                    ("workdays", "5"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = location(&r);
        assert!(to.starts_with("/publicity/"), "{to}");
        let publicity: i64 = to["/publicity/".len()..].parse().expect("id");
        let entries: Vec<i64> = wangju::db::testing::column(
            &app.state.db,
            &format!("SELECT subject_id FROM publicity_entries WHERE publicity_id = {publicity} ORDER BY position"),
        )
        .await
        .expect("entries");
        assert_eq!(entries, s.works);
        let r = s
            .admin
            .post_form(&format!("/recommendation/works/{}/remove", s.works[0]), &[])
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT, "the list is fixed");
        assert_eq!(picks(&app).await.len(), 3);
        // A second 公示 of the same list is refused.
        let r = s
            .admin
            .post_form(
                "/recommendation/micro-video/publicity",
                &[("title", "再次公示"), ("notice", ""), ("contact", "022-23456789"), ("workdays", "5")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);

        // The 公示 withdrew the second work on an upheld objection: it leaves the package.
        app.sql(&format!(
            "UPDATE publicity_entries SET withdrawn_reason = '异议成立', withdrawn_at = 1 WHERE publicity_id = {publicity} AND subject_id = {}",
            s.works[1]
        ))
        .await;

        let r = s.admin.get("/recommendation/package?sub_project=micro-video").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["content-type"].to_str().expect("type"),
            "application/zip"
        );
        let disposition = r.headers()["content-disposition"].to_str().expect("cd").to_string();
        assert!(disposition.contains("wangju-2020-recommendation-20200915.zip"), "{disposition}");
        let bytes = r.bytes().await.expect("zip").to_vec();
        let root = "2020网聚-推荐材料-网络正能量微视频征集-20200915";
        assert_eq!(
            zip_names(&bytes),
            vec![
                format!("{root}/推荐汇总表.xlsx"),
                format!("{root}/推荐表.docx"),
                format!("{root}/作品/01-车间_好网民_0.mp4"),
                format!("{root}/作品/02-车间_好网民_2.mp4"),
            ]
        );
        // The files are the clean copies, byte for byte.
        let key: String = wangju::db::testing::scalar(
            &app.state.db,
            &format!("SELECT u.clean_key FROM works w JOIN uploads u ON u.id = w.upload_id WHERE w.id = {}", s.works[2]),
        )
        .await
        .expect("key");
        let root_dir = app.state.store.local_root().expect("local store").to_path_buf();
        let clean = std::fs::read(root_dir.join(&key)).expect("clean copy");
        assert_eq!(zip_entry(&bytes, &format!("{root}/作品/02-车间_好网民_2.mp4")), clean);
        // The 汇总表: title, typed rank and score, the link; the withdrawn work is not there.
        let xlsx = zip_entry(&bytes, &format!("{root}/推荐汇总表.xlsx"));
        let strings = part_text(&xlsx, "xl/sharedStrings.xml");
        assert!(strings.contains("优秀作品推荐汇总表（网络正能量微视频征集）"), "{strings}");
        assert!(strings.contains("作者王五、作者赵六") && strings.contains(UNIT));
        assert!(!strings.contains("车间/好网民:1"));
        let sheet = part_text(&xlsx, "xl/worksheets/sheet1.xml");
        assert!(sheet.contains("<v>90.5</v>") && sheet.contains("<v>88.5</v>"), "{sheet}");
        assert!(sheet.contains("<pane ") && sheet.contains("hyperlink"), "frozen header, links");
        // The 推荐表: a page per work.
        let docx = zip_entry(&bytes, &format!("{root}/推荐表.docx"));
        let doc = part_text(&docx, "word/document.xml");
        assert_eq!(doc.matches("优秀作品推荐表").count(), 2);
        assert!(doc.contains("车间/好网民:2") && doc.contains("13811112222"));

        // The city only: a unit admin and a reviewer are refused.
        let unit_admin = app.user(Role::UnitAdmin, UNIT).await;
        let unit_admin = app.signed_in(&unit_admin).await;
        assert_eq!(
            unit_admin.get("/recommendation/package").await.status(),
            StatusCode::FORBIDDEN
        );
        let _ = s.worker;
    })
    .await;
}

fn results_csv(rows: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::from("2020年网络正能量微视频征集全国评选结果\n序号,作品名称,获奖等级\n");
    for (i, (title, award)) in rows.iter().enumerate() {
        out.push_str(&format!("{},{title},{award}\n", i + 1));
    }
    out.into_bytes()
}

#[tokio::test]
async fn national_results_are_all_or_nothing_and_show_to_author_unit_and_progress() {
    each_backend_on(day(), |app| async move {
        let s = setup(&app, 2, true).await;
        // One unknown work: the whole file is refused, the row named, nothing written.
        let r = s
            .admin
            .upload(
                "/recommendation/results/import",
                "结果.csv",
                results_csv(&[("车间/好网民:0", "一等奖"), ("不存在的作品", "二等奖")]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.expect("body");
        assert!(
            body.contains("第 4 行") && body.contains("不是本届活动中审核通过的作品"),
            "{body}"
        );
        assert_eq!(app.count("national_results").await, 0);

        let r = s
            .admin
            .upload(
                "/recommendation/results/import",
                "结果.csv",
                results_csv(&[("车间/好网民:0", "一等奖"), ("车间/好网民:1", "最佳创意奖")]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(app.count("national_results").await, 2);
        assert_eq!(audited(&app, "national_results.import").await.len(), 1);

        // The author sees it on the work, and so does their unit.
        let (status, page) = s.worker.text(&format!("/works/{}", s.works[0])).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("全国评选结果：<b>一等奖</b>"), "{page}");
        let unit_admin = app.user(Role::UnitAdmin, UNIT).await;
        let unit_admin = app.signed_in(&unit_admin).await;
        let (_, page) = unit_admin.text(&format!("/works/{}", s.works[1])).await;
        assert!(page.contains("最佳创意奖"), "{page}");
        // Progress counts it, in the unit's scope and the city's.
        let (_, page) = unit_admin.text("/progress").await;
        assert!(
            page.contains("全国评选获奖作品（一等奖 1 件、最佳创意奖 1 件）"),
            "{page}"
        );
        let other = app.user(Role::UnitAdmin, "南开区总工会").await;
        let other = app.signed_in(&other).await;
        let (_, page) = other.text("/progress").await;
        assert!(
            !page.contains("全国评选获奖作品"),
            "another unit's results do not count"
        );
    })
    .await;
}
