//! Issue 15's summary figure: the campaign summary (活动总结) — the Word document with its
//! charts and the Excel appendix — produced from `wangju demo seed --scale national` data, timed
//! and with its peak resident memory, against the targets (< 10 s, < 300 MB).
//!
//! `cargo bench --bench summary` (release build) or, for the debug build's figure,
//! `cargo build && WANGJU_BENCH_BIN=target/debug/wangju cargo bench --bench summary`. It:
//!
//! 1. seeds a fresh SQLite data folder with `wangju demo seed --scale national` (2,978 units,
//!    100,000 activities, ~950,000 check-ins) and times it;
//! 2. runs `wangju export summary --out DIR` (both files from one gathering of the figures)
//!    under `/usr/bin/time` `WANGJU_BENCH_RUNS` times (default 3) and prints, for each run, the
//!    wall time, the CPU time (user + system: what the run costs, whatever else the machine
//!    does) and the peak RSS, and the verdicts of the best run.
//!
//! Without `--bench` (as under `cargo test --benches`) it runs a smoke pass on city-scale data,
//! once. Environment: `WANGJU_BENCH_SCALE` (`national` or `city`), `WANGJU_BENCH_RUNS`,
//! `WANGJU_BENCH_BIN` (default: the binary cargo built with this bench),
//! `WANGJU_BENCH_CACHE=DIR` (keep the seeded folder in DIR and reuse it).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use common::{env_number, load_average, verdict, without_wangju_env};

const TARGET_SECONDS: f64 = 10.0;
const TARGET_MB: f64 = 300.0;
/// Seeded in July (every phase's data), summarised in November.
const SEED_DAY: &str = "2020-07-01";
const SUMMARY_DAY: &str = "2020-11-25";

struct Run {
    wall: f64,
    cpu: f64,
    peak_mb: f64,
    docx_bytes: u64,
    xlsx_bytes: u64,
}

fn wangju(bin: &Path, data_dir: &Path, today: &str) -> Command {
    let mut c = Command::new(bin);
    without_wangju_env(&mut c);
    c.arg("--data-dir")
        .arg(data_dir)
        .env("WANGJU_TODAY", today)
        .env("WANGJU_LOG", "error");
    c
}

fn seed(bin: &Path, data_dir: &Path, scale: &str) -> Result<f64, String> {
    let started = Instant::now();
    let out = wangju(bin, data_dir, SEED_DAY)
        .args(["demo", "seed", "--scale", scale])
        .output()
        .map_err(|e| format!("run wangju demo seed: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    Ok(started.elapsed().as_secs_f64())
}

fn export(bin: &Path, data_dir: &Path, out_dir: &Path) -> Result<Run, String> {
    let _ = std::fs::remove_dir_all(out_dir);
    let mut c = Command::new("/usr/bin/time");
    c.args(["-f", "wangju-time %e %U %S %M"]).arg(bin);
    without_wangju_env(&mut c);
    let out = c
        .arg("--data-dir")
        .arg(data_dir)
        .env("WANGJU_TODAY", SUMMARY_DAY)
        .env("WANGJU_LOG", "error")
        .args(["export", "summary", "--out"])
        .arg(out_dir)
        .output()
        .map_err(|e| format!("run /usr/bin/time wangju export summary: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(stderr.to_string());
    }
    let figures: Vec<f64> = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("wangju-time "))
        .ok_or("no figures from /usr/bin/time")?
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let [wall, user, system, kb] = figures[..] else {
        return Err(format!("unexpected /usr/bin/time output: {figures:?}"));
    };
    let size = |ext: &str| {
        std::fs::read_dir(out_dir)
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == ext))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum::<u64>()
    };
    Ok(Run {
        wall,
        cpu: user + system,
        peak_mb: kb / 1024.0,
        docx_bytes: size("docx"),
        xlsx_bytes: size("xlsx"),
    })
}

fn main() -> ExitCode {
    let full = std::env::args().any(|a| a == "--bench");
    let scale = std::env::var("WANGJU_BENCH_SCALE")
        .unwrap_or_else(|_| if full { "national" } else { "city" }.to_string());
    let runs = if full {
        env_number("WANGJU_BENCH_RUNS", 3.0).clamp(1.0, 100.0) as usize
    } else {
        1
    };
    let bin = std::env::var_os("WANGJU_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wangju")));
    let cache = std::env::var_os("WANGJU_BENCH_CACHE").map(PathBuf::from);
    let workdir = tempfile::tempdir().expect("create a temporary folder");
    let data_dir = match &cache {
        Some(dir) => dir.join(format!("summary-{scale}")),
        None => workdir.path().join("data"),
    };
    println!(
        "wangju summary benchmark{}",
        if full {
            ""
        } else {
            " (smoke run: pass --bench for real figures)"
        }
    );
    println!("  binary:  {}", bin.display());
    println!("  machine: load average {}", load_average());
    println!("  data:    `wangju demo seed --scale {scale}` on SQLite");
    let seeded_marker = data_dir.join("summary-bench.seeded");
    if !seeded_marker.exists() {
        if let Err(e) = std::fs::create_dir_all(&data_dir) {
            eprintln!("could not create {}: {e}", data_dir.display());
            return ExitCode::FAILURE;
        }
        match seed(&bin, &data_dir, &scale) {
            Ok(s) => println!("  seeded in {s:.1} s"),
            Err(e) => {
                eprintln!("seeding failed: {e}");
                return ExitCode::FAILURE;
            }
        }
        let _ = std::fs::write(&seeded_marker, b"");
    } else {
        println!("  seeded data reused from {}", data_dir.display());
    }
    let mut results = Vec::new();
    for i in 0..runs {
        match export(&bin, &data_dir, &workdir.path().join("out")) {
            Ok(r) => {
                println!(
                    "  run {}: wall {:.2} s, CPU {:.2} s, peak RSS {:.1} MB, docx {:.0} KB, xlsx {:.0} KB (load average {})",
                    i + 1,
                    r.wall,
                    r.cpu,
                    r.peak_mb,
                    r.docx_bytes as f64 / 1024.0,
                    r.xlsx_bytes as f64 / 1024.0,
                    load_average()
                );
                results.push(r);
            }
            Err(e) => {
                eprintln!("export failed: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let best = |f: fn(&Run) -> f64| results.iter().map(f).fold(f64::INFINITY, f64::min);
    let (wall, cpu, peak) = (best(|r| r.wall), best(|r| r.cpu), best(|r| r.peak_mb));
    println!("results:");
    println!(
        "  Word + Excel: wall {wall:.2} s (target < {TARGET_SECONDS:.0} s): {}; CPU {cpu:.2} s",
        verdict(wall < TARGET_SECONDS)
    );
    println!(
        "  peak RSS {peak:.1} MB (target < {TARGET_MB:.0} MB): {}",
        verdict(peak < TARGET_MB)
    );
    if !full {
        println!(
            "  (smoke run: these figures are not meaningful; run `cargo bench --bench summary`)"
        );
    }
    ExitCode::SUCCESS
}
