//! Two `wangju serve` nodes behind nginx (the config in `docs/deploy/nginx.conf`), on a
//! PostgreSQL server of the test's own, works in moto's S3-compatible store, reminders to an
//! SMTP sink. Mixed load goes through nginx over TLS from 127.0.0.2 while the test kills a
//! node (-9), restarts PostgreSQL and stops the other node with SIGTERM. Every acknowledged
//! write is counted on the client side and found in the database afterwards; what each fault
//! cost clients is printed (run with `--nocapture` to read it).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use wangju::db::{Db, testing};

use crate::load::{self, Ledger, Session, Stop, Target};
use crate::support::{self, Moto, Nginx, Node, PrivatePg, SmtpSink, free_port};

const TODAY: &str = "2020-09-08";
/// Units whose admins have an e-mail address: behind their quota a week before 9月15日.
const MAILED_UNITS: [(&str, &str); 3] = [
    ("河西区总工会", "hexi"),
    ("南开区总工会", "nankai"),
    ("和平区总工会", "heping"),
];

fn config(
    dir: &std::path::Path,
    name: &str,
    url: &str,
    moto: &Moto,
    smtp: u16,
) -> std::path::PathBuf {
    let data = dir.join(name);
    std::fs::create_dir_all(&data).expect("data dir");
    let text = format!(
        r#"data_dir = "{data}"
database_url = "{url}"
secure_cookies = true
public_url = "https://wangju.example.cn"
today = "{TODAY}"
storage = "s3"
s3_endpoint = "{endpoint}"
s3_bucket = "{bucket}"
s3_access_key_id = "test"
s3_secret_access_key = "test"
trusted_proxies = ["127.0.0.1/32"]
shutdown_grace_seconds = 10

[smtp]
host = "127.0.0.1"
port = {smtp}
tls = "none"
from = "网聚 <wangju@example.cn>"
"#,
        data = data.display(),
        endpoint = moto.endpoint,
        bucket = moto.bucket,
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("config");
    path
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    testing::scalar(db, sql).await.unwrap_or(-1)
}

/// Polls `url` until it answers `want` (or `limit` passes); returns the time it took.
async fn until_status(url: &str, want: u16, limit: Duration) -> Option<Duration> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(8))
        .build()
        .expect("client");
    let start = Instant::now();
    while start.elapsed() < limit {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() == want)
        {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_behind_nginx_loses_nothing_through_its_faults() {
    let _serial = crate::serial().await;
    let work = tempfile::tempdir().expect("temp dir");
    let pg = PrivatePg::start();
    pg.create_database("wangju").await;
    let url = pg.url("wangju");
    let moto = Moto::start().await;
    let sink = SmtpSink::start().await;
    let (port_a, port_b) = (free_port(), free_port());
    let config_a = config(work.path(), "a", &url, &moto, sink.port);
    let config_b = config(work.path(), "b", &url, &moto, sink.port);

    // Unit admins with e-mail, made with the command line before any node runs (the first
    // command creates the database and the first admin).
    let mut first_password = None;
    for (org, login) in MAILED_UNITS {
        let out = support::wangju(
            &[
                "user",
                "add",
                "--login",
                login,
                "--name",
                "单位管理员",
                "--role",
                "unit_admin",
                "--org",
                org,
                "--email",
                &format!("{login}@example.cn"),
            ],
            &[("WANGJU_CONFIG", &config_a.display().to_string())],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        if let Some(p) = err.split("一次性密码：").nth(1) {
            first_password.get_or_insert(p.lines().next().unwrap_or_default().trim().to_string());
        }
    }
    let first_password = first_password.expect("the first command printed the admin's password");

    let mut a = Node::start("a", &config_a, port_a, work.path());
    let mut b = Node::start("b", &config_b, port_b, work.path());
    let nginx = Nginx::start(&[port_a, port_b]);
    let db = Db::connect(&url, 2).await.expect("connect");
    let target = Target {
        base: nginx.base(),
        local: Some("127.0.0.2".parse().expect("ip")),
    };

    // Plain HTTP is sent to HTTPS; TLS works; HSTS comes from Wangju.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("http://127.0.0.1:{}/", nginx.http_port))
        .send()
        .await
        .expect("http");
    assert_eq!(plain.status().as_u16(), 301);
    let admin = Session::first_admin(&target, &first_password).await;
    let home = admin
        .client
        .get(format!("{}/", target.base))
        .send()
        .await
        .expect("https");
    assert!(home.headers().contains_key("strict-transport-security"));
    assert!(home.headers().contains_key("x-request-id"));
    // The client's address reached the audit log through nginx, not nginx's own.
    assert!(scalar(&db, "SELECT COUNT(*) FROM audit_log WHERE ip = '127.0.0.2'").await >= 1);
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM audit_log WHERE ip = '127.0.0.1'").await,
        0
    );
    // /metrics: not through the balancer; from loopback on the node itself.
    let m = admin
        .client
        .get(format!("{}/metrics", target.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(m.status().as_u16(), 404);
    assert!(
        until_status(
            &format!("{}/metrics", a.base()),
            200,
            Duration::from_secs(2)
        )
        .await
        .is_some()
    );

    let (_, path_1) = load::checkin_activity(&admin, TODAY, "网络安全宣传周签到一").await;
    let (_, path_2) = load::checkin_activity(&admin, TODAY, "网络安全宣传周签到二").await;
    let reporter = Session::login(&target, "admin", load::PASSWORD).await;
    let workers = [load::worker(&target).await, load::worker(&target).await];
    let slow_worker = load::worker(&target).await;
    let video = support::test_video();
    let ledger: load::Shared = Default::default();
    let stop = Stop::new(Duration::from_secs(150));
    let ms = Duration::from_millis;
    let mut loops = vec![
        tokio::spawn(load::reports(
            reporter,
            ledger.clone(),
            stop.clone(),
            TODAY,
            ms(150),
        )),
        tokio::spawn(load::checkins(
            target.clone(),
            path_1,
            ledger.clone(),
            stop.clone(),
            ms(120),
        )),
        tokio::spawn(load::checkins(
            target.clone(),
            path_2,
            ledger.clone(),
            stop.clone(),
            ms(120),
        )),
        tokio::spawn(load::browse(
            Session::anonymous(&target),
            admin.clone(),
            ledger.clone(),
            stop.clone(),
            ms(100),
        )),
    ];
    for w in &workers {
        loops.push(tokio::spawn(load::uploads(
            w.clone(),
            video.clone(),
            16 * 1024,
            ledger.clone(),
            stop.clone(),
        )));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;

    // Manual reminders, mailed by whichever node's job gets there first.
    for (org, _) in MAILED_UNITS {
        let id = scalar(&db, &format!("SELECT id FROM orgs WHERE name = '{org}'")).await;
        let (s, body) = admin
            .json(
                Method::POST,
                &format!("/api/v1/orgs/{id}/reminders"),
                Some(&json!({"note": "请抓紧报送"})),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        if let (Some(r), Ok(mut l)) = (body["id"].as_i64(), ledger.lock()) {
            l.reminders.push(r);
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Fault 1: kill -9 node A. nginx sends everything to B; sessions and uploads go on there.
    let kill_at = Instant::now();
    tokio::task::block_in_place(|| a.kill9());
    tokio::time::sleep(Duration::from_secs(6)).await;
    let restart_at = Instant::now();
    tokio::task::block_in_place(|| a.restart());
    let a_back = restart_at.elapsed();
    tokio::time::sleep(Duration::from_secs(5)).await;

    // Fault 2: PostgreSQL stops for 6 s. The nodes answer 503 quickly; they come back alone.
    let pg_down = Instant::now();
    tokio::task::block_in_place(|| pg.stop());
    // The four probes run at once: one after another they took 14 s (each waits up to the
    // pool's 5 s), which made the outage that long, not 6 s.
    let probes = [&a, &b].into_iter().flat_map(|node| {
        ["/healthz", "/api/v1/campaign"]
            .into_iter()
            .map(move |path| async move {
                let t = Instant::now();
                let r = reqwest::Client::new()
                    .get(format!("{}{path}", node.base()))
                    .send()
                    .await;
                (
                    node.name.clone(),
                    path,
                    r.map(|r| r.status().as_u16()).unwrap_or(0),
                    t.elapsed(),
                )
            })
    });
    let outage_answers = futures_util::future::join_all(probes).await;
    let outage_left = Duration::from_secs(6).saturating_sub(pg_down.elapsed());
    tokio::time::sleep(outage_left).await;
    let pg_up = Instant::now();
    tokio::task::block_in_place(|| pg.start_again());
    let pg_started = pg_up.elapsed();
    let outage = pg_down.elapsed();
    let a_ready = until_status(
        &format!("{}/healthz", a.base()),
        200,
        Duration::from_secs(30),
    )
    .await;
    let b_ready = until_status(
        &format!("{}/healthz", b.base()),
        200,
        Duration::from_secs(30),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;

    // Fault 3: SIGTERM node B while a slow upload chunk is on its way to it.
    let slow_worker = &slow_worker;
    let mut up = serde_json::Value::Null;
    for _ in 0..20 {
        let (s, body) = slow_worker
            .json(Method::POST, "/api/v1/uploads", Some(&json!({"sub_project": "micro-video", "file_name": "slow.mp4", "size_bytes": video.len()})))
            .await;
        up = json!({"status": s, "body": body});
        if s == 201 {
            up = up["body"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let slow_id = up["id"]
        .as_str()
        .unwrap_or_else(|| panic!("upload: {up}"))
        .to_string();
    let direct = slow_worker.direct(&b.base());
    let piece = video[..24 * 1024].to_vec();
    let trickle = futures_util::StreamExt::then(
        futures_util::stream::iter(
            piece
                .chunks(1024)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>(),
        ),
        |c| async move {
            tokio::time::sleep(Duration::from_millis(60)).await;
            c
        },
    );
    let slow = tokio::spawn({
        let (client, url, csrf) = (
            direct.client.clone(),
            format!("{}/api/v1/uploads/{slow_id}", b.base()),
            direct.csrf.clone(),
        );
        async move {
            let r = client
                .patch(url)
                .header("x-csrf-token", csrf)
                .header("upload-offset", "0")
                .body(reqwest::Body::wrap_stream(trickle))
                .send()
                .await;
            match r {
                Ok(r) => (
                    r.status().as_u16(),
                    r.json::<serde_json::Value>().await.unwrap_or_default(),
                ),
                Err(_) => (0, serde_json::Value::Null),
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let term_at = Instant::now();
    let term = tokio::task::spawn_blocking(move || {
        let result = b.terminate(Duration::from_secs(20));
        (b, result)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = std::net::TcpStream::connect(("127.0.0.1", port_b)).is_err();
    let (slow_status, slow_body) = slow.await.expect("join");
    let (b, (b_exit, b_took)) = term.await.expect("join");
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.set();
    let end_at = Instant::now();
    for l in loops {
        let _ = l.await;
    }

    // Reminder e-mails: every one goes out once, whatever node was killed or stopped.
    let mails_deadline = Instant::now() + Duration::from_secs(90);
    while scalar(
        &db,
        "SELECT COUNT(*) FROM reminders WHERE mail_status IN ('pending', 'sending', 'failed')",
    )
    .await
        > 0
        && Instant::now() < mails_deadline
    {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let sent = scalar(
        &db,
        "SELECT COUNT(*) FROM reminders WHERE mail_status = 'sent'",
    )
    .await;

    let l = ledger
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default();
    let report = compare(&db, &l).await;
    let audit = support::wangju(
        &["audit", "verify", "--database-url", &url],
        &[("WANGJU_CONFIG", &config_a.display().to_string())],
    );
    let count = |kind: &str| l.events.iter().filter(|e| e.kind == kind).count();
    let status_count = |s: u16| l.events.iter().filter(|e| e.status == s).count();

    println!(
        "\ncluster: 2 nodes behind nginx (TLS), PostgreSQL, moto S3, {:.0} s of mixed load",
        end_at.duration_since(started).as_secs_f64()
    );
    println!(
        "  requests: {} (reports {}, check-ins {}, uploads {}, works {}, public {}, dashboards {})",
        l.events.len(),
        count("report"),
        count("checkin"),
        count("upload"),
        count("work"),
        count("public"),
        count("dashboard")
    );
    println!(
        "  acknowledged writes: {} activities, {} check-ins, chunks of {} uploads, {} uploads checked, {} works, {} manual reminders",
        l.activities.len(),
        l.checkins.len(),
        l.upload_acked.len(),
        l.uploads_done.len(),
        l.works.len(),
        l.reminders.len()
    );
    println!(
        "  lost: {} (activities {}, check-ins {}, upload bytes {}, works {})",
        report.lost(),
        report.activities,
        report.checkins,
        report.uploads,
        report.works
    );
    let fault = |name: &str, from: Instant, to: Instant| {
        let (total, failed, by) = load::errors_between(&l, from, to);
        println!(
            "  {name}: {failed} of {total} requests failed ({by}); clients saw errors for {:.1} s",
            load::seconds_until_clear(&l, from, to)
        );
        println!("    failed: {}", load::failures(&l, from, to));
    };
    fault("kill -9 node A", kill_at, pg_down);
    println!(
        "    node A restarted and listening in {:.2} s; uploads resumed through the other node: {}",
        a_back.as_secs_f64(),
        l.resumed
    );
    fault(
        &format!("PostgreSQL down {:.1} s", outage.as_secs_f64()),
        pg_down,
        term_at,
    );
    for (node, path, status, took) in &outage_answers {
        println!(
            "    during the outage node {node} answered {path} with {status} in {:.2} s",
            took.as_secs_f64()
        );
    }
    println!(
        "    PostgreSQL back in {:.2} s; node A healthy {:.2} s and node B {:.2} s after that, without a restart",
        pg_started.as_secs_f64(),
        a_ready.map_or(-1.0, |d| d.as_secs_f64()),
        b_ready.map_or(-1.0, |d| d.as_secs_f64())
    );
    fault("SIGTERM node B", term_at, end_at);
    println!(
        "    node B exited {:?} after {:.2} s; new connections refused at once: {refused}; the slow chunk in flight answered {slow_status}",
        b_exit.map(|s| s.code()),
        b_took.as_secs_f64()
    );
    println!(
        "  reminder e-mails: {} received by the SMTP sink, {sent} marked sent",
        sink.count()
    );
    println!(
        "  HTTP 500s: {}; 401s (lost sessions): {}",
        status_count(500),
        status_count(401)
    );
    println!(
        "  audit verify: {}",
        String::from_utf8_lossy(&audit.stdout).trim()
    );

    assert_eq!(report.lost(), 0, "acknowledged writes lost: {report:?}");
    assert!(
        l.activities.len() > 20 && l.checkins.len() > 20 && l.works.len() >= 2,
        "the load ran: {} {} {}",
        l.activities.len(),
        l.checkins.len(),
        l.works.len()
    );
    assert!(
        audit.status.success(),
        "audit verify: {}",
        String::from_utf8_lossy(&audit.stderr)
    );
    assert_eq!(status_count(500), 0, "no request failed as a bug");
    assert_eq!(status_count(401), 0, "sessions went on on the other node");
    for (node, path, status, took) in &outage_answers {
        assert!(
            *status == 503 && *took < Duration::from_secs(7),
            "{node} {path}: {status} after {took:?}"
        );
    }
    assert!(
        a_ready.is_some() && b_ready.is_some(),
        "nodes recovered from the database restart"
    );
    assert!(refused, "node B stopped taking connections at SIGTERM");
    assert_eq!(
        slow_status, 200,
        "the request in flight was finished: {slow_body}"
    );
    assert_eq!(slow_body["received"], 24 * 1024);
    assert!(
        b_exit.is_some_and(|s| s.success()),
        "node B exited cleanly: {}",
        support::tail(&b.log)
    );
    let b_log = std::fs::read_to_string(&b.log).unwrap_or_default();
    assert!(
        b_log.contains("stop signal") && b_log.contains("stopped"),
        "{b_log}"
    );
    let expected_mails = i64::try_from(MAILED_UNITS.len() * 2).unwrap_or(0);
    assert_eq!(
        sent, expected_mails,
        "one automatic and one manual reminder per mailed unit"
    );
    assert_eq!(
        i64::try_from(sink.count()).unwrap_or(-1),
        sent,
        "each reminder mailed once"
    );

    // A backup of the running cluster (pg_dump of one snapshot; the S3 bucket is not copied)
    // restores into an empty database with its counts and audit chain intact.
    let backup_dir = work.path().join("backup");
    let cfg = config_a.display().to_string();
    let taken = support::wangju(
        &["backup", "--out", &backup_dir.display().to_string()],
        &[("WANGJU_CONFIG", &cfg)],
    );
    assert!(
        taken.status.success(),
        "backup: {}",
        String::from_utf8_lossy(&taken.stderr)
    );
    pg.create_database("restored").await;
    let back = support::wangju(
        &[
            "restore",
            &backup_dir.display().to_string(),
            "--database-url",
            &pg.url("restored"),
        ],
        &[("WANGJU_CONFIG", &cfg)],
    );
    println!(
        "  backup: {}\n  restore: {}",
        String::from_utf8_lossy(&taken.stdout).trim(),
        String::from_utf8_lossy(&back.stdout).trim()
    );
    assert!(
        back.status.success(),
        "restore: {}{}",
        String::from_utf8_lossy(&back.stdout),
        String::from_utf8_lossy(&back.stderr)
    );
    drop(nginx);
    drop(a);
    drop(b);
}

/// Acknowledged writes not found in the database, by kind.
#[derive(Debug, Default)]
pub struct Lost {
    pub activities: usize,
    pub checkins: usize,
    pub uploads: usize,
    pub works: usize,
}

impl Lost {
    pub fn lost(&self) -> usize {
        self.activities + self.checkins + self.uploads + self.works
    }
}

async fn compare(db: &Db, l: &Ledger) -> Lost {
    use std::collections::{HashMap, HashSet};
    let activities: HashSet<i64> = testing::column(db, "SELECT id FROM activities")
        .await
        .unwrap_or_default()
        .into_iter()
        .collect();
    let phones: HashSet<String> =
        testing::column(db, "SELECT phone FROM checkins WHERE phone IS NOT NULL")
            .await
            .unwrap_or_default()
            .into_iter()
            .collect();
    let uploads: HashMap<String, (i64, String)> =
        testing::rows::<(String, i64, String)>(db, "SELECT id, received, state FROM uploads")
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(id, r, s)| (id, (r, s)))
            .collect();
    let works: HashSet<i64> = testing::column(db, "SELECT id FROM works")
        .await
        .unwrap_or_default()
        .into_iter()
        .collect();
    Lost {
        activities: l
            .activities
            .iter()
            .filter(|id| !activities.contains(id))
            .count(),
        checkins: l.checkins.iter().filter(|p| !phones.contains(*p)).count(),
        uploads: l
            .upload_acked
            .iter()
            .filter(|(id, acked)| {
                uploads
                    .get(*id)
                    .is_none_or(|(received, state)| received < acked && state == "receiving")
            })
            .count()
            + l.uploads_done
                .iter()
                .filter(|id| uploads.get(*id).is_none_or(|(_, s)| s == "receiving"))
                .count(),
        works: l.works.iter().filter(|id| !works.contains(id)).count(),
    }
}
