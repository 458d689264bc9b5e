//! Mixed load as people make it, through any base URL (nginx or one node): admins filing
//! activity reports and reading dashboards, attendees checking in on their phones, workers
//! uploading a micro-video chunk by chunk and submitting it, and the public reading pages.
//! Every write the server acknowledged is written in the `Ledger`, and every request in the
//! event log (time, kind, status), so a test can compare with the database afterwards and say
//! what each fault cost. Bounded: each loop stops when told, or at its deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "Cluster-Passw0rd!";
pub const WORKER_PASSWORD: &str = "gongren2020";

/// How the load reaches the server.
#[derive(Clone)]
pub struct Target {
    pub base: String,
    /// The client's own loopback address (e.g. 127.0.0.2), to tell it from the balancer.
    pub local: Option<std::net::IpAddr>,
}

impl Target {
    /// A client keeping its cookies in `jar` (which a test may read, see `Session::direct`).
    pub fn client_with(&self, jar: Arc<reqwest::cookie::Jar>) -> Client {
        let mut b = Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5));
        if let Some(ip) = self.local {
            b = b.local_address(ip);
        }
        b.build().expect("client")
    }
}

/// One request's outcome: its status, or 0 when it got no answer (connection refused, reset).
#[derive(Clone, Debug)]
pub struct Event {
    pub at: Instant,
    pub kind: &'static str,
    pub status: u16,
    pub took: Duration,
}

/// What the server acknowledged, and everything that happened.
#[derive(Default)]
pub struct Ledger {
    pub activities: Vec<i64>,
    /// Phones of acknowledged check-ins (each attendee has a phone of its own).
    pub checkins: Vec<String>,
    /// Highest acknowledged offset of each upload.
    pub upload_acked: HashMap<String, i64>,
    /// Uploads received whole and checked.
    pub uploads_done: Vec<String>,
    pub works: Vec<i64>,
    /// Uploads that lost a chunk to a fault and were finished anyway.
    pub resumed: usize,
    pub reminders: Vec<i64>,
    pub events: Vec<Event>,
}

pub type Shared = Arc<Mutex<Ledger>>;

fn note(ledger: &Shared, kind: &'static str, status: u16, started: Instant) {
    if let Ok(mut l) = ledger.lock() {
        l.events.push(Event {
            at: started,
            kind,
            status,
            took: started.elapsed(),
        });
    }
}

/// A signed-in client.
#[derive(Clone)]
pub struct Session {
    pub client: Client,
    pub base: String,
    pub csrf: String,
    jar: Arc<reqwest::cookie::Jar>,
}

impl Session {
    pub fn anonymous(target: &Target) -> Session {
        let jar: Arc<reqwest::cookie::Jar> = Arc::default();
        Session {
            client: target.client_with(jar.clone()),
            base: target.base.clone(),
            csrf: String::new(),
            jar,
        }
    }

    /// The same session sent straight to one node (`base`, plain HTTP), bypassing the
    /// balancer: its `Secure` cookies are copied into a header of its own.
    pub fn direct(&self, base: &str) -> Session {
        use reqwest::cookie::CookieStore;
        let url = reqwest::Url::parse(&format!("{}/", self.base)).expect("url");
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(cookies) = self.jar.cookies(&url) {
            headers.insert(reqwest::header::COOKIE, cookies);
        }
        Session {
            client: Client::builder()
                .default_headers(headers)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: base.to_string(),
            csrf: self.csrf.clone(),
            jar: Arc::default(),
        }
    }

    pub async fn refresh_csrf(&mut self) -> bool {
        let Ok(r) = self
            .client
            .get(format!("{}/api/v1/csrf", self.base))
            .send()
            .await
        else {
            return false;
        };
        let body: Value = r.json().await.unwrap_or(Value::Null);
        self.csrf = body["csrf_token"].as_str().unwrap_or_default().to_string();
        !self.csrf.is_empty()
    }

    pub async fn form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Result<reqwest::Response> {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", &self.csrf));
        self.client
            .post(format!("{}{path}", self.base))
            .form(&all)
            .send()
            .await
    }

    pub async fn json(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            r = r.json(b);
        }
        match r.send().await {
            Ok(r) => {
                let s = r.status().as_u16();
                (s, r.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// Signs in (retrying while the servers are not there yet).
    pub async fn login(target: &Target, login: &str, password: &str) -> Session {
        let mut s = Session::anonymous(target);
        for _ in 0..50 {
            if s.refresh_csrf().await
                && let Ok(r) = s
                    .form("/login", &[("login", login), ("password", password)])
                    .await
                && r.status() == StatusCode::SEE_OTHER
            {
                s.refresh_csrf().await;
                return s;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{login} could not sign in at {}", target.base);
    }

    /// The first admin's first sign-in: the one-time password is replaced by `PASSWORD`.
    pub async fn first_admin(target: &Target, one_time: &str) -> Session {
        let mut s = Session::login(target, "admin", one_time).await;
        let r = s
            .form(
                "/account/password",
                &[
                    ("current", one_time),
                    ("new", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await
            .expect("password change");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "password changed");
        s.refresh_csrf().await;
        s
    }
}

/// Phones for attendees and workers, never the same twice in one process.
pub fn next_phone() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "139{:08}",
        (u64::from(std::process::id()) * 100_000 + n) % 100_000_000
    )
}

fn plan(name: &str, today: &str) -> Value {
    json!({"name": name, "starts_at": format!("{today}T00:00"), "place": "区职工之家", "format": "知识竞赛",
           "categories": ["网络安全知识技能", "个人信息保护教育"]})
}

/// Creates an activity dated today and makes its check-in code; returns the check-in path.
pub async fn checkin_activity(admin: &Session, today: &str, name: &str) -> (i64, String) {
    let (s, created) = admin
        .json(Method::POST, "/api/v1/activities", Some(&plan(name, today)))
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_i64().unwrap_or_default();
    let r = admin
        .form(&format!("/activities/{id}/checkin"), &[])
        .await
        .expect("make the code");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = admin
        .client
        .get(format!("{}/activities/{id}/checkin", admin.base))
        .send()
        .await
        .expect("poster")
        .text()
        .await
        .unwrap_or_default();
    let start = html.find("/c/").expect("the poster shows the code");
    (id, html[start..start + 35].to_string())
}

/// Registers a worker and signs them in.
pub async fn worker(target: &Target) -> Session {
    let phone = next_phone();
    let mut s = Session::anonymous(target);
    for _ in 0..50 {
        if s.refresh_csrf().await {
            let (status, body) = s
                .json(
                    Method::POST,
                    "/api/v1/register",
                    Some(&json!({"real_name": "王小明", "phone": phone, "org_id": 1,
                                 "password": WORKER_PASSWORD, "consent": true})),
                )
                .await;
            if status == 201 {
                return Session::login(target, &phone, WORKER_PASSWORD).await;
            }
            assert!(status == 0 || status >= 500, "register: {status} {body}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no worker could register");
}

/// When a loop stops.
#[derive(Clone)]
pub struct Stop {
    pub flag: Arc<AtomicBool>,
    pub deadline: Instant,
}

impl Stop {
    pub fn new(limit: Duration) -> Stop {
        Stop {
            flag: Arc::default(),
            deadline: Instant::now() + limit,
        }
    }

    pub fn now(&self) -> bool {
        self.flag.load(Ordering::Relaxed) || Instant::now() >= self.deadline
    }

    pub fn set(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }
}

/// Files activity reports (one every `pause`).
pub async fn reports(
    admin: Session,
    ledger: Shared,
    stop: Stop,
    today: &'static str,
    pause: Duration,
) {
    let mut n = 0u32;
    while !stop.now() {
        n += 1;
        let started = Instant::now();
        let name = format!("网络文明主题活动{}-{n}", std::process::id() % 1000);
        let (s, body) = admin
            .json(
                Method::POST,
                "/api/v1/activities",
                Some(&plan(&name, today)),
            )
            .await;
        note(&ledger, "report", s, started);
        if s == 201
            && let (Some(id), Ok(mut l)) = (body["id"].as_i64(), ledger.lock())
        {
            l.activities.push(id);
        }
        tokio::time::sleep(pause).await;
    }
}

/// Attendees checking in at `path`, one new phone (client, device cookie) each.
pub async fn checkins(target: Target, path: String, ledger: Shared, stop: Stop, pause: Duration) {
    while !stop.now() {
        let phone = next_phone();
        let mut s = Session::anonymous(&target);
        let started = Instant::now();
        if !s.refresh_csrf().await {
            note(&ledger, "checkin", 0, started);
            tokio::time::sleep(pause).await;
            continue;
        }
        let r = s
            .form(
                &path,
                &[
                    ("name", "李华"),
                    ("unit", "滨海某公司"),
                    ("phone", &phone),
                    ("consent", "yes"),
                ],
            )
            .await;
        let status = match r {
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                if status == 200
                    && (text.contains("签到成功") || text.contains("已经签到"))
                    && let Ok(mut l) = ledger.lock()
                {
                    l.checkins.push(phone);
                }
                status
            }
            Err(_) => 0,
        };
        note(&ledger, "checkin", status, started);
        tokio::time::sleep(pause).await;
    }
}

/// Public pages and dashboards.
pub async fn browse(
    anonymous: Session,
    admin: Session,
    ledger: Shared,
    stop: Stop,
    pause: Duration,
) {
    let pages: [(&Session, &'static str, &str); 5] = [
        (&anonymous, "public", "/"),
        (&anonymous, "public", "/projects/micro-video"),
        (&admin, "dashboard", "/dashboard"),
        (&admin, "dashboard", "/progress"),
        (&admin, "dashboard", "/api/v1/progress"),
    ];
    let mut i = 0;
    while !stop.now() {
        let (s, kind, path) = pages[i % pages.len()];
        i += 1;
        let started = Instant::now();
        let status = match s.client.get(format!("{}{path}", s.base)).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let _ = r.bytes().await;
                status
            }
            Err(_) => 0,
        };
        note(&ledger, kind, status, started);
        tokio::time::sleep(pause).await;
    }
}

/// A worker uploading `video` in `chunk`-byte pieces and submitting each checked file, again
/// and again. A chunk that fails (node gone, database down) is resumed from what the server
/// says it has, through whichever node answers.
pub async fn uploads(worker: Session, video: Vec<u8>, chunk: usize, ledger: Shared, stop: Stop) {
    while !stop.now() {
        let started = Instant::now();
        let (s, up) = worker
            .json(
                Method::POST,
                "/api/v1/uploads",
                Some(&json!({"sub_project": "micro-video", "file_name": "ok.mp4", "size_bytes": video.len()})),
            )
            .await;
        note(&ledger, "upload", s, started);
        let Some(id) = up["id"].as_str().map(str::to_string) else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let mut offset = 0usize;
        let mut verdict = Value::Null;
        let mut failed_once = false;
        // Finishing what was started is allowed past the stop, within a bound.
        let give_up = Instant::now() + Duration::from_secs(90);
        while offset < video.len() && Instant::now() < give_up {
            let end = (offset + chunk).min(video.len());
            let started = Instant::now();
            let sent = worker
                .client
                .patch(format!("{}/api/v1/uploads/{id}", worker.base))
                .header("x-csrf-token", &worker.csrf)
                .header("upload-offset", offset.to_string())
                .header("content-type", "application/offset+octet-stream")
                .body(video[offset..end].to_vec())
                .send()
                .await;
            let (status, body) = match sent {
                Ok(r) => {
                    let st = r.status().as_u16();
                    (st, r.json::<Value>().await.unwrap_or(Value::Null))
                }
                Err(_) => (0, Value::Null),
            };
            note(&ledger, "upload", status, started);
            if status == 200 {
                let received = body["received"].as_i64().unwrap_or(0);
                if let Ok(mut l) = ledger.lock() {
                    l.upload_acked.insert(id.clone(), received);
                }
                offset = usize::try_from(received).unwrap_or(0);
                verdict = body["verdict"].clone();
                continue;
            }
            failed_once |= status == 0 || status >= 500;
            // Ask where the upload stands (any node) and go on from there.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let started = Instant::now();
            let (st, now) = worker
                .json(Method::GET, &format!("/api/v1/uploads/{id}"), None)
                .await;
            note(&ledger, "upload", st, started);
            if st == 200 {
                offset = usize::try_from(now["received"].as_i64().unwrap_or(0)).unwrap_or(0);
                verdict = now["verdict"].clone();
                if now["state"] != "receiving" {
                    break;
                }
            }
        }
        if verdict != "accepted" {
            continue;
        }
        if let Ok(mut l) = ledger.lock() {
            l.uploads_done.push(id.clone());
            l.resumed += usize::from(failed_once);
        }
        let body = json!({"sub_project": "micro-video", "upload_id": id, "title": "车间里的好网民",
            "authors": ["王小明"], "contact_phone": "13712345678", "originality": true,
            "portrait": true, "subtitles": true});
        for _ in 0..20 {
            let started = Instant::now();
            let (s, created) = worker
                .json(Method::POST, "/api/v1/works", Some(&body))
                .await;
            note(&ledger, "work", s, started);
            if s == 201 {
                if let (Some(w), Ok(mut l)) = (created["id"].as_i64(), ledger.lock()) {
                    l.works.push(w);
                }
                break;
            }
            if (400..500).contains(&s) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

/// Whether the request ended within `[from, to)` (a request cut by a fault ends after it).
fn ended_within(e: &Event, from: Instant, to: Instant) -> bool {
    let end = e.at + e.took;
    end >= from && end < to
}

/// Errors clients saw ending within `[from, to)`: (requests, failures, failures by status)
/// where a failure is no answer or a 5xx.
pub fn errors_between(ledger: &Ledger, from: Instant, to: Instant) -> (usize, usize, String) {
    let mut by: std::collections::BTreeMap<u16, usize> = Default::default();
    let mut total = 0;
    for e in ledger.events.iter().filter(|e| ended_within(e, from, to)) {
        total += 1;
        if e.status == 0 || e.status >= 500 {
            *by.entry(e.status).or_default() += 1;
        }
    }
    let failed = by.values().sum();
    let text = by
        .iter()
        .map(|(s, n)| {
            if *s == 0 {
                format!("no answer ×{n}")
            } else {
                format!("{s} ×{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    (total, failed, text)
}

/// The failed requests started within `[from, to)`: kind, status, start (s after `from`), took.
pub fn failures(ledger: &Ledger, from: Instant, to: Instant) -> String {
    ledger
        .events
        .iter()
        .filter(|e| ended_within(e, from, to) && (e.status == 0 || e.status >= 500))
        .map(|e| {
            format!(
                "{} {} at +{:.1}s ({:.1}s)",
                e.kind,
                e.status,
                e.at.duration_since(from).as_secs_f64(),
                e.took.as_secs_f64()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Seconds from `from` to the end of the last failed request started before `to` (0 when none
/// failed): how long clients saw the fault.
pub fn seconds_until_clear(ledger: &Ledger, from: Instant, to: Instant) -> f64 {
    ledger
        .events
        .iter()
        .filter(|e| ended_within(e, from, to) && (e.status == 0 || e.status >= 500))
        .map(|e| (e.at + e.took).duration_since(from).as_secs_f64())
        .fold(0.0, f64::max)
}
