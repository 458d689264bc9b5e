//! Issue 15 item 5's figures for the campaign archive: the archive of the `--scale city` demo
//! data — time, size, peak memory. `cargo bench --bench archive`; figures in docs/benchmarks.md.
//!
//! It builds the app in this process (SQLite in a temporary folder, local file store), seeds the
//! city demo data, gives ten accepted micro-videos clean files of `size / 10` bytes each
//! (incompressible, written before measuring; the demo's other works and photos have no stored
//! file and are listed as missing, as the archive does), then writes the archive exactly as
//! `wangju campaign archive` does (`service::archive::write`) while a thread samples VmRSS every
//! 10 ms, and checks it with `service::archive::verify`. The rise is the peak over the level just
//! before writing starts.
//!
//! `WANGJU_BENCH_ARCHIVE_MB` sets the works' files' total (default 256 MB).

mod common;

use std::time::Instant;

use common::inproc;

const TARGET_RISE_MB: f64 = 64.0;
const WORKS: u64 = 10;

fn main() {
    let mb = common::env_number("WANGJU_BENCH_ARCHIVE_MB", 256.0).max(10.0) as u64;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(mb));
}

async fn run(mb: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = inproc::build(dir.path(), String::new()).await.expect("app");
    let db = state.db.clone();
    let actor = wangju::db::audit::Actor {
        user_id: None,
        login: "bench".into(),
        ip: "127.0.0.1".into(),
    };
    wangju::service::demo::seed(&db, wangju::service::demo::Scale::City, false, &actor)
        .await
        .expect("demo seed");
    let per_file = mb * 1024 * 1024 / WORKS;
    let root = state.store.local_root().expect("local store").to_path_buf();
    std::fs::create_dir_all(root.join("bench")).expect("dir");
    let ids: Vec<i64> = wangju::db::testing::column(
        &db,
        "SELECT id FROM works WHERE status = 'accepted' ORDER BY id LIMIT 10",
    )
    .await
    .expect("works");
    for (i, id) in ids.iter().enumerate() {
        let key = format!("bench/clean-{i}.mp4");
        common::noise_file(
            &root.join(&key),
            per_file,
            0x9E37_79B9_7F4A_7C15 ^ (i as u64),
        );
        wangju::db::testing::execute(
            &db,
            &format!(
                "UPDATE uploads SET clean_key = '{key}', media_type = 'video/mp4' WHERE id = (SELECT upload_id FROM works WHERE id = {id})"
            ),
        )
        .await
        .expect("clean key");
    }
    let code: String = wangju::db::campaigns::current(&db)
        .await
        .expect("campaign")
        .expect("a current campaign")
        .campaign
        .code;
    let out = dir.path().join("archive.zip");
    let today = chrono::NaiveDate::from_ymd_opt(2020, 11, 30).expect("date");

    let sampler = common::RssSampler::start();
    let started = Instant::now();
    let written = wangju::service::archive::write(&db, &state.store, &code, &out, &actor, today)
        .await
        .expect("archive");
    let elapsed = started.elapsed().as_secs_f64();
    let (baseline, peak) = sampler.finish();
    let rise_mb = peak.saturating_sub(baseline) as f64 / 1024.0;
    let rows: u64 = written.rows.values().sum();
    println!(
        "campaign archive (city demo): {} tables, {rows} rows ({} check-ins, {} activities, {} works), audit {} entries, {} work files, {} missing files; zip {:.1} MB, {} entries, in {:.1} s; RSS before {:.1} MB, peak {:.1} MB, rise {:.1} MB (target < {TARGET_RISE_MB} MB): {}; load {}",
        written.rows.len(),
        written.rows.get("checkins").copied().unwrap_or_default(),
        written.rows.get("activities").copied().unwrap_or_default(),
        written.rows.get("works").copied().unwrap_or_default(),
        written.audit_entries,
        written.work_files,
        written.missing.len(),
        written.bytes as f64 / 1_048_576.0,
        written.entries,
        elapsed,
        baseline as f64 / 1024.0,
        peak as f64 / 1024.0,
        rise_mb,
        common::verdict(rise_mb < TARGET_RISE_MB),
        common::load_average(),
    );
    let started = Instant::now();
    let report = wangju::service::archive::verify(&out);
    println!(
        "verify: {} in {:.1} s ({})",
        if report.ok() { "intact" } else { "PROBLEMS" },
        started.elapsed().as_secs_f64(),
        report.lines.join("; ")
    );
    assert!(report.ok(), "{:?}", report.problems);
}
