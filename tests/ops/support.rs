//! The real parts a deployment uses, started for one test and stopped with it: `wangju serve`
//! nodes (the binary Cargo built), a private PostgreSQL server (Debian's `initdb`/`pg_ctl` in a
//! temp folder, on a free port, so it can be restarted without touching the machine's own),
//! moto's S3-compatible server, nginx with the config shipped in `docs/deploy/`, and a tiny SMTP
//! sink. Every process is ended by its own id when its handle drops.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Waits until something listens on `port` (or `limit` passes).
pub fn wait_for_port(port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status();
}

/// The `wangju` the tests run: this build's, or the one `WANGJU_OPS_BIN` names (`scripts/soak`
/// runs an optimised server under this harness without building the harness optimised too).
fn binary() -> PathBuf {
    std::env::var_os("WANGJU_OPS_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_wangju")),
        PathBuf::from,
    )
}

/// Runs `wangju ARGS` to completion (a command-line tool, not a server).
pub fn wangju(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(binary());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("WANGJU_") {
            command.env_remove(key);
        }
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .env("WANGJU_LOG", "warn")
        .output()
        .expect("run wangju")
}

/// One `wangju serve` process.
pub struct Node {
    pub name: String,
    pub port: u16,
    child: Option<Child>,
    config: PathBuf,
    pub log: PathBuf,
    /// The first admin's one-time password, when this start created it.
    pub first_password: Option<String>,
}

impl Node {
    /// Starts a node with the config file `config` on `port`; returns once it listens.
    pub fn start(name: &str, config: &Path, port: u16, log_dir: &Path) -> Node {
        let log = log_dir.join(format!("{name}.log"));
        let mut node = Node {
            name: name.to_string(),
            port,
            child: None,
            config: config.to_path_buf(),
            log,
            first_password: None,
        };
        node.launch();
        node
    }

    fn launch(&mut self) {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("node log");
        let mut command = Command::new(binary());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("WANGJU_") {
                command.env_remove(key);
            }
        }
        let mut child = command
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .env("WANGJU_CONFIG", &self.config)
            .env("WANGJU_LOG", "wangju=info,tower_http=warn,sqlx=warn")
            .env("RUST_BACKTRACE", "0")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start wangju serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut password = None;
        for line in lines.by_ref() {
            let line = line.unwrap_or_default();
            if let Some(p) = line.split("一次性密码：").nth(1) {
                password = Some(p.trim().to_string());
            }
            if line.contains("网聚已启动") {
                break;
            }
        }
        // Keep draining stdout so the node never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        assert!(
            wait_for_port(self.port, Duration::from_secs(30)),
            "{} did not start; its log:\n{}",
            self.name,
            tail(&self.log)
        );
        self.first_password = password.or(self.first_password.take());
        self.child = Some(child);
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no graceful anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits up to `limit` for the exit; returns its status and how long it took.
    pub fn terminate(&mut self, limit: Duration) -> (Option<std::process::ExitStatus>, Duration) {
        let start = Instant::now();
        let Some(mut child) = self.child.take() else {
            return (None, Duration::ZERO);
        };
        signal(child.id(), "TERM");
        while start.elapsed() < limit {
            if let Ok(Some(status)) = child.try_wait() {
                return (Some(status), start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        (None, start.elapsed())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    pub fn restart(&mut self) {
        self.kill9();
        self.launch();
    }

    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The last lines of a log file (for failure messages).
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The newest PostgreSQL server binaries Debian installed.
fn pg_bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    });
    let bin = versions
        .last()
        .map(|v| v.join("bin").join(name))
        .filter(|p| p.exists());
    bin.unwrap_or_else(|| {
        panic!(
            "PostgreSQL server not installed ({name}): apt-get install postgresql (.ci/run does)"
        )
    })
}

/// A PostgreSQL server of the test's own.
pub struct PrivatePg {
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PrivatePg {
    /// `initdb` into a temp folder and start on a free port (TCP on 127.0.0.1 only). As root
    /// the server runs as the `postgres` user, since initdb refuses root.
    pub fn start() -> PrivatePg {
        let dir = tempfile::Builder::new()
            .prefix("wangju-pg-")
            .tempdir()
            .expect("temp dir");
        if is_root() {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown the PostgreSQL folder to postgres");
        }
        let pg = PrivatePg {
            dir,
            port: free_port(),
        };
        let out = pg
            .command("initdb")
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "-D",
            ])
            .arg(pg.data())
            .output()
            .expect("initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg.ctl_start();
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, bin: &str) -> Command {
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_bin(bin));
            c
        } else {
            Command::new(pg_bin(bin))
        }
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn ctl_start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=120 -c shared_buffers=32MB -c fsync=on -c synchronous_commit=on",
            self.port
        );
        let out = self
            .command("pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-o", &options, "start"])
            .output()
            .expect("pg_ctl start");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            tail(&self.dir.path().join("server.log"))
        );
    }

    /// Stops the server (`-m fast`: sessions are ended, as an operator's restart does).
    pub fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .args(["-w", "-m", "fast", "-D"])
            .arg(self.data())
            .arg("stop")
            .output();
    }

    pub fn start_again(&self) {
        self.ctl_start();
    }

    pub async fn create_database(&self, name: &str) {
        wangju::db::testing::create_database(&self.url("postgres"), name)
            .await
            .expect("create a database on the private PostgreSQL");
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-w", "-m", "immediate", "-D"])
            .arg(self.data())
            .arg("stop")
            .output();
    }
}

/// moto's S3-compatible server with one bucket.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    pub bucket: String,
}

impl Moto {
    pub async fn start() -> Moto {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server 未安装：pip install 'moto[server]'（.ci/run 会安装）");
        assert!(wait_for_port(port, Duration::from_secs(30)), "moto started");
        let endpoint = format!("http://127.0.0.1:{port}");
        let bucket = "wangju-cluster".to_string();
        let r = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .expect("create bucket");
        assert!(r.status().is_success());
        Moto {
            child,
            endpoint,
            bucket,
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx running the config shipped in `docs/deploy/nginx.conf`, with only its addresses,
/// ports and file paths replaced by the test's.
pub struct Nginx {
    child: Child,
    pub https_port: u16,
    pub http_port: u16,
    /// Keeps the config, certificate and logs as long as nginx runs.
    _dir: tempfile::TempDir,
}

/// The shipped config.
pub const NGINX_CONF: &str = include_str!("../../docs/deploy/nginx.conf");

impl Nginx {
    pub fn start(upstreams: &[u16]) -> Nginx {
        let dir = tempfile::Builder::new()
            .prefix("wangju-nginx-")
            .tempdir()
            .expect("temp dir");
        let d = dir.path();
        let (https_port, http_port) = (free_port(), free_port());
        let key = d.join("key.pem");
        let cert = d.join("cert.pem");
        let made = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl");
        assert!(made.status.success(), "self-signed certificate");
        let site = render_site(upstreams, https_port, http_port, d, &cert, &key);
        std::fs::write(d.join("wangju.conf"), site).expect("write site");
        for sub in ["logs", "tmp"] {
            std::fs::create_dir_all(d.join(sub)).expect("nginx folders");
        }
        // The main file a Debian install provides; the test writes its own minimal one.
        let main = format!(
            "{user}worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log warn;\nevents {{ worker_connections 512; }}\nhttp {{\n  client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n  fastcgi_temp_path {d}/tmp/fastcgi;\n  uwsgi_temp_path {d}/tmp/uwsgi;\n  scgi_temp_path {d}/tmp/scgi;\n  include {d}/wangju.conf;\n}}\n",
            user = if is_root() { "user root;\n" } else { "" },
            d = d.display()
        );
        std::fs::write(d.join("nginx.conf"), main).expect("write nginx.conf");
        let test = Command::new("nginx")
            .arg("-p")
            .arg(d)
            .arg("-c")
            .arg(d.join("nginx.conf"))
            .arg("-t")
            .output()
            .expect("nginx 未安装：apt-get install nginx-light（.ci/run 会安装）");
        assert!(
            test.status.success(),
            "nginx -t: {}",
            String::from_utf8_lossy(&test.stderr)
        );
        let child = Command::new("nginx")
            .arg("-p")
            .arg(d)
            .arg("-c")
            .arg(d.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        assert!(
            wait_for_port(https_port, Duration::from_secs(10)),
            "nginx up"
        );
        Nginx {
            child,
            https_port,
            http_port,
            _dir: dir,
        }
    }

    pub fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.https_port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        signal(self.child.id(), "QUIT");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shipped site config with the test's addresses, ports and paths. Each replaced line
/// must be found, so the docs and the test cannot drift apart unnoticed.
pub fn render_site(
    upstreams: &[u16],
    https_port: u16,
    http_port: u16,
    dir: &Path,
    cert: &Path,
    key: &Path,
) -> String {
    let servers: String = upstreams
        .iter()
        .map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n"))
        .collect();
    let mut site = NGINX_CONF.to_string();
    let mut replace = |from: &str, to: &str| {
        assert!(
            site.contains(from),
            "docs/deploy/nginx.conf no longer has {from:?}"
        );
        site = site.replace(from, to);
    };
    replace(
        "    server 10.0.0.11:8080 max_fails=1 fail_timeout=5s;\n    server 10.0.0.12:8080 max_fails=1 fail_timeout=5s;\n",
        &servers,
    );
    replace(
        "listen 443 ssl;",
        &format!("listen 127.0.0.1:{https_port} ssl;"),
    );
    replace("listen 80;", &format!("listen 127.0.0.1:{http_port};"));
    replace("/etc/ssl/wangju/fullchain.pem", &cert.display().to_string());
    replace("/etc/ssl/wangju/privkey.pem", &key.display().to_string());
    replace(
        "/var/log/nginx/wangju.access.log",
        &dir.join("logs/access.log").display().to_string(),
    );
    replace(
        "/var/log/nginx/wangju.error.log",
        &dir.join("logs/site-error.log").display().to_string(),
    );
    site
}

/// A tiny SMTP server that keeps every message it is given.
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind sink");
        let port = listener.local_addr().expect("addr").port();
        let mails: Arc<Mutex<Vec<String>>> = Arc::default();
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = smtp_session(stream, store).await;
                });
            }
        });
        SmtpSink { port, mails }
    }

    pub fn count(&self) -> usize {
        self.mails.lock().map(|m| m.len()).unwrap_or(0)
    }
}

async fn smtp_session(
    stream: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = tokio::io::BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?;
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
                m.push(data);
            }
            write.write_all(b"250 queued\r\n").await?;
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"250 OK\r\n").await?;
        }
    }
}

/// A small valid micro-video (16:9, H.264 + AAC with sound, 2 s), made once with ffmpeg.
pub fn test_video() -> Vec<u8> {
    static VIDEO: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    VIDEO
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let out = dir.path().join("ok.mp4");
            let run = Command::new("ffmpeg")
                .args([
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-y",
                    "-f",
                    "lavfi",
                    "-i",
                ])
                .arg("testsrc=duration=2:size=640x360:rate=25")
                .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=2"])
                .args([
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-pix_fmt",
                    "yuv420p",
                ])
                .args(["-c:a", "aac", "-shortest"])
                .arg(&out)
                .output()
                .expect("ffmpeg 未安装：apt-get install ffmpeg");
            assert!(run.status.success(), "ffmpeg made the test video");
            let mut bytes = Vec::new();
            std::fs::File::open(&out)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .expect("read the test video");
            bytes
        })
        .clone()
}
