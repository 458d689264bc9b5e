//! The soak: one node (SQLite, release build via `scripts/soak`) under steady mixed load for
//! `WANGJU_SOAK_SECONDS` (600), its resident memory sampled every 10 s. Passes when the level at
//! the end (the median of the last minute's samples) is within 10% of the level after the first
//! minute (the median of the second minute's). A level, not one sample: one request's working
//! memory can stand tens of MB above the level for a few seconds, and a single sample that lands
//! on such a peak says nothing about a leak.
//! `#[ignore]`d in the normal run: it takes ten minutes.

use std::time::{Duration, Instant};

use crate::crash::sqlite_config;
use crate::load::{self, Session, Stop, Target};
use crate::support::{self, Node, free_port};

/// A `/proc/{pid}/status` line's figure in MB (`VmRSS`, or its parts `RssAnon`: the heap and
/// stacks, `RssFile`: the binary's code and mapped files, `RssShmem`: SQLite's WAL index).
fn status_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn rss_mb(pid: u32) -> f64 {
    status_mb(pid, "VmRSS")
}

/// The median of the samples taken in `[from, to)` seconds (0 when there are none).
fn level(curve: &[(u64, f64)], from: u64, to: u64) -> f64 {
    let mut window: Vec<f64> = curve
        .iter()
        .filter(|(t, _)| (from..to).contains(t))
        .map(|(_, mb)| *mb)
        .collect();
    window.sort_by(f64::total_cmp);
    match window.len() {
        0 => 0.0,
        n if n % 2 == 1 => window[n / 2],
        n => (window[n / 2 - 1] + window[n / 2]) / 2.0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "ten minutes; run with scripts/soak"]
async fn soak_memory_stays_flat() {
    let _serial = crate::serial().await;
    let seconds: u64 = std::env::var("WANGJU_SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let work = tempfile::tempdir().expect("temp dir");
    let data = work.path().join("data");
    let config = sqlite_config(work.path(), &data, "2020-07-01");
    let node = Node::start("soak", &config, free_port(), work.path());
    let pid = node.pid();
    let target = Target {
        base: node.base(),
        local: None,
    };
    let password = node.first_password.clone().expect("admin password");
    let admin = Session::first_admin(&target, &password).await;
    let (_, path) = load::checkin_activity(&admin, "2020-07-01", "长稳测试签到").await;
    let worker = load::worker(&target).await;
    let ledger: load::Shared = Default::default();
    let stop = Stop::new(Duration::from_secs(seconds));
    let ms = Duration::from_millis;
    let loops = vec![
        tokio::spawn(load::reports(
            Session::login(&target, "admin", load::PASSWORD).await,
            ledger.clone(),
            stop.clone(),
            "2020-07-01",
            ms(200),
        )),
        tokio::spawn(load::checkins(
            target.clone(),
            path,
            ledger.clone(),
            stop.clone(),
            ms(100),
        )),
        tokio::spawn(load::browse(
            Session::anonymous(&target),
            admin.clone(),
            ledger.clone(),
            stop.clone(),
            ms(20),
        )),
        tokio::spawn(load::uploads(
            worker,
            support::test_video(),
            64 * 1024,
            ledger.clone(),
            stop.clone(),
        )),
    ];
    let start = Instant::now();
    let mut curve = Vec::new();
    let mut parts = Vec::new();
    while !stop.now() {
        tokio::time::sleep(Duration::from_secs(10)).await;
        curve.push((start.elapsed().as_secs(), rss_mb(pid)));
        parts.push((
            status_mb(pid, "RssAnon"),
            status_mb(pid, "RssFile"),
            status_mb(pid, "RssShmem"),
        ));
    }
    for l in loops {
        let _ = l.await;
    }
    let events = ledger.lock().map(|l| l.events.len()).unwrap_or(0);
    let failed = ledger
        .lock()
        .map(|l| {
            l.events
                .iter()
                .filter(|e| e.status == 0 || e.status >= 500)
                .count()
        })
        .unwrap_or(0);
    let at_minute = curve.iter().find(|(t, _)| *t >= 60).map_or(0.0, |c| c.1);
    let end = curve.last().map_or(0.0, |c| c.1);
    println!("\nsoak: {seconds} s of mixed load on one node, {events} requests, {failed} failed");
    println!(
        "  RSS (MB) every 10 s: {}",
        curve
            .iter()
            .map(|(t, m)| format!("{t}s {m:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  of which heap/file/shared (MB): {}",
        curve
            .iter()
            .zip(&parts)
            .step_by(6)
            .map(|((t, _), (a, f, s))| format!("{t}s {a:.1}/{f:.1}/{s:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let size_mb = |name: &str| {
        std::fs::metadata(data.join(name)).map_or(0.0, |m| m.len() as f64 / 1_048_576.0)
    };
    println!(
        "  database at the end: {:.1} MB, its WAL {:.1} MB",
        size_mb("wangju.db"),
        size_mb("wangju.db-wal")
    );
    println!(
        "  one sample: after the first minute {at_minute:.1} MB, at the end {end:.1} MB: {:+.1}%",
        (end / at_minute - 1.0) * 100.0
    );
    let after_first = level(&curve, 60, 120);
    let last_minute = level(&curve, seconds.saturating_sub(60), u64::MAX);
    println!(
        "  level (median of a minute's samples): second minute {after_first:.1} MB, last minute \
         {last_minute:.1} MB: {:+.1}% (limit +10%)",
        (last_minute / after_first - 1.0) * 100.0
    );
    assert_eq!(failed, 0);
    assert!(
        last_minute <= after_first * 1.10,
        "memory grew past 10% of the level after the first minute"
    );
}

#[test]
fn a_level_is_the_median_of_its_window() {
    let curve = [(50, 1.0), (60, 90.0), (70, 140.0), (80, 100.0), (120, 7.0)];
    assert_eq!(level(&curve, 60, 120), 100.0);
    assert_eq!(level(&curve, 60, 80), 115.0);
    assert_eq!(level(&curve, 200, 300), 0.0);
}
