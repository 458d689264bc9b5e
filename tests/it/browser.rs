//! In a real headless Chromium, as a new user would: start `wangju serve` on an empty data
//! folder, sign in with the printed one-time password, change it, and see the overview with all
//! 16 district unions and their quotas — at phone size and at desktop size, with screenshots.
//!
//! Needs Debian's `chromium` and `chromium-driver` (installed by `.ci/run`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use wangju::db::Backend;

use crate::harness::{Storage, backends};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Kills the child when the test ends, however it ends.
pub(crate) struct Kill(pub(crate) Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts `wangju serve` (with extra environment, e.g. an S3 store) on a new data folder and
/// reads its base URL and the first admin's one-time password from stdout.
pub(crate) fn start_wangju(args: &[String], env: &[(String, String)]) -> (Kill, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangju"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("WANGJU_TODAY", "2020-07-01")
        .env("WANGJU_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start wangju serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut password = String::new();
    let mut base = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read stdout");
        if let Some(p) = line.trim().strip_prefix("一次性密码：") {
            password = p.trim().to_string();
        }
        if let Some(url) = line.trim().strip_prefix("网聚已启动：") {
            base = url.trim().trim_end_matches('/').to_string();
            break;
        }
    }
    assert!(!password.is_empty(), "serve printed the one-time password");
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "serve printed its address"
    );
    (Kill(child), base, password)
}

/// Widths below this are phones (the pages' card layout starts under 600 px).
const PHONE_MAX_WIDTH: u32 = 600;

/// Chromium under chromedriver with a `width`×`height` viewport (a phone's is emulated).
pub(crate) async fn start_browser(width: u32, height: u32) -> (Kill, Client) {
    start_browser_as(width, height, None).await
}

/// `start_browser`, a phone that says it is `user_agent` (e.g. WeChat's in-app browser).
pub(crate) async fn start_browser_as(
    width: u32,
    height: u32,
    user_agent: Option<&str>,
) -> (Kill, Client) {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists(),
        "{CHROMEDRIVER} is missing: install Debian's chromium and chromium-driver (see README)"
    );
    let port = free_port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Kill(driver);
    let profile = tempfile::tempdir().expect("profile dir");
    let mut options = json!({
        "binary": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={width},{height}"),
        ]
    });
    // Headless Chromium never makes a window narrower than 500 px, so a phone is emulated:
    // the page is laid out at the phone's own width, as on the device.
    if width < PHONE_MAX_WIDTH {
        options["mobileEmulation"] = json!({
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}
        });
        if let Some(agent) = user_agent {
            options["mobileEmulation"]["userAgent"] = json!(agent);
        }
    }
    let caps = json!({ "goog:chromeOptions": options });
    let caps = caps.as_object().cloned().expect("caps");
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                // The profile dir must outlive the browser; leak it to the OS temp cleaner.
                std::mem::forget(profile);
                return (driver, client);
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

pub(crate) fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

pub(crate) async fn fill(c: &Client, name: &str, value: &str) {
    c.find(Locator::Css(&format!("input[name='{name}']")))
        .await
        .expect("field")
        .send_keys(value)
        .await
        .expect("type");
}

pub(crate) async fn submit(c: &Client) {
    c.find(Locator::Css("main form button[type='submit']"))
        .await
        .expect("submit button")
        .click()
        .await
        .expect("click");
}

pub(crate) async fn wait_for_path(c: &Client, path: &str) {
    for _ in 0..50 {
        if c.current_url().await.is_ok_and(|u| u.path() == path) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "never reached {path}; at {:?}",
        c.current_url().await.map(|u| u.to_string())
    );
}

/// Taps the element `css` once the page shows it. Under load a link can be in the page before
/// it can be tapped (layout still settling): Chromium answers "not interactable", and a person
/// would simply tap again, so this does too, for up to five seconds.
pub(crate) async fn tap(c: &Client, css: &str) {
    let element = c
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} is not on the page: {e}"));
    for _ in 0..50 {
        match element.clone().click().await {
            Ok(()) => return,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::ElementNotInteractable =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("tap {css}: {e}"),
        }
    }
    panic!("{css} never became tappable");
}

pub(crate) async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    let file = screenshot_dir().join(format!("{name}.png").to_lowercase());
    std::fs::write(&file, png).expect("save screenshot");
    println!("screenshot: {}", file.display());
}

/// Plans an activity on 2020-07-01 through the form (知识竞赛, the first content category) and
/// waits for the report form that follows; returns the activity's id.
/// An attendee checks in at `url` (the activity's code) with name, unit and consent, and sees
/// the confirmation.
/// Opens an activity's poster, making its check-in code first with the page's button.
pub(crate) async fn open_poster(c: &Client, base: &str, id: &str) {
    c.goto(&format!("{base}/activities/{id}/checkin"))
        .await
        .expect("poster");
    if c.find(Locator::Css("img.qr")).await.is_err() {
        submit(c).await;
    }
    c.wait()
        .for_element(Locator::Css("img.qr"))
        .await
        .expect("qr image");
}

pub(crate) async fn check_in(c: &Client, url: &str, name: &str, unit: &str) {
    c.goto(url).await.expect("check-in page");
    fill(c, "name", name).await;
    fill(c, "unit", unit).await;
    c.find(Locator::Css("input[name='consent']"))
        .await
        .expect("consent")
        .click()
        .await
        .expect("tick");
    submit(c).await;
    let done = c
        .wait()
        .for_element(Locator::Css("p.info"))
        .await
        .expect("confirmation");
    assert!(done.text().await.expect("text").contains("签到成功"));
}

pub(crate) async fn plan_activity(c: &Client, base: &str, name: &str, place: &str) -> String {
    c.goto(&format!("{base}/activities/new"))
        .await
        .expect("open new activity");
    fill(c, "name", name).await;
    c.execute(
        "document.querySelector(\"input[name='starts_at']\").value = '2020-07-01T00:00';",
        vec![],
    )
    .await
    .expect("set time");
    fill(c, "place", place).await;
    c.find(Locator::Css(
        "select[name='format'] option[value='知识竞赛']",
    ))
    .await
    .expect("format option")
    .click()
    .await
    .expect("choose format");
    c.find(Locator::Css("input[name='categories']"))
        .await
        .expect("category")
        .click()
        .await
        .expect("tick category");
    submit(c).await;
    c.wait()
        .for_element(Locator::Css("input[name='participants']"))
        .await
        .expect("report form");
    let url = c.current_url().await.expect("url");
    url.path().trim_start_matches("/activities/").to_string()
}

async fn first_login_flow(backend: Backend, width: u32, height: u32, label: &str) {
    let storage = Storage::new(backend).await;
    let args = &storage.args;
    let (_server, base, password) = start_wangju(args, &[]);
    let (_driver, c) = start_browser(width, height).await;

    c.goto(&format!("{base}/login")).await.expect("open login");
    fill(&c, "login", "admin").await;
    fill(&c, "password", &password).await;
    submit(&c).await;
    wait_for_path(&c, "/account/password").await;
    let page = c.source().await.expect("source");
    assert!(
        page.contains("一次性密码"),
        "asked to change the one-time password"
    );

    // A weak password first: the page says what to fix.
    fill(&c, "current", &password).await;
    fill(&c, "new", "weak").await;
    fill(&c, "confirm", "weak").await;
    submit(&c).await;
    let alert = c
        .wait()
        .for_element(Locator::Css("ul.alert"))
        .await
        .expect("an error message");
    assert!(
        alert
            .text()
            .await
            .expect("text")
            .contains("密码至少 10 个字符")
    );

    let new_password = "Tianjin-2020!";
    fill(&c, "current", &password).await;
    fill(&c, "new", new_password).await;
    fill(&c, "confirm", new_password).await;
    submit(&c).await;
    wait_for_path(&c, "/dashboard").await;
    shot(&c, &format!("dashboard-{label}-{backend:?}")).await;

    c.find(Locator::LinkText("活动概况"))
        .await
        .expect("overview link")
        .click()
        .await
        .expect("click");
    wait_for_path(&c, "/").await;
    let page = c.source().await.expect("source");
    for district in [
        "滨海新区总工会",
        "和平区总工会",
        "蓟州区总工会",
        "宁河区总工会",
        "静海区总工会",
    ] {
        assert!(page.contains(district), "{district}");
    }
    let rows = c
        .find_all(Locator::Css("table.quota tbody tr"))
        .await
        .expect("quota rows");
    assert_eq!(rows.len(), 16, "all 16 district unions in the quota table");
    let total = c
        .find(Locator::Css("table.quota tfoot td.num"))
        .await
        .expect("total")
        .text()
        .await
        .expect("text");
    assert_eq!(total.trim(), "100");
    let current = c
        .find(Locator::Css(".phase.current .name"))
        .await
        .expect("current phase")
        .text()
        .await
        .expect("text");
    assert!(current.contains("活动启动推进"), "{current}");
    // Signed in, staff can call the notice's contacts: their mobiles are whole.
    assert!(
        page.contains("13920354997"),
        "contacts' mobiles whole when signed in"
    );
    assert!(!page.contains("登录后查看"));

    shot(&c, &format!("overview-{label}-{backend:?}")).await;

    // The org tree: add a sub-union under Binhai with the form, then find it by search.
    c.goto(&format!("{base}/orgs")).await.expect("open orgs");
    fill(&c, "name", "天津港保税区总工会").await;
    c.find(Locator::Css(
        "select[name='kind'] option[value='intermediate_union']",
    ))
    .await
    .expect("kind option")
    .click()
    .await
    .expect("choose kind");
    let binhai = c
        .find(Locator::XPath(
            "//select[@name='parent_id']/option[contains(., '滨海新区总工会')]",
        ))
        .await
        .expect("parent option");
    binhai.click().await.expect("choose parent");
    c.find(Locator::Css(
        "form[method='post'][action='/orgs'] button[type='submit']",
    ))
    .await
    .expect("create button")
    .click()
    .await
    .expect("create");
    let saved = c
        .wait()
        .for_element(Locator::Css("p.info"))
        .await
        .expect("saved notice");
    assert!(saved.text().await.expect("text").contains("已保存"));
    let page = c.source().await.expect("source");
    assert!(page.contains("天津港保税区总工会") && page.contains("滨海新区总工会"));
    c.goto(&format!("{base}/orgs?q=保税区"))
        .await
        .expect("search");
    let found = c
        .find_all(Locator::Css("ul.tree li"))
        .await
        .expect("results");
    assert_eq!(found.len(), 1);
    shot(&c, &format!("orgs-{label}-{backend:?}")).await;

    c.goto(&format!("{base}/users")).await.expect("open users");
    assert!(c.source().await.expect("source").contains("新建账号"));
    shot(&c, &format!("users-{label}-{backend:?}")).await;
    c.goto(&format!("{base}/audit?verify=1"))
        .await
        .expect("open audit");
    assert!(c.source().await.expect("source").contains("哈希链完整"));
    shot(&c, &format!("audit-{label}-{backend:?}")).await;

    // Plan an offline activity with the form, then see the report form and the progress table.
    plan_activity(&c, &base, "网络安全知识竞赛", "区工人文化宫").await;
    let report = c
        .find(Locator::Css("input[name='participants']"))
        .await
        .expect("report form");
    report.send_keys("120").await.expect("type");
    shot(&c, &format!("activity-{label}-{backend:?}")).await;

    // The poster with its QR code, then an attendee checking in on the phone.
    let url = c.current_url().await.expect("url");
    let id = url.path().trim_start_matches("/activities/").to_string();
    open_poster(&c, &base, &id).await;
    shot(&c, &format!("poster-{label}-{backend:?}")).await;
    let page = c.source().await.expect("source");
    let start = page.find("/c/").expect("check-in address on the poster");
    let checkin = page[start..start + 35].to_string();
    check_in(&c, &format!("{base}{checkin}"), "张三", "区工人文化宫").await;
    shot(&c, &format!("checkin-{label}-{backend:?}")).await;
    c.goto(&format!("{base}/progress"))
        .await
        .expect("open progress");
    let page = c.source().await.expect("source");
    assert!(page.contains("零报送") && page.contains("滨海新区总工会"));
    shot(&c, &format!("progress-{label}-{backend:?}")).await;
    // The charts draw (ECharts, served by Wangju itself) under the page's CSP.
    c.wait()
        .for_element(Locator::Css("#charts[data-ready='1'] #chart-weeks canvas"))
        .await
        .expect("the weekly chart is drawn");
    c.find(Locator::Css("#charts"))
        .await
        .expect("charts")
        .screenshot()
        .await
        .map(|png| {
            let file =
                screenshot_dir().join(format!("charts-{label}-{backend:?}.png").to_lowercase());
            std::fs::write(&file, png).expect("save");
            println!("screenshot: {}", file.display());
        })
        .expect("charts screenshot");
    c.close().await.expect("close browser");
    storage.finish().await;
}

#[tokio::test]
async fn first_login_and_overview_in_chromium_on_a_phone() {
    for backend in backends() {
        first_login_flow(backend, 390, 844, "phone").await;
    }
}

#[tokio::test]
async fn first_login_and_overview_in_chromium_on_a_desktop() {
    first_login_flow(Backend::Sqlite, 1280, 900, "desktop").await;
}
