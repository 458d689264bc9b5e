//! Reminders (催报) in Wangju and by e-mail, sent once per unit and deadline however many nodes
//! run the job, and the circular (通报) as a Word document. E-mail goes to a tiny SMTP server
//! started by the tests, which records what it receives.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use wangju::config::{SmtpSettings, SmtpTls};
use wangju::domain::role::Role;
use wangju::service::reminders;

use crate::harness::{Agent, TestApp, each_backend_on};

/// One message as the SMTP server saw it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub rcpt: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The subject and body, decoded from MIME (encoded words, base64, quoted-printable).
    pub fn decoded(&self) -> String {
        let (head, body) = self.data.split_once("\r\n\r\n").unwrap_or((&self.data, ""));
        let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let mut out = String::new();
        let mut encoding = String::new();
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("subject:") || lower.starts_with("to:") {
                out.push_str(&decode_words(line));
                out.push('\n');
            }
            if let Some(v) = lower.strip_prefix("content-transfer-encoding:") {
                encoding = v.trim().to_string();
            }
        }
        let body = match encoding.as_str() {
            "base64" => {
                let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact.trim_end_matches('.'))
                    .unwrap_or_default();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            "quoted-printable" => quoted_printable(body),
            _ => body.to_string(),
        };
        out.push_str(&body);
        out
    }
}

fn decode_words(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("=?") {
        out.push_str(&rest[..start]);
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        if parts.len() < 3 {
            out.push_str(&rest[start..]);
            return out;
        }
        let Some(end) = parts[2].find("?=") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let text = &parts[2][..end];
        let decoded = if parts[1].eq_ignore_ascii_case("b") {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            quoted_printable(&text.replace('_', " "))
        };
        out.push_str(&decoded);
        let consumed = start + 2 + parts[0].len() + 1 + parts[1].len() + 1 + end + 2;
        rest = rest[consumed..].trim_start_matches(' ');
    }
    out.push_str(rest);
    out
}

fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A tiny SMTP server: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT. Records every message.
pub struct SmtpSink {
    pub addr: SocketAddr,
    pub mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let addr = listener.local_addr().expect("addr");
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(stream, store).await;
                });
            }
        });
        SmtpSink { addr, mails }
    }

    pub fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: Some(self.addr.port()),
            from: "网聚 <wangju@example.cn>".into(),
            username: None,
            password: None,
            tls: SmtpTls::None,
        }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut rcpt = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n")
                .await?;
        } else if upper.starts_with("HELO")
            || upper.starts_with("MAIL")
            || upper.starts_with("NOOP")
        {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RSET") {
            rcpt.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT") {
            let address = line
                .split_once('<')
                .and_then(|(_, r)| r.split_once('>'))
                .map(|(a, _)| a.to_string())
                .unwrap_or_default();
            rcpt.push(address);
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("DATA") {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(&line);
            }
            if let Ok(mut m) = store.lock() {
                m.push(Mail {
                    rcpt: std::mem::take(&mut rcpt),
                    data,
                });
            }
            write.write_all(b"250 queued\r\n").await?;
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 not implemented\r\n").await?;
        }
    }
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, m, d).expect("date")
}

async fn id_of(app: &TestApp, name: &str) -> i64 {
    wangju::db::orgs::find_by_name(&app.state.db, name)
        .await
        .ok()
        .flatten()
        .map_or(-1, |o| o.id.get())
}

/// A unit admin of `org` with an e-mail address; returns its login.
async fn admin_with_email(app: &TestApp, org: &str, email: &str) -> String {
    let login = app.user(Role::UnitAdmin, org).await;
    app.sql(&format!(
        "UPDATE users SET email = '{email}' WHERE login = '{login}'"
    ))
    .await;
    login
}

/// `n` activities of `org`, confirmed by the city.
async fn confirmed(app: &TestApp, unit: &Agent, org: &str, n: usize) {
    for i in 0..n {
        let (s, body) = unit
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &json!({"name": format!("网络安全宣传进社区{i}"), "starts_at": "2020-09-05T09:30",
                        "place": "职工之家", "format": "知识竞赛", "categories": ["网络安全知识技能"]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
    }
    let org_id = id_of(app, org).await;
    app.sql(&format!(
        "UPDATE activities SET status = 'confirmed' WHERE org_id = {org_id}"
    ))
    .await;
}

/// 和平 (quota 6, 2 confirmed) and 河东 (quota 6, none) are behind; 河西 (quota 1, 1 confirmed)
/// is on track. Each has an admin with an e-mail address.
async fn three_units(app: &TestApp) -> (Agent, Agent) {
    let city = app.admin().await;
    let heping = admin_with_email(app, "和平区总工会", "heping@example.cn").await;
    admin_with_email(app, "河东区总工会", "hedong@example.cn").await;
    let hexi = admin_with_email(app, "河西区总工会", "hexi@example.cn").await;
    let hexi_id = id_of(app, "河西区总工会").await;
    let (s, _) = city
        .send_json(
            Method::PUT,
            &format!("/api/v1/quotas/{hexi_id}"),
            &json!({"min_activities": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let heping = app.signed_in(&heping).await;
    confirmed(app, &heping, "和平区总工会", 2).await;
    let hexi = app.signed_in(&hexi).await;
    confirmed(app, &hexi, "河西区总工会", 1).await;
    (city, heping)
}

/// Units behind their quota, from the progress API.
async fn behind_count(city: &Agent) -> usize {
    let (_, p) = city.json("/api/v1/progress").await;
    p["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| {
                    r["quota"].as_i64().is_some_and(|q| {
                        q > 0 && r["counts"]["confirmed"].as_i64().unwrap_or(0) < q
                    })
                })
                .count()
        })
        .unwrap_or(0)
}

fn mail_to<'a>(mails: &'a [Mail], address: &str) -> Vec<&'a Mail> {
    mails
        .iter()
        .filter(|m| m.rcpt.iter().any(|r| r == address))
        .collect()
}

#[tokio::test]
async fn behind_units_are_reminded_once_per_deadline_even_on_two_nodes() {
    each_backend_on(day(9, 8), |app| async move {
        let sink = SmtpSink::start().await;
        let smtp = sink.settings();
        let (city, _heping) = three_units(&app).await;
        let behind = behind_count(&city).await;
        assert!(behind >= 2, "和平 and 河东 at least");

        // Seven days before the push phase ends (9/15): one pass.
        let r = reminders::run_pass(&app.state.db, day(9, 8), Some(&smtp))
            .await
            .expect("pass");
        assert_eq!(r.created, behind, "one reminder per unit behind");
        assert_eq!(r.mailed, 2, "only 和平 and 河东 have admins with addresses");
        let mails = sink.mails();
        assert_eq!(
            mails.len(),
            2,
            "exactly one mail per behind unit with an address"
        );
        assert!(
            mail_to(&mails, "hexi@example.cn").is_empty(),
            "河西 is on track"
        );
        let heping_mail = mail_to(&mails, "heping@example.cn");
        assert_eq!(heping_mail.len(), 1);
        let text = heping_mail[0].decoded();
        assert!(
            text.contains(
                "贵单位线下活动任务数 6 场，已确认 2 场，距第一阶段截止（9月15日）还有 7 天"
            ),
            "{text}"
        );
        assert!(text.contains("和平区总工会"), "{text}");
        assert_eq!(mail_to(&mails, "hedong@example.cn").len(), 1);

        // A second pass the same day sends nothing more.
        let r = reminders::run_pass(&app.state.db, day(9, 8), Some(&smtp))
            .await
            .expect("pass");
        assert_eq!((r.created, r.mailed), (0, 0));
        assert_eq!(sink.mails().len(), 2);

        // Three days before, two nodes run the job at the same moment: each reminder is made
        // and mailed once.
        let node_a = app.second_state().await;
        let node_b = app.second_state().await;
        let (a, b) = tokio::join!(
            reminders::run_pass(&node_a.db, day(9, 12), Some(&smtp)),
            reminders::run_pass(&node_b.db, day(9, 12), Some(&smtp)),
        );
        let (a, b) = (a.expect("node a"), b.expect("node b"));
        assert_eq!(a.created + b.created, behind, "{a:?} {b:?}");
        assert_eq!(a.mailed + b.mailed, 2, "{a:?} {b:?}");
        let mails = sink.mails();
        assert_eq!(mails.len(), 4);
        let latest = mail_to(&mails, "heping@example.cn")
            .last()
            .map(|m| m.decoded())
            .unwrap_or_default();
        assert!(latest.contains("还有 3 天"), "{latest}");
        // And again on both: nothing.
        let (a, b) = tokio::join!(
            reminders::run_pass(&node_a.db, day(9, 12), Some(&smtp)),
            reminders::run_pass(&node_b.db, day(9, 12), Some(&smtp)),
        );
        let (a, b) = (a.expect("node a"), b.expect("node b"));
        assert_eq!(a.created + b.created + a.mailed + b.mailed, 0);
        assert_eq!(sink.mails().len(), 4);
        assert_eq!(
            app.count("reminders").await,
            i64::try_from(2 * behind).unwrap_or(0)
        );
        // The job's work is in the audit log.
        assert_eq!(
            app.count("audit_log WHERE action = 'reminder.auto'").await,
            i64::try_from(2 * behind).unwrap_or(0)
        );
        // Outside the 7/3/1-day window nothing is due.
        let r = reminders::run_pass(&app.state.db, day(9, 1), Some(&smtp))
            .await
            .expect("pass");
        assert_eq!(r.created, 0);
    })
    .await;
}

#[tokio::test]
async fn a_failed_mail_stays_retryable() {
    each_backend_on(day(9, 14), |app| async move {
        let (_city, _heping) = three_units(&app).await;
        // A mail server that is not there: connection refused.
        let closed = {
            let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            l.local_addr().expect("addr").port()
        };
        let sink = SmtpSink::start().await;
        let mut broken = sink.settings();
        broken.port = Some(closed);
        let r = reminders::run_pass(&app.state.db, day(9, 14), Some(&broken))
            .await
            .expect("pass");
        assert_eq!(r.mailed, 0);
        assert_eq!(r.failed, 2, "{r:?}");
        assert_eq!(
            app.count("reminders WHERE mail_status = 'failed' AND mail_attempts = 1")
                .await,
            2
        );
        // Not retried at once (backoff), and not lost.
        let r = reminders::run_pass(&app.state.db, day(9, 14), Some(&sink.settings()))
            .await
            .expect("pass");
        assert_eq!((r.created, r.mailed, r.failed), (0, 0, 0));
        // When the backoff has passed, the mail goes out, once.
        app.sql("UPDATE reminders SET mail_next_at = 0 WHERE mail_status = 'failed'")
            .await;
        let r = reminders::run_pass(&app.state.db, day(9, 14), Some(&sink.settings()))
            .await
            .expect("pass");
        assert_eq!(r.mailed, 2);
        assert_eq!(sink.mails().len(), 2);
        let text = mail_to(&sink.mails(), "hedong@example.cn")
            .first()
            .map(|m| m.decoded())
            .unwrap_or_default();
        assert!(
            text.contains(
                "贵单位线下活动任务数 6 场，已确认 0 场，距第一阶段截止（9月15日）还有 1 天"
            ),
            "{text}"
        );
        assert_eq!(app.count("reminders WHERE mail_status = 'failed'").await, 0);
    })
    .await;
}

/// The Message-ID header of a recorded mail.
fn message_id(mail: &Mail) -> String {
    mail.data
        .split("\r\n")
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_mail_a_dead_node_left_mid_send_goes_out_again_with_its_message_id() {
    each_backend_on(day(9, 14), |app| async move {
        let (_city, _heping) = three_units(&app).await;
        let sink = SmtpSink::start().await;
        let r = reminders::run_pass(&app.state.db, day(9, 14), Some(&sink.settings()))
            .await
            .expect("pass");
        assert_eq!(r.mailed, 2, "{r:?}");
        let mails = sink.mails();
        let first = mail_to(&mails, "hedong@example.cn");
        assert_eq!(first.len(), 1);
        let id = message_id(first[0]);
        assert!(id.starts_with("<wangju-reminder-") && id.ends_with("@example.cn>"), "{id}");
        assert_ne!(id, message_id(mail_to(&mails, "heping@example.cn")[0]));

        // A node claimed 河东's mail, handed it to the SMTP server and died before marking it
        // sent: the row is left `sending` with its lease. While the lease holds, nobody takes it.
        let hedong = id_of(&app, "河东区总工会").await;
        let lease_until = |t: i64| format!("UPDATE reminders SET mail_status = 'sending', mail_lease_until = {t} WHERE org_id = {hedong}");
        app.sql(&lease_until(i64::MAX / 2)).await;
        let r = reminders::run_pass(&app.state.db, day(9, 14), Some(&sink.settings()))
            .await
            .expect("pass");
        assert_eq!(r.mailed, 0, "a live lease is left alone");
        // After it, the next pass sends it again, with the first attempt's Message-ID, so mail
        // systems that deduplicate show it once.
        app.sql(&lease_until(1)).await;
        let r = reminders::run_pass(&app.state.db, day(9, 14), Some(&sink.settings()))
            .await
            .expect("pass");
        assert_eq!(r.mailed, 1, "{r:?}");
        let mails = sink.mails();
        let again = mail_to(&mails, "hedong@example.cn");
        assert_eq!(again.len(), 2);
        assert_eq!(message_id(again[1]), id);
        assert_eq!(app.count("reminders WHERE mail_status = 'sent'").await, 2);
    })
    .await;
}

#[tokio::test]
async fn the_circular_is_a_word_document() {
    each_backend_on(day(9, 8), |app| async move {
        let (city, _heping) = three_units(&app).await;
        let r = city.get("/progress/circular.docx").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("wordprocessingml"))
        );
        let bytes = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let xml = document_xml(&bytes);
        // The ranking: 河西 completed its quota (100%), first.
        let hexi = xml.find("河西区总工会").expect("河西 in the ranking");
        let heping = xml.find("和平区总工会").expect("和平 in the ranking");
        assert!(hexi < heping, "ranked by completion");
        assert!(xml.contains("100.0%") && xml.contains("33.3%"));
        // The 零报送 list names 河东 (quota, nothing reported).
        let zero = xml.find("零报送单位").expect("the 零报送 heading");
        assert!(xml[zero..].contains("河东区总工会"));
        assert!(!xml[zero..].contains("河西区总工会"));
        assert!(xml.contains("2020年9月8日"));
    })
    .await;
}

#[tokio::test]
async fn the_command_line_exports_the_circular_as_word() {
    for backend in crate::harness::backends() {
        let storage = crate::harness::Storage::new(backend).await;
        let out = storage.dir.path().join("通报.docx");
        let out_arg = out.display().to_string();
        let o = storage.run(&[
            "export", "progress", "--sheet", "circular", "--out", &out_arg,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let xml = document_xml(&std::fs::read(&out).expect("written"));
        // Nothing reported yet: every district is on the 零报送 list.
        assert!(xml.contains("零报送单位") && xml.contains("和平区总工会"));
        // Only the circular comes as Word.
        let o = storage.run(&[
            "export", "progress", "--sheet", "progress", "--out", &out_arg,
        ]);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("只有通报"));
        storage.finish().await;
    }
}

/// word/document.xml of a .docx.
fn document_xml(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("word/document.xml").expect("word/document.xml"),
        &mut xml,
    )
    .expect("read");
    xml
}

#[tokio::test]
async fn admins_see_reminders_on_the_dashboard_and_mark_them_read() {
    each_backend_on(day(9, 12), |app| async move {
        let (_city, heping) = three_units(&app).await;
        let r = reminders::run_pass(&app.state.db, day(9, 12), None)
            .await
            .expect("pass");
        assert!(r.created >= 2);
        assert!(r.skipped >= 2, "no mail server: in Wangju only");
        let (s, html) = heping.text("/dashboard").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("催报提醒（1 条未读）"), "{html}");
        assert!(html.contains(
            "贵单位线下活动任务数 6 场，已确认 2 场，距第一阶段截止（9月15日）还有 3 天"
        ));
        // The list page, and marking read.
        let (_, body) = heping.json("/api/v1/reminders").await;
        assert_eq!(body["unread"], 1);
        let id = body["received"][0]["id"].as_i64().unwrap_or_default();
        assert_eq!(body["received"][0]["sender_label"], "网聚自动提醒");
        assert_eq!(body["received"][0]["mail_status"], "skipped");
        let (s, html) = heping.text("/reminders").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("未读") && html.contains("还有 3 天"));
        let r = heping
            .post_form(&format!("/reminders/{id}/read"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, html) = heping.text("/dashboard").await;
        assert!(!html.contains("条未读"));
        // 河西, on track, got nothing; and nobody marks another unit's reminder.
        let hexi_id = id_of(&app, "河西区总工会").await;
        let hexi = app.signed_in(&format!("unit-admin-{hexi_id}")).await;
        let (_, body) = hexi.json("/api/v1/reminders").await;
        assert_eq!(body["unread"], 0);
        assert_eq!(body["received"].as_array().map(Vec::len), Some(0));
        let (s, _) = hexi
            .send_json(
                Method::POST,
                &format!("/api/v1/reminders/{id}/read"),
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn an_admin_reminds_a_unit_by_hand() {
    each_backend_on(day(9, 1), |app| async move {
        let sink = SmtpSink::start().await;
        let (city, heping) = three_units(&app).await;
        let binhai = app
            .signed_in(&admin_with_email(&app, "滨海新区总工会", "binhai@example.cn").await)
            .await;
        let heping_id = id_of(&app, "和平区总工会").await;
        let binhai_id = id_of(&app, "滨海新区总工会").await;
        // The progress page offers it; the city sends one with a note.
        let (_, html) = city.text("/progress").await;
        assert!(html.contains(&format!("/progress/{heping_id}/remind")));
        let r = city
            .post_form(
                &format!("/progress/{heping_id}/remind"),
                &[("note", "请于9月10日前补报国庆前活动")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(crate::harness::location(&r), "/reminders?sent=1");
        let (_, html) = city.text("/reminders?sent=1").await;
        assert!(html.contains("催报已发出") && html.contains("和平区总工会"));
        // 和平 sees it at once, with what is behind and the note.
        let (_, html) = heping.text("/dashboard").await;
        assert!(
            html.contains(
                "贵单位线下活动任务数 6 场，已确认 2 场，距第一阶段截止（9月15日）还有 14 天"
            ),
            "{html}"
        );
        assert!(html.contains("请于9月10日前补报国庆前活动"));
        // Audited, with who sent it.
        assert_eq!(
            app.count(&format!(
                "audit_log WHERE action = 'reminder.send' AND object_id = '{heping_id}'"
            ))
            .await,
            1
        );
        // The e-mail goes out with the next pass of the job (no automatic reminder is due on 9/1).
        let r = reminders::run_pass(&app.state.db, day(9, 1), Some(&sink.settings()))
            .await
            .expect("pass");
        assert_eq!((r.created, r.mailed), (0, 1));
        let mails = sink.mails();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].rcpt, vec!["heping@example.cn".to_string()]);
        let text = mails[0].decoded();
        assert!(
            text.contains("催报") && text.contains("附言：请于9月10日前补报国庆前活动"),
            "{text}"
        );

        // A district admin reminds units below it, not its own unit nor units elsewhere.
        let r = binhai
            .post_form(&format!("/progress/{heping_id}/remind"), &[("note", "")])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let (s, body) = binhai
            .send_json(
                Method::POST,
                &format!("/api/v1/orgs/{binhai_id}/reminders"),
                &json!({"note": ""}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("不能给本单位发催报"), "{body}");
        // A grassroots admin may not send reminders at all.
        let grassroots = app
            .signed_in(&app.user(Role::GrassrootsAdmin, "和平区总工会").await)
            .await;
        let (s, _) = grassroots
            .send_json(
                Method::POST,
                &format!("/api/v1/orgs/{heping_id}/reminders"),
                &json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // A note too long is refused and says so.
        let (s, body) = city
            .send_json(
                Method::POST,
                &format!("/api/v1/orgs/{heping_id}/reminders"),
                &json!({"note": "催".repeat(501)}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("附言不超过 500 字"));
    })
    .await;
}

#[tokio::test]
async fn accounts_carry_an_email_address_masked_like_phones() {
    each_backend_on(day(9, 1), |app| async move {
        let city = app.admin().await;
        let hexi_id = id_of(&app, "河西区总工会").await;
        // A wrong address says what to fix and creates nothing.
        let (s, body) = city
            .send_json(
                Method::POST,
                "/api/v1/users",
                &json!({"login": "hexi-li", "display_name": "李明", "role": "unit_admin", "org_id": hexi_id, "email": "liming at example.cn"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("电子邮箱格式不对"), "{body}");
        let (s, body) = city
            .send_json(
                Method::POST,
                "/api/v1/users",
                &json!({"login": "hexi-li", "display_name": "李明", "role": "worker", "org_id": hexi_id, "email": " liming@example.cn "}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().unwrap_or_default();
        // The city sees it whole; the district's admin (who manages the unit's non-admin
        // accounts) sees it masked.
        let (_, row) = city.json(&format!("/api/v1/users/{id}")).await;
        assert_eq!(row["email"], "liming@example.cn");
        let hexi = app.signed_in(&app.user(Role::UnitAdmin, "河西区总工会").await).await;
        let (_, row) = hexi.json(&format!("/api/v1/users/{id}")).await;
        assert_eq!(row["email"], "l***@example.cn");
        let (_, html) = hexi.text("/users").await;
        assert!(html.contains("l***@example.cn") && !html.contains("liming@"));
        // Edited from the user page and the API; the log says it changed, not what to.
        let r = hexi
            .post_form(&format!("/users/{id}/email"), &[("email", "bad@")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = hexi
            .post_form(&format!("/users/{id}/email"), &[("email", "li.ming@hexi.example.cn")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, row) = city.json(&format!("/api/v1/users/{id}")).await;
        assert_eq!(row["email"], "li.ming@hexi.example.cn");
        let (s, row) = city
            .send_json(Method::PUT, &format!("/api/v1/users/{id}/email"), &json!({"email": ""}))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(row["email"], serde_json::Value::Null);
        assert_eq!(app.count("audit_log WHERE action = 'user.email'").await, 2);
        assert_eq!(
            app.count("audit_log WHERE after_json LIKE '%li.ming%'").await,
            0
        );
    })
    .await;
}

#[tokio::test]
async fn wangju_reminders_run_reads_smtp_from_the_config_file() {
    for backend in crate::harness::backends() {
        let sink = SmtpSink::start().await;
        let storage = crate::harness::Storage::new(backend).await;
        let config = storage.dir.path().join("wangju.toml");
        std::fs::write(
            &config,
            format!(
                "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"网聚 <wangju@example.cn>\"\n",
                sink.addr.port()
            ),
        )
        .expect("config");
        let o = storage.run(&[
            "user",
            "add",
            "--login",
            "hedong-admin",
            "--name",
            "河东管理员",
            "--role",
            "unit_admin",
            "--org",
            "河东区总工会",
            "--email",
            "hedong@example.cn",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let run = || {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_wangju"))
                .args(["reminders", "run", "--config"])
                .arg(&config)
                .args(&storage.args)
                .env("WANGJU_TODAY", "2020-09-14")
                .env("WANGJU_LOG", "warn")
                .output()
        };
        let o = run().await.expect("run");
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(out.contains("发出邮件 1 封"), "{out}");
        // Two more passes at once (cron on two nodes): nothing more.
        let (a, b) = tokio::join!(run(), run());
        for o in [a.expect("run"), b.expect("run")] {
            let out = String::from_utf8_lossy(&o.stdout).to_string();
            assert!(out.contains("新建提醒 0 条，发出邮件 0 封"), "{out}");
        }
        let mails = sink.mails();
        assert_eq!(mails.len(), 1);
        assert!(mails[0].decoded().contains("还有 1 天"));
        storage.finish().await;
    }
}
