//! The city dashboard under load, on the national demo data, on SQLite and on PostgreSQL; and the
//! peak memory of exporting the whole activity list to Excel.
//!
//! Run with `cargo bench --bench dashboard` (see docs/benchmarks.md). For each backend it:
//!
//! 1. seeds `wangju demo seed --scale national` into a fresh SQLite data folder, or into a fresh
//!    PostgreSQL database (created on `WANGJU_BENCH_PG`, dropped afterwards), and times it;
//! 2. starts `wangju serve` on it, signs in as the city admin (`admin`, changing the one-time
//!    password first);
//! 3. drives `GET /progress` and then `GET /api/v1/progress` with 32 concurrent signed-in
//!    keep-alive connections for a fixed time, and prints p50/p95/p99 and req/s against the
//!    target (p95 < 100 ms);
//! 4. runs `wangju export activities --out FILE.xlsx` (every activity, ~100,000 rows) under
//!    `/usr/bin/time` and prints its peak RSS against the target (< 200 MB).
//!
//! Without `--bench` (as under `cargo test --benches`) it runs a smoke pass: city-scale data on
//! SQLite only, 0.3 s per phase.
//!
//! Environment: `WANGJU_BENCH_SECONDS` (measured seconds per phase, default 5),
//! `WANGJU_BENCH_CONNECTIONS` (default 32), `WANGJU_BENCH_SCALE` (`national` or `city`),
//! `WANGJU_BENCH_PG` (PostgreSQL server URL without a database, default
//! `postgres://postgres@127.0.0.1:5432`; `off` to skip), `WANGJU_BENCH_CACHE=DIR` (keep the seeded
//! SQLite folder in DIR and the PostgreSQL database `wangju_bench_<scale>`, and reuse both on the
//! next run), `WANGJU_BENCH_BIN`, `WANGJU_BENCH_NO_PIN=1`.

mod common;

use common::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use wangju::db::testing;

/// Target: 95th-percentile latency of the city dashboard.
const TARGET_P95_MS: f64 = 100.0;
/// Target: peak memory of the export of every activity.
const TARGET_EXPORT_MB: f64 = 200.0;
const WARMUP: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const TODAY: &str = "2020-07-01";
/// The city admin's password after the first sign-in (the one-time one must be changed).
const BENCH_PASSWORD: &str = "Bench-Dashboard-2020!";

fn main() -> ExitCode {
    let full = std::env::args().any(|a| a == "--bench");
    let seconds = if full {
        env_number("WANGJU_BENCH_SECONDS", 5.0)
    } else {
        0.3
    };
    let warmup = if full {
        WARMUP
    } else {
        Duration::from_millis(100)
    };
    let measure = Duration::from_secs_f64(seconds.clamp(0.1, 3600.0));
    let connections = env_number("WANGJU_BENCH_CONNECTIONS", 32.0).clamp(1.0, 4096.0) as usize;
    let scale = std::env::var("WANGJU_BENCH_SCALE")
        .unwrap_or_else(|_| if full { "national" } else { "city" }.to_string());
    let pg_server = std::env::var("WANGJU_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
    let with_pg = full && pg_server != "off";
    let cache = std::env::var_os("WANGJU_BENCH_CACHE").map(PathBuf::from);
    let bin = std::env::var_os("WANGJU_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wangju")));
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned =
        cpus >= 2 && std::env::var_os("WANGJU_BENCH_NO_PIN").is_none() && pin_self_to_cpu1();

    println!(
        "wangju dashboard benchmark{}",
        if full {
            ""
        } else {
            " (smoke run: pass --bench for real figures)"
        }
    );
    println!("  binary:      {}", bin.display());
    println!(
        "  machine:     {cpus} CPU(s) visible, load average {}",
        load_average()
    );
    println!(
        "  placement:   {}",
        if pinned {
            "server pinned to CPU 0, load generator to CPU 1 (taskset)"
        } else {
            "not pinned: server and load generator share the CPUs"
        }
    );
    println!("  data:        `wangju demo seed --scale {scale}`");
    println!(
        "  load:        {connections} signed-in keep-alive connections (city admin), {:.1} s warm-up + {:.1} s measured per phase",
        warmup.as_secs_f64(),
        measure.as_secs_f64()
    );
    println!();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if pinned { 1 } else { cpus })
        .enable_all()
        .build()
        .expect("build the load generator's runtime");
    let workdir = tempfile::tempdir().expect("create a temporary folder");
    let mut backends = vec![Backend::Sqlite];
    if with_pg {
        backends.push(Backend::Postgres);
    }
    let mut failed = false;
    let mut summary = Vec::new();
    for backend in backends {
        println!("{}:", backend.label());
        let storage = match Storage::prepare(
            &runtime,
            backend,
            &bin,
            &scale,
            workdir.path(),
            cache.as_deref(),
            &pg_server,
        ) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("  could not prepare {}: {e}", backend.label());
                failed = true;
                continue;
            }
        };
        match run_backend(
            &runtime,
            &bin,
            &storage,
            workdir.path(),
            pinned,
            connections,
            warmup,
            measure,
        ) {
            Ok(lines) => summary.extend(lines),
            Err(e) => {
                eprintln!("  benchmark invalid on {}: {e}", backend.label());
                failed = true;
            }
        }
        match export_peak(&bin, &storage, workdir.path()) {
            Ok(line) => {
                println!("  {line}");
                summary.push(format!("{:<11} {line}", backend.label()));
            }
            Err(e) => {
                eprintln!("  export failed on {}: {e}", backend.label());
                failed = true;
            }
        }
        runtime.block_on(storage.finish(&pg_server));
        println!();
    }
    println!("results:");
    for line in &summary {
        println!("  {line}");
    }
    if !full {
        println!(
            "  (smoke run: these figures are not meaningful; run `cargo bench --bench dashboard`)"
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A seeded database and the city admin's current password.
struct Storage {
    backend: Backend,
    args: Vec<String>,
    password: String,
    /// A PostgreSQL database to drop at the end (not when cached).
    drop_database: Option<String>,
    /// Written once the city admin has its bench password, so a cached run can reuse the data.
    marker: Option<PathBuf>,
}

impl Storage {
    fn prepare(
        runtime: &tokio::runtime::Runtime,
        backend: Backend,
        bin: &Path,
        scale: &str,
        workdir: &Path,
        cache: Option<&Path>,
        pg_server: &str,
    ) -> Result<Storage, String> {
        let (data_dir, marker) = match cache {
            Some(dir) => (
                dir.join(format!("sqlite-{scale}")),
                Some(dir.join(format!("{}-{scale}.seeded", backend.label()))),
            ),
            None => (workdir.join(format!("data-{}", backend.label())), None),
        };
        std::fs::create_dir_all(&data_dir).map_err(|e| e.to_string())?;
        let mut args = vec!["--data-dir".to_string(), data_dir.display().to_string()];
        let mut drop_database = None;
        if backend == Backend::Postgres {
            let name = if cache.is_some() {
                format!("wangju_bench_{scale}")
            } else {
                format!("wangju_bench_{}_{}", scale, std::process::id())
            };
            let seeded = marker.as_ref().is_some_and(|m| m.exists());
            if !seeded {
                runtime.block_on(recreate_database(pg_server, &name))?;
            }
            if cache.is_none() {
                drop_database = Some(name.clone());
            }
            args.push("--database-url".into());
            args.push(format!("{pg_server}/{name}"));
        }
        if let Some(m) = &marker
            && m.exists()
        {
            println!("  data:        reusing the seeded data ({})", m.display());
            return Ok(Storage {
                backend,
                args,
                password: BENCH_PASSWORD.to_string(),
                drop_database,
                marker: None,
            });
        }
        let started = Instant::now();
        let out = wangju(bin, workdir, &args)
            .args(["demo", "seed", "--scale", scale])
            .output()
            .map_err(|e| format!("run wangju demo seed: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("wangju demo seed failed: {stderr}"));
        }
        let password = stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("一次性密码："))
            .map(|p| p.trim().to_string())
            .ok_or("the seeded database printed no first admin")?;
        let made = stdout
            .lines()
            .filter(|l| {
                l.contains("单位：") || l.contains("线下活动：") || l.contains("扫码签到：")
            })
            .map(|l| l.trim().chars().take(40).collect::<String>())
            .collect::<Vec<_>>()
            .join("；");
        println!(
            "  seeded in {:.1} s (whole command, migrations included): {made}",
            started.elapsed().as_secs_f64()
        );
        Ok(Storage {
            backend,
            args,
            password,
            drop_database,
            marker,
        })
    }

    fn mark_seeded(&self) {
        if let Some(marker) = &self.marker {
            let _ = std::fs::write(marker, "seeded; the city admin has the bench's password\n");
        }
    }

    async fn finish(self, pg_server: &str) {
        if let Some(name) = self.drop_database {
            let _ = testing::drop_database(&format!("{pg_server}/postgres"), &name).await;
        }
    }
}

async fn recreate_database(pg_server: &str, name: &str) -> Result<(), String> {
    let server = format!("{pg_server}/postgres");
    testing::drop_database(&server, name)
        .await
        .map_err(|e| format!("drop database {name} at {pg_server}: {e}"))?;
    testing::create_database(&server, name)
        .await
        .map_err(|e| format!("create database {name} at {pg_server}: {e}"))
}

/// The `wangju` command with only our settings (no inherited WANGJU_*, no ./wangju.toml).
fn wangju(bin: &Path, workdir: &Path, storage: &[String]) -> Command {
    let mut command = Command::new(bin);
    without_wangju_env(&mut command);
    command
        .args(storage)
        .env("WANGJU_TODAY", TODAY)
        .env("WANGJU_LOG", "warn")
        .current_dir(workdir);
    command
}

#[allow(clippy::too_many_arguments)]
fn run_backend(
    runtime: &tokio::runtime::Runtime,
    bin: &Path,
    storage: &Storage,
    workdir: &Path,
    pinned: bool,
    connections: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<Vec<String>, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut server = Server::spawn(bin, workdir, &storage.args, addr, pinned)?;
    server.wait_healthy(addr)?;
    let cookie = runtime.block_on(sign_in(addr, &storage.password))?;
    storage.mark_seeded();
    let cookie: Arc<str> = Arc::from(cookie);
    let mut lines = Vec::new();
    for path in ["/progress", "/api/v1/progress"] {
        let before = CpuSample::take(&server);
        let result = runtime.block_on(load(
            addr,
            path,
            Arc::clone(&cookie),
            connections,
            warmup,
            measure,
        ));
        let cpu = CpuSample::take(&server).and_then(|after| Some(after.since(&before?)));
        println!("  {}", result.line());
        if let Some(c) = cpu {
            println!(
                "              CPU: server {:.0}%, load generator {:.0}%, other processes {:.0}%{}",
                c.server * 100.0,
                c.load_generator * 100.0,
                c.other * 100.0,
                if c.other > 0.15 {
                    "  (warning: disturbed by other processes)"
                } else {
                    ""
                }
            );
        }
        if result.errors() > 0 {
            return Err(format!(
                "{} errors on {path} (non-200 {}, failed {}, timed out {})\n{}",
                result.errors(),
                result.non_200,
                result.failed,
                result.timed_out,
                server.stderr_tail()
            ));
        }
        let p95 = result.percentile_ms(0.95);
        lines.push(format!(
            "{:<11} GET {:<17} p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms  {:>6.0} req/s  (target p95 < {TARGET_P95_MS:.0} ms): {}",
            storage.backend.label(),
            path,
            result.percentile_ms(0.5),
            p95,
            result.percentile_ms(0.99),
            result.rps(),
            verdict(p95 < TARGET_P95_MS)
        ));
    }
    if let Some(m) = server.memory() {
        println!(
            "  server RSS after load: {:.1} MB (peak {:.1} MB)",
            m.0, m.1
        );
    }
    Ok(lines)
}

/// Peak RSS of `wangju export activities` over the whole data set, measured by `/usr/bin/time`.
fn export_peak(bin: &Path, storage: &Storage, workdir: &Path) -> Result<String, String> {
    let out_file = workdir.join(format!("activities-{}.xlsx", storage.backend.label()));
    let started = Instant::now();
    let mut command = Command::new("/usr/bin/time");
    command.args(["-f", "peak-rss-kb=%M"]).arg(bin);
    without_wangju_env(&mut command);
    let out = command
        .args(&storage.args)
        .args(["export", "activities", "--out"])
        .arg(&out_file)
        .env("WANGJU_TODAY", TODAY)
        .env("WANGJU_LOG", "warn")
        .current_dir(workdir)
        .output()
        .map_err(|e| format!("run /usr/bin/time wangju export activities: {e}"))?;
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(stderr.to_string());
    }
    let kb: f64 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("peak-rss-kb="))
        .and_then(|n| n.trim().parse().ok())
        .ok_or("no peak RSS from /usr/bin/time")?;
    let rows = String::from_utf8_lossy(&out.stdout)
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let size = std::fs::metadata(&out_file).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&out_file);
    let mb = kb / 1024.0;
    Ok(format!(
        "export activities: {rows} rows, {:.1} MB file, {:.1} s, peak RSS {mb:.1} MB (target < {TARGET_EXPORT_MB:.0} MB): {}",
        size as f64 / 1_048_576.0,
        elapsed.as_secs_f64(),
        verdict(mb < TARGET_EXPORT_MB)
    ))
}

/// Signs in as the city admin through the JSON API, changes the one-time password if it still
/// is one, and returns the `Cookie` header of a fresh session.
async fn sign_in(addr: SocketAddr, password: &str) -> Result<String, String> {
    let base = format!("http://{addr}");
    let try_login = |password: String| {
        let base = base.clone();
        async move {
            let jar = Arc::new(reqwest::cookie::Jar::default());
            let client = reqwest::Client::builder()
                .cookie_provider(Arc::clone(&jar))
                .build()
                .map_err(|e| e.to_string())?;
            let csrf: serde_json::Value = client
                .get(format!("{base}/api/v1/csrf"))
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let token = csrf["csrf_token"].as_str().unwrap_or_default().to_string();
            let response = client
                .post(format!("{base}/api/v1/session"))
                .header("X-CSRF-Token", &token)
                .json(&serde_json::json!({ "login": "admin", "password": password }))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !response.status().is_success() {
                return Err(format!("sign-in answered {}", response.status()));
            }
            let me: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((client, jar, me))
        }
    };
    let (client, jar, me) = match try_login(password.to_string()).await {
        Ok(ok) => ok,
        // A cached database whose password was already changed by an earlier run.
        Err(_) => try_login(BENCH_PASSWORD.to_string()).await?,
    };
    let (jar, client) = if me["must_change_password"].as_bool() == Some(true) {
        let csrf = me["csrf_token"].as_str().unwrap_or_default();
        let response = client
            .post(format!("{base}/account/password"))
            .form(&[
                ("current", password),
                ("new", BENCH_PASSWORD),
                ("confirm", BENCH_PASSWORD),
                ("_csrf", csrf),
            ])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("password change answered {}", response.status()));
        }
        let (client, jar, _) = try_login(BENCH_PASSWORD.to_string()).await?;
        (jar, client)
    } else {
        (jar, client)
    };
    // The session must open the dashboard.
    let check = client
        .get(format!("{base}/api/v1/progress"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !check.status().is_success() {
        return Err(format!("GET /api/v1/progress answered {}", check.status()));
    }
    use reqwest::cookie::CookieStore;
    let url: reqwest::Url = base.parse().map_err(|e| format!("{e}"))?;
    jar.cookies(&url)
        .and_then(|h| h.to_str().ok().map(str::to_string))
        .ok_or_else(|| "no session cookie".to_string())
}

fn get_status(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    String::from_utf8_lossy(&response)
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP/1.1 response"))
}

/// The running server; killed when dropped.
struct Server {
    child: Child,
    stderr: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    fn spawn(
        bin: &Path,
        workdir: &Path,
        storage: &[String],
        addr: SocketAddr,
        pinned: bool,
    ) -> Result<Server, String> {
        let mut command = wangju_command(bin, pinned);
        let mut child = command
            .args(storage)
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .env("WANGJU_TODAY", TODAY)
            .env("WANGJU_LOG", "warn")
            .current_dir(workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn wangju serve: {e}"))?;
        let stderr = Arc::new(std::sync::Mutex::new(Vec::new()));
        if let Some(pipe) = child.stderr.take() {
            let stderr = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut lines) = stderr.lock() {
                        lines.push(line);
                        if lines.len() > 50 {
                            lines.remove(0);
                        }
                    }
                }
            });
        }
        Ok(Server { child, stderr })
    }

    fn wait_healthy(&mut self, addr: SocketAddr) -> Result<(), String> {
        let since = Instant::now();
        loop {
            if let Ok(200) = get_status(addr, "/healthz") {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "`wangju serve` exited with {status}\n{}",
                    self.stderr_tail()
                ));
            }
            if since.elapsed() > Duration::from_secs(120) {
                return Err("no 200 from /healthz within 120 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stderr_tail(&self) -> String {
        self.stderr
            .lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default()
    }

    /// (VmRSS, VmHWM) in MB.
    fn memory(&self) -> Option<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb = |field: &str| -> Option<f64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))?
                .split_whitespace()
                .next()?
                .parse::<f64>()
                .ok()
        };
        Some((kb("VmRSS:")? / 1024.0, kb("VmHWM:")? / 1024.0))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct CpuSample {
    at: Instant,
    server: f64,
    this: f64,
    machine: f64,
}

struct CpuUse {
    server: f64,
    load_generator: f64,
    other: f64,
}

impl CpuSample {
    fn take(server: &Server) -> Option<CpuSample> {
        Some(CpuSample {
            at: Instant::now(),
            server: process_cpu_seconds(server.child.id())?,
            this: process_cpu_seconds(std::process::id())?,
            machine: machine_busy_seconds()?,
        })
    }

    fn since(&self, before: &CpuSample) -> CpuUse {
        let wall = self.at.duration_since(before.at).as_secs_f64().max(1e-9);
        let server = (self.server - before.server) / wall;
        let load_generator = (self.this - before.this) / wall;
        let machine = (self.machine - before.machine) / wall;
        CpuUse {
            server,
            load_generator,
            other: (machine - server - load_generator).max(0.0),
        }
    }
}

#[derive(Default)]
struct PhaseResult {
    path: String,
    window: Duration,
    latencies: Vec<u32>,
    body_bytes: u64,
    ok_total: u64,
    non_200: u64,
    failed: u64,
    timed_out: u64,
}

impl PhaseResult {
    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.window.as_secs_f64()
    }

    fn errors(&self) -> u64 {
        self.non_200 + self.failed + self.timed_out
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank =
            ((p * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        f64::from(self.latencies[rank - 1]) / 1000.0
    }

    fn line(&self) -> String {
        format!(
            "GET {:<17} {:>7.0} req/s  p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms  max {:>7.1} ms  body {} B  errors {}",
            self.path,
            self.rps(),
            self.percentile_ms(0.50),
            self.percentile_ms(0.95),
            self.percentile_ms(0.99),
            self.percentile_ms(1.0),
            self.body_bytes.checked_div(self.ok_total).unwrap_or(0),
            self.errors(),
        )
    }
}

async fn load(
    addr: SocketAddr,
    path: &'static str,
    cookie: Arc<str>,
    connections: usize,
    warmup: Duration,
    measure: Duration,
) -> PhaseResult {
    let window_start = tokio::time::Instant::now() + warmup;
    let window_end = window_start + measure;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            tokio::spawn(connection(
                addr,
                path,
                Arc::clone(&cookie),
                window_start,
                window_end,
            ))
        })
        .collect();
    let mut result = PhaseResult {
        path: path.to_string(),
        window: measure,
        ..PhaseResult::default()
    };
    for task in tasks {
        match task.await {
            Ok(t) => {
                result.latencies.extend(t.latencies);
                result.body_bytes += t.body_bytes;
                result.ok_total += t.ok_total;
                result.non_200 += t.non_200;
                result.failed += t.failed;
                result.timed_out += t.timed_out;
            }
            Err(_) => result.failed += 1,
        }
    }
    result.latencies.sort_unstable();
    result
}

async fn connection(
    addr: SocketAddr,
    path: &'static str,
    cookie: Arc<str>,
    window_start: tokio::time::Instant,
    window_end: tokio::time::Instant,
) -> PhaseResult {
    let mut tally = PhaseResult::default();
    let host = addr.to_string();
    'reconnect: while tokio::time::Instant::now() < window_end {
        let mut sender = match open(addr).await {
            Ok(s) => s,
            Err(_) => {
                tally.failed += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        loop {
            if tokio::time::Instant::now() >= window_end {
                break 'reconnect;
            }
            let request = hyper::Request::get(path)
                .header(hyper::header::HOST, &host)
                .header(hyper::header::COOKIE, &*cookie)
                .body(Empty::<Bytes>::new())
                .expect("a valid request");
            let sent = tokio::time::Instant::now();
            let exchange = async {
                let response = sender.send_request(request).await?;
                let status = response.status();
                let body = response.into_body().collect().await?.to_bytes();
                Ok::<_, hyper::Error>((status, body.len()))
            };
            match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
                Ok(Ok((status, len))) if status == hyper::StatusCode::OK => {
                    let done = tokio::time::Instant::now();
                    tally.ok_total += 1;
                    tally.body_bytes += len as u64;
                    if done >= window_start && done < window_end {
                        let micros = done.duration_since(sent).as_micros();
                        tally
                            .latencies
                            .push(u32::try_from(micros).unwrap_or(u32::MAX));
                    }
                }
                Ok(Ok(_)) => tally.non_200 += 1,
                Ok(Err(_)) => {
                    tally.failed += 1;
                    continue 'reconnect;
                }
                Err(_) => {
                    tally.timed_out += 1;
                    continue 'reconnect;
                }
            }
            if sender.ready().await.is_err() {
                tally.failed += 1;
                continue 'reconnect;
            }
        }
    }
    tally
}

async fn open(
    addr: SocketAddr,
) -> Result<http1::SendRequest<Empty<Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}
