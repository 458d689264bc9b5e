//! The "12351+" strand as people do it, in headless Chromium at phone size: a grassroots admin
//! plans an activity, attendees check in on their phones, the admin completes the report with
//! a photo and sends it up, the district admin approves, the city admin confirms — and the
//! dashboard, the Excel statistics sheet and the Word circular all move. On SQLite and on
//! PostgreSQL.

use std::io::{Cursor, Read};
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use wangju::db::Backend;

use crate::browser::{
    check_in, fill, open_poster, plan_activity, shot, start_browser, start_wangju, submit,
    wait_for_path,
};
use crate::harness::{Storage, backends};

const NEW_PASSWORD: &str = "Tianjin-2020!";

/// An API client signed in as the first admin (one-time password changed).
async fn admin_api(base: &str, one_time: &str) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let csrf = |c: reqwest::Client| async move {
        let v: Value = c
            .get(format!("{base}/api/v1/csrf"))
            .send()
            .await
            .expect("csrf")
            .json()
            .await
            .expect("json");
        v["csrf_token"].as_str().unwrap_or_default().to_string()
    };
    let token = csrf(c.clone()).await;
    let r = c
        .post(format!("{base}/login"))
        .form(&[
            ("login", "admin"),
            ("password", one_time),
            ("_csrf", &token),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let token = csrf(c.clone()).await;
    c.post(format!("{base}/account/password"))
        .form(&[
            ("current", one_time),
            ("new", NEW_PASSWORD),
            ("confirm", NEW_PASSWORD),
            ("_csrf", &token),
        ])
        .send()
        .await
        .expect("password");
    let token = csrf(c.clone()).await;
    (c, token)
}

async fn post_json(c: &reqwest::Client, token: &str, url: String, body: Value) -> Value {
    let r = c
        .post(url)
        .header("x-csrf-token", token)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.expect("json")
}

async fn sign_in_changing_password(c: &Client, base: &str, login: &str, one_time: &str) {
    c.goto(&format!("{base}/login")).await.expect("login page");
    fill(c, "login", login).await;
    fill(c, "password", one_time).await;
    submit(c).await;
    wait_for_path(c, "/account/password").await;
    fill(c, "current", one_time).await;
    fill(c, "new", NEW_PASSWORD).await;
    fill(c, "confirm", NEW_PASSWORD).await;
    submit(c).await;
    wait_for_path(c, "/dashboard").await;
}

pub(crate) async fn sign_out(c: &Client) {
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .expect("logout")
        .click()
        .await
        .expect("click");
    // Signed out only once the answer is back: /login would send a signed-in visitor on.
    wait_for_path(c, "/").await;
}

pub(crate) async fn press(c: &Client, step: &str) {
    c.find(Locator::Css(&format!(
        "form.step input[name='step'][value='{step}'] ~ button"
    )))
    .await
    .unwrap_or_else(|_| panic!("a {step} button"))
    .click()
    .await
    .expect("click");
    // The step is taken once the page it leads to says so.
    for _ in 0..100 {
        if c.current_url()
            .await
            .is_ok_and(|u| u.query().is_some_and(|q| q.contains("done=")))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the {step} step never finished");
}

fn photo_file(dir: &std::path::Path) -> std::path::PathBuf {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(1200, 800, |x, y| {
        image::Rgb([
            (x % 256) as u8,
            (y % 256) as u8,
            if (x / 60 + y / 60) % 2 == 0 { 200 } else { 40 },
        ])
    }));
    let path = dir.join("现场照片.jpg");
    img.save(&path).expect("write photo");
    path
}

/// The confirmed count of `unit` in the statistics sheet's row for it.
fn sheet_confirmed(xlsx: &[u8], unit: &str) -> String {
    use calamine::{DataType, Reader};
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(xlsx.to_vec())).expect("xlsx");
    let name = book.sheet_names().first().cloned().expect("a sheet");
    let range = book.worksheet_range(&name).expect("sheet");
    let mut rows = range.rows();
    // The header is under the title block.
    let header: Vec<String> = rows
        .find(|r| r.iter().any(|c| c.to_string().contains("已确认")))
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = header
        .iter()
        .position(|h| h.contains("已确认"))
        .expect("a 已确认 column");
    rows.find(|r| r.iter().any(|c| c.get_string() == Some(unit)))
        .map(|r| r[col].to_string())
        .expect("the unit's row")
}

fn docx_text(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("docx is a zip");
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .expect("document.xml")
        .read_to_string(&mut xml)
        .expect("read");
    xml
}

async fn flow(backend: Backend) {
    let storage = Storage::new(backend).await;
    let args = &storage.args;
    let (_server, base, one_time) = start_wangju(args, &[]);
    let label = format!("{backend:?}").to_lowercase();

    // The city sets up a grassroots union under 河西 and two accounts.
    let (api, token) = admin_api(&base, &one_time).await;
    let orgs: Value = api
        .get(format!("{base}/api/v1/orgs?q=河西区总工会"))
        .send()
        .await
        .expect("orgs")
        .json()
        .await
        .expect("json");
    let hexi = orgs
        .as_array()
        .and_then(|a| a.iter().find(|o| o["name"] == "河西区总工会"))
        .and_then(|o| o["id"].as_i64())
        .expect("河西");
    let company = post_json(
        &api,
        &token,
        format!("{base}/api/v1/orgs"),
        json!({"name": "河西甲公司工会", "kind": "grassroots", "parent_id": hexi}),
    )
    .await;
    let company = company["id"].as_i64().expect("org id");
    let grassroots = post_json(&api, &token, format!("{base}/api/v1/users"),
        json!({"login": "hexi-jia", "display_name": "甲公司工会干事", "role": "grassroots_admin", "org_id": company})).await;
    let district = post_json(&api, &token, format!("{base}/api/v1/users"),
        json!({"login": "hexi-qu", "display_name": "河西区总工会干事", "role": "unit_admin", "org_id": hexi})).await;
    let before = api
        .get(format!("{base}/progress/export?sheet=progress"))
        .send()
        .await
        .expect("xlsx")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(sheet_confirmed(&before, "河西区总工会"), "0");

    let (_driver, c) = start_browser(390, 844).await;
    // 1. The grassroots admin plans the activity.
    sign_in_changing_password(
        &c,
        &base,
        "hexi-jia",
        grassroots["one_time_password"].as_str().unwrap_or_default(),
    )
    .await;
    let id = plan_activity(&c, &base, "甲公司职工网络安全知识竞赛", "甲公司职工之家").await;

    // 2. Two attendees check in on their phones.
    open_poster(&c, &base, &id).await;
    let page = c.source().await.expect("source");
    let start = page.find("/c/").expect("check-in address");
    let checkin = page[start..start + 35].to_string();
    for (name, unit) in [("张三", "甲公司"), ("李四", "甲公司")] {
        check_in(&c, &format!("{base}{checkin}"), name, unit).await;
    }

    // 3. The report, a photo, and sending it up.
    c.goto(&format!("{base}/activities/{id}"))
        .await
        .expect("report form");
    for (field, value) in [
        ("participants", "35"),
        ("grassroots_unions", "1"),
        ("enterprises", "1"),
        ("new_propagandists", "4"),
    ] {
        let input = c
            .find(Locator::Css(&format!("input[name='{field}']")))
            .await
            .expect(field);
        input.clear().await.expect("clear");
        input.send_keys(value).await.expect("type");
    }
    c.find(Locator::Css("textarea[name='summary']"))
        .await
        .expect("summary")
        .send_keys("组织甲公司职工开展网络安全知识竞赛，讲解个人信息保护与防范电信网络诈骗知识，职工踊跃参与。")
        .await
        .expect("type");
    c.find(Locator::Css("form.stack button[type='submit']"))
        .await
        .expect("save")
        .click()
        .await
        .expect("save");
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.goto(&format!("{base}/activities/{id}?done=view#photos"))
        .await
        .expect("activity page");
    let photos = tempfile::tempdir().expect("dir");
    c.find(Locator::Css("input[name='photos']"))
        .await
        .expect("photo input")
        .send_keys(&photo_file(photos.path()).display().to_string())
        .await
        .expect("choose photo");
    c.find(Locator::Css("#photos form[enctype] button"))
        .await
        .expect("upload")
        .click()
        .await
        .expect("upload");
    c.wait()
        .for_element(Locator::Css("ul.photos img"))
        .await
        .expect("the photo's thumbnail");
    shot(&c, &format!("report-photo-{label}")).await;
    c.goto(&format!("{base}/activities/{id}"))
        .await
        .expect("form");
    press(&c, "submit").await;
    sign_out(&c).await;

    // 4. The district approves; 5. the city confirms.
    sign_in_changing_password(
        &c,
        &base,
        "hexi-qu",
        district["one_time_password"].as_str().unwrap_or_default(),
    )
    .await;
    c.goto(&format!("{base}/activities/{id}"))
        .await
        .expect("activity");
    let page = c.source().await.expect("source");
    assert!(page.contains("扫码签到 2 人"), "claimed beside verified");
    press(&c, "approve").await;
    sign_out(&c).await;
    c.goto(&format!("{base}/login")).await.expect("login");
    fill(&c, "login", "admin").await;
    fill(&c, "password", NEW_PASSWORD).await;
    submit(&c).await;
    wait_for_path(&c, "/dashboard").await;
    c.goto(&format!("{base}/activities/{id}"))
        .await
        .expect("activity");
    press(&c, "confirm").await;
    let status = c
        .find(Locator::Css("span.status"))
        .await
        .expect("status")
        .text()
        .await
        .expect("text");
    assert!(status.contains("确认"), "{status}");

    // The dashboard, the statistics sheet and the circular have moved.
    c.goto(&format!("{base}/progress")).await.expect("progress");
    let link = c
        .find(Locator::Css(&format!(
            "a[href='/activities?org={hexi}&status=confirmed']"
        )))
        .await
        .expect("河西's confirmed figure links to its list");
    assert_eq!(link.text().await.expect("text"), "1");
    c.wait()
        .for_element(Locator::Css("#charts[data-ready='1'] #chart-weeks canvas"))
        .await
        .expect("charts drawn");
    shot(&c, &format!("report-progress-{label}")).await;
    link.click().await.expect("follow");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        c.source()
            .await
            .expect("list")
            .contains("甲公司职工网络安全知识竞赛")
    );
    let after = api
        .get(format!("{base}/progress/export?sheet=progress"))
        .send()
        .await
        .expect("xlsx")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(sheet_confirmed(&after, "河西区总工会"), "1");
    let docx = api
        .get(format!("{base}/progress/circular.docx"))
        .send()
        .await
        .expect("docx")
        .bytes()
        .await
        .expect("bytes");
    let text = docx_text(&docx);
    assert!(text.contains("河西区总工会"));
    let zero_list = text.split("零报送").last().unwrap_or_default();
    assert!(
        !zero_list.contains("河西区总工会"),
        "河西 has left the 零报送 list"
    );
    c.close().await.expect("close");
    storage.finish().await;
}

#[tokio::test]
async fn a_report_travels_from_plan_to_confirmation_in_chromium_on_a_phone() {
    for backend in backends() {
        flow(backend).await;
    }
}
