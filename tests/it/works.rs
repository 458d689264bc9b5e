//! Works from a phone: a worker registers, uploads a micro-video in chunks (resuming after a
//! dropped connection), the server checks what the rule means, the worker submits with the
//! declarations, a moderator plays it (range requests) and decides with a reason. The same on
//! a real S3-compatible server (moto), and through a kill of the server mid-upload.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wangju::db::Db;
use wangju::domain::role::Role;

use crate::harness::{Agent, TestApp, backends, each_backend, location};
use crate::media::files;

pub(crate) const WORKER_PHONE: &str = "13712345678";
const WORKER_PASSWORD: &str = "gongren2020";

pub(crate) fn read(name: &str) -> Vec<u8> {
    std::fs::read(files().path(name)).expect("test video")
}

/// Registers a worker through the public form and signs in as them.
pub(crate) async fn register_worker(app: &TestApp, phone: &str, org: &str) -> Agent {
    let org_id = wangju::db::orgs::find_by_name(&app.state.db, org)
        .await
        .expect("query")
        .expect("org")
        .id
        .to_string();
    let mut agent = app.agent();
    let page = agent.get("/register").await;
    assert_eq!(page.status(), StatusCode::OK);
    agent.refresh_csrf().await;
    let fields = [
        ("real_name", "王小明"),
        ("phone", phone),
        ("org_id", org_id.as_str()),
        ("password", WORKER_PASSWORD),
        ("password2", WORKER_PASSWORD),
    ];
    // Without the privacy consent: refused, nothing created.
    let r = agent.post_form("/register", &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("个人信息收集说明")
    );
    let mut with_consent = fields.to_vec();
    with_consent.push(("consent", "1"));
    let r = agent.post_form("/register", &with_consent).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "registered");
    // Signed in at once: the worker lands on their own page.
    let to = location(&r);
    assert!(to.starts_with("/dashboard"), "registration leads to {to}");
    let (status, home) = agent.text(&to).await;
    assert_eq!(status, StatusCode::OK, "a signed-in dashboard");
    assert!(home.contains("注册成功"), "{home:.400}");
    assert!(home.contains("我的作品"));
    assert!(home.contains("提交作品"));
    assert!(home.contains("王小明") || home.contains("职工"));
    // The same phone again (from another browser): a clear refusal.
    let mut other = app.agent();
    let _ = other.get("/register").await;
    other.refresh_csrf().await;
    let r = other.post_form("/register", &with_consent).await;
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("如果您以前注册过")
    );
    let r = other.login(phone, WORKER_PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the phone number is the login"
    );
    agent.refresh_csrf().await;
    agent
}

async fn scalar(db: &Db, sql: &str) -> String {
    wangju::db::testing::scalar(db, sql).await.expect("query")
}

fn submission(upload_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("upload_id", upload_id.to_string()),
        ("title", "我身边的职工好网民".into()),
        ("authors", "王小明、李红".into()),
        ("contact_phone", WORKER_PHONE.into()),
        ("description", "记录车间里的正能量。".into()),
        ("originality", "1".into()),
        ("portrait", "1".into()),
        ("subtitles", "1".into()),
    ]
}

async fn post(agent: &Agent, path: &str, fields: &[(&'static str, String)]) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    agent.post_form(path, &fields).await
}

/// The whole flow on one app; returns nothing, asserts everything a user relies on.
async fn submit_and_moderate(app: &TestApp) {
    let worker = register_worker(app, WORKER_PHONE, "河西区总工会").await;
    let (s, page) = worker.text("/projects/micro-video").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("时长短于 3 分钟") || page.contains("3 分钟"),
        "rules in plain Chinese"
    );

    // A vertical video: uploaded, measured, refused with what was measured.
    let vertical = worker
        .upload_work("micro-video", "竖屏.mp4", &read("vertical.mp4"), 64 * 1024)
        .await;
    assert_eq!(vertical["verdict"], "rejected", "{vertical}");
    assert_eq!(vertical["report"]["errors"], json!(["aspect"]));
    let message = vertical["report"]["messages"].to_string();
    assert!(
        message.contains("9:16") && message.contains("16:9"),
        "{message}"
    );
    let refused = post(
        &worker,
        "/projects/micro-video/submit",
        &submission(vertical["id"].as_str().unwrap_or_default()),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap_or_default().contains("9:16"));

    // An over-long one: the message says how long it is and what is required.
    let long = worker
        .upload_work("micro-video", "long.mp4", &read("long.mp4"), 1024 * 1024)
        .await;
    assert_eq!(long["verdict"], "rejected");
    let message = long["report"]["messages"].to_string();
    assert!(
        message.contains("3 分 20 秒") && message.contains("3 分钟"),
        "{message}"
    );
    // Refused files can never be submitted, so neither is kept (nor are their parts).
    let kept = app.state.store.list("works/").await.expect("list");
    assert!(kept.is_empty(), "{kept:?}");

    // A proper one, in small chunks; a missing declaration is refused, then it goes in.
    let ok = worker
        .upload_work(
            "micro-video",
            "VID_2020.mp4",
            &read("tagged.mp4"),
            100 * 1024,
        )
        .await;
    assert_eq!(ok["verdict"], "accepted", "{ok}");
    let upload_id = ok["id"].as_str().unwrap_or_default().to_string();
    let mut missing = submission(&upload_id);
    missing.retain(|(k, _)| *k != "originality");
    let r = post(&worker, "/projects/micro-video/submit", &missing).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("原创及授权声明")
    );
    assert_eq!(app.count("works").await, 0, "nothing half-written");
    let r = post(
        &worker,
        "/projects/micro-video/submit",
        &submission(&upload_id),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    let work_id: i64 = to
        .trim_start_matches("/works/")
        .split('?')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("work id");
    let (s, page) = worker.text(&to).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("待审核") && page.contains("2020-06-v1"),
        "status and declaration versions"
    );
    // The same upload cannot make a second work.
    let r = post(
        &worker,
        "/projects/micro-video/submit",
        &submission(&upload_id),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Another worker can see neither the work nor its file nor the upload.
    let other = register_worker(app, "13787654321", "和平区总工会").await;
    assert_eq!(
        other.get(&format!("/works/{work_id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get(&format!("/works/{work_id}/file")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.json(&format!("/api/v1/uploads/{upload_id}")).await.0,
        StatusCode::NOT_FOUND
    );

    // The moderator's queue, the player's range requests, the served copy's headers.
    let login = app.user(Role::Moderator, "天津市总工会").await;
    let moderator = app.signed_in(&login).await;
    // Not yet assigned a sub-project: no works, and a note saying why.
    let (_, queue) = moderator.text("/works").await;
    assert!(queue.contains("您还没有分配审核的子项目") && !queue.contains("我身边的职工好网民"));
    assert_eq!(
        moderator.get(&format!("/works/{work_id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // The city admin assigns the micro-video call on the moderator's account page.
    let admin = app.admin().await;
    let moderator_id = wangju::db::users::by_login(&app.state.db, &login)
        .await
        .expect("q")
        .expect("account")
        .id;
    let (_, account) = admin.text(&format!("/users/{moderator_id}")).await;
    assert!(
        account.contains("审核的子项目") && account.contains("value=\"micro-video\""),
        "{account}"
    );
    let r = admin
        .post_form(
            &format!("/users/{moderator_id}/sub-projects"),
            &[("sub_project", "photography")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a call hosted elsewhere has no works here"
    );
    let r = admin
        .post_form(
            &format!("/users/{moderator_id}/sub-projects"),
            &[("sub_project", "micro-video")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("audit_log WHERE action = 'moderator.assign'")
            .await,
        1
    );
    let (s, queue) = moderator.text("/works").await;
    assert!(
        queue.contains("您负责审核：网络正能量微视频征集"),
        "{queue}"
    );
    assert_eq!(s, StatusCode::OK);
    // The moderator calls the author about fixes: the whole number, and that look is audited;
    // the author's district admin sees it masked.
    let (_, seen) = moderator.json(&format!("/api/v1/works/{work_id}")).await;
    assert_eq!(seen["contact"], WORKER_PHONE, "{seen}");
    assert_eq!(
        app.count("audit_log WHERE action = 'work.contact_view'")
            .await,
        1
    );
    let district = app
        .signed_in(&app.user(Role::UnitAdmin, "河西区总工会").await)
        .await;
    let (_, seen) = district.json(&format!("/api/v1/works/{work_id}")).await;
    assert_eq!(seen["contact"], "137****5678", "{seen}");
    // The moderator's own home says what waits for them.
    let (_, home) = moderator.text("/dashboard").await;
    assert!(home.contains("待审核的作品：<b>1</b> 条"), "{home}");
    assert!(
        queue.contains("我身边的职工好网民"),
        "the queue shows the waiting work"
    );
    let r = moderator
        .client
        .get(format!("{}/works/{work_id}/file", moderator.base))
        .header("range", "bytes=0-99")
        .send()
        .await
        .expect("range request");
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    let h = r.headers().clone();
    let header = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let size = read("tagged.mp4").len();
    assert_eq!(header("content-range"), format!("bytes 0-99/{size}"));
    assert_eq!(header("content-type"), "video/mp4");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-security-policy").starts_with("sandbox"));
    assert!(header("content-disposition").contains(&format!("work-{work_id}.mp4")));
    assert_eq!(r.bytes().await.expect("body").len(), 100);
    let whole = moderator.get(&format!("/works/{work_id}/file")).await;
    assert_eq!(whole.status(), StatusCode::OK);
    let copy = whole.bytes().await.expect("body");
    assert_eq!(copy.len(), size, "same size: offsets stay valid");
    let text = String::from_utf8_lossy(&copy);
    assert!(
        !text.contains("Secret Author") && !text.contains("39.1234"),
        "no metadata in the copy"
    );
    let r = moderator
        .client
        .get(format!("{}/works/{work_id}/file", moderator.base))
        .header("range", format!("bytes={size}-"))
        .send()
        .await
        .expect("range request");
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok()),
        Some(format!("bytes */{size}").as_str())
    );
    // An end past the file (even the largest number) means "to the end" (RFC 9110).
    for (from, expected) in [(0_usize, size), (5, size - 5)] {
        let r = moderator
            .client
            .get(format!("{}/works/{work_id}/file", moderator.base))
            .header("range", format!("bytes={from}-18446744073709551615"))
            .send()
            .await
            .expect("range request");
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            r.headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok()),
            Some(format!("bytes {from}-{}/{size}", size - 1).as_str())
        );
        assert_eq!(r.bytes().await.expect("body").len(), expected);
    }

    // A decision without a reason changes nothing; with one, the worker sees it.
    let r = moderator
        .post_form(
            &format!("/works/{work_id}/decision"),
            &[("decision", "return"), ("reason", " ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        scalar(
            &app.state.db,
            &format!("SELECT status FROM works WHERE id = {work_id}")
        )
        .await,
        "submitted"
    );
    let r = moderator
        .post_form(
            &format!("/works/{work_id}/decision"),
            &[
                ("decision", "return"),
                ("reason", "关键内容缺少字幕，请补充后重新提交"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, mine) = worker.text("/works").await;
    assert!(mine.contains("已退回修改") && mine.contains("关键内容缺少字幕"));
    // The worker's home puts the returned work and its reason first, above 我的作品.
    let (status, home) = worker.text("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    let reason = home
        .find("退回原因：关键内容缺少字幕")
        .expect("the reason on the home page");
    let mine_at = home.find("我的作品").expect("我的作品");
    assert!(reason < mine_at, "the returned work comes first");
    // A decided work is not decided again.
    let (s, _) = moderator
        .send_json(
            Method::POST,
            &format!("/api/v1/works/{work_id}/decision"),
            &json!({"decision": "accept", "reason": "好"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // The worker fixes it (same file, new declaration) and it is accepted through the API.
    let r = post(
        &worker,
        &format!("/works/{work_id}/fix"),
        &submission(&upload_id),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, body) = moderator
        .send_json(
            Method::POST,
            &format!("/api/v1/works/{work_id}/decision"),
            &json!({"decision": "accept", "reason": "画面清晰，字幕完整"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let (s, work) = worker.json(&format!("/api/v1/works/{work_id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(work["status"], "accepted");
    assert_eq!(work["decision_reason"], "画面清晰，字幕完整");
    assert_eq!(work["authors"], json!(["王小明", "李红"]));
    let audited = scalar(
        &app.state.db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action IN ('user.register', 'work.submit', 'work.decide', 'work.resubmit')",
    )
    .await;
    assert_eq!(
        audited, "6",
        "2 registrations, a submission, a resubmission, 2 decisions"
    );
}

#[tokio::test]
async fn a_worker_submits_a_micro_video_and_a_moderator_decides() {
    each_backend(|app| async move { submit_and_moderate(&app).await }).await;
}

#[tokio::test]
async fn the_size_limit_holds_before_and_while_bytes_arrive() {
    each_backend(|app| async move {
        let worker = register_worker(&app, WORKER_PHONE, "河西区总工会").await;
        // Announced larger than 50 MB: refused before a byte is sent.
        let (s, body) = worker
            .send_json(Method::POST, "/api/v1/uploads", &json!({"sub_project": "micro-video", "file_name": "big.mp4", "size_bytes": 60 * 1024 * 1024}))
            .await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body["message"].as_str().unwrap_or_default().contains("要求小于 50"), "{body}");
        // Announced small, then more bytes than announced: refused while streaming, nothing kept.
        let (s, started) = worker
            .send_json(Method::POST, "/api/v1/uploads", &json!({"sub_project": "micro-video", "file_name": "a.mp4", "size_bytes": 1000}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let id = started["id"].as_str().unwrap_or_default().to_string();
        let (s, body) = worker.patch_upload(&id, 0, vec![0u8; 400_000]).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        let (_, now) = worker.json(&format!("/api/v1/uploads/{id}")).await;
        assert_eq!(now["received"], 0);
        // A wrong offset is refused with where to continue.
        let (s, body) = worker.patch_upload(&id, 10, vec![0u8; 10]).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(body["message"].as_str().unwrap_or_default().contains("第 0 字节"));
        // A hosted-elsewhere sub-project takes no uploads.
        let (s, _) = worker
            .send_json(Method::POST, "/api/v1/uploads", &json!({"sub_project": "photography", "file_name": "a.jpg", "size_bytes": 1000}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
    })
    .await;
}

#[tokio::test]
async fn the_call_closes_with_its_phase() {
    for backend in backends() {
        let app =
            TestApp::spawn_on(backend, NaiveDate::from_ymd_opt(2020, 10, 8).expect("date")).await;
        let worker = register_worker(&app, WORKER_PHONE, "河西区总工会").await;
        let (s, body) = worker
            .send_json(
                Method::POST,
                "/api/v1/uploads",
                &json!({"sub_project": "micro-video", "file_name": "a.mp4", "size_bytes": 1000}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("不在作品征集期内"),
            "{body}"
        );
        let (_, page) = worker.text("/projects/micro-video").await;
        assert!(page.contains("2020-06-01 至 2020-09-15"));
        app.finish().await;
    }
}

/// Sends the headers of a PATCH announcing `total` bytes, then only `sent` of them, then drops
/// the connection (a phone losing signal).
fn patch_and_drop(
    base: &str,
    agent_cookie: &str,
    csrf: &str,
    id: &str,
    offset: u64,
    bytes: &[u8],
    sent: usize,
) {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    let head = format!(
        "PATCH /api/v1/uploads/{id} HTTP/1.1\r\nHost: {addr}\r\nCookie: {agent_cookie}\r\nX-CSRF-Token: {csrf}\r\nUpload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        bytes.len()
    );
    stream.write_all(head.as_bytes()).expect("headers");
    stream.write_all(&bytes[..sent]).expect("part of the body");
    stream.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));
    drop(stream);
}

/// A worker registered and signed in over the API, with the session cookie for raw
/// connections.
async fn api_worker(app: &TestApp) -> (Agent, String) {
    let mut agent = app.agent();
    agent.refresh_csrf().await;
    let org_id = wangju::db::orgs::find_by_name(&app.state.db, "河西区总工会")
        .await
        .expect("q")
        .expect("org")
        .id;
    let (s, _) = agent
        .send_json(Method::POST, "/api/v1/register", &json!({"real_name": "赵六", "phone": WORKER_PHONE, "org_id": org_id, "password": WORKER_PASSWORD, "consent": true}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // Sign in over the API to read the cookie for the raw connection.
    let r = agent
        .client
        .post(format!("{}/api/v1/session", agent.base))
        .header("x-csrf-token", &agent.csrf)
        .json(&json!({"login": WORKER_PHONE, "password": WORKER_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::OK);
    let cookie: String = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let body: Value = r.json().await.expect("session");
    agent.csrf = body["csrf_token"].as_str().unwrap_or_default().to_string();
    (agent, cookie)
}

#[tokio::test]
async fn an_upload_resumes_from_the_last_received_byte() {
    each_backend(|app| async move {
        let (agent, cookie) = api_worker(&app).await;
        let video = read("ok.mp4");
        let (s, started) = agent
            .send_json(Method::POST, "/api/v1/uploads", &json!({"sub_project": "micro-video", "file_name": "ok.mp4", "size_bytes": video.len()}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let id = started["id"].as_str().unwrap_or_default().to_string();
        let sent = video.len() / 2;
        let (base, csrf, vid, idc) = (agent.base.clone(), agent.csrf.clone(), video.clone(), id.clone());
        tokio::task::spawn_blocking(move || patch_and_drop(&base, &cookie, &csrf, &idc, 0, &vid, sent))
            .await
            .expect("raw client");
        // The server kept what arrived; the phone asks and continues from there.
        let mut received = 0;
        for _ in 0..50 {
            let (_, now) = agent.json(&format!("/api/v1/uploads/{id}")).await;
            received = now["received"].as_u64().unwrap_or(0) as usize;
            if received > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(received > 0 && received <= sent, "kept {received} of {sent} bytes sent");
        let (s, done) = agent.patch_upload(&id, received as u64, video[received..].to_vec()).await;
        assert_eq!(s, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "checked");
        assert_eq!(done["verdict"], "accepted", "{done}");
        assert_eq!(done["report"]["size_bytes"], video.len(), "the joined file is the original");
    })
    .await;
}

/// Sends a PATCH whose body arrives in two pieces: `first` bytes, then (once `go` says so)
/// the rest. Returns the response's status line.
fn patch_in_two_pieces(
    addr: &str,
    cookie: &str,
    csrf: &str,
    id: &str,
    bytes: &[u8],
    first: usize,
    go: std::sync::mpsc::Receiver<()>,
) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let head = format!(
        "PATCH /api/v1/uploads/{id} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    );
    stream.write_all(head.as_bytes()).expect("headers");
    stream.write_all(&bytes[..first]).expect("first piece");
    stream.flush().expect("flush");
    go.recv().expect("signal");
    stream.write_all(&bytes[first..]).expect("the rest");
    let mut status = String::new();
    BufReader::new(stream)
        .read_line(&mut status)
        .expect("response");
    status
}

#[tokio::test]
async fn a_retry_racing_a_stalled_request_keeps_the_file_whole() {
    each_backend(|app| async move {
        let (agent, cookie) = api_worker(&app).await;
        let video = read("ok.mp4");
        let id = announce(&agent, &video).await;
        // The phone's first try stalls a third of the way in; the server is still reading it.
        let (go, wait) = std::sync::mpsc::channel();
        let addr = agent.base.trim_start_matches("http://").to_string();
        let (csrf, idc, vid) = (agent.csrf.clone(), id.clone(), video.clone());
        let stalled = tokio::task::spawn_blocking(move || {
            patch_in_two_pieces(&addr, &cookie, &csrf, &idc, &vid, vid.len() / 3, wait)
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (_, now) = agent.json(&format!("/api/v1/uploads/{id}")).await;
        assert_eq!(now["received"], 0, "nothing acknowledged yet");
        // The phone gives up on it and starts again from byte 0, in chunks; the first one is
        // acknowledged.
        let cut = video.len() * 2 / 3;
        let (s, now) = agent.patch_upload(&id, 0, video[..cut].to_vec()).await;
        assert_eq!(s, StatusCode::OK, "{now}");
        assert_eq!(now["received"], cut);
        // The stalled request wakes up and finishes: refused, and it destroys nothing.
        go.send(()).expect("wake");
        let status = stalled.await.expect("raw client");
        assert!(status.contains(" 409 "), "{status}");
        // The rest arrives; the file assembled from the acknowledged bytes is whole.
        let (s, done) = agent
            .patch_upload(&id, cut as u64, video[cut..].to_vec())
            .await;
        assert_eq!(s, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "checked");
        assert_eq!(done["verdict"], "accepted", "{done}");
        assert_eq!(done["report"]["size_bytes"], video.len(), "{done}");
        assert_eq!(
            app.count("upload_parts").await,
            0,
            "assembled: the parts are gone, rows too"
        );
        let left: Vec<_> = std::fs::read_dir(app.state.scratch_dir())
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "no scratch files left behind: {left:?}");
        let (s, body) = agent
            .send_json(Method::POST, "/api/v1/works", &api_submission(&id))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let work = body["id"].as_i64().unwrap_or_default();
        let r = agent.get(&format!("/works/{work}/file")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let (_, work) = agent.json(&format!("/api/v1/works/{work}")).await;
        assert_eq!(work["status"], "submitted", "{work}");
    })
    .await;
}

/// The `join` code inside a page's registration link.
fn join_code(page: &str) -> String {
    let at = page
        .find("/register?join=")
        .expect("a registration link on the page")
        + 15;
    page[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

#[tokio::test]
async fn a_grassroots_union_registers_its_workers_through_its_own_link() {
    each_backend(|app| async move {
        let union = "河西甲公司工会";
        let hexi = wangju::db::orgs::find_by_name(&app.state.db, "河西区总工会").await.expect("q").expect("org").id;
        let (s, created) = app
            .admin()
            .await
            .send_json(Method::POST, "/api/v1/orgs", &json!({"name": union, "kind": "grassroots", "parent_id": hexi}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let union_id = created["id"].as_i64().expect("org id");
        // The public form lists only the Annex 1 level, so this union is not on it.
        let (_, form) = app.agent().text("/register").await;
        assert!(!form.contains(union) && form.contains("河西区总工会"));
        assert!(form.contains("请向本单位工会索取注册链接"));

        // The union's admin makes the link on the union's page.
        let admin_login = app.user(Role::GrassrootsAdmin, union).await;
        let admin = app.signed_in(&admin_login).await;
        let (_, page) = admin.text(&format!("/orgs/{union_id}")).await;
        assert!(page.contains("生成注册链接") && !page.contains("/register?join="));
        let r = admin.post_form(&format!("/orgs/{union_id}/invite"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, page) = admin.text(&format!("/orgs/{union_id}")).await;
        let code = join_code(&page);
        assert_eq!(code.len(), 32, "{page}");
        let png = admin.get(&format!("/orgs/{union_id}/invite.png")).await;
        assert_eq!(png.status(), StatusCode::OK);
        assert_eq!(png.headers()["content-type"], "image/png");
        // Making it again keeps the same link (it is already on posters).
        admin.post_form(&format!("/orgs/{union_id}/invite"), &[]).await;
        assert_eq!(join_code(&admin.text(&format!("/orgs/{union_id}")).await.1), code);
        // Not for a union outside the admin's scope, and not for workers.
        let other = wangju::db::orgs::find_by_name(&app.state.db, "南开区总工会").await.expect("q").expect("org").id;
        let r = admin.post_form(&format!("/orgs/{other}/invite"), &[]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        // A worker opens the link: the union is fixed, and the account lands in it.
        let mut worker = app.agent();
        let (s, form) = worker.text(&format!("/register?join={code}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(form.contains(&format!("所在工会：<b>{union}</b>")), "{form}");
        worker.refresh_csrf().await;
        let fields = [
            ("real_name", "钱小红"),
            ("phone", WORKER_PHONE),
            ("join", code.as_str()),
            ("password", WORKER_PASSWORD),
            ("password2", WORKER_PASSWORD),
            ("consent", "1"),
        ];
        let r = worker.post_form("/register", &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "registered");
        let account = wangju::db::users::by_login(&app.state.db, WORKER_PHONE).await.expect("q").expect("account");
        assert_eq!(account.org_id.get(), union_id);
        // Over the API too.
        let mut api = app.agent();
        api.refresh_csrf().await;
        let (s, body) = api
            .send_json(Method::POST, "/api/v1/register", &json!({"real_name": "孙大力", "phone": "13812340000", "join": code, "password": WORKER_PASSWORD, "consent": true}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let account = wangju::db::users::by_login(&app.state.db, "13812340000").await.expect("q").expect("account");
        assert_eq!(account.org_id.get(), union_id);

        // The admin replaces a link that spread too far: the old one stops working, audited.
        let r = admin.post_form(&format!("/orgs/{union_id}/invite"), &[("renew", "1")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let renewed = join_code(&admin.text(&format!("/orgs/{union_id}")).await.1);
        assert_ne!(renewed, code);
        let (_, form) = app.agent().text(&format!("/register?join={code}")).await;
        assert!(form.contains("这个注册链接已失效"), "{form}");
        let mut late = app.agent();
        late.refresh_csrf().await;
        let (s, body) = late
            .send_json(Method::POST, "/api/v1/register", &json!({"real_name": "周一", "phone": "13812340001", "join": code, "password": WORKER_PASSWORD, "consent": true}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("注册链接已失效"), "{body}");
        assert_eq!(app.count("audit_log WHERE action = 'org.invite_renew'").await, 1);
    })
    .await;
}

/// Starts an upload of `video` over the API; returns its id.
async fn announce(agent: &Agent, video: &[u8]) -> String {
    let (s, started) = agent
        .send_json(Method::POST, "/api/v1/uploads", &json!({"sub_project": "micro-video", "file_name": "ok.mp4", "size_bytes": video.len()}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{started}");
    started["id"].as_str().unwrap_or_default().to_string()
}

pub(crate) fn api_submission(upload_id: &str) -> Value {
    json!({"sub_project": "micro-video", "upload_id": upload_id, "title": "车间里的好网民", "authors": ["王小明"],
           "contact_phone": WORKER_PHONE, "originality": true, "portrait": true, "subtitles": true})
}

#[tokio::test]
async fn abandoned_uploads_are_swept_and_submitted_ones_kept() {
    each_backend(|app| async move {
        let worker = register_worker(&app, WORKER_PHONE, "河西区总工会").await;
        let store = &app.state.store;
        let video = read("ok.mp4");
        // A phone that gave up halfway, a checked file nobody submitted, and a submitted work.
        let half = announce(&worker, &video).await;
        let (s, body) = worker
            .patch_upload(&half, 0, video[..video.len() / 2].to_vec())
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let unsent = worker
            .upload_work("micro-video", "ok.mp4", &video, 1 << 20)
            .await;
        assert_eq!(unsent["verdict"], "accepted", "{unsent}");
        let unsent = unsent["id"].as_str().unwrap_or_default().to_string();
        let kept = worker
            .upload_work("micro-video", "ok.mp4", &video, 1 << 20)
            .await;
        let kept = kept["id"].as_str().unwrap_or_default().to_string();
        let (s, body) = worker
            .send_json(Method::POST, "/api/v1/works", &api_submission(&kept))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let work_id = body["id"].as_i64().unwrap_or_default();
        // One file, one work: the same upload again is refused.
        let (s, body) = worker
            .send_json(Method::POST, "/api/v1/works", &api_submission(&kept))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("已经用于另一件作品"), "{body}");

        let objects =
            |prefix: String| async move { store.list(&prefix).await.expect("list").len() };
        let parts = format!("uploads/{half}/");
        assert_eq!(
            objects(parts.clone()).await,
            1,
            "the half-sent upload's part"
        );
        assert_eq!(
            objects("works/".into()).await,
            6,
            "original, clean copy and poster of two checked videos"
        );

        // Within the keep period nothing goes.
        let keep = Duration::from_secs(7 * 86_400);
        let now = wangju::clock::unix_now();
        let swept = wangju::service::works::sweep_abandoned(&app.state.db, store, keep, now)
            .await
            .expect("sweep");
        assert_eq!(swept.uploads, 0);
        assert_eq!(app.count("uploads").await, 3);

        // Once they have been idle past it, the two abandoned ones go with all their objects.
        let a_week_later = now + 7 * 86_400 + 1;
        let swept =
            wangju::service::works::sweep_abandoned(&app.state.db, store, keep, a_week_later)
                .await
                .expect("sweep");
        assert_eq!((swept.uploads, swept.objects_failed), (2, 0));
        assert_eq!(
            app.count("uploads").await,
            1,
            "only the submitted work's upload is left"
        );
        assert_eq!(objects(parts).await, 0, "no parts left behind");
        assert_eq!(
            objects("works/".into()).await,
            3,
            "the submitted work's two copies and its poster (the abandoned one's went too)"
        );
        let (s, _) = worker
            .patch_upload(
                &half,
                (video.len() / 2) as u64,
                video[video.len() / 2..].to_vec(),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "a swept upload cannot be resumed");
        let (s, body) = worker
            .send_json(Method::POST, "/api/v1/works", &api_submission(&unsent))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("请先上传作品文件"), "{body}");
        // The submitted work still plays.
        let r = worker.get(&format!("/works/{work_id}/file")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.bytes().await.expect("file").len(), video.len());
        // A second sweep finds nothing more.
        let swept =
            wangju::service::works::sweep_abandoned(&app.state.db, store, keep, a_week_later)
                .await
                .expect("sweep");
        assert_eq!(swept.uploads, 0);
    })
    .await;
}

/// moto's S3 server, started once for the test run (`pip install 'moto[server]'`, as .ci/run
/// does).
pub(crate) fn moto_endpoint() -> &'static str {
    static MOTO: OnceLock<(String, Child)> = OnceLock::new();
    &MOTO
        .get_or_init(|| {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("free port");
            // A static is never dropped, so the child cannot be killed from here when the test
            // run ends: a watchdog shell stops moto as soon as this process is gone.
            let watchdog = format!(
                "moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
                 while kill -0 {test} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done; \
                 kill $m 2>/dev/null",
                test = std::process::id()
            );
            let child = Command::new("bash")
                .args(["-c", &watchdog])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("bash");
            let endpoint = format!("http://127.0.0.1:{port}");
            let up = (0..150).any(|_| {
                let open = TcpStream::connect(("127.0.0.1", port)).is_ok();
                if !open {
                    std::thread::sleep(Duration::from_millis(100));
                }
                open
            });
            assert!(
                up,
                "moto_server 未安装或未能启动：pip install 'moto[server]'"
            );
            (endpoint, child)
        })
        .0
}

#[tokio::test]
async fn works_live_in_s3_compatible_storage() {
    let endpoint = moto_endpoint().to_string();
    for backend in backends() {
        let bucket = format!("wangju-{}", rand_suffix());
        let r = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .expect("create bucket");
        assert!(r.status().is_success(), "moto created the bucket");
        let app = TestApp::spawn_with(
            backend,
            NaiveDate::from_ymd_opt(2020, 7, 1).expect("date"),
            |s| {
                s.storage = "s3".into();
                s.s3_endpoint = endpoint.clone();
                s.s3_bucket = bucket.clone();
                s.s3_region = "us-east-1".into();
                s.s3_access_key_id = "test".into();
                s.s3_secret_access_key = "test".into();
            },
        )
        .await;
        let worker = register_worker(&app, WORKER_PHONE, "河西区总工会").await;
        let ok = worker
            .upload_work("micro-video", "ok.mp4", &read("tagged.mp4"), 256 * 1024)
            .await;
        assert_eq!(ok["verdict"], "accepted", "{ok}");
        let r = post(
            &worker,
            "/projects/micro-video/submit",
            &submission(ok["id"].as_str().unwrap_or_default()),
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let work = location(&r);
        let work = work.split('?').next().unwrap_or_default();
        // The objects are in the bucket under random names, never the uploaded one.
        let listing = reqwest::get(format!("{endpoint}/{bucket}?list-type=2"))
            .await
            .expect("list")
            .text()
            .await
            .unwrap_or_default();
        assert!(
            listing.contains("works/") && !listing.contains("ok.mp4"),
            "{listing}"
        );
        assert!(
            !listing.contains("uploads/"),
            "parts are removed once joined"
        );
        // A second node plays it from the bucket with range requests.
        let second = app.second_node().await;
        let mut moderator = app.signed_in(&app.moderator("天津市总工会").await).await;
        moderator.base = second;
        let r = moderator
            .client
            .get(format!("{}{work}/file", moderator.base))
            .header("range", "bytes=10-19")
            .send()
            .await
            .expect("range");
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            r.bytes().await.expect("body").as_ref(),
            &read("tagged.mp4")[10..20]
        );
        app.finish().await;
    }
}

fn rand_suffix() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    )
}

/// Starts `wangju serve` on a data folder and a fixed port; returns the child once it answers.
fn serve(dir: &std::path::Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangju"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env("WANGJU_TODAY", "2020-07-01")
        .env("WANGJU_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start wangju serve");
    let stdout = child.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines() {
        if line.expect("stdout").contains("网聚已启动") {
            break;
        }
    }
    child
}

#[tokio::test]
async fn killing_the_server_mid_upload_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(dir.path(), port);
    let mut agent = Agent {
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        base: base.clone(),
        csrf: String::new(),
    };
    agent.refresh_csrf().await;
    // Register through the API: any union will do; the city union has id 1.
    let (s, body) = agent
        .send_json(Method::POST, "/api/v1/register", &json!({"real_name": "孙七", "phone": WORKER_PHONE, "org_id": 1, "password": WORKER_PASSWORD, "consent": true}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(
        agent.login(WORKER_PHONE, WORKER_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let video = read("ok.mp4");
    let (s, started) = agent
        .send_json(Method::POST, "/api/v1/uploads", &json!({"sub_project": "micro-video", "file_name": "ok.mp4", "size_bytes": video.len()}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = started["id"].as_str().unwrap_or_default().to_string();
    let acknowledged = video.len() / 3;
    let (s, _) = agent
        .patch_upload(&id, 0, video[..acknowledged].to_vec())
        .await;
    assert_eq!(s, StatusCode::OK);

    // The next chunk is on its way when the server is killed (SIGKILL: no graceful anything).
    let client = agent.client.clone();
    let (url, csrf, rest) = (
        format!("{base}/api/v1/uploads/{id}"),
        agent.csrf.clone(),
        video[acknowledged..].to_vec(),
    );
    let slow = futures_util::stream::iter(
        rest.chunks(4096)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let throttled = futures_util::StreamExt::then(slow, |c| async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        c
    });
    let inflight = tokio::spawn(async move {
        client
            .patch(url)
            .header("x-csrf-token", csrf)
            .header("upload-offset", acknowledged.to_string())
            .body(reqwest::Body::wrap_stream(throttled))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.kill().expect("kill");
    server.wait().expect("reap");
    let answer = inflight.await.expect("join");
    assert!(
        answer.is_err() || !answer.is_ok_and(|r| r.status().is_success()),
        "the cut chunk was not acknowledged"
    );

    // After the restart: everything acknowledged is there, no work half-registered, and the
    // upload goes on from where the server stands.
    let mut server = serve(dir.path(), port);
    let (s, now) = agent.json(&format!("/api/v1/uploads/{id}")).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the session and the upload survived the restart"
    );
    let received = now["received"].as_u64().unwrap_or(0) as usize;
    assert!(
        received >= acknowledged,
        "kept {received}, acknowledged {acknowledged}"
    );
    assert_eq!(now["state"], "receiving");
    let (_, works) = agent.json("/api/v1/works").await;
    assert_eq!(works, json!([]));
    let (s, done) = agent
        .patch_upload(&id, received as u64, video[received..].to_vec())
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["verdict"], "accepted", "{done}");
    let r = post(&agent, "/projects/micro-video/submit", &submission(&id)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let _ = server.kill();
    let _ = server.wait();
}

/// Nobody decides on a work they submitted: the city admin's own work goes to another
/// moderator.
#[tokio::test]
async fn nobody_moderates_their_own_work() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let video = read("ok.mp4");
        let done = admin
            .upload_work("micro-video", "ok.mp4", &video, 256 * 1024)
            .await;
        let id = done["id"].as_str().expect("upload id").to_string();
        let (s, body) = admin
            .send_json(Method::POST, "/api/v1/works", &api_submission(&id))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let work = body["id"].as_i64().expect("work id");
        let (s, body) = admin
            .send_json(
                Method::POST,
                &format!("/api/v1/works/{work}/decision"),
                &json!({"decision": "accept", "reason": "符合要求"}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["reason"], "wrong_role");
        let (_, w) = admin.json(&format!("/api/v1/works/{work}")).await;
        assert_eq!(w["status"], "submitted");
    })
    .await;
}

/// A worker's home lists the newest 20 of their works and, above them, the newest 5 returned
/// ones, each with the whole count and a link to the works list for the rest: the page stays
/// the same size however much one person submits.
#[tokio::test]
async fn a_workers_home_lists_the_newest_works_and_links_to_the_rest() {
    each_backend(|app| async move {
        let worker = register_worker(&app, WORKER_PHONE, "河西区总工会").await;
        let db = &app.state.db;
        let owner = scalar(db, "SELECT CAST(MAX(id) AS TEXT) FROM users").await;
        // 30 works written straight into the database (the page is measured, not uploads):
        // the oldest 25 returned, the newest 5 submitted.
        for i in 1..=30 {
            let status = if i <= 25 { "returned" } else { "submitted" };
            for sql in [
                format!(
                    "INSERT INTO uploads (id, owner_id, campaign_id, sub_project, file_name, size_bytes, received, state, stored_key, clean_key, media_type, created_at, updated_at)
                     SELECT 'home-{i}', {owner}, id, 'micro-video', 'a.mp4', 1, 1, 'checked', 'home/{i}', 'home/{i}', 'video/mp4', 0, 0
                     FROM campaigns WHERE is_current"
                ),
                format!(
                    "INSERT INTO works (campaign_id, sub_project, org_id, owner_id, filed_by, title, authors, contact_phone, description, status, upload_id,
                        originality_version, originality_at, portrait_version, portrait_at, subtitles_declared, submitted_at, created_at, updated_at, decision_reason)
                     SELECT c.id, 'micro-video', u.org_id, u.id, u.id, '第{i}件作品', '[\"王小明\"]', '13700000000', '说明', '{status}', 'home-{i}',
                        'v1', 0, 'v1', 0, 1, {i}, 0, 0, '请补充字幕（{i}）'
                     FROM campaigns c, users u WHERE c.is_current AND u.id = {owner}"
                ),
            ] {
                wangju::db::testing::execute(db, &sql).await.expect(&sql);
            }
        }
        let (status, home) = worker.text("/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        let mine = &home[home.find("我的作品").expect("我的作品")..];
        assert_eq!(mine.matches("<li><a href=\"/works/").count(), 20, "{mine}");
        assert!(mine.contains("共 30 件，这里是最新的 20 件。"), "{mine}");
        assert!(mine.contains("href=\"/works\">查看全部作品"), "{mine}");
        // Newest first: the five submitted, then 15 returned.
        let newest = mine.find("第30件作品").expect("the newest work");
        assert!(newest < mine.find("第25件作品").expect("the newest returned work"));
        assert!(!mine.contains("第10件作品"), "older than the newest 20");
        // The alert above lists the newest 5 returned ones and links to all 25.
        let alert = &home[..home.find("我的作品").expect("我的作品")];
        assert!(alert.contains("有 25 件作品被退回"), "{alert}");
        assert_eq!(alert.matches("退回原因：请补充字幕").count(), 5, "{alert}");
        assert!(alert.contains("退回原因：请补充字幕（25）") && !alert.contains("（20）"));
        assert!(alert.contains("href=\"/works?status=returned\">查看全部 25 件退回的作品"), "{alert}");
        // The works list has the rest.
        let (_, all) = worker.text("/works?status=returned").await;
        assert!(all.contains("第1件作品") && all.contains("第25件作品"));
        // So does the API, newest first, up to its limit (100 unless asked, at most 500).
        let (s, all) = worker.json("/api/v1/works").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(all.as_array().map(Vec::len), Some(30));
        assert_eq!(all[0]["title"], "第30件作品", "{all}");
        let (_, five) = worker.json("/api/v1/works?status=returned&limit=5").await;
        let titles: Vec<&str> = five
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|w| w["title"].as_str())
            .collect();
        assert_eq!(titles, ["第25件作品", "第24件作品", "第23件作品", "第22件作品", "第21件作品"]);
        for bad in ["0", "501", "-1"] {
            let (s, body) = worker.json(&format!("/api/v1/works?limit={bad}")).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
            assert!(body.to_string().contains("limit 须在 1 到 500 之间"), "{body}");
        }
    })
    .await;
}
