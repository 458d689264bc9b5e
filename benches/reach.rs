//! Measured reach under load (issue 15), against the real `wangju serve` on SQLite
//! (synchronous=FULL, group commit on), behind a trusted proxy so each request can be a new
//! visitor (`X-Forwarded-For`). In one run:
//!
//! 1. the bare handler `GET /livez`, and a showcase work page opened through a share link
//!    (`/showcase/works/{id}?via=CODE`: every request is judged by the counter — link lookup,
//!    the day's keyed hash, self-visit check — before the page is rendered), each with 64
//!    keep-alive connections; their ratio (target ≥ 0.50);
//! 2. counted visits per second: `GET /s/{code}`, every request a new visitor, each answered
//!    by a 302 that carries the visitor's child link (target ≥ 20,000/s);
//! 3. the same page while visits are being counted (half the connections each), ratio again;
//! 4. a clean stop (SIGTERM): every visit acknowledged by a 302 must be in the database;
//! 5. a second server killed with SIGKILL in the middle of counting: how many acknowledged
//!    visits were lost (measured, not a target).
//!
//! `cargo bench --bench reach`. Environment: `WANGJU_BENCH_SECONDS` (default 5),
//! `WANGJU_BENCH_CONNECTIONS` (default 64), `WANGJU_BENCH_BIN` (a wangju binary to test).
//! Without `--bench` (as `cargo test --benches` runs it) it does a short smoke run.

mod common;

use common::*;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

const TARGET_PAGE_RATIO: f64 = 0.50;
const TARGET_VISITS: f64 = 20_000.0;
const TODAY: &str = "2020-07-01";
const PASSWORD: &str = "Bench-Reach-2020!";
const UA: &str = "Mozilla/5.0 (Linux; Android 10) Mobile Safari/537.36 MicroMessenger/7.0.19";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let full = std::env::args().any(|a| a == "--bench");
    let seconds = if full {
        env_number("WANGJU_BENCH_SECONDS", 5.0)
    } else {
        0.3
    };
    let connections = env_number("WANGJU_BENCH_CONNECTIONS", 64.0).clamp(2.0, 1024.0) as usize;
    let bin = std::env::var_os("WANGJU_BENCH_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_BIN_EXE_wangju")));
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = full && cpus >= 2 && pin_self_to_cpu1();
    let measure = Duration::from_secs_f64(seconds.clamp(0.1, 3600.0));
    let warmup = if full {
        Duration::from_secs(1)
    } else {
        Duration::from_millis(100)
    };
    println!(
        "wangju reach benchmark{}",
        if full {
            ""
        } else {
            " (smoke run: pass --bench for real figures)"
        }
    );
    println!("  binary:      {}", bin.display());
    println!(
        "  machine:     {cpus} CPU(s), load average {}",
        load_average()
    );
    println!(
        "  placement:   {}",
        if pinned {
            "server on CPU 0, load generator on CPU 1"
        } else {
            "not pinned"
        }
    );
    println!(
        "  load:        {connections} keep-alive connections, {:.1} s warm-up + {:.1} s per phase, SQLite synchronous=FULL, group commit",
        warmup.as_secs_f64(),
        measure.as_secs_f64()
    );
    println!();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if pinned { 1 } else { cpus })
        .enable_all()
        .build()
        .expect("runtime");
    match runtime.block_on(run(&bin, connections, warmup, measure, pinned)) {
        Ok(ok) if ok => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            println!("  FAILED TO RUN: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Kills the server however the run ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// SIGTERM, then waits for the process to end (the clean stop).
    fn stop(&mut self) -> Result<(), String> {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("kill -TERM failed".into());
        }
        self.0.wait().map_err(|e| e.to_string())?;
        Ok(())
    }
}

fn start(bin: &Path, dir: &Path, port: u16, pinned: bool) -> Result<(Server, String), String> {
    let mut command = wangju_command(bin, pinned);
    let mut child = command
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env("WANGJU_TODAY", TODAY)
        .env("WANGJU_LOG", "error")
        .env("WANGJU_TRUSTED_PROXIES", "127.0.0.1")
        .env("WANGJU_SHUTDOWN_GRACE_SECONDS", "2")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn wangju serve: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server(child);
    let mut password = String::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(p) = line.trim().strip_prefix("一次性密码：") {
            password = p.trim().to_string();
        }
        if line.contains("网聚已启动") {
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    if password.is_empty() {
        return Err("serve printed no one-time password".into());
    }
    Ok((server, password))
}

fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())
}

async fn csrf(client: &reqwest::Client, base: &str) -> Result<String, String> {
    let v: serde_json::Value = client
        .get(format!("{base}/api/v1/csrf"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    Ok(v["csrf_token"].as_str().unwrap_or_default().to_string())
}

async fn db(dir: &Path) -> Result<wangju::db::Db, String> {
    wangju::db::Db::connect(&format!("sqlite://{}", dir.join("wangju.db").display()), 2)
        .await
        .map_err(|e| e.to_string())
}

/// Signs in the admin, puts one accepted work on the showcase (rows written straight into the
/// database: the bench measures visits, not uploads), shares it, and returns the work's page,
/// the share code, and the child code the bench's own visitor got.
async fn prepare(
    base: &str,
    dir: &Path,
    one_time: &str,
) -> Result<(String, String, String), String> {
    let admin = client()?;
    let token = csrf(&admin, base).await?;
    let r = admin
        .post(format!("{base}/login"))
        .form(&[
            ("login", "admin"),
            ("password", one_time),
            ("_csrf", &token),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != reqwest::StatusCode::SEE_OTHER {
        return Err(format!("login answered {}", r.status()));
    }
    let token = csrf(&admin, base).await?;
    admin
        .post(format!("{base}/account/password"))
        .form(&[
            ("current", one_time),
            ("new", PASSWORD),
            ("confirm", PASSWORD),
            ("_csrf", &token),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let token = csrf(&admin, base).await?;
    let db = db(dir).await?;
    for sql in [
        "INSERT INTO uploads (id, owner_id, campaign_id, sub_project, file_name, size_bytes, received, state, stored_key, clean_key, media_type, created_at, updated_at)
         SELECT 'bench-upload', 1, id, 'micro-video', 'a.mp4', 1, 1, 'checked', 'bench/a', 'bench/a', 'video/mp4', 0, 0 FROM campaigns WHERE is_current = 1",
        "INSERT INTO works (campaign_id, sub_project, org_id, owner_id, filed_by, title, authors, contact_phone, description, status, upload_id,
            originality_version, originality_at, portrait_version, portrait_at, subtitles_declared, submitted_at, created_at, updated_at, decided_at)
         SELECT c.id, 'micro-video', (SELECT id FROM orgs WHERE name = '河西区总工会'), 1, 1, '劳动者之歌', '[\"王小明\",\"李红\"]', '13700000000',
            '河西区职工用镜头记录身边的劳动者：清晨的环卫工、工地上的焊工、夜班的护士。', 'accepted', 'bench-upload', 'v1', 0, 'v1', 0, 1, 0, 0, 0, 0
         FROM campaigns c WHERE c.is_current = 1",
        "INSERT INTO showcase_items (kind, item_id, campaign_id, shown_by, shown_at)
         SELECT 'work', w.id, w.campaign_id, 1, 0 FROM works w WHERE w.upload_id = 'bench-upload'",
    ] {
        wangju::db::testing::execute(&db, sql)
            .await
            .map_err(|e| format!("{e}: {sql}"))?;
    }
    let id: i64 =
        wangju::db::testing::scalar(&db, "SELECT id FROM works WHERE upload_id = 'bench-upload'")
            .await
            .map_err(|e| e.to_string())?;
    db.close().await;
    let page = format!("/showcase/works/{id}");
    let r = admin
        .post(format!("{base}/share"))
        .form(&[("target", page.as_str()), ("_csrf", &token)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let to = location(&r);
    let code = to.rsplit("#l-").next().unwrap_or_default().to_string();
    if code.is_empty() {
        return Err(format!("share answered {} to {to}", r.status()));
    }
    let phone = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let r = phone
        .get(format!("{base}/s/{code}"))
        .header("user-agent", UA)
        .header("x-forwarded-for", "10.255.255.1")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let child = location(&r)
        .split("via=")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    if child.is_empty() {
        return Err(format!("the first visit answered {}", r.status()));
    }
    Ok((page, code, child))
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// What one phase sends.
#[derive(Clone)]
enum Kind {
    /// `GET path`, no visitor headers.
    Bare(String),
    /// `GET path` as the bench's own visitor (judged, not counted).
    Page(String),
    /// `GET /s/{code}`, a new visitor each time; a 302 with `via=` is a counted visit.
    Count(String),
}

#[derive(Default)]
struct Tally {
    ok: u64,
    in_window: u64,
    errors: u64,
    latencies: Vec<u32>,
}

/// A visitor never seen before: the counter spread over an address and the user agent.
static VISITOR: AtomicU64 = AtomicU64::new(1);

async fn connection(
    addr: SocketAddr,
    kind: Kind,
    window_start: tokio::time::Instant,
    window_end: tokio::time::Instant,
    acknowledged: Arc<AtomicU64>,
) -> Tally {
    let mut tally = Tally::default();
    let host = addr.to_string();
    'reconnect: while tokio::time::Instant::now() < window_end {
        let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
            tally.errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) = http1::handshake(TokioIo::new(stream)).await else {
            tally.errors += 1;
            continue;
        };
        tokio::spawn(conn);
        while tokio::time::Instant::now() < window_end {
            let mut request = hyper::Request::builder().header(hyper::header::HOST, &host);
            let expect_redirect = match &kind {
                Kind::Bare(path) => {
                    request = request.uri(path.as_str());
                    false
                }
                Kind::Page(path) => {
                    request = request
                        .uri(path.as_str())
                        .header("user-agent", UA)
                        .header("x-forwarded-for", "10.255.255.1");
                    false
                }
                Kind::Count(code) => {
                    let n = VISITOR.fetch_add(1, Ordering::Relaxed);
                    request = request
                        .uri(format!("/s/{code}"))
                        .header("user-agent", format!("{UA} v{}", n >> 24))
                        .header(
                            "x-forwarded-for",
                            format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255),
                        );
                    true
                }
            };
            let Ok(request) = request.body(Empty::<Bytes>::new()) else {
                tally.errors += 1;
                continue;
            };
            let sent = tokio::time::Instant::now();
            let exchange = async {
                let response = sender.send_request(request).await?;
                let status = response.status();
                let counted = response
                    .headers()
                    .get(hyper::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|l| l.contains("via="));
                response.into_body().collect().await?;
                Ok::<_, hyper::Error>((status, counted))
            };
            match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
                Ok(Ok((status, counted))) => {
                    let ok = if expect_redirect {
                        status == hyper::StatusCode::FOUND && counted
                    } else {
                        status == hyper::StatusCode::OK
                    };
                    if !ok {
                        tally.errors += 1;
                        continue;
                    }
                    if expect_redirect {
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                    }
                    tally.ok += 1;
                    let done = tokio::time::Instant::now();
                    if done >= window_start && done < window_end {
                        tally.in_window += 1;
                        let micros = done.duration_since(sent).as_micros();
                        tally
                            .latencies
                            .push(u32::try_from(micros).unwrap_or(u32::MAX));
                    }
                }
                _ => {
                    tally.errors += 1;
                    continue 'reconnect;
                }
            }
        }
    }
    tally
}

struct Phase {
    per_second: f64,
    p99_ms: f64,
    errors: u64,
}

/// Runs `kinds` (one entry per connection) for warm-up + window; one result per distinct kind
/// label, in the order given by `labels`.
async fn phase(
    addr: SocketAddr,
    kinds: Vec<(usize, Kind)>,
    warmup: Duration,
    measure: Duration,
    acknowledged: &Arc<AtomicU64>,
) -> Vec<Phase> {
    let begin = tokio::time::Instant::now();
    let (start, end) = (begin + warmup, begin + warmup + measure);
    let mut groups = Vec::new();
    for (n, kind) in kinds {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                tokio::spawn(connection(
                    addr,
                    kind.clone(),
                    start,
                    end,
                    Arc::clone(acknowledged),
                ))
            })
            .collect();
        groups.push(tasks);
    }
    let mut out = Vec::new();
    for tasks in groups {
        let mut all = Tally::default();
        for t in tasks {
            if let Ok(t) = t.await {
                all.in_window += t.in_window;
                all.ok += t.ok;
                all.errors += t.errors;
                all.latencies.extend(t.latencies);
            } else {
                all.errors += 1;
            }
        }
        all.latencies.sort_unstable();
        let p99 = all
            .latencies
            .get((all.latencies.len() as f64 * 0.99) as usize)
            .copied()
            .unwrap_or(0);
        out.push(Phase {
            per_second: all.in_window as f64 / measure.as_secs_f64(),
            p99_ms: f64::from(p99) / 1000.0,
            errors: all.errors,
        });
    }
    out
}

async fn stored_visits(dir: &Path) -> Result<i64, String> {
    let db = db(dir).await?;
    let n = wangju::db::testing::count(&db, "reach_visits")
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
    Ok(n)
}

async fn run(
    bin: &Path,
    connections: usize,
    warmup: Duration,
    measure: Duration,
    pinned: bool,
) -> Result<bool, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let (mut server, one_time) = start(bin, dir.path(), port, pinned)?;
    let base = format!("http://{addr}");
    let (page, code, child) = prepare(&base, dir.path(), &one_time).await?;
    let page_via = format!("{page}?via={child}");
    // The first visit (the bench's own visitor, in `prepare`) is acknowledged too.
    let acknowledged = Arc::new(AtomicU64::new(1));
    let half = connections / 2;
    let one = |k: Kind| vec![(connections, k)];

    let livez_a = phase(
        addr,
        one(Kind::Bare("/livez".into())),
        warmup,
        measure,
        &acknowledged,
    )
    .await;
    let page_solo = phase(
        addr,
        one(Kind::Page(page_via.clone())),
        warmup,
        measure,
        &acknowledged,
    )
    .await;
    let counting = phase(
        addr,
        one(Kind::Count(code.clone())),
        warmup,
        measure,
        &acknowledged,
    )
    .await;
    let mixed = phase(
        addr,
        vec![
            (half, Kind::Page(page_via.clone())),
            (connections - half, Kind::Count(code.clone())),
        ],
        warmup,
        measure,
        &acknowledged,
    )
    .await;
    let livez_b = phase(
        addr,
        one(Kind::Bare("/livez".into())),
        warmup,
        measure,
        &acknowledged,
    )
    .await;
    let livez = livez_a[0].per_second.max(livez_b[0].per_second);
    let ratio = page_solo[0].per_second / livez.max(f64::MIN_POSITIVE);
    let mixed_ratio =
        mixed[0].per_second / (livez * half as f64 / connections as f64).max(f64::MIN_POSITIVE);
    let errors: u64 = [&livez_a, &page_solo, &counting, &mixed, &livez_b]
        .iter()
        .flat_map(|p| p.iter())
        .map(|p| p.errors)
        .sum();
    let line = |label: &str, p: &Phase, unit: &str| {
        println!(
            "  {label:<46} {:>9.0} {unit}/s   p99 {:>7.2} ms   errors {}",
            p.per_second, p.p99_ms, p.errors
        );
    };
    line(
        "bare GET /livez (better of two)",
        if livez_a[0].per_second >= livez_b[0].per_second {
            &livez_a[0]
        } else {
            &livez_b[0]
        },
        "req",
    );
    line("showcase page through a share link", &page_solo[0], "req");
    line(
        "counted visits (GET /s/{code}, new visitors)",
        &counting[0],
        "visits",
    );
    line(
        "  mixed: the page, on half the connections",
        &mixed[0],
        "req",
    );
    line(
        "  mixed: counted visits, on the other half",
        &mixed[1],
        "visits",
    );

    server.stop()?;
    let stored = stored_visits(dir.path()).await?;
    let acked = acknowledged.load(Ordering::Relaxed);
    println!();
    println!(
        "  page / bare ratio:               {ratio:.2}  (target ≥ {TARGET_PAGE_RATIO:.2})  {}",
        verdict(ratio >= TARGET_PAGE_RATIO)
    );
    println!(
        "  page / bare ratio while counting: {mixed_ratio:.2}  (per connection, half the connections each)"
    );
    println!(
        "  counted visits/s:                {:.0}  (target ≥ {TARGET_VISITS:.0})  {}",
        counting[0].per_second,
        verdict(counting[0].per_second >= TARGET_VISITS)
    );
    println!(
        "  clean stop (SIGTERM): {stored} stored of {acked} acknowledged by a 302  {}",
        verdict(stored as u64 == acked)
    );

    // kill -9 in the middle of counting.
    let dir9 = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port9 = free_port();
    let addr9 = SocketAddr::from(([127, 0, 0, 1], port9));
    let (server9, one_time9) = start(bin, dir9.path(), port9, pinned)?;
    let base9 = format!("http://{addr9}");
    let (_, code9, _) = prepare(&base9, dir9.path(), &one_time9).await?;
    let acked9 = Arc::new(AtomicU64::new(1));
    let load = {
        let acked9 = Arc::clone(&acked9);
        tokio::spawn(async move {
            phase(
                addr9,
                vec![(connections, Kind::Count(code9))],
                Duration::ZERO,
                measure * 2,
                &acked9,
            )
            .await
        })
    };
    tokio::time::sleep(measure).await;
    let killed_at = acked9.load(Ordering::Relaxed);
    drop(server9); // SIGKILL
    let _ = load.await;
    let acked9 = acked9.load(Ordering::Relaxed).max(killed_at);
    let stored9 = stored_visits(dir9.path()).await?;
    println!(
        "  kill -9 while counting: {stored9} stored of {acked9} acknowledged; lost {} ({:.2}%)",
        acked9.saturating_sub(stored9 as u64),
        acked9.saturating_sub(stored9 as u64) as f64 * 100.0 / acked9.max(1) as f64
    );
    println!("  errors (any phase): {errors}");
    Ok(stored as u64 == acked && errors == 0)
}
