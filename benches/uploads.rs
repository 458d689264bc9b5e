//! Issue 4's speed and memory figures for works: the media probe, and uploads through the real
//! `wangju serve` binary on loopback.
//!
//! Run with `cargo bench --bench uploads` (see docs/benchmarks.md). In one run it measures:
//!
//! 1. the probe time (`wangju::media::probe_path`) of a ~5 MB and a ~50 MB MP4 made with ffmpeg
//!    (1280×720 H.264 + AAC, the same 60 s of the same content, only the bitrate differs, so the
//!    extra size is all media data), median of several runs, with and without the audio-level
//!    decode, and the ratio 50 MB / 5 MB;
//! 2. eight concurrent ~50 MB uploads (eight worker accounts, 2 MB chunks as the submit page
//!    sends them, `PATCH /api/v1/uploads/{id}`) to `wangju serve` (release build, SQLite, local
//!    store): the server's VmRSS sampled every 20 ms, idle baseline, peak and rise;
//! 3. the throughput of those uploads against a bare handler (this same bench program, started
//!    again as a child with `--bare-server`) that streams the same requests to files on the same
//!    disk, in the same run: the transfer (every chunk but the last) and, for wangju, the end to
//!    end figure that includes the check run on the last chunk. Each server gets five rounds of
//!    eight new uploads and is judged on its median round (one round moves ~370 MB in a few
//!    tenths of a second, so a single round is at the mercy of the disk's mood); the bare
//!    handler runs before and after wangju, and the better of its two medians is the baseline.
//!
//! Without `--bench` on the command line (as under `cargo test --benches`) it runs a short smoke
//! pass instead: small files, two uploads, three probe runs. Its figures mean nothing.
//!
//! Environment: `WANGJU_BENCH_BIN` (server binary; default the `wangju` binary Cargo built for
//! this bench), `WANGJU_BENCH_NO_PIN=1` (do not pin with taskset), `WANGJU_BENCH_CHUNK_MB`
//! (bytes per `PATCH`, 1 to 16; default 2 as the submit page).

mod common;

use common::*;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};

/// Target: probing the 50 MB file takes at most this many times as long as the 5 MB one
/// (without the audio-level pass; "independent of size" with room for timer noise).
const TARGET_PROBE_RATIO: f64 = 1.5;
/// Target: eight concurrent 50 MB uploads raise the server's RSS by less than this.
const TARGET_RSS_RISE_MB: f64 = 64.0;
/// Target: wangju's transfer throughput over the bare handler's.
const TARGET_THROUGHPUT_RATIO: f64 = 0.70;
/// Chunk size of each `PATCH` by default, as the submit page sends (static/app.js);
/// `WANGJU_BENCH_CHUNK_MB` sets another.
const DEFAULT_CHUNK_MB: usize = 2;
/// RSS sampling period.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// The pinned "today" (submissions to the micro-video call are open).
const TODAY: &str = "2020-07-01";
const PASSWORD: &str = "gongren2020";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--bare-server") {
        let dir = args.get(i + 1).map(PathBuf::from).unwrap_or_default();
        bare::serve(&dir);
        return ExitCode::SUCCESS;
    }
    let full = args.iter().any(|a| a == "--bench");
    let bin = std::env::var_os("WANGJU_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wangju")));
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pin = cpus >= 2 && std::env::var_os("WANGJU_BENCH_NO_PIN").is_none();
    let (seconds, uploads, probe_runs, rounds) = if full { (60, 8, 15, 5) } else { (6, 2, 3, 1) };

    println!(
        "wangju uploads and media probe benchmark{}",
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

    let workdir = tempfile::tempdir().expect("create a temporary folder");
    println!(
        "  disk:        {} (files, database, bare handler)",
        workdir.path().display()
    );
    let media = workdir.path().join("media");
    std::fs::create_dir(&media).expect("create the media folder");
    let started = Instant::now();
    let small = media.join("5mb.mp4");
    let big = media.join("50mb.mp4");
    if let Err(e) = make_video(&small, seconds, 540).and_then(|()| make_video(&big, seconds, 6400))
    {
        eprintln!("could not make the test videos with ffmpeg: {e}");
        return if full {
            ExitCode::FAILURE
        } else {
            println!("  (smoke run skipped: no ffmpeg)");
            ExitCode::SUCCESS
        };
    }
    println!(
        "  videos:      made with ffmpeg in {:.1} s: 1280x720 H.264 (CBR) + AAC 128 kb/s sine, {seconds} s each",
        started.elapsed().as_secs_f64()
    );
    println!();

    // The probe runs on this process's core after pinning, as the server's blocking pool would.
    let pinned = pin && pin_self_to_cpu1();
    let probe_ok = probe_section(&small, &big, probe_runs);

    let body = Bytes::from(std::fs::read(&big).expect("read the 50 MB video"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(if pinned { 1 } else { cpus })
        .enable_all()
        .build()
        .expect("build the client's runtime");
    println!();
    println!(
        "uploads: {rounds} rounds of {uploads} concurrent uploads of {:.1} MB in {} MB chunks ({} requests each), server {}",
        mb(body.len() as u64),
        chunk_bytes() / (1024 * 1024),
        body.len().div_ceil(chunk_bytes()),
        if pinned {
            "pinned to CPU 0, client to CPU 1 (taskset)"
        } else {
            "and client not pinned"
        }
    );
    let exe = std::env::current_exe().expect("this bench's own path");
    let load = Load {
        body: body.clone(),
        uploads,
        rounds,
        pinned,
    };
    let bare_a = bare_run(&runtime, &exe, workdir.path(), "bare-a", &load);
    let wangju = wangju_run(&runtime, &bin, workdir.path(), &load);
    let bare_b = bare_run(&runtime, &exe, workdir.path(), "bare-b", &load);
    let (bare_a, wangju, bare_b) = match (bare_a, wangju, bare_b) {
        (Ok(a), Ok(w), Ok(b)) => (a, w, b),
        (a, w, b) => {
            for e in [a.err(), w.err(), b.err()].into_iter().flatten() {
                eprintln!("upload run failed: {e}");
            }
            return ExitCode::FAILURE;
        }
    };
    for (name, r) in [
        ("bare handler (1st)", &bare_a),
        ("wangju serve", &wangju),
        ("bare handler (2nd)", &bare_b),
    ] {
        println!("  {name:<19} {}", r.line());
    }
    let bare = if bare_a.transfer_mbs() >= bare_b.transfer_mbs() {
        &bare_a
    } else {
        &bare_b
    };

    println!();
    println!("results:");
    let rise = wangju.peak_mb - wangju.idle_mb;
    let memory_ok = rise < TARGET_RSS_RISE_MB;
    println!(
        "  server RSS:    idle {:.1} MB, peak {:.1} MB (while receiving {:.1} MB, while checking {:.1} MB), {} samples",
        wangju.idle_mb,
        wangju.peak_mb,
        wangju.peak_transfer_mb,
        wangju.peak_check_mb,
        wangju.samples
    );
    println!(
        "  RSS rise:      {rise:.1} MB for {uploads} concurrent uploads (target < {TARGET_RSS_RISE_MB:.0} MB): {}",
        verdict(memory_ok)
    );
    if let Some(started) = wangju.started_mb {
        println!(
            "                 (idle right after start-up {started:.1} MB; then {uploads} workers registered and signed in)"
        );
    }
    println!(
        "                 (bare handler: rise {:.1} MB, for information)",
        bare.peak_mb - bare.idle_mb
    );
    let ratio = wangju.transfer_mbs() / bare.transfer_mbs().max(f64::MIN_POSITIVE);
    let throughput_ok = ratio >= TARGET_THROUGHPUT_RATIO;
    println!(
        "  transfer:      wangju {:.1} MB/s, bare {:.1} MB/s (better of two runs: {:.1} / {:.1})",
        wangju.transfer_mbs(),
        bare.transfer_mbs(),
        bare_a.transfer_mbs(),
        bare_b.transfer_mbs()
    );
    println!(
        "  ratio:         {ratio:.2} (target >= {TARGET_THROUGHPUT_RATIO:.2}, judged on the transfer: every chunk but the last): {}",
        verdict(throughput_ok)
    );
    println!(
        "  end to end:    wangju {:.1} MB/s including the check on the last chunk (join, probe, metadata-free copy, both stored); ratio {:.2}, for information",
        wangju.end_to_end_mbs(),
        wangju.end_to_end_mbs() / bare.end_to_end_mbs().max(f64::MIN_POSITIVE)
    );
    println!(
        "  machine:       load average {} after the run",
        load_average()
    );
    if !full {
        println!(
            "  (smoke run: these figures are not meaningful; run `cargo bench --bench uploads`)"
        );
    } else if !(probe_ok && memory_ok && throughput_ok) {
        println!("  at least one target missed (FAIL above)");
    }
    // As in benches/serve.rs: a missed target prints FAIL; only an invalid run (an upload
    // refused, a server that did not come up) exits non-zero.
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------------------------------------
// 1. The probe

/// Makes a 1280×720 H.264 + AAC MP4 of `seconds` at a constant video bitrate (x264 pads with
/// filler data to hold it), so the size is set by the bitrate.
fn make_video(path: &Path, seconds: u32, video_kbps: u32) -> Result<(), String> {
    let rate = format!("{video_kbps}k");
    let buffer = format!("{}k", video_kbps * 2);
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
        .args(["-t", &seconds.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-x264-params", "nal-hrd=cbr"])
        .args(["-b:v", &rate, "-minrate", &rate, "-maxrate", &rate])
        .args(["-bufsize", &buffer])
        .args(["-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("ffmpeg exited with {status}"))
    }
}

/// Times the probe on both files; true when the size ratio holds.
fn probe_section(small: &Path, big: &Path, runs: usize) -> bool {
    let measure = |path: &Path, with_audio: bool| -> (f64, String) {
        let probe = |p: &Path| {
            if with_audio {
                wangju::media::probe_path(p)
            } else {
                wangju::media::probe_path_without_audio_level(p)
            }
        };
        // One untimed run: the file is read into the page cache by ffmpeg already; this warms
        // the allocator and symphonia's codec tables.
        let first = probe(path).expect("probe the test video");
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let p = probe(path).expect("probe the test video");
                std::hint::black_box(p);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let level = first.audio.as_ref().and_then(|a| a.level.as_ref()).map_or(
            "no level".to_string(),
            |l| {
                format!(
                    "peak {:.1} dBFS over {:.1} s decoded",
                    l.peak_dbfs, l.measured_s
                )
            },
        );
        let shape = first.video.as_ref().map_or("no video".to_string(), |v| {
            format!("{}x{} {}", v.display_width, v.display_height, v.codec)
        });
        let facts = format!(
            "{:.1} MB, {:.1} s, {shape}, {level}{}",
            mb(first.size_bytes),
            first.duration_s.unwrap_or(0.0),
            first
                .damage
                .as_deref()
                .map_or(String::new(), |d| format!(", damaged: {d}"))
        );
        (times[times.len() / 2], facts)
    };
    let (small_bare, _) = measure(small, false);
    let (big_bare, _) = measure(big, false);
    let (small_all, small_facts) = measure(small, true);
    let (big_all, big_facts) = measure(big, true);
    println!("probe (wangju::media::probe_path, median of {runs} runs, warm page cache):");
    println!("  5 MB file:     {small_facts}");
    println!("  50 MB file:    {big_facts}");
    println!("  without the audio-level decode: 5 MB {small_bare:.2} ms, 50 MB {big_bare:.2} ms");
    println!(
        "  whole probe (with the audio-level decode): 5 MB {small_all:.2} ms, 50 MB {big_all:.2} ms"
    );
    println!(
        "  audio-level decode alone: 5 MB {:.2} ms, 50 MB {:.2} ms",
        small_all - small_bare,
        big_all - big_bare
    );
    let ratio = big_bare / small_bare.max(f64::MIN_POSITIVE);
    let ok = ratio <= TARGET_PROBE_RATIO;
    println!(
        "  ratio 50 MB / 5 MB: {ratio:.2} without the audio pass (target <= {TARGET_PROBE_RATIO:.1}): {}; {:.2} with it",
        verdict(ok),
        big_all / small_all.max(f64::MIN_POSITIVE)
    );
    ok
}

// ---------------------------------------------------------------------------------------------
// 2 and 3. Uploads

/// What one upload run saw.
struct Run {
    uploads: usize,
    /// Bytes of every chunk but the last, over all uploads of one round, and the median time
    /// they took (from the first request until every upload had its last-but-one chunk
    /// acknowledged).
    transfer_bytes: u64,
    transfer: Duration,
    /// All bytes of a round, and the median time until every upload's last chunk was answered.
    total_bytes: u64,
    total: Duration,
    /// Each round's transfer time, in the order run.
    rounds: Vec<Duration>,
    /// The server's RSS one second after start-up, before any account signed in (wangju only).
    started_mb: Option<f64>,
    /// The RSS one second before the uploads start.
    idle_mb: f64,
    peak_mb: f64,
    peak_transfer_mb: f64,
    peak_check_mb: f64,
    samples: usize,
    verdicts: String,
}

impl Run {
    fn transfer_mbs(&self) -> f64 {
        mb(self.transfer_bytes) / self.transfer.as_secs_f64().max(1e-9)
    }

    fn end_to_end_mbs(&self) -> f64 {
        mb(self.total_bytes) / self.total.as_secs_f64().max(1e-9)
    }

    fn line(&self) -> String {
        let rounds: Vec<String> = self
            .rounds
            .iter()
            .map(|d| format!("{:.0}", mb(self.transfer_bytes) / d.as_secs_f64().max(1e-9)))
            .collect();
        format!(
            "transfer {:>6.1} MB/s (median of {} rounds: {}; {:.0} MB in {:.2} s), end to end {:>6.1} MB/s ({:.2} s), RSS idle {:.1} MB peak {:.1} MB{}",
            self.transfer_mbs(),
            self.rounds.len(),
            rounds.join(" "),
            mb(self.transfer_bytes),
            self.transfer.as_secs_f64(),
            self.end_to_end_mbs(),
            self.total.as_secs_f64(),
            self.idle_mb,
            self.peak_mb,
            if self.verdicts.is_empty() {
                String::new()
            } else {
                format!(", {} x{}", self.verdicts, self.uploads)
            }
        )
    }
}

/// One client's upload target: where the chunks go and how to start.
#[derive(Clone)]
struct Target {
    client: reqwest::Client,
    base: String,
    csrf: String,
    wangju: bool,
}

impl Target {
    /// Announces the upload; returns the URL to `PATCH`.
    async fn start(&self, n: usize, size: usize) -> Result<String, String> {
        if !self.wangju {
            return Ok(format!("{}/bare/{n}", self.base));
        }
        let r = self
            .client
            .post(format!("{}/api/v1/uploads", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&json!({"sub_project": "micro-video", "file_name": format!("video{n}.mp4"), "size_bytes": size}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        match body["id"].as_str() {
            Some(id) if status.is_success() => Ok(format!("{}/api/v1/uploads/{id}", self.base)),
            _ => Err(format!("POST /api/v1/uploads: {status} {body}")),
        }
    }

    async fn patch(&self, url: &str, offset: usize, chunk: Bytes) -> Result<Value, String> {
        let r = self
            .client
            .patch(url)
            .header("x-csrf-token", &self.csrf)
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(chunk)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("PATCH at {offset}: {status} {body}"))
        }
    }
}

/// Sends `body` once per target, all at once: every chunk but the last, then (after all have
/// got there) the last chunks; `rounds` times, each round a new upload per target. Samples the
/// server's RSS all along.
async fn upload_all(
    targets: Vec<Target>,
    body: Bytes,
    pid: u32,
    rounds: usize,
) -> Result<Run, String> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_mb = rss_mb(pid).unwrap_or(f64::NAN);
    let sampler = Sampler::start(pid);
    let uploads = targets.len();
    let chunk = chunk_bytes();
    let last_at = (body.len().div_ceil(chunk) - 1) * chunk;
    let mut transfers = Vec::new();
    let mut totals = Vec::new();
    let mut verdicts = Vec::new();
    // RSS peaks while receiving and while checking, over all rounds.
    let mut phases: Vec<(Instant, Instant, Instant)> = Vec::new();
    for round in 0..rounds {
        let begin = Instant::now();
        let tasks: Vec<_> = targets
            .iter()
            .cloned()
            .enumerate()
            .map(|(n, target)| {
                let body = body.clone();
                tokio::spawn(async move {
                    let url = target.start(round * 1000 + n, body.len()).await?;
                    let mut offset = 0;
                    while offset < last_at {
                        target
                            .patch(&url, offset, body.slice(offset..offset + chunk))
                            .await?;
                        offset += chunk;
                    }
                    Ok::<_, String>((target, url))
                })
            })
            .collect();
        let mut ready = Vec::new();
        for task in tasks {
            ready.push(task.await.map_err(|e| e.to_string())??);
        }
        transfers.push(begin.elapsed());
        let checking = Instant::now();
        let tasks: Vec<_> = ready
            .into_iter()
            .map(|(target, url)| {
                let body = body.clone();
                tokio::spawn(
                    async move { target.patch(&url, last_at, body.slice(last_at..)).await },
                )
            })
            .collect();
        for task in tasks {
            let answer = task.await.map_err(|e| e.to_string())??;
            if let Some(state) = answer["state"].as_str() {
                if state != "checked" {
                    return Err(format!("the last chunk left the upload {state}: {answer}"));
                }
                verdicts.push(answer["verdict"].as_str().unwrap_or("?").to_string());
            }
        }
        totals.push(begin.elapsed());
        phases.push((begin, checking, Instant::now()));
    }
    let samples = sampler.stop();
    let peak = |spans: &mut dyn Iterator<Item = (Instant, Instant)>| {
        let spans: Vec<_> = spans.collect();
        samples
            .iter()
            .filter(|(at, _)| spans.iter().any(|(from, to)| at >= from && at <= to))
            .map(|(_, mb)| *mb)
            .fold(f64::NAN, f64::max)
    };
    verdicts.sort();
    verdicts.dedup();
    Ok(Run {
        uploads,
        transfer_bytes: (last_at * uploads) as u64,
        transfer: median(&transfers),
        total_bytes: (body.len() * uploads) as u64,
        total: median(&totals),
        rounds: transfers,
        started_mb: None,
        idle_mb,
        peak_mb: peak(&mut phases.iter().map(|p| (p.0, p.2))),
        peak_transfer_mb: peak(&mut phases.iter().map(|p| (p.0, p.1))),
        peak_check_mb: peak(&mut phases.iter().map(|p| (p.1, p.2))),
        samples: samples.len(),
        verdicts: verdicts.join("/"),
    })
}

fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// What each server is given: the file, how many concurrent uploads, how many rounds.
struct Load {
    body: Bytes,
    uploads: usize,
    rounds: usize,
    pinned: bool,
}

/// Starts `wangju serve` on a fresh data folder, registers `uploads` workers and uploads.
fn wangju_run(
    runtime: &tokio::runtime::Runtime,
    bin: &Path,
    workdir: &Path,
    load: &Load,
) -> Result<Run, String> {
    let (body, uploads, rounds, pinned) = (&load.body, load.uploads, load.rounds, load.pinned);
    let data_dir = workdir.join("wangju-data");
    std::fs::create_dir(&data_dir).map_err(|e| e.to_string())?;
    let port = free_port();
    let mut command = wangju_command(bin, pinned);
    command
        .arg("serve")
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .env("WANGJU_TODAY", TODAY)
        .env("WANGJU_LOG", "warn")
        .current_dir(workdir);
    let server = Server::spawn(command, "网聚已启动")?;
    let base = format!("http://127.0.0.1:{port}");
    let result = runtime.block_on(async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let started_mb = rss_mb(server.pid());
        let mut targets = Vec::new();
        for n in 0..uploads {
            targets.push(worker(&base, n).await?);
        }
        let mut run = upload_all(targets, body.clone(), server.pid(), rounds).await?;
        run.started_mb = started_mb;
        Ok::<_, String>(run)
    });
    let result = result.map_err(|e| format!("{e}\n{}", server.stderr_tail()));
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);
    result
}

/// Registers worker `n` over the API and signs in; the client keeps the session cookie.
async fn worker(base: &str, n: usize) -> Result<Target, String> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let get_csrf = async |client: &reqwest::Client| -> Result<String, String> {
        let r = client
            .get(format!("{base}/api/v1/csrf"))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        Ok(body["csrf_token"].as_str().unwrap_or_default().to_string())
    };
    let csrf = get_csrf(&client).await?;
    let phone = format!("1390000{n:04}");
    let r = client
        .post(format!("{base}/api/v1/register"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"real_name": "测试职工", "phone": phone, "org_id": 1, "password": PASSWORD, "consent": true}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        let status = r.status();
        return Err(format!(
            "register {phone}: {status} {}",
            r.text().await.unwrap_or_default()
        ));
    }
    let r = client
        .post(format!("{base}/api/v1/session"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"login": phone, "password": PASSWORD}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let body: Value = r.json().await.map_err(|e| e.to_string())?;
    let Some(csrf) = body["csrf_token"].as_str().filter(|_| status.is_success()) else {
        return Err(format!("sign in {phone}: {status} {body}"));
    };
    Ok(Target {
        client,
        base: base.to_string(),
        csrf: csrf.to_string(),
        wangju: true,
    })
}

/// Starts the bare handler (this program with `--bare-server`) and uploads to it.
fn bare_run(
    runtime: &tokio::runtime::Runtime,
    exe: &Path,
    workdir: &Path,
    name: &str,
    load: &Load,
) -> Result<Run, String> {
    let (body, uploads, rounds, pinned) = (&load.body, load.uploads, load.rounds, load.pinned);
    let dir = workdir.join(name);
    std::fs::create_dir(&dir).map_err(|e| e.to_string())?;
    let mut command = pinned_command(exe, pinned);
    command.arg("--bare-server").arg(&dir);
    let server = Server::spawn(command, "listening on ")?;
    let base = format!(
        "http://{}",
        server.first_line.trim_start_matches("listening on ")
    );
    let client = reqwest::Client::new();
    let targets = (0..uploads)
        .map(|_| Target {
            client: client.clone(),
            base: base.clone(),
            csrf: String::new(),
            wangju: false,
        })
        .collect();
    let result = runtime.block_on(upload_all(targets, body.clone(), server.pid(), rounds));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The bare baseline: one route that streams a request body into a new file on the same disk,
/// one file per request, like the store keeps one part per `PATCH`. It does what the local
/// store (OpenDAL's `Fs` writer) does with the bytes: `tokio::fs::File` writes of each body
/// frame as it arrives, then `flush` and `sync_all` before answering. No session, no database,
/// no size limit, no check.
mod bare {
    use std::path::{Path, PathBuf};

    use axum::Router;
    use axum::body::Body;
    use axum::extract::{Path as UrlPath, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::patch;
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;

    pub fn serve(dir: &Path) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let app = Router::new()
                .route("/bare/{n}", patch(receive))
                .with_state(dir.to_path_buf());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("address");
            println!("listening on {addr}");
            axum::serve(listener, app).await.expect("serve");
        });
    }

    async fn receive(
        State(dir): State<PathBuf>,
        UrlPath(n): UrlPath<u32>,
        headers: HeaderMap,
        body: Body,
    ) -> Result<String, StatusCode> {
        let offset: u64 = headers
            .get("upload-offset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .ok_or(StatusCode::BAD_REQUEST)?;
        let fail = |_| StatusCode::INTERNAL_SERVER_ERROR;
        let mut file = tokio::fs::File::create(dir.join(format!("{n}-{offset:016}")))
            .await
            .map_err(fail)?;
        let mut stream = body.into_data_stream();
        let mut written = 0u64;
        while let Some(frame) = stream.next().await {
            let frame = frame.map_err(|_| StatusCode::BAD_REQUEST)?;
            file.write_all(&frame).await.map_err(fail)?;
            written += frame.len() as u64;
        }
        file.flush().await.map_err(fail)?;
        file.sync_all().await.map_err(fail)?;
        Ok(format!("{{\"received\":{}}}", offset + written))
    }
}

// ---------------------------------------------------------------------------------------------
// Processes, memory, machine

/// A child server; killed when dropped.
struct Server {
    child: Child,
    first_line: String,
    stderr: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// Spawns `command` and waits until it prints a line containing `ready`.
    fn spawn(mut command: Command, ready: &str) -> Result<Server, String> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| e.to_string())?;
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
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        let ready = ready.to_string();
        std::thread::spawn(move || {
            let mut sent = false;
            // Keep reading to the end so the child never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && line.contains(&ready) {
                    let _ = tx.send(line);
                    sent = true;
                }
            }
        });
        let mut server = Server {
            child,
            first_line: String::new(),
            stderr,
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                server.first_line = line;
                Ok(server)
            }
            Err(_) => Err(format!(
                "the server did not start\n{}",
                server.stderr_tail()
            )),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr_tail(&self) -> String {
        self.stderr
            .lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Samples a process's VmRSS every `SAMPLE_EVERY` on a thread of its own.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(Instant, f64)>>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                if let Some(mb) = rss_mb(pid) {
                    samples.push((Instant::now(), mb));
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
            samples
        });
        Sampler { stop, thread }
    }

    fn stop(self) -> Vec<(Instant, f64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// Bytes per `PATCH`: `WANGJU_BENCH_CHUNK_MB` (1 to 16) or the submit page's 2 MB.
fn chunk_bytes() -> usize {
    let mb = std::env::var("WANGJU_BENCH_CHUNK_MB")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|mb| (1..=16).contains(mb))
        .unwrap_or(DEFAULT_CHUNK_MB);
    mb * 1024 * 1024
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
