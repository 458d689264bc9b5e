//! The test harness: a real Wangju on a random port over a fresh database — SQLite in a temp
//! folder, and PostgreSQL when `WANGJU_TEST_POSTGRES_URL` names a server (a new database per
//! test, dropped at the end).

use std::future::Future;
use std::net::SocketAddr;
use std::process::{Command, Output};

use chrono::NaiveDate;
use reqwest::{Client, Response, StatusCode, redirect};
use serde_json::Value;
use tempfile::TempDir;
use wangju::app::{App, AppState};
use wangju::config::Settings;
use wangju::db::Backend;
use wangju::db::audit::Actor;
use wangju::db::orgs::Scope;
use wangju::db::users;
use wangju::domain::role::Role;
use wangju::service::accounts;

/// The environment variable naming a PostgreSQL server for the second pass.
pub const PG_ENV: &str = "WANGJU_TEST_POSTGRES_URL";

/// A password every fixture account gets; meets the staff policy.
pub const PASSWORD: &str = "Test-Passw0rd!";

pub fn backends() -> Vec<Backend> {
    let mut list = vec![Backend::Sqlite];
    if std::env::var(PG_ENV).is_ok_and(|v| !v.is_empty()) {
        list.push(Backend::Postgres);
    }
    list
}

/// Runs `test` once per backend, each on a fresh app standing on 2020-07-01 (push phase).
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    each_backend_on(NaiveDate::from_ymd_opt(2020, 7, 1).expect("date"), test).await;
}

/// Same, with the campaign's "today" pinned to `today`.
pub async fn each_backend_on<F, Fut>(today: NaiveDate, test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends() {
        // The app owns its PostgreSQL database and drops it when it goes, panic or not.
        test(TestApp::spawn_on(backend, today).await).await;
    }
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub admin_password: String,
    pub settings: Settings,
    /// Keeps the data folder alive as long as the app.
    _dir: TempDir,
    /// Dropped with the app (see `PgDatabase`).
    _pg: Option<PgDatabase>,
}

fn pg_server_url() -> String {
    std::env::var(PG_ENV).unwrap_or_default()
}

/// URL of database `name` on the test server.
pub fn pg_url_for(name: &str) -> String {
    let server = pg_server_url();
    match server.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{name}", &server[..i]),
        _ => format!("{server}/{name}"),
    }
}

/// A scratch database on the test PostgreSQL server. It is dropped when this value goes,
/// also when the test panicked, so failing runs leave no databases behind.
pub struct PgDatabase {
    pub name: String,
}

impl PgDatabase {
    pub async fn create() -> PgDatabase {
        let name = format!("wangju_test_{}", hex::encode(rand::random::<[u8; 6]>()));
        wangju::db::testing::create_database(&pg_server_url(), &name)
            .await
            .expect("create a test database on the test PostgreSQL server");
        PgDatabase { name }
    }

    pub fn url(&self) -> String {
        pg_url_for(&self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop runs outside async code (and maybe inside a runtime that is shutting down), so
        // the DROP DATABASE runs on a thread with a runtime of its own.
        let name = std::mem::take(&mut self.name);
        let server = pg_server_url();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime to drop a test database");
            runtime.block_on(wangju::db::testing::drop_database(&server, &name))
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop a test database: {e}");
        }
    }
}

pub fn settings(dir: &TempDir, database_url: String) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().to_path_buf(),
        database_url,
        secure_cookies: false,
        public_url: String::new(),
        today: NaiveDate::from_ymd_opt(2020, 7, 1),
        session_idle_minutes: 30,
        chart_font: String::new(),
        storage: String::new(),
        storage_root: String::new(),
        s3_endpoint: String::new(),
        s3_bucket: String::new(),
        s3_region: String::new(),
        s3_root: String::new(),
        s3_access_key_id: String::new(),
        s3_secret_access_key: String::new(),
        s3_virtual_host_style: false,
        smtp: None,
        checkin_group_commit: true,
        upload_keep_days: 7,
        request_timeout_seconds: 30,
        upload_idle_seconds: 30,
        trusted_proxies: Vec::new(),
        metrics_allow: wangju::net::Cidr::loopback(),
        metrics_token: String::new(),
        shutdown_grace_seconds: 30,
        database_max_connections: 16,
        media_helper: Some(env!("CARGO_BIN_EXE_wangju").into()),
    }
}

impl TestApp {
    pub async fn spawn_on(backend: Backend, today: NaiveDate) -> TestApp {
        TestApp::spawn_with(backend, today, |_| {}).await
    }

    /// Like `spawn_on`, with settings changed first (e.g. the S3 store).
    pub async fn spawn_with(
        backend: Backend,
        today: NaiveDate,
        customise: impl FnOnce(&mut Settings),
    ) -> TestApp {
        // Server errors (500s) are logged with their cause; show them in the test output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("wangju=error"))
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg_database) = match backend {
            Backend::Sqlite => (String::new(), None),
            Backend::Postgres => {
                let database = PgDatabase::create().await;
                (database.url(), Some(database))
            }
        };
        let mut settings = settings(&dir, url);
        settings.today = Some(today);
        customise(&mut settings);
        let (state, first) = App::build(settings.clone()).await.expect("app builds");
        let admin_password = first
            .expect("first start creates the admin")
            .one_time_password;
        let base = serve(state.clone()).await;
        TestApp {
            base,
            state,
            admin_password,
            settings,
            _dir: dir,
            _pg: pg_database,
        }
    }

    /// Another node over the same database (stateless nodes behind a load balancer).
    /// Returns its base URL.
    pub async fn second_node(&self) -> String {
        let (state, first) = App::build(self.settings.clone())
            .await
            .expect("second node builds");
        assert!(
            first.is_none(),
            "the second node does not create another admin"
        );
        serve(state).await
    }

    /// Another node's app state over the same database, with its own pools (e.g. to run a
    /// background job on two nodes at once).
    pub async fn second_state(&self) -> AppState {
        let (state, first) = App::build(self.settings.clone())
            .await
            .expect("second node builds");
        assert!(first.is_none());
        state
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn agent(&self) -> Agent {
        Agent {
            client: Client::builder()
                .cookie_store(true)
                .redirect(redirect::Policy::none())
                .build()
                .expect("client"),
            base: self.base.clone(),
            csrf: String::new(),
        }
    }

    /// The first admin, signed in, with its one-time password changed to `PASSWORD`.
    pub async fn admin(&self) -> Agent {
        let mut agent = self.agent();
        let r = agent.login("admin", &self.admin_password).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = agent
            .post_form(
                "/account/password",
                &[
                    ("current", &self.admin_password),
                    ("new", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "password change");
        agent.refresh_csrf().await;
        agent
    }

    /// Creates an account with `role` in the org named `org`, password `PASSWORD`, already
    /// changed (so it can work at once). Returns its login.
    pub async fn user(&self, role: Role, org: &str) -> String {
        let org_id = wangju::db::orgs::find_by_name(&self.state.db, org)
            .await
            .expect("query")
            .expect("org exists")
            .id;
        let login = format!("{}-{}", role.code().replace('_', "-"), org_id);
        let name = format!("测试{}", role.label_zh());
        self.account(&login, &name, "13800138000", role, org).await;
        login
    }

    /// An account with a chosen login, name and phone at `org`, its password set to `PASSWORD`.
    pub async fn account(
        &self,
        login: &str,
        name: &str,
        phone: &str,
        role: Role,
        org: &str,
    ) -> wangju::domain::ids::UserId {
        let db = &self.state.db;
        let org = wangju::db::orgs::find_by_name(db, org)
            .await
            .expect("query")
            .expect("org exists");
        let input = accounts::NewAccount {
            login: login.into(),
            display_name: name.into(),
            phone: Some(phone.into()),
            email: None,
            role: role.code().into(),
            org_id: org.id,
        };
        let (id, _) = accounts::create_account(
            db,
            &Scope::everything(),
            Role::CityAdmin,
            &input,
            &Actor::cli(),
        )
        .await
        .expect("create account");
        let hash = accounts::hash_password(PASSWORD).await.expect("hash");
        let mut tx = db.begin().await.expect("tx");
        users::set_password(&mut tx, id, &hash, false)
            .await
            .expect("set password");
        tx.commit().await.expect("commit");
        id
    }

    /// A moderator account at `org` that checks the micro-video call (the one Wangju hosts).
    pub async fn moderator(&self, org: &str) -> String {
        let login = self.user(Role::Moderator, org).await;
        let db = &self.state.db;
        let id = users::by_login(db, &login)
            .await
            .expect("query")
            .expect("account")
            .id;
        wangju::service::works::set_moderator_sub_projects(
            db,
            &Actor::cli(),
            None,
            id,
            &["micro-video".to_string()],
        )
        .await
        .expect("assign micro-video");
        login
    }

    /// Signs in an account created by `user`.
    pub async fn signed_in(&self, login: &str) -> Agent {
        let mut agent = self.agent();
        let r = agent.login(login, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {login}");
        agent.refresh_csrf().await;
        agent
    }

    /// Runs a statement directly on the database (to simulate time passing or tampering).
    pub async fn sql(&self, statement: &str) {
        wangju::db::testing::execute(&self.state.db, statement)
            .await
            .expect("sql");
    }

    /// Stops using the app; its PostgreSQL database is dropped with it.
    pub async fn finish(self) {
        drop(self);
    }

    /// Rows of `table`, or of `table WHERE …` (a condition written by the test itself).
    pub async fn count(&self, table: &str) -> i64 {
        if table.contains(char::is_whitespace) {
            wangju::db::testing::scalar::<i64>(
                &self.state.db,
                &format!("SELECT COUNT(*) FROM {table}"),
            )
            .await
            .expect("count")
        } else {
            wangju::db::testing::count(&self.state.db, table)
                .await
                .expect("count")
        }
    }
}

/// Serves the app on a random loopback port; returns its base URL.
async fn serve(state: AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let router = wangju::http::router(state);
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    format!("http://{addr}")
}

/// A client with its cookie jar and current CSRF token.
pub struct Agent {
    pub client: Client,
    pub base: String,
    pub csrf: String,
}

impl Agent {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    pub async fn text(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let status = r.status();
        (status, r.text().await.expect("a body in UTF-8"))
    }

    /// The status and the JSON body; a body that is not JSON fails the test (say so with
    /// `text` when a test expects something else).
    pub async fn json(&self, path: &str) -> (StatusCode, Value) {
        let r = self.get(path).await;
        json_body(r, path).await
    }

    /// Fetches the token of the current session (or a pre-session one).
    pub async fn refresh_csrf(&mut self) {
        let (_, body) = self.json("/api/v1/csrf").await;
        self.csrf = body["csrf_token"].as_str().unwrap_or_default().to_string();
    }

    pub async fn login(&mut self, login: &str, password: &str) -> Response {
        self.refresh_csrf().await;
        let r = self
            .post_form("/login", &[("login", login), ("password", password)])
            .await;
        if r.status() == StatusCode::SEE_OTHER {
            self.refresh_csrf().await;
        }
        r
    }

    /// Posts a form with the CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", &self.csrf));
        self.client
            .post(format!("{}{path}", self.base))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    /// Posts a form exactly as given (no token added).
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .expect("JSON request");
        json_body(r, path).await
    }

    /// Sends bytes of a resumable upload from `offset`.
    pub async fn patch_upload(&self, id: &str, offset: u64, bytes: Vec<u8>) -> (StatusCode, Value) {
        let r = self
            .client
            .patch(format!("{}/api/v1/uploads/{id}", self.base))
            .header("x-csrf-token", &self.csrf)
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("PATCH");
        json_body(r, id).await
    }

    /// Uploads a whole file for a sub-project in chunks, as the submit page does; returns the
    /// upload as the last answer describes it (with the check's report).
    pub async fn upload_work(
        &self,
        sub_project: &str,
        name: &str,
        bytes: &[u8],
        chunk: usize,
    ) -> Value {
        let (status, started) = self
            .send_json(
                reqwest::Method::POST,
                "/api/v1/uploads",
                &serde_json::json!({"sub_project": sub_project, "file_name": name, "size_bytes": bytes.len()}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{started}");
        let id = started["id"].as_str().expect("upload id").to_string();
        let mut last = started;
        for (i, part) in bytes.chunks(chunk).enumerate() {
            let (status, body) = self
                .patch_upload(&id, (i * chunk) as u64, part.to_vec())
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            last = body;
        }
        last
    }

    /// Posts files as one multipart field (a phone choosing several photos at once).
    pub async fn upload_files(
        &self,
        path: &str,
        field: &str,
        files: Vec<(&str, Vec<u8>)>,
    ) -> Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part(
                field.to_string(),
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            );
        }
        self.client
            .post(format!("{}{path}?_csrf={}", self.base, self.csrf))
            .multipart(form)
            .send()
            .await
            .expect("upload")
    }

    pub async fn upload(&self, path: &str, file_name: &str, bytes: Vec<u8>) -> Response {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        self.client
            .post(format!("{}{path}?_csrf={}", self.base, self.csrf))
            .multipart(form)
            .send()
            .await
            .expect("upload")
    }
}

/// The status and JSON body of a response: an empty body (204) is `Null`; a body that is not
/// JSON fails the test with what came instead.
pub async fn json_body(r: Response, what: &str) -> (StatusCode, Value) {
    let status = r.status();
    let body = r.text().await.expect("a body");
    if body.is_empty() {
        return (status, Value::Null);
    }
    let value = serde_json::from_str(&body).unwrap_or_else(|e| {
        panic!("{what} answered {status} with a body that is not JSON ({e}): {body:.300}")
    });
    (status, value)
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Storage for running the `wangju` binary: a data folder (SQLite) or a fresh PostgreSQL
/// database, as command-line options.
pub struct Storage {
    pub dir: tempfile::TempDir,
    pub args: Vec<String>,
    _pg: Option<PgDatabase>,
}

impl Storage {
    pub async fn new(backend: Backend) -> Storage {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut args = vec!["--data-dir".to_string(), dir.path().display().to_string()];
        let mut pg = None;
        if backend == Backend::Postgres {
            let database = PgDatabase::create().await;
            args.push("--database-url".into());
            args.push(database.url());
            pg = Some(database);
        }
        Storage { dir, args, _pg: pg }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_wangju"))
            .args(args)
            .args(&self.args)
            .env("WANGJU_LOG", "warn")
            .output()
            .expect("run wangju")
    }

    /// Done with the storage; its PostgreSQL database is dropped with it.
    pub async fn finish(self) {
        drop(self);
    }
}
