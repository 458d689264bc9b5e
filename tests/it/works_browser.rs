//! The works flow as people do it, in headless Chromium at phone size: a worker registers,
//! is refused a vertical and an over-long video with what was measured, submits a proper one;
//! a moderator plays it and accepts it. Once on SQLite with the local store, once on
//! PostgreSQL with the S3-compatible store.

use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, Locator};
use wangju::db::Backend;

use crate::browser::{fill, shot, start_browser, start_wangju, submit, wait_for_path};
use crate::harness::{Storage, backends};
use crate::media::files;

/// Creates an account with the command line; returns its one-time password.
fn add_user(
    args: &[String],
    env: &[(String, String)],
    login: &str,
    role: &str,
    org: &str,
) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wangju"))
        .args([
            "user",
            "add",
            "--login",
            login,
            "--name",
            "审核员甲",
            "--role",
            role,
            "--org",
            org,
        ])
        .args(if role == "moderator" {
            &["--moderate", "micro-video"][..]
        } else {
            &[]
        })
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("wangju user add");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.split("一次性密码：")
        .nth(1)
        .map(|p| p.trim().to_string())
        .expect("password printed")
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .expect(css)
        .text()
        .await
        .unwrap_or_default()
}

/// Chooses a file in the upload box and waits until the page says how the check went.
async fn choose_video(c: &Client, name: &str) -> (String, String) {
    let path = files().path(name);
    // Forget the previous file's outcome, so only this file's can end the wait.
    c.execute(
        "document.getElementById('upload-status').textContent = '';",
        vec![],
    )
    .await
    .expect("script");
    c.find(Locator::Css("#upload-file"))
        .await
        .expect("file input")
        .send_keys(&path.display().to_string())
        .await
        .expect("choose file");
    for _ in 0..300 {
        let status = text_of(c, "#upload-status").await;
        if status.contains("上传完成") {
            return (status, text_of(c, "#upload-findings").await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "upload of {name} never finished: {}",
        text_of(c, "#upload-status").await
    );
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
}

async fn sign_in(c: &Client, base: &str, login: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.expect("open login");
    fill(c, "login", login).await;
    fill(c, "password", password).await;
    submit(c).await;
}

async fn flow(backend: Backend, env: Vec<(String, String)>, label: &str) {
    let storage = Storage::new(backend).await;
    let args = &storage.args;
    let (_server, base, _) = start_wangju(args, &env);
    let moderator_password = add_user(args, &env, "shenhe1", "moderator", "天津市总工会");
    let (_driver, c) = start_browser(390, 844).await;

    // A worker finds the micro-video call and registers from its page.
    c.goto(&format!("{base}/projects/micro-video"))
        .await
        .expect("open project");
    assert!(c.source().await.expect("source").contains("征集进行中"));
    shot(&c, &format!("works-project-{label}")).await;
    click(&c, "a.button[href='/register']").await;
    wait_for_path(&c, "/register").await;
    fill(&c, "real_name", "王小明").await;
    fill(&c, "phone", "13712345678").await;
    let option = c
        .find(Locator::XPath(
            "//select[@name='org_id']/option[contains(., '河西区总工会')]",
        ))
        .await
        .expect("河西 in the list");
    option.click().await.expect("choose union");
    fill(&c, "password", "gongren2020").await;
    fill(&c, "password2", "gongren2020").await;
    click(&c, "input[name='consent']").await;
    submit(&c).await;
    // Signed in at once, on their own page.
    wait_for_path(&c, "/dashboard").await;
    let home = c.source().await.expect("the dashboard");
    assert!(
        home.contains("我的作品") && home.contains("注册成功"),
        "{home:.400}"
    );

    // Refusals say what was measured.
    c.goto(&format!("{base}/projects/micro-video/submit"))
        .await
        .expect("open form");
    let (status, findings) = choose_video(&c, "vertical.mp4").await;
    assert!(status.contains("不符合要求"), "{status}");
    assert!(
        findings.contains("9:16") && findings.contains("16:9"),
        "{findings}"
    );
    shot(&c, &format!("works-vertical-refused-{label}")).await;
    let (status, findings) = choose_video(&c, "long.mp4").await;
    assert!(status.contains("不符合要求"), "{status}");
    assert!(findings.contains("3 分 20 秒"), "{findings}");

    // A proper video goes up, the form is filled and sent.
    let (status, _) = choose_video(&c, "tagged.mp4").await;
    assert!(
        status.contains("符合要求") && !status.contains("不符合"),
        "{status}"
    );
    fill(&c, "title", "车间里的好网民").await;
    for check in ["originality", "portrait", "subtitles"] {
        click(&c, &format!("input[name='{check}']")).await;
    }
    shot(&c, &format!("works-ready-{label}")).await;
    click(&c, "#work-submit").await;
    for _ in 0..50 {
        if c.current_url()
            .await
            .is_ok_and(|u| u.path().starts_with("/works/"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let work_path = c.current_url().await.expect("url").path().to_string();
    assert!(text_of(&c, "#work-status").await.contains("待审核"));
    shot(&c, &format!("works-submitted-{label}")).await;
    click(&c, "form[action='/logout'] button").await;
    // Signed out only once the answer is back: /login would send a signed-in visitor on.
    wait_for_path(&c, "/").await;

    // The moderator signs in (changing the one-time password), opens the queue and plays it.
    sign_in(&c, &base, "shenhe1", &moderator_password).await;
    wait_for_path(&c, "/account/password").await;
    fill(&c, "current", &moderator_password).await;
    fill(&c, "new", "Shenhe-2020!").await;
    fill(&c, "confirm", "Shenhe-2020!").await;
    submit(&c).await;
    wait_for_path(&c, "/dashboard").await;
    c.goto(&format!("{base}/works")).await.expect("queue");
    click(&c, &format!("a[href='{work_path}']")).await;
    wait_for_path(&c, &work_path).await;
    let mut duration = 0.0;
    for _ in 0..100 {
        let v = c
            .execute(
                "const v = document.querySelector('video'); return v ? v.duration : -1;",
                vec![],
            )
            .await
            .expect("script");
        duration = v.as_f64().unwrap_or(0.0);
        if duration > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        (duration - 2.0).abs() < 0.2,
        "the browser read the video's length: {duration}"
    );
    shot(&c, &format!("works-moderate-{label}")).await;
    click(&c, "input[name='decision'][value='accept']").await;
    c.find(Locator::Css("textarea[name='reason']"))
        .await
        .expect("reason")
        .send_keys("画面清晰，声音清楚，字幕完整")
        .await
        .expect("type");
    click(&c, "#decision-form button[type='submit']").await;
    for _ in 0..50 {
        if text_of(&c, "#work-status").await.contains("已通过") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text_of(&c, "#work-status").await.contains("已通过"));
    shot(&c, &format!("works-accepted-{label}")).await;
    storage.finish().await;
}

#[tokio::test]
async fn a_worker_submits_and_a_moderator_accepts_in_chromium_on_a_phone() {
    flow(Backend::Sqlite, Vec::new(), "sqlite-local").await;
    if backends().contains(&Backend::Postgres) {
        let endpoint = crate::works::moto_endpoint().to_string();
        let bucket = format!("wangju-browser-{}", std::process::id());
        let r = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .expect("bucket");
        assert!(r.status().is_success());
        let env = [
            ("WANGJU_STORAGE", "s3"),
            ("WANGJU_S3_ENDPOINT", endpoint.as_str()),
            ("WANGJU_S3_BUCKET", bucket.as_str()),
            ("WANGJU_S3_ACCESS_KEY_ID", "test"),
            ("WANGJU_S3_SECRET_ACCESS_KEY", "test"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        flow(Backend::Postgres, env, "postgres-s3").await;
    }
}
