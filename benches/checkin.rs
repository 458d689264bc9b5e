//! Check-in under a crowd: many phones posting the check-in form at once, against `wangju
//! serve` on SQLite (synchronous=FULL) with group commit on, and — in the same run, as the
//! baseline — with `checkin_group_commit = false` (one transaction per check-in, the naive way).
//!
//! Prints throughput, p50/p99 latency and errors for both, the ratio, and checks that every
//! acknowledged check-in is in the database afterwards.
//!
//! `cargo bench --bench checkin` (release). Environment: `WANGJU_BENCH_SECONDS` (default 5),
//! `WANGJU_BENCH_CONNECTIONS` (default 64), `WANGJU_BENCH_BIN` (a wangju binary to test).
//! Without `--bench` (as `cargo test` runs it) it does a short smoke run.

mod common;

use common::*;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const TARGET_RATIO: f64 = 2.5;
const TARGET_P99_MS: f64 = 50.0;
const TODAY: &str = "2020-07-01";
const PASSWORD: &str = "Bench-Checkin-2020!";

fn main() -> ExitCode {
    let full = std::env::args().any(|a| a == "--bench");
    let seconds = if full {
        env_number("WANGJU_BENCH_SECONDS", 5.0)
    } else {
        0.5
    };
    let connections = env_number("WANGJU_BENCH_CONNECTIONS", 64.0).clamp(1.0, 1024.0) as usize;
    let bin = std::env::var_os("WANGJU_BENCH_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_BIN_EXE_wangju")));
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = full && cpus >= 2 && pin_self_to_cpu1();
    println!(
        "wangju check-in benchmark{}",
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
        "  load:        {connections} phones posting the check-in form, {seconds:.1} s per variant, SQLite synchronous=FULL"
    );
    println!();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if pinned { 1 } else { cpus })
        .enable_all()
        .build()
        .expect("runtime");
    let measure = Duration::from_secs_f64(seconds.clamp(0.1, 3600.0));
    let mut results = Vec::new();
    for (label, group_commit) in [
        ("naive: one transaction per check-in", false),
        ("group commit", true),
    ] {
        match runtime.block_on(variant(&bin, group_commit, connections, measure, pinned)) {
            Ok(r) => {
                println!(
                    "  {label:<38} {:>8.0} check-ins/s   p50 {:>6.2} ms   p99 {:>6.2} ms   errors {}   stored {}/{} acknowledged",
                    r.per_second, r.p50_ms, r.p99_ms, r.errors, r.stored, r.acknowledged
                );
                results.push(r);
            }
            Err(e) => {
                println!("  {label}: FAILED TO RUN: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let (naive, grouped) = (&results[0], &results[1]);
    let ratio = grouped.per_second / naive.per_second.max(f64::EPSILON);
    let durable = results.iter().all(|r| r.stored == r.acknowledged);
    let no_errors = results.iter().all(|r| r.errors == 0);
    println!();
    println!(
        "  ratio group/naive:    {ratio:.2}×  (target ≥ {TARGET_RATIO}×)  {}",
        verdict(ratio >= TARGET_RATIO)
    );
    println!(
        "  group commit p99:     {:.2} ms  (target < {TARGET_P99_MS} ms)  {}",
        grouped.p99_ms,
        verdict(grouped.p99_ms < TARGET_P99_MS)
    );
    println!("  every acknowledged check-in stored: {}", verdict(durable));
    println!(
        "  no errors (\"database is locked\" or any other): {}",
        verdict(no_errors)
    );
    if durable && no_errors {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

struct Outcome {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    acknowledged: u64,
    stored: u64,
}

/// Kills the server however the run ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(
    bin: &Path,
    dir: &Path,
    port: u16,
    group_commit: bool,
    pinned: bool,
) -> Result<(Server, String), String> {
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
        .env("WANGJU_CHECKIN_GROUP_COMMIT", group_commit.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn wangju serve: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server(child);
    let mut password = String::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(p) = line.trim().strip_prefix("一次性密码：") {
            password = p.trim().to_string();
        }
        if line.contains("网聚已启动") {
            break;
        }
    }
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

/// Signs in the first admin (changing the one-time password), plans an activity on the pinned
/// day and returns the check-in path and the signed-in client.
async fn prepare(base: &str, one_time: &str) -> Result<(String, i64, reqwest::Client), String> {
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
    let created: serde_json::Value = admin
        .post(format!("{base}/api/v1/activities"))
        .header("x-csrf-token", &token)
        .json(&serde_json::json!({"name": "全市职工网络安全知识讲座", "starts_at": format!("{TODAY}T02:00"),
            "place": "河西区工人文化宫", "format": "知识竞赛", "categories": ["网络安全知识技能"]}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let id = created["id"]
        .as_i64()
        .ok_or_else(|| format!("no activity: {created}"))?;
    let poster = admin
        .get(format!("{base}/activities/{id}/checkin"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let start = poster.find("/c/").ok_or("no check-in path on the poster")?;
    Ok((poster[start..start + 35].to_string(), id, admin))
}

async fn variant(
    bin: &Path,
    group_commit: bool,
    connections: usize,
    measure: Duration,
    pinned: bool,
) -> Result<Outcome, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())?;
    let (_server, one_time) = start(bin, dir.path(), port, group_commit, pinned)?;
    let base = format!("http://127.0.0.1:{port}");
    let (path, activity, admin) = prepare(&base, &one_time).await?;
    let url = format!("{base}{path}");
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for phone in 0..connections {
        let (url, base, stop) = (url.clone(), base.clone(), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            let c = client()?;
            let token = csrf(&c, &base).await?;
            let mut latencies = Vec::new();
            let (mut acknowledged, mut errors) = (0u64, 0u64);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let name = format!("职工{phone}号{n}");
                let t = Instant::now();
                let r = c
                    .post(&url)
                    .form(&[
                        ("name", name.as_str()),
                        ("unit", "河西区某公司"),
                        ("consent", "yes"),
                        ("_csrf", &token),
                    ])
                    .send()
                    .await;
                let ok = match r {
                    Ok(r) if r.status().is_success() => {
                        r.text().await.is_ok_and(|b| b.contains("签到成功"))
                    }
                    _ => false,
                };
                latencies.push(t.elapsed());
                if ok {
                    acknowledged += 1;
                } else {
                    errors += 1;
                }
            }
            Ok::<_, String>((latencies, acknowledged, errors))
        }));
    }
    tokio::time::sleep(measure).await;
    stop.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let mut latencies = Vec::new();
    let (mut acknowledged, mut errors) = (0u64, 0u64);
    for t in tasks {
        let (l, a, e) = t.await.map_err(|e| e.to_string())??;
        latencies.extend(l);
        acknowledged += a;
        errors += e;
    }
    let elapsed = measure + started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let a: serde_json::Value = admin
        .get(format!("{base}/api/v1/activities/{activity}"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    Ok(Outcome {
        per_second: acknowledged as f64 / elapsed.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        errors,
        acknowledged,
        stored: a["verified"].as_u64().unwrap_or(0),
    })
}
