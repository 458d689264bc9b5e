//! Selection at phone size (issue 13's browser test), 390×844 in headless Chromium, on SQLite and
//! PostgreSQL: a reviewer scores two works on the blind sheet; the city closes 初评, then (once
//! five reviewers scored each in its window, over HTTP) 复评 and 终评, fills the recommendation
//! from the 终评 ranking, drafts and publishes the 公示; a visitor lodges a real-name objection with an
//! evidence file; the city rules on it; the package downloads in the browser and holds the
//! 汇总表, the 推荐表 and each work's file named 序号-作品名.mp4. No page scrolls sideways;
//! screenshots of each step go to the test output.

use std::io::{Cursor, Read};
use std::time::Duration;

use base64::Engine;
use chrono::NaiveDate;
use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use wangju::db::Backend;
use wangju::domain::role::Role;

use crate::browser::{fill, shot, start_browser, wait_for_path};
use crate::harness::{PASSWORD, TestApp, backends};

async fn sign_in_as(c: &Client, base: &str, login: &str) {
    c.delete_all_cookies().await.expect("sign out");
    c.goto(&format!("{base}/login")).await.expect("login page");
    fill(c, "login", login).await;
    fill(c, "password", PASSWORD).await;
    click(c, "main form button[type='submit']").await;
    for _ in 0..50 {
        if c.current_url().await.is_ok_and(|u| u.path() != "/login") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{login} could not sign in");
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn type_into(c: &Client, css: &str, value: &str) {
    let field = c
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

/// The page does not scroll sideways at phone width; takes a screenshot.
async fn fits(c: &Client, name: &str) {
    let sideways = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .expect("scroll width")
        .as_i64()
        .unwrap_or(i64::MAX);
    shot(c, name).await;
    let at = c
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    assert!(sideways <= 0, "{at} scrolls sideways by {sideways}px");
}

async fn body_text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text")
}

async fn flow(backend: Backend) {
    let app = TestApp::spawn_on(backend, crate::selection::judging_day()).await;
    let s = crate::selection::setup(&app).await;
    let base = app.base.clone();
    let label = format!("{backend:?}").to_lowercase();
    let (_driver, c) = start_browser(390, 844).await;

    // A reviewer scores two works on their phone.
    let (reviewer_id, login) = s.reviewers[0].clone();
    sign_in_as(&c, &base, &login).await;
    let mine = crate::selection::assignments_of(&app, reviewer_id).await;
    assert!(mine.len() >= 2, "the reviewer has two works: {mine:?}");
    c.goto(&format!("{base}/review"))
        .await
        .expect("review list");
    fits(&c, &format!("selection-phone-review-list-{label}")).await;
    for (n, a) in mine.iter().take(2).enumerate() {
        c.goto(&format!("{base}/review/{a}")).await.expect("sheet");
        for (i, v) in ["8", "4", "4", "4"].iter().enumerate() {
            type_into(&c, &format!("input[name='score_{i}']"), v).await;
        }
        type_into(&c, "textarea[name='comment']", "主题鲜明，画面清楚").await;
        if n == 0 {
            fits(&c, &format!("selection-phone-sheet-{label}")).await;
        }
        click(&c, "button[name='action'][value='submit']").await;
        c.wait()
            .for_element(Locator::Css("main"))
            .await
            .expect("after submit");
        let sheet = c.goto(&format!("{base}/review/{a}")).await;
        sheet.expect("sheet again");
        assert!(
            body_text(&c).await.contains("已提交"),
            "sheet {a} submitted"
        );
    }

    // The city closes 初评 (the live ranking shows): the two scored works advance to 复评.
    sign_in_as(&c, &base, "admin").await;
    c.goto(&format!("{base}/selection/rounds/{}", s.round))
        .await
        .expect("round");
    assert!(body_text(&c).await.contains("已提交评分 2/9"));
    fits(&c, &format!("selection-phone-round-open-{label}")).await;
    close_round(&c, &format!("初评-{label}")).await;
    // 复评 and 终评 take five reviewers a work: a fifth joins the pool, the city assigns, and
    // the reviewers score each round in its window (over HTTP; the phone part is above).
    let fifth = app
        .account(
            "expert-4",
            "评审专家4",
            "13600000004",
            Role::Reviewer,
            "河西区总工会",
        )
        .await
        .get();
    let r = s
        .admin
        .post_form(
            "/selection/micro-video/pool",
            &[("user_id", &fifth.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut logins: Vec<String> = s.reviewers.iter().map(|(_, l)| l.clone()).collect();
    logins.push("expert-4".into());
    let second = latest_round(&app).await;
    assert_ne!(second, s.round, "复评 opened");
    let r = s
        .admin
        .post_form(&format!("/selection/rounds/{second}/assign"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for (round, day) in [("复评", 20), ("终评", 25)] {
        app.state
            .clock
            .set_today(NaiveDate::from_ymd_opt(2020, 9, day).expect("date"));
        let id = latest_round(&app).await;
        score_all(&app, id, &logins).await;
        c.goto(&format!("{base}/selection/rounds/{id}"))
            .await
            .expect("round");
        close_round(&c, &format!("{round}-{label}")).await;
    }
    c.wait()
        .for_element(Locator::Css("#closed"))
        .await
        .expect("终评 closed");
    assert!(body_text(&c).await.contains("本轮为终评"));
    fits(&c, &format!("selection-phone-round-closed-{label}")).await;
    // The 公示 starts on 9/28.
    app.state
        .clock
        .set_today(NaiveDate::from_ymd_opt(2020, 9, 28).expect("date"));

    // Recommends from the 终评 ranking and publishes the 公示.
    c.goto(&format!("{base}/recommendation"))
        .await
        .expect("recommendation");
    click(&c, "#fill-micro-video").await;
    wait_for_path(&c, "/recommendation").await;
    c.wait()
        .for_element(Locator::Css("#publicise-micro-video"))
        .await
        .expect("the list can be publicised");
    fits(&c, &format!("selection-phone-recommendation-{label}")).await;
    click(&c, "#publicise-micro-video summary").await;
    type_into(
        &c,
        "#publicise-micro-video input[name='contact']",
        "022-23456789",
    )
    .await;
    click(&c, "#publicise-micro-video button[type='submit']").await;
    for _ in 0..50 {
        if c.current_url()
            .await
            .is_ok_and(|u| u.path().starts_with("/publicity/"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let manage = c.current_url().await.expect("url");
    let publicity: i64 = manage
        .path()
        .trim_start_matches("/publicity/")
        .parse()
        .expect("publicity id");
    click(&c, "form[action$='/publish'] button").await;
    c.wait()
        .for_element(Locator::Css("form[action$='/close']"))
        .await
        .expect("published");
    fits(&c, &format!("selection-phone-publicity-open-{label}")).await;

    // A visitor lodges a real-name objection with evidence from the public page.
    c.delete_all_cookies().await.expect("sign out");
    c.goto(&format!("{base}/gongshi/{publicity}"))
        .await
        .expect("公示");
    fits(&c, &format!("selection-phone-gongshi-{label}")).await;
    let evidence = tempfile::Builder::new()
        .suffix(".png")
        .tempfile()
        .expect("evidence file");
    std::fs::write(evidence.path(), png()).expect("write evidence");
    type_into(&c, "input[name='name']", "李四").await;
    type_into(&c, "input[name='phone']", "13800001111").await;
    type_into(
        &c,
        "textarea[name='reason']",
        "该作品与往年获奖作品内容雷同，请核实。",
    )
    .await;
    c.find(Locator::Css("input[name='evidence']"))
        .await
        .expect("file field")
        .send_keys(&evidence.path().display().to_string())
        .await
        .expect("attach");
    click(&c, "form[action*='/objections'] button[type='submit']").await;
    for _ in 0..50 {
        if c.find(Locator::Css("#receipt-link")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let receipt = c
        .find(Locator::Css("#receipt-link"))
        .await
        .expect("a receipt link")
        .attr("href")
        .await
        .expect("href")
        .map(|h| format!("{base}{h}"))
        .expect("receipt");
    fits(&c, &format!("selection-phone-objection-receipt-{label}")).await;

    // The city rules on it (不成立, with a reason).
    sign_in_as(&c, &base, "admin").await;
    c.goto(&format!("{base}/publicity/{publicity}"))
        .await
        .expect("manage");
    click(&c, "input[name='outcome'][value='dismissed']").await;
    type_into(
        &c,
        "form[action*='/ruling'] textarea[name='reason']",
        "经核实，作品为原创，异议不成立。",
    )
    .await;
    fits(&c, &format!("selection-phone-ruling-{label}")).await;
    click(&c, "form[action*='/ruling'] button[type='submit']").await;
    c.wait()
        .for_element(Locator::Css("[role='status']"))
        .await
        .expect("ruled");
    assert!(body_text(&c).await.contains("经核实，作品为原创"));

    // The objector sees the outcome on their receipt.
    c.delete_all_cookies().await.expect("sign out");
    c.goto(&receipt).await.expect("receipt");
    assert!(
        body_text(&c).await.contains("不成立"),
        "the objector sees the outcome"
    );
    fits(&c, &format!("selection-phone-objection-outcome-{label}")).await;

    // The package downloads in the browser and holds the expected files.
    sign_in_as(&c, &base, "admin").await;
    c.goto(&format!("{base}/recommendation"))
        .await
        .expect("recommendation");
    let href = c
        .find(Locator::Css(
            "a[href^='/recommendation/package?sub_project=micro-video']",
        ))
        .await
        .expect("package link")
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    let encoded = c
        .execute(
            "return fetch(arguments[0]).then(r => { if (!r.ok) throw new Error(r.status); return r.arrayBuffer(); })
               .then(b => { const u = new Uint8Array(b); let s = ''; for (let i = 0; i < u.length; i += 8192)
                 s += String.fromCharCode.apply(null, u.subarray(i, i + 8192)); return btoa(s); });",
            vec![serde_json::json!(href)],
        )
        .await
        .expect("download")
        .as_str()
        .map(String::from)
        .expect("zip bytes");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).expect("entry").name().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with("推荐汇总表.xlsx")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.ends_with("推荐表.docx")),
        "{names:?}"
    );
    let mut files = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("entry");
        let name = entry.name().to_string();
        if name.contains("/作品/") && name.ends_with(".mp4") {
            let file = name.rsplit('/').next().unwrap_or_default();
            let (number, title) = file.split_once('-').unwrap_or_default();
            assert!(
                number.parse::<usize>() == Ok(files + 1) && title.starts_with("匿名测试作品"),
                "{name} is 序号-作品名.mp4"
            );
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read");
            assert_eq!(data.get(4..8), Some(&b"ftyp"[..]), "{name} is an MP4");
            files += 1;
        }
    }
    // 初评 advances the top half (2 of 3); both reach the 终评 ranking and are recommended.
    assert_eq!(files, 2, "each recommended work's file: {names:?}");
    c.close().await.expect("close browser");
}

/// Clicks “结束本轮” and waits for the page that follows (the next round, or this one closed).
async fn close_round(c: &Client, name: &str) {
    let before = c.current_url().await.expect("url").to_string();
    click(c, "#close-round").await;
    for _ in 0..100 {
        let now = c.current_url().await.expect("url").to_string();
        if now != before || c.find(Locator::Css("#closed")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shot(c, &format!("selection-phone-closed-{name}")).await;
}

async fn latest_round(app: &TestApp) -> i64 {
    wangju::db::testing::scalar(&app.state.db, "SELECT MAX(id) FROM review_rounds")
        .await
        .expect("round")
}

/// Every reviewer submits every sheet they have in `round`.
async fn score_all(app: &TestApp, round: i64, logins: &[String]) {
    let mut scored = 0;
    for login in logins {
        let agent = app.signed_in(login).await;
        let sheets: Vec<i64> = wangju::db::testing::column(
            &app.state.db,
            &format!(
                "SELECT a.id FROM review_assignments a JOIN users u ON u.id = a.reviewer_id
                 WHERE a.round_id = {round} AND u.login = '{login}' ORDER BY a.id"
            ),
        )
        .await
        .expect("sheets");
        for (n, x) in sheets.into_iter().enumerate() {
            let v = (5 + n % 3).to_string();
            let r = agent
                .post_form(
                    &format!("/review/{x}"),
                    &[
                        ("score_0", v.as_str()),
                        ("score_1", "4"),
                        ("score_2", "4"),
                        ("score_3", "4"),
                        ("action", "submit"),
                    ],
                )
                .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "sheet {x}");
            scored += 1;
        }
    }
    assert_eq!(scored, 10, "two works × five reviewers in round {round}");
}

/// A small real PNG (evidence).
pub(crate) fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([200, 30, 30]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

#[tokio::test]
async fn a_reviewer_the_city_and_a_visitor_finish_selection_on_a_phone() {
    for backend in backends() {
        flow(backend).await;
    }
}
