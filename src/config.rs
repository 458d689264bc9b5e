//! Settings, layered: built-in defaults < config file < `WANGJU_*` environment < command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

/// Where data lives and how the server listens.
#[derive(Clone, Deserialize)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`. Empty: `wangju.db` inside `data_dir`.
    #[serde(default)]
    pub database_url: String,
    /// Set when Wangju is served over TLS (directly or behind a proxy): cookies get `Secure`
    /// and the `__Host-` prefix, and HSTS is sent.
    #[serde(default)]
    pub secure_cookies: bool,
    /// Pin "today" for demos and tests (`WANGJU_TODAY=2020-07-01`). Security timers always
    /// use the real clock.
    #[serde(default)]
    pub today: Option<NaiveDate>,
    /// Idle session timeout in minutes.
    #[serde(default = "default_idle_minutes")]
    pub session_idle_minutes: i64,
    /// Where uploaded works are kept: `local` (default) or `s3`.
    #[serde(default)]
    pub storage: String,
    /// Local store folder; empty: `files/` inside `data_dir`.
    #[serde(default)]
    pub storage_root: String,
    /// S3-compatible store (with `storage = "s3"`): endpoint URL, bucket, region, key prefix.
    #[serde(default)]
    pub s3_endpoint: String,
    #[serde(default)]
    pub s3_bucket: String,
    #[serde(default)]
    pub s3_region: String,
    #[serde(default)]
    pub s3_root: String,
    #[serde(default)]
    pub s3_access_key_id: String,
    #[serde(default)]
    pub s3_secret_access_key: String,
    /// Buckets addressed as `bucket.endpoint` (Alibaba OSS, Tencent COS) instead of by path.
    #[serde(default)]
    pub s3_virtual_host_style: bool,
}

fn default_idle_minutes() -> i64 {
    30
}

impl std::fmt::Debug for Settings {
    // The database URL may hold a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("secure_cookies", &self.secure_cookies)
            .field("today", &self.today)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("storage", &self.storage)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_bucket", &self.s3_bucket)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Values given on the command line; `None` leaves the lower layers in force.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

impl Settings {
    pub fn load(overrides: &Overrides) -> anyhow::Result<Settings> {
        let mut builder = config::Config::builder()
            .set_default("listen", "127.0.0.1:8080")?
            .set_default("data_dir", "./wangju-data")?
            .set_default("database_url", "")?;
        let file = overrides
            .config_file
            .clone()
            .or_else(|| std::env::var_os("WANGJU_CONFIG").map(PathBuf::from));
        if let Some(file) = &file {
            builder = builder.add_source(config::File::from(file.as_path()).required(true));
        } else {
            builder = builder.add_source(config::File::with_name("wangju").required(false));
        }
        builder = builder.add_source(config::Environment::with_prefix("WANGJU").try_parsing(false));
        if let Some(listen) = &overrides.listen {
            builder = builder.set_override("listen", listen.as_str())?;
        }
        if let Some(dir) = &overrides.data_dir {
            builder = builder.set_override("data_dir", dir.to_string_lossy().as_ref())?;
        }
        if let Some(url) = &overrides.database_url {
            builder = builder.set_override("database_url", url.as_str())?;
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        Ok(settings)
    }

    /// The effective database URL: the configured one, or SQLite in the data folder.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            sqlite_url(&self.data_dir.join("wangju.db"))
        } else {
            self.database_url.clone()
        }
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_printed() {
        assert_eq!(
            redact_url("postgres://wangju:s3cret@db:5432/wangju"),
            "postgres://wangju:***@db:5432/wangju"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
    }
}
