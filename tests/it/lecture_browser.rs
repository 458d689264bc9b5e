//! Issue 14 at phone size (390×844), in headless Chromium against the real app on SQLite and
//! PostgreSQL: a district nominates two candidates; the city union and the 网信办 liaison each
//! approve one and disagree on the other; the 公示 runs and closes; the selected model appears
//! on the public team page; a grassroots union requests a lecture, the city assigns the model,
//! the model confirms through their link, attendees check in, the report goes up and is
//! confirmed, and the team's record and the unit's quota both count it. No page of the strand
//! scrolls sideways at 390 px; screenshots of each go to the test output.

use std::time::Duration;

use chrono::NaiveDate;
use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use wangju::domain::role::Role;

use crate::browser::{check_in, fill, open_poster, shot, start_browser, submit};
use crate::harness::{PASSWORD, TestApp, each_backend};
use crate::report_browser::{press, sign_out};

const DEEDS: &str = "该同志长期在生产一线工作，利用业余时间运营单位微信公众号，坚持在网上传播正能量，\
发布原创技能短视频一百余条，累计播放量超过五十万次；积极参与网络谣言辟谣和网络安全知识宣传，带动身边职工依法文明上网，\
多次获得单位先进个人称号，在职工群众中有良好口碑。";

async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"))
        .click()
        .await
        .expect("click");
}

async fn type_into(c: &Client, css: &str, value: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("{css}"));
    e.clear().await.expect("clear");
    e.send_keys(value).await.expect("type");
}

/// Sets a field the keyboard cannot fill reliably (a select by its text, a datetime-local).
async fn set_value(c: &Client, css: &str, value: &str) {
    c.execute(
        "const e = document.querySelector(arguments[0]);
         if (e.tagName === 'SELECT') { for (const o of e.options) { if (o.text.includes(arguments[1])) { e.value = o.value; } } }
         else { e.value = arguments[1]; }",
        vec![css.into(), value.into()],
    )
    .await
    .unwrap_or_else(|e| panic!("{css}: {e}"));
}

/// Waits until the address says a step was taken (`done=`), or until it is `path`.
async fn wait_done(c: &Client, what: &str) {
    for _ in 0..100 {
        if c.current_url()
            .await
            .is_ok_and(|u| u.query().is_some_and(|q| q.contains("done=")))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = c.source().await.unwrap_or_default();
    panic!(
        "{what} never finished: {}",
        &page[page.len().saturating_sub(3000)..]
    );
}

pub(crate) async fn sign_in(c: &Client, base: &str, login: &str) {
    c.goto(&format!("{base}/login")).await.expect("login page");
    fill(c, "login", login).await;
    fill(c, "password", PASSWORD).await;
    submit(c).await;
    for _ in 0..100 {
        if c.current_url().await.is_ok_and(|u| u.path() != "/login") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{login} could not sign in");
}

/// The page fits the phone: nothing scrolls sideways. Then a screenshot.
async fn fits(c: &Client, name: &str, label: &str) {
    let sideways = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .expect("scroll width")
        .as_i64()
        .unwrap_or(i64::MAX);
    shot(c, &format!("lecture-{name}-{label}")).await;
    assert!(
        sideways <= 0,
        "{name} scrolls sideways by {sideways}px at 390 px"
    );
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    wangju::db::testing::scalar(&app.state.db, sql)
        .await
        .expect("scalar")
}

async fn nominate(c: &Client, base: &str, name: &str, phone: &str) {
    c.goto(&format!("{base}/lecture-team/manage"))
        .await
        .expect("manage");
    for (field, value) in [
        ("name", name),
        ("phone", phone),
        ("workplace", "天津某机械厂"),
        ("post", "车间主任"),
        ("political_status", "中共党员"),
    ] {
        type_into(c, &format!("#nominate input[name='{field}']"), value).await;
    }
    for (field, value) in [
        ("accounts", "抖音：津门工匠"),
        ("deeds", DEEDS),
        ("summary", "一线技术能手，网上传播技能知识和正能量。"),
        ("links", "https://example.cn/v/1"),
    ] {
        type_into(c, &format!("#nominate textarea[name='{field}']"), value).await;
    }
    click(c, "#nominate input[name='consent']").await;
    click(c, "#nominate form button[type='submit']").await;
    wait_done(c, &format!("nominating {name}")).await;
}

/// One side's decision on a nomination (`reason` for a refusal).
async fn decide(c: &Client, base: &str, id: i64, decision: &str, reason: &str) {
    c.goto(&format!("{base}/lecture-team/nominations/{id}"))
        .await
        .expect("nomination");
    click(
        c,
        &format!("form[action$='/decision'] input[value='{decision}']"),
    )
    .await;
    if !reason.is_empty() {
        type_into(
            c,
            "form[action$='/decision'] textarea[name='reason']",
            reason,
        )
        .await;
    }
    click(c, "form[action$='/decision'] button").await;
    wait_done(c, "a decision").await;
}

#[tokio::test]
async fn the_lecture_team_strand_at_phone_size() {
    each_backend(|app| async move {
        let label = format!("{:?}", app.state.db.backend()).to_lowercase();
        let base = app.base.clone();
        let city = app.admin().await;
        let hexi = wangju::db::orgs::find_by_name(&app.state.db, "河西区总工会").await.expect("query").expect("河西").id;
        let (s, body) = city
            .send_json(reqwest::Method::POST, "/api/v1/orgs", &serde_json::json!({"name": "河西某中学工会", "kind": "grassroots", "parent_id": hexi}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        app.account("hexi-qu", "河西区总工会干事", "13800000001", Role::UnitAdmin, "河西区总工会").await;
        app.account("wxb", "市委网信办联络员", "13800000002", Role::CoOrganiserLiaison, "中共天津市委网信办").await;
        app.account("school", "中学工会干事", "13800000003", Role::GrassrootsAdmin, "河西某中学工会").await;
        let (_driver, c) = start_browser(390, 844).await;

        // 1. The district nominates two candidates.
        sign_in(&c, &base, "hexi-qu").await;
        nominate(&c, &base, "王建国", "13900001111").await;
        fits(&c, "manage-district", &label).await;
        nominate(&c, &base, "李红", "13900002222").await;
        let wang = scalar(&app, "SELECT id FROM model_nominations WHERE name = '王建国'").await;
        let li = scalar(&app, "SELECT id FROM model_nominations WHERE name = '李红'").await;
        sign_out(&c).await;

        // 2. The city vets both onto the shortlist and approves both.
        sign_in(&c, &base, "admin").await;
        for id in [wang, li] {
            c.goto(&format!("{base}/lecture-team/nominations/{id}")).await.expect("nomination");
            click(&c, "form[action$='/vet'] input[value='approve']").await;
            click(&c, "form[action$='/vet'] button").await;
            wait_done(&c, "vetting").await;
            decide(&c, &base, id, "approve", "").await;
        }
        fits(&c, "nomination-city", &label).await;
        sign_out(&c).await;

        // 3. The 网信办 liaison approves 王 and disagrees on 李.
        sign_in(&c, &base, "wxb").await;
        decide(&c, &base, wang, "approve", "").await;
        decide(&c, &base, li, "reject", "网络作品传播范围有限").await;
        fits(&c, "nomination-liaison", &label).await;
        sign_out(&c).await;
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM model_nominations WHERE id = {wang} AND status = 'endorsed'")).await, 1);
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM model_nominations WHERE id = {li} AND status = 'rejected'")).await, 1);

        // 4. The 公示 of the one both approved runs and closes; the model is on the public page.
        sign_in(&c, &base, "admin").await;
        c.goto(&format!("{base}/lecture-team/manage")).await.expect("manage");
        let endorsed = c.source().await.expect("source");
        let form = endorsed.split("id=\"publicity\"").nth(1).unwrap_or_default();
        assert!(form.contains("王建国") && !form.contains("李红"), "only the endorsed may go on the 公示");
        type_into(&c, "form[action='/lecture-team/publicity'] input[name='contact']", "022-23456789").await;
        click(&c, "form[action='/lecture-team/publicity'] button").await;
        for _ in 0..100 {
            if c.current_url().await.is_ok_and(|u| u.path().starts_with("/publicity/")) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let publicity = c.current_url().await.expect("url").path().to_string();
        click(&c, "form[action$='/publish'] button").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(app.state.clock.set_today(NaiveDate::from_ymd_opt(2020, 7, 20).expect("date")));
        c.goto(&format!("{base}{publicity}")).await.expect("publicity");
        click(&c, "form[action$='/close'] button").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.goto(&format!("{base}/lecture-team")).await.expect("team page");
        let team = c.source().await.expect("source");
        assert!(team.contains("王建国") && !team.contains("李红"), "the selected model on the public team page");
        assert!(!team.contains("13900001111"), "no phone on the public page");
        fits(&c, "team-public", &label).await;
        sign_out(&c).await;

        // 5. A grassroots union requests a lecture at its school.
        sign_in(&c, &base, "school").await;
        c.goto(&format!("{base}/lecture-team/lectures")).await.expect("lectures");
        type_into(&c, "#request input[name='topic']", "网络安全进校园").await;
        set_value(&c, "#request select[name='form']", "专题培训").await;
        set_value(&c, "#request select[name='venue_type']", "进校园").await;
        type_into(&c, "#request input[name='place']", "河西某中学报告厅").await;
        set_value(&c, "#request input[name='starts_at']", "2020-07-20T00:00").await;
        set_value(&c, "#request input[name='ends_at']", "2020-07-20T02:00").await;
        fits(&c, "request", &label).await;
        click(&c, "#request button[type='submit']").await;
        wait_done(&c, "the request").await;
        let lecture = scalar(&app, "SELECT id FROM lectures WHERE topic = '网络安全进校园'").await;
        sign_out(&c).await;

        // 6. The city assigns the model; the model confirms through the link passed on.
        sign_in(&c, &base, "admin").await;
        c.goto(&format!("{base}/lecture-team/lectures")).await.expect("lectures");
        let card = format!("li[data-lecture='{lecture}']");
        set_value(&c, &format!("{card} select[name='member_id']"), "王建国").await;
        click(&c, &format!("{card} form[action$='/assign'] button")).await;
        wait_done(&c, "the assignment").await;
        fits(&c, "lectures-city", &label).await;
        let link = c
            .find(Locator::Css(&format!("{card} a.confirm-link")))
            .await
            .expect("the lecturer's link")
            .attr("href")
            .await
            .expect("href")
            .expect("a link");
        sign_out(&c).await;
        c.goto(&format!("{base}{link}")).await.expect("confirmation page");
        fits(&c, "confirm", &label).await;
        click(&c, "main form button[type='submit']").await;
        c.wait().for_element(Locator::Css("#confirmed")).await.expect("confirmed");
        let activity = scalar(&app, &format!("SELECT activity_id FROM lectures WHERE id = {lecture} AND status = 'confirmed'")).await;

        // 7. Attendees check in; the school reports it and sends it up.
        sign_in(&c, &base, "school").await;
        let id = activity.to_string();
        open_poster(&c, &base, &id).await;
        let page = c.source().await.expect("source");
        let start = page.find("/c/").expect("check-in address");
        let checkin = page[start..start + 35].to_string();
        sign_out(&c).await;
        for (name, unit) in [("学生甲", "河西某中学"), ("学生乙", "河西某中学")] {
            check_in(&c, &format!("{base}{checkin}"), name, unit).await;
        }
        sign_in(&c, &base, "school").await;
        c.goto(&format!("{base}/activities/{id}")).await.expect("report form");
        for (field, value) in [("participants", "35"), ("grassroots_unions", "1"), ("enterprises", "0"), ("new_propagandists", "0")] {
            type_into(&c, &format!("input[name='{field}']"), value).await;
        }
        type_into(&c, "textarea[name='summary']", "宣讲团讲师走进校园，讲解网络安全和个人信息保护知识，师生踊跃参与。").await;
        click(&c, "form.stack button[type='submit']").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        c.goto(&format!("{base}/activities/{id}")).await.expect("form");
        press(&c, "submit").await;
        sign_out(&c).await;

        // 8. The district approves, the city confirms.
        sign_in(&c, &base, "hexi-qu").await;
        c.goto(&format!("{base}/activities/{id}")).await.expect("activity");
        press(&c, "approve").await;
        sign_out(&c).await;
        sign_in(&c, &base, "admin").await;
        c.goto(&format!("{base}/activities/{id}")).await.expect("activity");
        press(&c, "confirm").await;

        // 9. The team's record counts it under 进校园 (2 checked in of 35 claimed) ...
        c.goto(&format!("{base}/lecture-team/lectures#record")).await.expect("record");
        let page = c.source().await.expect("source");
        let row = page.split("<td class=\"lead\">王建国").nth(1).expect("王建国's row");
        let row = row.split("</tr>").next().unwrap_or_default();
        assert!(row.contains("1 · 2/35"), "{row}");
        fits(&c, "record", &label).await;
        // ... and so does the unit's quota.
        let (_, p) = city.json("/api/v1/progress").await;
        let district = p["rows"].as_array().and_then(|rows| rows.iter().find(|r| r["name"] == "河西区总工会")).cloned().unwrap_or_default();
        assert_eq!(district["counts"]["confirmed"], 1, "{district}");
        c.goto(&format!("{base}/progress")).await.expect("progress");
        fits(&c, "progress", &label).await;
        c.close().await.expect("close browser");
    })
    .await;
}
