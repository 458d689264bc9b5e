//! Selection: the blind-review leak test (built like the access matrix: every route of the
//! table, as a reviewer, with markers planted in the author's name, unit, phone, login and the
//! uploaded file's name), scoring rules (range, comment, drafts, lock, after close: refused with
//! nothing written), closing a round (advancement, two admins at once: one wins), a reviewer
//! dropping out and a move by hand.

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wangju::db::audit::Actor;
use wangju::domain::role::Role;
use wangju::http::routes;

use crate::harness::{Agent, TestApp, each_backend_on};

const AUTHOR: &str = "标记作者乙";
const OWNER_NAME: &str = "标记作者甲";
const UNIT: &str = "标记单位ZQX";
const PHONE: &str = "13712345678";
const LOGIN: &str = "markerlogin-zqx";
const FILE_NAME: &str = "标记文件名ZQX";
const MARKERS: [&str; 6] = [AUTHOR, OWNER_NAME, UNIT, PHONE, LOGIN, FILE_NAME];

/// 9/15: the last day works are taken and the first day of 初评.
pub(crate) fn judging_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 9, 15).expect("date")
}

/// An account with a chosen login, name and phone, its password set to `PASSWORD`.
async fn account(
    app: &TestApp,
    login: &str,
    name: &str,
    phone: &str,
    role: Role,
    org: &str,
) -> i64 {
    app.account(login, name, phone, role, org).await.get()
}

pub(crate) struct Setup {
    pub(crate) admin: Agent,
    /// Reviewer logins, in id order.
    pub(crate) reviewers: Vec<(i64, String)>,
    pub(crate) works: Vec<i64>,
    pub(crate) round: i64,
}

/// Three accepted micro-videos from a unit with the planted markers, four reviewers in 河西区
/// in the pool, and the first round started.
pub(crate) async fn setup(app: &TestApp) -> Setup {
    let admin = app.admin().await;
    let nankai = wangju::db::orgs::find_by_name(&app.state.db, "南开区总工会")
        .await
        .expect("q")
        .expect("org");
    let (s, body) = admin
        .send_json(
            Method::POST,
            "/api/v1/orgs",
            &json!({"name": UNIT, "kind": "grassroots", "parent_id": nankai.id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    account(app, LOGIN, OWNER_NAME, PHONE, Role::Worker, UNIT).await;
    let worker = app.signed_in(LOGIN).await;
    let video = std::fs::read(crate::media::files().path("ok.mp4")).expect("video");
    let mut works = Vec::new();
    for i in 0..3 {
        let upload = worker
            .upload_work(
                "micro-video",
                &format!("{FILE_NAME}{i}.mp4"),
                &video,
                1 << 20,
            )
            .await;
        assert_eq!(upload["verdict"], "accepted", "{upload}");
        let (s, body) = worker
            .send_json(
                Method::POST,
                "/api/v1/works",
                &json!({"sub_project": "micro-video", "upload_id": upload["id"], "title": format!("匿名测试作品{i}"),
                        "description": "一段关于复工复产的短片", "authors": [AUTHOR, OWNER_NAME],
                        "contact_phone": PHONE, "originality": true, "portrait": true, "subtitles": true}),
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
    let mut reviewers = Vec::new();
    for i in 0..4 {
        let login = format!("expert-{i}");
        let id = account(
            app,
            &login,
            &format!("评审专家{i}"),
            "13600000000",
            Role::Reviewer,
            "河西区总工会",
        )
        .await;
        let r = admin
            .post_form(
                "/selection/micro-video/pool",
                &[("user_id", &id.to_string())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "pool add");
        reviewers.push((id, login));
    }
    let r = admin.post_form("/selection/micro-video/start", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "start");
    let round: i64 =
        wangju::db::testing::scalar(&app.state.db, "SELECT MAX(id) FROM review_rounds")
            .await
            .expect("round");
    Setup {
        admin,
        reviewers,
        works,
        round,
    }
}

pub(crate) async fn assignments_of(app: &TestApp, reviewer: i64) -> Vec<i64> {
    wangju::db::testing::column(
        &app.state.db,
        &format!("SELECT id FROM review_assignments WHERE reviewer_id = {reviewer} ORDER BY id"),
    )
    .await
    .expect("assignments")
}

fn fill(path: &str, assignment: i64, work: i64, round: i64, user: i64) -> String {
    let mut out = path.to_string();
    for (name, value) in [
        ("{assignment_id}", assignment.to_string()),
        ("{work_id}", work.to_string()),
        ("{round_id}", round.to_string()),
        ("{user_id}", user.to_string()),
        ("{org_id}", "1".to_string()),
        ("{activity_id}", "1".to_string()),
        ("{photo_id}", "1".to_string()),
        ("{reminder_id}", "1".to_string()),
        ("{upload_id}", "none".to_string()),
        ("{code}", "micro-video".to_string()),
        ("{token}", "0123456789abcdef0123456789abcdef".to_string()),
        ("{file}", "app.css".to_string()),
    ] {
        out = out.replace(name, &value);
    }
    out
}

#[tokio::test]
async fn blind_review_leaks_nothing_about_authors() {
    each_backend_on(judging_day(), |app| async move {
        let s = setup(&app).await;
        let (reviewer_id, login) = s.reviewers[0].clone();
        let reviewer = app.signed_in(&login).await;
        let mine = assignments_of(&app, reviewer_id).await;
        assert!(!mine.is_empty(), "the reviewer has works to score");
        let assignment = mine[0];
        // A draft first, so the sheet has saved content too.
        let r = reviewer
            .post_form(
                &format!("/review/{assignment}"),
                &[("score_0", "6"), ("action", "draft")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        let check = |what: String, headers: &reqwest::header::HeaderMap, body: &[u8]| {
            let text = String::from_utf8_lossy(body);
            for marker in MARKERS {
                assert!(!text.contains(marker), "{what} leaked {marker} in the body");
                for (name, value) in headers {
                    let value = String::from_utf8_lossy(value.as_bytes());
                    assert!(
                        !value.contains(marker),
                        "{what} leaked {marker} in header {name}"
                    );
                    let encoded = percent_encode(marker);
                    assert!(
                        !value.contains(&encoded),
                        "{what} leaked {marker} (encoded) in header {name}"
                    );
                }
            }
        };
        let mut reached = 0;
        for spec in routes() {
            let path = fill(spec.path, assignment, s.works[0], s.round, reviewer_id);
            let url = format!("{}{path}", reviewer.base);
            let request = reviewer
                .client
                .request(spec.method.clone(), &url)
                .header("x-csrf-token", &reviewer.csrf);
            let request = if spec.method == Method::GET {
                request
            } else if path.starts_with("/api/") {
                request.json(&json!({"work_id": s.works[0]}))
            } else {
                request.form(&[
                    ("_csrf", reviewer.csrf.as_str()),
                    ("action", "draft"),
                    ("score_0", "7"),
                ])
            };
            // Logging out would end the walk; the session route is covered by the matrix.
            if path == "/logout" || (path == "/api/v1/session" && spec.method == Method::DELETE) {
                continue;
            }
            let r = request.send().await.expect("request");
            let status = r.status();
            let headers = r.headers().clone();
            let body = r.bytes().await.unwrap_or_default();
            if status.is_success() {
                reached += 1;
            }
            check(
                format!("reviewer {} {path} → {status}", spec.method),
                &headers,
                &body,
            );
        }
        assert!(reached >= 5, "the reviewer reached their pages");

        // The clean copy: generated name, no metadata, none of the markers in the bytes.
        let r = reviewer.get(&format!("/review/{assignment}/file")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let disposition = r
            .headers()
            .get("content-disposition")
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        assert_eq!(
            disposition,
            format!("inline; filename=\"review-{assignment}.mp4\"")
        );
        let headers = r.headers().clone();
        let bytes = r.bytes().await.unwrap_or_default();
        assert!(bytes.len() > 1000);
        check("the clean copy".into(), &headers, &bytes);
        // The sheet names the work and what it measures, nothing about who made it.
        let (status, page) = reviewer.text(&format!("/review/{assignment}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("匿名测试作品") && page.contains("复工复产"),
            "{page}"
        );

        // Another reviewer's sheet does not exist for them; works pages are closed to reviewers.
        let others: Vec<i64> = wangju::db::testing::column(
            &app.state.db,
            &format!(
                "SELECT id FROM review_assignments WHERE reviewer_id <> {reviewer_id} ORDER BY id"
            ),
        )
        .await
        .expect("q");
        let foreign = others
            .iter()
            .find(|a| !mine.contains(a))
            .copied()
            .unwrap_or(0);
        assert_eq!(
            reviewer.get(&format!("/review/{foreign}")).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            reviewer
                .get(&format!("/review/{foreign}/file"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            reviewer
                .get(&format!("/works/{}", s.works[0]))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
    })
    .await;
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn sheet_state(app: &TestApp, assignment: i64) -> String {
    wangju::db::testing::scalar(
        &app.state.db,
        &format!("SELECT status || '|' || COALESCE(scores, '') || '|' || comment FROM review_assignments WHERE id = {assignment}"),
    )
    .await
    .expect("sheet")
}

#[tokio::test]
async fn scores_are_checked_locked_and_closed() {
    each_backend_on(judging_day(), |app| async move {
        let s = setup(&app).await;
        let db = &app.state.db;
        // Every work has three reviewers, none from its unit's subtree, loads within one.
        let pairs: i64 = wangju::db::testing::scalar(db, &format!("SELECT COUNT(*) FROM review_assignments WHERE round_id = {}", s.round)).await.expect("q");
        assert_eq!(pairs, 9);
        let loads: Vec<i64> = wangju::db::testing::column(db, "SELECT COUNT(*) FROM review_assignments GROUP BY reviewer_id").await.expect("q");
        assert!(loads.iter().max().unwrap_or(&0) - loads.iter().min().unwrap_or(&0) <= 1, "{loads:?}");

        let (reviewer_id, login) = s.reviewers[0].clone();
        let reviewer = app.signed_in(&login).await;
        let a = assignments_of(&app, reviewer_id).await[0];
        let before = sheet_state(&app, a).await;
        // Out of range: refused, nothing written.
        let r = reviewer.post_form(&format!("/review/{a}"), &[("score_0", "11"), ("score_1", "5"), ("score_2", "5"), ("score_3", "5"), ("comment", "好"), ("action", "submit")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap_or_default();
        assert!(page.contains("超出范围"), "{page}");
        assert_eq!(sheet_state(&app, a).await, before);
        // Not a number: a field error, never a panic.
        let r = reviewer.post_form(&format!("/review/{a}"), &[("score_0", "九"), ("action", "draft")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Full marks without a comment: refused.
        let full = [("score_0", "10"), ("score_1", "5"), ("score_2", "5"), ("score_3", "5"), ("action", "submit")];
        let r = reviewer.post_form(&format!("/review/{a}"), &full).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(sheet_state(&app, a).await, before);
        // A draft keeps blanks; submitting locks the sheet.
        let r = reviewer.post_form(&format!("/review/{a}"), &[("score_0", "8"), ("action", "draft")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(sheet_state(&app, a).await.starts_with("draft|[8,null,null,null]"));
        let r = reviewer.post_form(&format!("/review/{a}"), &[("score_0", "10"), ("score_1", "6"), ("score_2", "7"), ("score_3", "8"), ("comment", "立意突出"), ("action", "submit")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let submitted = sheet_state(&app, a).await;
        assert!(submitted.starts_with("submitted|"), "{submitted}");
        let r = reviewer.post_form(&format!("/review/{a}"), &[("score_0", "1"), ("score_1", "1"), ("score_2", "1"), ("score_3", "1"), ("action", "submit")]).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(sheet_state(&app, a).await, submitted);

        // Every reviewer scores everything else, so the round has a full ranking.
        for (id, login) in &s.reviewers {
            let agent = app.signed_in(login).await;
            for (n, x) in assignments_of(&app, *id).await.into_iter().enumerate() {
                if x == a { continue; }
                let v = (3 + n % 6).to_string();
                let r = agent.post_form(&format!("/review/{x}"), &[("score_0", &v), ("score_1", &v), ("score_2", "5"), ("score_3", "5"), ("action", "submit")]).await;
                assert_eq!(r.status(), StatusCode::SEE_OTHER);
            }
        }
        // The city sees the live ranking, then closes: the top half advances to 复评.
        let (status, page) = s.admin.text(&format!("/selection/rounds/{}", s.round)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("标准化得分"), "{page}");
        let r = s.admin.post_form(&format!("/selection/rounds/{}/close", s.round), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let advanced: i64 = wangju::db::testing::scalar(db, &format!("SELECT COUNT(*) FROM round_works WHERE round_id = {} AND advanced = 1", s.round)).await.expect("q");
        assert_eq!(advanced, 2, "50% of 3, rounded up");
        let next: i64 = wangju::db::testing::scalar(db, "SELECT COUNT(*) FROM round_works rw JOIN review_rounds r ON r.id = rw.round_id WHERE r.round_code = 'second'").await.expect("q");
        assert_eq!(next, 2);
        let ranks: Vec<i64> = wangju::db::testing::column(db, &format!("SELECT rank FROM round_works WHERE round_id = {} ORDER BY rank", s.round)).await.expect("q");
        assert_eq!(ranks, vec![1, 2, 3]);
        // 复评 has five reviewers a work: with four in the pool the assignment says so instead.
        // After the close, scoring the first round is refused and nothing is written.
        let pending: Vec<i64> = wangju::db::testing::column(db, &format!("SELECT id FROM review_assignments WHERE round_id = {} AND status <> 'submitted'", s.round)).await.expect("q");
        assert!(pending.is_empty());
        let r = reviewer.post_form(&format!("/review/{a}"), &[("score_0", "1"), ("action", "draft")]).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(sheet_state(&app, a).await, submitted);
        let final_ranking = wangju::service::selection::final_ranking(db, "micro-video").await.expect("ranking");
        let (round, ranked) = final_ranking.expect("a closed round");
        assert_eq!(round, "first");
        assert_eq!(ranked.len(), 3);
        assert!(ranked.windows(2).all(|w| w[0].rank < w[1].rank));
        // Drafting a 公示, the city sees the ranked works first with their place.
        let (status, page) = s.admin.text("/publicity").await;
        assert_eq!(status, StatusCode::OK);
        let first = page.find("初评第 1 名").expect("the ranking on the 公示 form");
        let third = page.find("初评第 3 名").expect("every ranked work");
        assert!(first < third, "best first");
    })
    .await;
}

#[tokio::test]
async fn two_admins_closing_at_once_one_wins() {
    each_backend_on(judging_day(), |app| async move {
        let s = setup(&app).await;
        account(
            &app,
            "city-two",
            "第二位管理员",
            "13600000001",
            Role::CityAdmin,
            "天津市总工会",
        )
        .await;
        let other = app.signed_in("city-two").await;
        let path = format!("/selection/rounds/{}/close", s.round);
        let (a, b) = tokio::join!(s.admin.post_form(&path, &[]), other.post_form(&path, &[]));
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
        let closes: i64 = wangju::db::testing::scalar(
            &app.state.db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'round.close'",
        )
        .await
        .expect("q");
        assert_eq!(closes, 1);
        let rounds: i64 =
            wangju::db::testing::scalar(&app.state.db, "SELECT COUNT(*) FROM review_rounds")
                .await
                .expect("q");
        assert!(rounds <= 2, "at most one next round");
    })
    .await;
}

#[tokio::test]
async fn a_dropout_moves_only_their_works_and_moves_are_audited() {
    each_backend_on(judging_day(), |app| async move {
        let s = setup(&app).await;
        let db = &app.state.db;
        let pairs = |sql: &'static str| async move {
            wangju::db::testing::column::<String>(db, sql).await.expect("pairs")
        };
        let before = pairs("SELECT CAST(work_id AS TEXT) || '-' || CAST(reviewer_id AS TEXT) FROM review_assignments ORDER BY work_id, reviewer_id").await;
        let (gone, _) = s.reviewers[1];
        let r = s.admin.post_form(&format!("/selection/micro-video/pool/{gone}/withdraw"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let after = pairs("SELECT CAST(work_id AS TEXT) || '-' || CAST(reviewer_id AS TEXT) FROM review_assignments ORDER BY work_id, reviewer_id").await;
        let suffix = format!("-{gone}");
        let kept: Vec<&String> = before.iter().filter(|p| !p.ends_with(&suffix)).collect();
        assert!(kept.iter().all(|p| after.contains(p)), "untouched works keep their reviewers");
        assert_eq!(after.len(), before.len());
        assert!(after.iter().all(|p| !p.ends_with(&suffix)));

        // A move by hand: to a reviewer not yet on the work, audited; a conflicted one refused.
        let (id, work, from): (i64, i64, i64) = {
            let row: String = wangju::db::testing::scalar(db, "SELECT CAST(id AS TEXT) || ',' || CAST(work_id AS TEXT) || ',' || CAST(reviewer_id AS TEXT) FROM review_assignments ORDER BY id LIMIT 1").await.expect("q");
            let v: Vec<i64> = row.split(',').map(|x| x.parse().unwrap_or_default()).collect();
            (v[0], v[1], v[2])
        };
        let on_work: Vec<i64> = wangju::db::testing::column(db, &format!("SELECT reviewer_id FROM review_assignments WHERE work_id = {work}")).await.expect("q");
        let free = s.reviewers.iter().map(|(r, _)| *r).find(|r| *r != gone && !on_work.contains(r));
        if let Some(to) = free {
            let r = s.admin.post_form(&format!("/selection/assignments/{id}/move"), &[("to", &to.to_string())]).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            let back = format!("/selection/rounds/{}/assignments", s.round);
            assert_eq!(r.headers().get("location").and_then(|v| v.to_str().ok()), Some(back.as_str()));
            // The moves live on their own page with the pool; the round page carries neither.
            let (status, page) = s.admin.text(&back).await;
            assert_eq!(status, StatusCode::OK);
            assert!(page.contains("<datalist id=\"pool\">") && page.contains("/move\""), "{page}");
            assert!(page.contains("（人工改派）"), "the moved sheet is marked");
            let (_, round_page) = s.admin.text(&format!("/selection/rounds/{}", s.round)).await;
            assert!(!round_page.contains("<datalist") && round_page.contains(&back), "{round_page}");
            let moved: i64 = wangju::db::testing::scalar(db, &format!("SELECT reviewer_id FROM review_assignments WHERE id = {id}")).await.expect("q");
            assert_eq!(moved, to);
            let audited: i64 = wangju::db::testing::scalar(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'assignment.move'").await.expect("q");
            assert_eq!(audited, 1);
        }
        // Declaring the work's unit for a reviewer makes a move to them a conflict.
        let unit = wangju::db::orgs::find_by_name(db, UNIT).await.expect("q").expect("org");
        let target = s.reviewers.iter().map(|(r, _)| *r).find(|r| *r != gone && *r != from).unwrap_or(0);
        let r = s.admin.post_form("/selection/conflicts", &[("user_id", &target.to_string()), ("org_id", &unit.id.to_string()), ("note", "曾指导该单位")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let pending: i64 = wangju::db::testing::scalar(db, &format!("SELECT MIN(id) FROM review_assignments WHERE reviewer_id <> {target} AND status = 'pending'")).await.expect("q");
        let r = s.admin.post_form(&format!("/selection/assignments/{pending}/move"), &[("to", &target.to_string())]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

#[tokio::test]
async fn city_demo_data_has_works_reviewers_assignments_and_scores() {
    each_backend_on(judging_day(), |app| async move {
        let db = &app.state.db;
        let report = wangju::service::demo::seed(
            db,
            wangju::service::demo::Scale::City,
            false,
            &Actor::cli(),
        )
        .await
        .expect("seed");
        let made = &report.selection;
        assert_eq!(made.works, 60);
        assert_eq!(made.reviewers.len(), 9);
        assert_eq!(made.assignments, 180, "three reviewers a work");
        assert!(made.scores > 90 && made.scores < 180, "{}", made.scores);
        let loads: Vec<i64> = wangju::db::testing::column(
            db,
            "SELECT COUNT(*) FROM review_assignments GROUP BY reviewer_id",
        )
        .await
        .expect("q");
        assert_eq!(loads.len(), 9);
        assert!(
            loads.iter().max().unwrap_or(&0) - loads.iter().min().unwrap_or(&0) <= 1,
            "{loads:?}"
        );
        let admin = app.admin().await;
        let (status, page) = admin.text("/selection").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("演示评审专家1"), "the pool is listed");
        let round: i64 = wangju::db::testing::scalar(db, "SELECT MAX(id) FROM review_rounds")
            .await
            .expect("q");
        let (status, page) = admin.text(&format!("/selection/rounds/{round}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("当前排名"), "{page}");
        // The round row's counts match the rows the seeding wrote.
        let kept = wangju::db::selection::round(db, round)
            .await
            .expect("q")
            .expect("round");
        assert_eq!(
            (kept.works, kept.assignments, kept.submitted),
            wangju::db::selection::recount(db, round).await.expect("q")
        );
        // Every demo work has a real file in the store (a short MP4), written once.
        use wangju::service::demo::selection::{DEMO_VIDEO, store_files};
        assert_eq!(store_files(db, &app.state.store).await.expect("files"), 60);
        assert_eq!(store_files(db, &app.state.store).await.expect("files"), 0);
        let keys: Vec<String> = wangju::db::testing::column(
            db,
            "SELECT clean_key FROM uploads WHERE id LIKE 'demo-%' ORDER BY id",
        )
        .await
        .expect("q");
        assert_eq!(keys.len(), 60);
        for key in &keys {
            assert_eq!(
                app.state.store.size(key).await.expect("stored"),
                DEMO_VIDEO.len() as u64
            );
        }
        assert_eq!(DEMO_VIDEO.get(4..8), Some(&b"ftyp"[..]));
        // A forced second seeding keeps the judging as it is.
        let again = wangju::service::demo::seed(
            db,
            wangju::service::demo::Scale::City,
            true,
            &Actor::cli(),
        )
        .await
        .expect("forced");
        assert_eq!(again.selection.works, 0);
    })
    .await;
}

#[tokio::test]
async fn reviewer_import_is_all_or_nothing() {
    each_backend_on(judging_day(), |app| async move {
        let admin = app.admin().await;
        let before = app.count("users").await;
        let bad = "登录名,姓名,手机号,所在单位,评审子项目\nexpert-a,张评审,13600000011,河西区总工会,micro-video\nexpert-b,李评审,123,不存在的单位,摄影\n";
        let r = admin.upload("/selection/reviewers/import", "reviewers.csv", bad.as_bytes().to_vec()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap_or_default();
        assert!(page.contains("第 3 行") && page.contains("不存在的单位") && page.contains("手机号"), "{page}");
        assert_eq!(app.count("users").await, before, "nothing written");
        let good = "登录名,姓名,手机号,所在单位,评审子项目\nexpert-a,张评审,13600000011,河西区总工会,micro-video\nexpert-b,李评审,,,网络正能量微视频征集\n";
        let r = admin.upload("/selection/reviewers/import", "reviewers.csv", good.as_bytes().to_vec()).await;
        assert_eq!(r.status(), StatusCode::OK);
        let page = r.text().await.unwrap_or_default();
        assert!(page.contains("已建立 2 个"), "{page}");
        assert_eq!(app.count("users").await, before + 2);
        assert_eq!(app.count("reviewer_pools").await, 2);
        // The same file again: the logins are taken, nothing written.
        let r = admin.upload("/selection/reviewers/import", "reviewers.csv", good.as_bytes().to_vec()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.count("users").await, before + 2);
    })
    .await;
}

/// The round row's counts (works, assignments, submitted sheets), kept by `n = n + k` in each
/// writing transaction, equal a recount after every reviewer submits at once while one of them
/// drops out (their unscored sheets deleted, the works assigned again), and after the close
/// opens the next round.
#[tokio::test]
async fn round_counts_equal_a_recount_after_concurrent_scoring() {
    each_backend_on(judging_day(), |app| async move {
        let s = setup(&app).await;
        let db = &app.state.db;
        let kept = |round: i64| async move {
            let row = wangju::db::selection::round(db, round)
                .await
                .expect("q")
                .expect("round");
            (row.works, row.assignments, row.submitted)
        };
        assert_eq!(
            kept(s.round).await,
            wangju::db::selection::recount(db, s.round)
                .await
                .expect("q")
        );
        assert_eq!(kept(s.round).await, (3, 9, 0));

        let mut agents = Vec::new();
        for (id, login) in &s.reviewers {
            agents.push((app.signed_in(login).await, assignments_of(&app, *id).await));
        }
        let gone = s.reviewers[3].0;
        let submits = agents.iter().flat_map(|(agent, sheets)| {
            sheets.iter().map(move |x| async move {
                agent
                    .post_form(
                        &format!("/review/{x}"),
                        &[
                            ("score_0", "7"),
                            ("score_1", "4"),
                            ("score_2", "3"),
                            ("score_3", "3"),
                            ("action", "submit"),
                        ],
                    )
                    .await
                    .status()
            })
        });
        let withdraw_path = format!("/selection/micro-video/pool/{gone}/withdraw");
        let withdraw = s.admin.post_form(&withdraw_path, &[]);
        let (statuses, w) = tokio::join!(futures_util::future::join_all(submits), withdraw);
        assert_eq!(w.status(), StatusCode::SEE_OTHER);
        // A sheet of the reviewer who left is in (submitted first) or gone (404, or 409 when it
        // went between reading and saving).
        assert!(
            statuses.iter().all(|s| [
                StatusCode::SEE_OTHER,
                StatusCode::NOT_FOUND,
                StatusCode::CONFLICT
            ]
            .contains(s)),
            "{statuses:?}"
        );
        let recount = wangju::db::selection::recount(db, s.round)
            .await
            .expect("q");
        assert_eq!(kept(s.round).await, recount);
        let ok = statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count() as i64;
        assert_eq!(recount.2, ok, "every accepted submit counted once");
        let (_, page) = s
            .admin
            .text(&format!("/selection/rounds/{}", s.round))
            .await;
        assert!(
            page.contains(&format!("已提交评分 {}/{}", recount.2, recount.1)),
            "{page}"
        );

        // The reassigned sheets are scored too, then the round closes into 复评.
        for (id, login) in s.reviewers.iter().filter(|(id, _)| *id != gone) {
            let agent = app.signed_in(login).await;
            for x in assignments_of(&app, *id).await {
                agent
                    .post_form(
                        &format!("/review/{x}"),
                        &[
                            ("score_0", "6"),
                            ("score_1", "4"),
                            ("score_2", "3"),
                            ("score_3", "3"),
                            ("action", "submit"),
                        ],
                    )
                    .await;
            }
        }
        assert_eq!(
            kept(s.round).await,
            wangju::db::selection::recount(db, s.round)
                .await
                .expect("q")
        );
        let r = s
            .admin
            .post_form(&format!("/selection/rounds/{}/close", s.round), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let next: i64 = wangju::db::testing::scalar(db, "SELECT MAX(id) FROM review_rounds")
            .await
            .expect("q");
        assert_ne!(next, s.round);
        assert_eq!(
            kept(next).await,
            wangju::db::selection::recount(db, next).await.expect("q")
        );
        assert_eq!(kept(next).await.0, 2, "two works advance");
    })
    .await;
}
