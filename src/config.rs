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
    /// The address people reach Wangju at, e.g. `https://wangju.tjgh.org.cn`: links and QR
    /// codes in exports, posters and e-mails are built on it. Empty: the request's own Host
    /// (fine on one machine; behind a proxy, set it, so no client's Host header can change a
    /// printed QR code).
    #[serde(default)]
    pub public_url: String,
    /// Pin "today" for demos and tests (`WANGJU_TODAY=2020-07-01`). Security timers always
    /// use the real clock.
    #[serde(default)]
    pub today: Option<NaiveDate>,
    /// Idle session timeout in minutes.
    #[serde(default = "default_idle_minutes")]
    pub session_idle_minutes: i64,
    /// Check-ins arriving together share one commit (default). Off: one transaction each,
    /// the naive way the check-in benchmark compares against.
    #[serde(default = "default_true")]
    pub checkin_group_commit: bool,
    /// A CJK font file (.ttf, .otf or .ttc) for the charts in the summary. Empty: the Debian
    /// paths of fonts-noto-cjk and two other CJK packages; with none installed the summary
    /// carries its charts' figures as tables.
    #[serde(default)]
    pub chart_font: String,
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
    /// Uploads that no work uses are deleted, with their files, after this many days idle
    /// (a phone that never finished, a checked file nobody submitted).
    #[serde(default = "default_upload_keep_days")]
    pub upload_keep_days: u64,
    /// Longest a request may take (seconds), upload chunks excepted.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_seconds: u64,
    /// An upload chunk whose body pauses this long (seconds) is ended there; what arrived is
    /// kept and the phone resumes from it.
    #[serde(default = "default_upload_idle")]
    pub upload_idle_seconds: u64,
    /// The mail server reminders go out through (`[smtp]` in the config file). Without it,
    /// reminders appear only in Wangju.
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
    /// Proxies (load balancers) whose `X-Forwarded-For` names the client, as CIDR ranges
    /// (`["10.0.0.0/8"]`, or `"127.0.0.1, 10.0.0.5"` from the environment). Default: none, and
    /// every client is its socket address. Login and check-in limits and the audit log use the
    /// client found this way.
    #[serde(default, deserialize_with = "crate::net::deserialize_list")]
    pub trusted_proxies: Vec<crate::net::Cidr>,
    /// Client ranges `/metrics` answers without a token. Default: loopback only.
    #[serde(
        default = "crate::net::Cidr::loopback",
        deserialize_with = "crate::net::deserialize_list"
    )]
    pub metrics_allow: Vec<crate::net::Cidr>,
    /// With a token set, `/metrics` also answers `Authorization: Bearer <token>` from anywhere.
    #[serde(default)]
    pub metrics_token: String,
    /// On SIGTERM: how long requests in flight may take to finish before the node exits anyway.
    #[serde(default = "default_grace_seconds")]
    pub shutdown_grace_seconds: u64,
    /// Connections this node keeps to PostgreSQL at most (SQLite: readers).
    #[serde(default = "default_max_connections")]
    pub database_max_connections: u32,
    /// The program run as `PROGRAM media poster` to make a video's poster image in a child
    /// process. Default: this `wangju` binary itself.
    #[serde(default)]
    pub media_helper: Option<PathBuf>,
}

impl Settings {
    /// The poster helper: the configured program, else this process's own binary when it is
    /// `wangju` (a test or bench binary has no `media poster` command: no posters there).
    pub fn poster_helper(&self) -> Option<PathBuf> {
        self.media_helper.clone().or_else(|| {
            std::env::current_exe().ok().filter(|exe| {
                exe.file_stem()
                    .is_some_and(|stem| stem.to_string_lossy() == "wangju")
            })
        })
    }
}

fn default_grace_seconds() -> u64 {
    30
}

fn default_max_connections() -> u32 {
    16
}

/// How to talk to the mail server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same host or network; port 25).
    None,
    /// Plain, then upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The `[smtp]` table.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    /// Default by `tls`: 25, 587 or 465.
    #[serde(default)]
    pub port: Option<u16>,
    /// The sender, e.g. `网聚 <wangju@union.example.cn>`.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub tls: SmtpTls,
}

impl SmtpSettings {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        })
    }
}

impl std::fmt::Debug for SmtpSettings {
    // Never print the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port())
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .finish()
    }
}

fn default_true() -> bool {
    true
}

fn default_request_timeout() -> u64 {
    30
}

fn default_upload_idle() -> u64 {
    30
}

fn default_upload_keep_days() -> u64 {
    7
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
            .field("public_url", &self.public_url)
            .field("today", &self.today)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("upload_keep_days", &self.upload_keep_days)
            .field("storage", &self.storage)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_bucket", &self.s3_bucket)
            .field("smtp", &self.smtp)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_allow", &self.metrics_allow)
            .field(
                "metrics_token",
                &(!self.metrics_token.is_empty()).then_some("***"),
            )
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("database_max_connections", &self.database_max_connections)
            .field("media_helper", &self.media_helper)
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
        let mut settings: Settings = builder.build()?.try_deserialize()?;
        settings.public_url = check_public_url(&settings.public_url)?;
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

/// `public_url` without a trailing slash; it must be an http(s) origin with nothing after the
/// host but an optional path prefix.
pub fn check_public_url(raw: &str) -> anyhow::Result<String> {
    let url = raw.trim().trim_end_matches('/');
    if url.is_empty() {
        return Ok(String::new());
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| anyhow::anyhow!("public_url 须以 http:// 或 https:// 开头：{url}"))?;
    let host = rest.split('/').next().unwrap_or_default();
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if host.is_empty() || !host.chars().all(safe) || rest.contains(['?', '#', ' ', '"', '<', '>']) {
        anyhow::bail!("public_url 不是有效的网址：{url}");
    }
    Ok(url.to_string())
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

    #[test]
    fn smtp_table_reads_and_hides_its_password() {
        let dir = std::env::temp_dir().join(format!("wangju-smtp-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("wangju.toml");
        let written = std::fs::write(
            &file,
            "[smtp]\nhost = \"smtp.example.cn\"\nfrom = \"网聚 <wangju@example.cn>\"\nusername = \"wangju\"\npassword = \"s3cret\"\ntls = \"tls\"\n",
        );
        assert!(written.is_ok());
        let settings = Settings::load(&Overrides {
            config_file: Some(file),
            ..Overrides::default()
        });
        let smtp = settings.ok().and_then(|s| s.smtp);
        let Some(smtp) = smtp else {
            panic!("the [smtp] table is read");
        };
        assert_eq!(smtp.tls, SmtpTls::Tls);
        assert_eq!(smtp.port(), 465);
        let shown = format!("{smtp:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("***"),
            "{shown}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
