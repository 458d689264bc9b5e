//! End-to-end benchmark of the real `wangju serve` binary on loopback.
//!
//! Run with `cargo bench --bench serve` (see docs/benchmarks.md). In one run it measures:
//!
//! 1. requests/s and p99 latency of the public overview `GET /`, of a public sub-project page
//!    `GET /projects/micro-video` and of the bare handler `GET /livez`, each with 64 concurrent
//!    keep-alive connections, and their ratios to the bare handler;
//! 2. the time from spawning `wangju serve` on an empty data folder to the first 200 from
//!    `GET /healthz`;
//! 3. the server's resident memory (VmRSS) when idle after start-up, and after the load.
//!
//! Without `--bench` on the command line (as under `cargo test --benches`) it runs a short smoke
//! pass instead, so a test run does not spend half a minute here.
//!
//! Environment: `WANGJU_BENCH_SECONDS` (measured seconds per load phase, default 5),
//! `WANGJU_BENCH_CONNECTIONS` (default 64), `WANGJU_BENCH_BIN` (server binary; default the
//! `wangju` binary Cargo built for this bench), `WANGJU_BENCH_NO_PIN=1` (do not pin with taskset).

mod common;

use common::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

/// Target: the overview serves at least this share of the bare handler's requests/s.
const TARGET_RATIO: f64 = 0.30;
/// Target (issue 12): a public sub-project page, served from the node's parsed campaign,
/// at least half the bare handler's requests/s.
const TARGET_PROJECT_RATIO: f64 = 0.50;
/// Target: first 200 after spawning on an empty data folder.
const TARGET_START_MS: f64 = 300.0;
/// Target: resident memory when idle after start-up.
const TARGET_IDLE_RSS_MB: f64 = 40.0;
/// Warm-up before each measured window.
const WARMUP: Duration = Duration::from_secs(1);
/// Hard cap on requests per load phase (besides the time bound).
const MAX_REQUESTS_PER_PHASE: u64 = 20_000_000;
/// One request may take at most this long before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The server must answer `/healthz` within this long or the bench gives up.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The pinned "today" (a day inside the built-in 2020 campaign).
const TODAY: &str = "2020-07-01";

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
    let connections = env_number("WANGJU_BENCH_CONNECTIONS", 64.0).clamp(1.0, 4096.0) as usize;
    let measure = Duration::from_secs_f64(seconds.clamp(0.1, 3600.0));
    let bin = std::env::var_os("WANGJU_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wangju")));

    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned =
        cpus >= 2 && std::env::var_os("WANGJU_BENCH_NO_PIN").is_none() && pin_self_to_cpu1();

    println!(
        "wangju serve benchmark{}",
        if full {
            ""
        } else {
            " (smoke run: pass --bench for real figures)"
        }
    );
    println!("  binary:      {}", bin.display());
    println!("  machine:     {cpus} CPU(s) visible");
    println!(
        "  placement:   {}",
        if pinned {
            "server pinned to CPU 0, load generator to CPU 1 (taskset)"
        } else {
            "not pinned: server and load generator share the CPUs"
        }
    );
    println!(
        "  load:        {connections} keep-alive HTTP/1.1 connections on 127.0.0.1, {:.1} s warm-up + {:.1} s measured per phase",
        warmup.as_secs_f64(),
        measure.as_secs_f64()
    );
    println!();

    let workdir = tempfile::tempdir().expect("create a temporary folder");
    let data_dir = workdir.path().join("data");
    std::fs::create_dir(&data_dir).expect("create the empty data folder");
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    // 2. Start-up on an empty data folder.
    let started = Instant::now();
    let mut server = Server::spawn(&bin, workdir.path(), &data_dir, addr, pinned);
    let first_ok = match server.wait_healthy(addr, started) {
        Ok(elapsed) => elapsed,
        Err(e) => {
            eprintln!("the server did not come up: {e}");
            eprintln!("{}", server.stderr_tail());
            return ExitCode::FAILURE;
        }
    };
    let start_ms = first_ok.as_secs_f64() * 1000.0;

    // 3. Idle memory, after the start-up work has settled.
    std::thread::sleep(Duration::from_secs(1));
    let idle = server.memory();
    // Read after the pause, so the stdout reader has surely seen the start-up lines.
    let listening_ms = server.listening_after().map(|d| d.as_secs_f64() * 1000.0);
    let first_start = server.created_admin();

    // The overview must answer 200 with a page before we load it.
    let page = match get_once(addr, "/") {
        Ok((200, len)) => len,
        Ok((status, _)) => {
            eprintln!("GET / answered {status}, expected 200");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("GET / failed: {e}");
            return ExitCode::FAILURE;
        }
    };

    // 1. Throughput: livez, overview, livez again.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if pinned { 1 } else { cpus })
        .enable_all()
        .build()
        .expect("build the load generator's runtime");
    let phase = |path: &'static str| {
        let before = CpuSample::take(&server);
        let mut result = runtime.block_on(load(addr, path, connections, warmup, measure));
        result.cpu = CpuSample::take(&server).and_then(|after| Some(after.since(&before?)));
        println!("  {}", result.line());
        result
    };
    println!("load phases:");
    let livez_a = phase("/livez");
    let overview = phase("/");
    let project = phase("/projects/micro-video");
    let livez_b = phase("/livez");
    let after_load = server.memory();
    let alive = server.is_running();
    drop(server);
    drop(runtime);

    let livez = if livez_b.rps() > livez_a.rps() {
        &livez_b
    } else {
        &livez_a
    };
    let ratio = overview.rps() / livez.rps().max(f64::MIN_POSITIVE);
    let project_ratio = project.rps() / livez.rps().max(f64::MIN_POSITIVE);
    let errors = livez_a.errors() + overview.errors() + project.errors() + livez_b.errors();
    let busiest_other = [&livez_a, &overview, &project, &livez_b]
        .iter()
        .filter_map(|r| r.cpu.as_ref().map(|c| c.other))
        .fold(0.0_f64, f64::max);

    println!();
    println!(
        "results ({connections} connections, {:.1} s measured per phase):",
        measure.as_secs_f64()
    );
    println!(
        "  bare /livez:   {:>9.0} req/s, p99 {:>7.2} ms  (better of two runs: {:.0} / {:.0} req/s)",
        livez.rps(),
        livez.p99_ms(),
        livez_a.rps(),
        livez_b.rps()
    );
    println!(
        "  overview /:    {:>9.0} req/s, p99 {:>7.2} ms  (page {} bytes)",
        overview.rps(),
        overview.p99_ms(),
        page
    );
    println!(
        "  ratio:         {ratio:.2} (target >= {TARGET_RATIO:.2}): {}",
        verdict(ratio >= TARGET_RATIO)
    );
    println!(
        "  /projects/micro-video: {:>9.0} req/s, p99 {:>7.2} ms; ratio to bare {project_ratio:.2} (target >= {TARGET_PROJECT_RATIO:.2}): {}",
        project.rps(),
        project.p99_ms(),
        verdict(project_ratio >= TARGET_PROJECT_RATIO)
    );
    println!(
        "  first response after start: {start_ms:.0} ms (target < {TARGET_START_MS:.0} ms): {}{}",
        verdict(start_ms < TARGET_START_MS),
        listening_ms.map_or(String::new(), |ms| format!(
            "  (listening line after {ms:.0} ms)"
        ))
    );
    println!(
        "                 {}",
        if first_start {
            "empty data folder: migrations, built-in campaign and the first admin's argon2id hash all ran"
        } else {
            "warning: the server printed no first admin, so this may not have been a first start"
        }
    );
    match idle {
        Some(m) => println!(
            "  idle RSS:      {:.1} MB (target < {TARGET_IDLE_RSS_MB:.0} MB): {}",
            m.rss_mb,
            verdict(m.rss_mb < TARGET_IDLE_RSS_MB)
        ),
        None => println!("  idle RSS:      unavailable (no /proc/PID/status)"),
    }
    if let Some(m) = after_load {
        println!(
            "  RSS after load: {:.1} MB (peak {:.1} MB), for information",
            m.rss_mb, m.peak_mb
        );
    }
    println!(
        "  responses:     {} ok, {errors} errors (non-200: {}, failed: {}, timed out: {})",
        livez_a.ok_total + overview.ok_total + livez_b.ok_total,
        livez_a.non_200 + overview.non_200 + livez_b.non_200,
        livez_a.failed + overview.failed + livez_b.failed,
        livez_a.timed_out + overview.timed_out + livez_b.timed_out,
    );
    if busiest_other > 0.15 {
        println!(
            "  warning: other processes used up to {:.0}% of a CPU during a phase; the figures are disturbed",
            busiest_other * 100.0
        );
    }
    if !full {
        println!(
            "  (smoke run: these figures are not meaningful; run `cargo bench --bench serve`)"
        );
    }
    if errors > 0 || !alive {
        eprintln!(
            "benchmark invalid: {errors} request errors{}",
            if alive {
                ""
            } else {
                ", and the server exited during the run"
            }
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// One `GET` over a fresh connection, `Connection: close`: (status, body length).
fn get_once(addr: SocketAddr, path: &str) -> std::io::Result<(u16, usize)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_nodelay(true)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP/1.1 response"))?;
    let body = text.find("\r\n\r\n").map_or(0, |i| response.len() - i - 4);
    Ok((status, body))
}

struct Memory {
    rss_mb: f64,
    peak_mb: f64,
}

/// The running server; killed when dropped.
struct Server {
    child: Child,
    listening: Arc<Mutex<Option<Instant>>>,
    /// Whether the server printed a first admin's one-time password (so this was a first start).
    created_admin: Arc<AtomicBool>,
    started: Instant,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn spawn(
        bin: &Path,
        workdir: &Path,
        data_dir: &Path,
        addr: SocketAddr,
        pinned: bool,
    ) -> Server {
        let mut command = wangju_command(bin, pinned);
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(addr.to_string())
            .env("WANGJU_TODAY", TODAY)
            .env("WANGJU_LOG", "warn")
            .current_dir(workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command.spawn().expect("spawn `wangju serve`");

        let listening = Arc::new(Mutex::new(None));
        let created_admin = Arc::new(AtomicBool::new(false));
        if let Some(stdout) = child.stdout.take() {
            let listening = Arc::clone(&listening);
            let created_admin = Arc::clone(&created_admin);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    // The one-time admin password is printed here; we do not echo it.
                    if line.contains("一次性密码") {
                        created_admin.store(true, Ordering::Relaxed);
                    }
                    if line.contains("网聚已启动")
                        && let Ok(mut slot) = listening.lock()
                    {
                        slot.get_or_insert_with(Instant::now);
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(pipe) = child.stderr.take() {
            let stderr = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut lines) = stderr.lock() {
                        lines.push(line);
                        if lines.len() > 200 {
                            lines.remove(0);
                        }
                    }
                }
            });
        }
        Server {
            child,
            listening,
            created_admin,
            started,
            stderr,
        }
    }

    /// Polls `GET /healthz` until it answers 200; returns the time since `since`.
    fn wait_healthy(&mut self, addr: SocketAddr, since: Instant) -> Result<Duration, String> {
        loop {
            if let Ok((200, _)) = get_once(addr, "/healthz") {
                return Ok(since.elapsed());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("`wangju serve` exited with {status}"));
            }
            if since.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "no 200 from /healthz within {} s",
                    START_TIMEOUT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn created_admin(&self) -> bool {
        self.created_admin.load(Ordering::Relaxed)
    }

    fn listening_after(&self) -> Option<Duration> {
        let at = (*self.listening.lock().ok()?)?;
        Some(at.duration_since(self.started))
    }

    fn stderr_tail(&self) -> String {
        self.stderr
            .lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default()
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// VmRSS and VmHWM from /proc/PID/status.
    fn memory(&self) -> Option<Memory> {
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
        Some(Memory {
            rss_mb: kb("VmRSS:")? / 1024.0,
            peak_mb: kb("VmHWM:")? / 1024.0,
        })
    }

    /// User plus system CPU seconds the server has used.
    fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(self.child.id())
    }
}

/// CPU time counters at one instant.
struct CpuSample {
    at: Instant,
    server: f64,
    this: f64,
    machine: f64,
}

/// CPU use over a phase, in CPUs (1.0 = one CPU busy all the time).
struct CpuUse {
    server: f64,
    load_generator: f64,
    /// Everything else on the machine; high values mean the run was disturbed.
    other: f64,
}

impl CpuSample {
    fn take(server: &Server) -> Option<CpuSample> {
        Some(CpuSample {
            at: Instant::now(),
            server: server.cpu_seconds()?,
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

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one load phase saw.
#[derive(Default)]
struct PhaseResult {
    path: &'static str,
    window: Duration,
    /// Latencies (µs) of the 200s completed inside the measured window.
    latencies: Vec<u32>,
    /// 200s over the whole phase, warm-up included.
    ok_total: u64,
    /// Body bytes of those 200s.
    body_bytes: u64,
    non_200: u64,
    failed: u64,
    timed_out: u64,
    /// CPU use during the phase.
    cpu: Option<CpuUse>,
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

    fn p99_ms(&self) -> f64 {
        self.percentile_ms(0.99)
    }

    fn line(&self) -> String {
        let body = self.body_bytes.checked_div(self.ok_total).unwrap_or(0);
        let mut line = format!(
            "GET {:<7} {:>9.0} req/s  p50 {:>5.2} ms  p99 {:>5.2} ms  max {:>6.2} ms  body {body} B  errors {}",
            self.path,
            self.rps(),
            self.percentile_ms(0.50),
            self.p99_ms(),
            self.percentile_ms(1.0),
            self.errors(),
        );
        if let Some(c) = &self.cpu {
            line.push_str(&format!(
                "\n              CPU: server {:.0}%, load generator {:.0}%, other processes {:.0}%",
                c.server * 100.0,
                c.load_generator * 100.0,
                c.other * 100.0
            ));
        }
        line
    }
}

/// Per-connection tally, merged into a `PhaseResult`.
#[derive(Default)]
struct Tally {
    latencies: Vec<u32>,
    ok_total: u64,
    /// Body bytes of those 200s.
    body_bytes: u64,
    non_200: u64,
    failed: u64,
    timed_out: u64,
}

/// Drives `path` with `connections` keep-alive connections: `warmup`, then `measure`.
async fn load(
    addr: SocketAddr,
    path: &'static str,
    connections: usize,
    warmup: Duration,
    measure: Duration,
) -> PhaseResult {
    let begin = tokio::time::Instant::now();
    let window_start = begin + warmup;
    let window_end = window_start + measure;
    let issued = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let issued = Arc::clone(&issued);
            tokio::spawn(connection(addr, path, window_start, window_end, issued))
        })
        .collect();
    let mut result = PhaseResult {
        path,
        window: measure,
        ..PhaseResult::default()
    };
    for task in tasks {
        match task.await {
            Ok(t) => {
                result.latencies.extend(t.latencies);
                result.ok_total += t.ok_total;
                result.body_bytes += t.body_bytes;
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

/// One client connection: requests back to back until `window_end`, reconnecting after errors.
async fn connection(
    addr: SocketAddr,
    path: &'static str,
    window_start: tokio::time::Instant,
    window_end: tokio::time::Instant,
    issued: Arc<AtomicU64>,
) -> Tally {
    let mut tally = Tally::default();
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
            if tokio::time::Instant::now() >= window_end
                || issued.fetch_add(1, Ordering::Relaxed) >= MAX_REQUESTS_PER_PHASE
            {
                break 'reconnect;
            }
            let request = hyper::Request::get(path)
                .header(hyper::header::HOST, &host)
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

/// An HTTP/1.1 keep-alive connection whose driver runs on the runtime.
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
