//! Running Wangju in the bench's own process: a fresh database (SQLite in a folder, or a new
//! PostgreSQL database), the router on a loopback port, and the city admin signed in through
//! the JSON API. For benches that measure one use case rather than the server under load.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use wangju::app::{App, AppState};
use wangju::config::Settings;
use wangju::db::users;
use wangju::service::accounts;

const PASSWORD: &str = "Bench-InProcess-2020!";

pub fn settings(dir: &Path, database_url: String) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.to_path_buf(),
        database_url,
        secure_cookies: false,
        public_url: String::new(),
        today: chrono::NaiveDate::from_ymd_opt(2020, 7, 1),
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
        request_timeout_seconds: 60,
        upload_idle_seconds: 30,
        trusted_proxies: Vec::new(),
        metrics_allow: wangju::net::Cidr::loopback(),
        metrics_token: String::new(),
        shutdown_grace_seconds: 30,
        database_max_connections: 16,
        media_helper: Some(env!("CARGO_BIN_EXE_wangju").into()),
    }
}

/// The app over `database_url` (empty: SQLite in `dir`).
pub async fn build(dir: &Path, database_url: String) -> Result<AppState, String> {
    let (state, _) = App::build(settings(dir, database_url))
        .await
        .map_err(|e| format!("build: {e}"))?;
    Ok(state)
}

/// A signed-in city admin: the client (with its cookie), the base URL and the CSRF token.
pub struct Admin {
    pub client: reqwest::Client,
    pub base: String,
    pub csrf: String,
}

/// Serves `state` on a loopback port and signs in as the city admin (its password set
/// directly, as already changed).
pub async fn serve_and_sign_in(state: AppState) -> Result<Admin, String> {
    let db = state.db.clone();
    let admin = users::by_login(&db, "admin")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no admin")?;
    let hash = accounts::hash_password(PASSWORD)
        .await
        .map_err(|e| format!("{e}"))?;
    let mut tx = db.begin().await.map_err(|e| format!("{e}"))?;
    users::set_password(&mut tx, admin.id, &hash, false)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| format!("{e}"))?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
    let router = wangju::http::router(state);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let base = format!("http://{addr}");
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| e.to_string())?;
    let csrf: Value = client
        .get(format!("{base}/api/v1/csrf"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let token = csrf["csrf_token"].as_str().unwrap_or_default().to_string();
    let me: Value = client
        .post(format!("{base}/api/v1/session"))
        .header("X-CSRF-Token", &token)
        .json(&json!({"login": "admin", "password": PASSWORD}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let csrf = me["csrf_token"].as_str().unwrap_or_default().to_string();
    Ok(Admin { client, base, csrf })
}

/// A new PostgreSQL database on `server` (no database in the URL) for one run; its URL.
pub async fn pg_database(server: &str, name: &str) -> Result<String, String> {
    wangju::db::testing::create_database(&format!("{server}/postgres"), name)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("{server}/{name}"))
}

pub async fn drop_pg_database(server: &str, name: &str) {
    let _ = wangju::db::testing::drop_database(&format!("{server}/postgres"), name).await;
}

/// Peak resident memory of this process so far (VmHWM), in MB.
pub fn peak_rss_mb() -> Option<f64> {
    Some(super::status_kb(std::process::id(), "VmHWM:")? / 1024.0)
}
