//! Issue 13's ranking-page figure: a review round with 150,000 submitted scores (50,000 works ×
//! 3 reviewers over 1,000 reviewers), its page (`GET /selection/rounds/{id}`) under 32
//! concurrent admins, on SQLite and PostgreSQL; p50/p95/p99 against the target p95 < 100 ms.
//! Measured twice: while the round is open (the live ranking) and after it closed (the frozen
//! ranking). `cargo bench --bench ranking`; the figures go in docs/benchmarks.md.
//!
//! In-process: the app on a loopback port in this process (as `benches/common/inproc.rs`), the
//! load from 32 tasks sharing one signed-in admin's keep-alive client.
//!
//! Environment: `WANGJU_BENCH_SECONDS` (measured seconds per phase, default 5),
//! `WANGJU_BENCH_CONNECTIONS` (default 32), `WANGJU_BENCH_WORKS` (default 50,000),
//! `WANGJU_BENCH_PG` (PostgreSQL server URL without a database, default
//! `postgres://postgres@127.0.0.1:5432`; `off` to skip), `WANGJU_BENCH_POOL=off` (no reviewer
//! pool: the page lists none and the close assigns no next round).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::inproc;
use wangju::db::Db;
use wangju::db::testing::{execute, scalar};

const TARGET_P95_MS: f64 = 100.0;

async fn seed(db: &Db, works: i64) -> Result<i64, String> {
    let e = |e: sqlx::Error| e.to_string();
    let campaign: i64 = scalar(db, "SELECT MAX(id) FROM campaigns")
        .await
        .map_err(e)?;
    let org: i64 = scalar(db, "SELECT MIN(id) FROM orgs").await.map_err(e)?;
    execute(
        db,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
             INSERT INTO users (login, display_name, role, org_id, password_hash, created_at, updated_at)
             SELECT 'bench-reviewer-' || i, '评审专家' || i, 'reviewer', {org}, 'x', 0, 0 FROM n"
        ),
    )
    .await
    .map_err(e)?;
    execute(
        db,
        &format!(
            "INSERT INTO users (login, display_name, role, org_id, password_hash, created_at, updated_at)
             VALUES ('bench-owner', '作者', 'worker', {org}, 'x', 0, 0)"
        ),
    )
    .await
    .map_err(e)?;
    let owner: i64 = scalar(db, "SELECT id FROM users WHERE login = 'bench-owner'")
        .await
        .map_err(e)?;
    let first_reviewer: i64 = scalar(
        db,
        "SELECT MIN(id) FROM users WHERE login LIKE 'bench-reviewer-%'",
    )
    .await
    .map_err(e)?;
    execute(
        db,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {works})
             INSERT INTO uploads (id, owner_id, campaign_id, sub_project, file_name, size_bytes, received, state, created_at, updated_at)
             SELECT 'bench-up-' || i, {owner}, {campaign}, 'micro-video', 'v.mp4', 1, 1, 'checked', 0, 0 FROM n"
        ),
    )
    .await
    .map_err(e)?;
    execute(
        db,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {works})
             INSERT INTO works (campaign_id, sub_project, org_id, owner_id, filed_by, title, authors, contact_phone, description,
                 status, upload_id, originality_version, originality_at, portrait_version, portrait_at, subtitles_declared,
                 submitted_at, created_at, updated_at)
             SELECT {campaign}, 'micro-video', {org}, {owner}, {owner}, '评审作品' || i, '[]', '', '', 'accepted', 'bench-up-' || i,
                 'v1', 0, 'v1', 0, 1, 0, 0, 0 FROM n"
        ),
    )
    .await
    .map_err(e)?;
    execute(
        db,
        &format!(
            "INSERT INTO review_rounds (campaign_id, sub_project, round_code, seq, status, opened_at)
             VALUES ({campaign}, 'micro-video', 'first', 1, 'open', 0)"
        ),
    )
    .await
    .map_err(e)?;
    let round: i64 = scalar(db, "SELECT MAX(id) FROM review_rounds")
        .await
        .map_err(e)?;
    execute(
        db,
        &format!(
            "INSERT INTO round_works (round_id, work_id, advanced) SELECT {round}, id, 0 FROM works WHERE upload_id LIKE 'bench-up-%'"
        ),
    )
    .await
    .map_err(e)?;
    execute(
        db,
        &format!(
            "INSERT INTO review_assignments (round_id, work_id, reviewer_id, assigned_at, status, scores, comment, score_centi, updated_at, submitted_at)
             SELECT {round}, w.id, {first_reviewer} + ((w.id * 3 + k.j) % 1000), 0, 'submitted', '[]', '',
                 4000 + ((w.id * 7919 + k.j * 104729 + (w.id * 3 + k.j) % 1000 * 31) % 6000), 0, 0
             FROM works w CROSS JOIN (SELECT 0 AS j UNION ALL SELECT 1 UNION ALL SELECT 2) k
             WHERE w.upload_id LIKE 'bench-up-%'"
        ),
    )
    .await
    .map_err(e)?;
    // The 1,000 reviewers form the sub-project's pool (the page lists it for moves by hand,
    // and closing assigns the next round from it). `WANGJU_BENCH_POOL=off` leaves the pool
    // empty, as the first measurements did (the close then assigns nothing).
    if std::env::var("WANGJU_BENCH_POOL").as_deref() != Ok("off") {
        execute(
            db,
            &format!(
                "INSERT INTO reviewer_pools (user_id, campaign_id, sub_project, added_at)
                 SELECT id, {campaign}, 'micro-video', 0 FROM users WHERE login LIKE 'bench-reviewer-%'"
            ),
        )
        .await
        .map_err(e)?;
    }
    // Seeded by SQL, so the counts the app keeps on the round row are set here once.
    execute(
        db,
        &format!(
            "UPDATE review_rounds SET
                 works_count = (SELECT COUNT(*) FROM round_works WHERE round_id = {round}),
                 assignments_count = (SELECT COUNT(*) FROM review_assignments WHERE round_id = {round}),
                 submitted_count = (SELECT COUNT(*) FROM review_assignments WHERE round_id = {round} AND status = 'submitted')
             WHERE id = {round}"
        ),
    )
    .await
    .map_err(e)?;
    // Statistics, as autovacuum (PostgreSQL) or the demo seeding (both) would have taken after
    // a bulk load: without them PostgreSQL plans the page's joins for nearly empty tables.
    execute(db, "ANALYZE").await.map_err(e)?;
    Ok(round)
}

struct Latencies(Vec<f64>);

impl Latencies {
    fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[i.min(self.0.len() - 1)]
    }
}

async fn load(
    admin: &inproc::Admin,
    path: &str,
    connections: usize,
    seconds: f64,
) -> (Latencies, usize, usize) {
    let client = admin.client.clone();
    let url = format!("{}{path}", admin.base);
    // Warm-up: one request (fills caches as a first visitor would).
    let first = client.get(&url).send().await.expect("GET");
    let bytes = first.bytes().await.map(|b| b.len()).unwrap_or(0);
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, failures) = (client.clone(), url.clone(), failures.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < until {
                let start = Instant::now();
                match client.get(&url).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        times.push(start.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => {
                        failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
            times
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    all.sort_by(f64::total_cmp);
    (
        Latencies(all),
        bytes,
        failures.load(std::sync::atomic::Ordering::Relaxed),
    )
}

async fn run_backend(
    label: &str,
    database_url: String,
    works: i64,
    connections: usize,
    seconds: f64,
) {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = inproc::build(dir.path(), database_url).await.expect("app");
    let started = Instant::now();
    let round = seed(&state.db, works).await.expect("seed");
    let scores: i64 = scalar(
        &state.db,
        &format!("SELECT COUNT(*) FROM review_assignments WHERE round_id = {round} AND status = 'submitted'"),
    )
    .await
    .expect("count");
    println!(
        "{label}: seeded {works} works, {scores} scores in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let admin = inproc::serve_and_sign_in(state.clone())
        .await
        .expect("sign in");
    let path = format!("/selection/rounds/{round}");
    for phase in ["open", "closed"] {
        if phase == "closed" {
            let started = Instant::now();
            let r = admin
                .client
                .post(format!("{}{path}/close", admin.base))
                .form(&[("_csrf", admin.csrf.as_str())])
                .send()
                .await
                .expect("close");
            println!(
                "{label}: closing the round took {:.1} s ({})",
                started.elapsed().as_secs_f64(),
                r.status()
            );
        }
        let (lat, bytes, failures) = load(&admin, &path, connections, seconds).await;
        let n = lat.0.len();
        let p95 = lat.percentile(0.95);
        println!(
            "{label:<10} {phase:<6} GET {path} ({:.0} KB): {n} requests, {failures} failed, p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  {:.0} req/s at {connections} admins (target p95 < {TARGET_P95_MS:.0} ms): {}; load {}",
            bytes as f64 / 1024.0,
            lat.percentile(0.5),
            p95,
            lat.percentile(0.99),
            n as f64 / seconds,
            common::verdict(p95 < TARGET_P95_MS && failures == 0),
            common::load_average(),
        );
        // The assignments page (moves by hand, with the 1,000-reviewer pool) is visited far
        // less; printed for the record, the target is the ranking page's.
        let moves = format!("{path}/assignments");
        let (lat, bytes, failures) = load(&admin, &moves, connections, seconds).await;
        println!(
            "{label:<10} {phase:<6} GET {moves} ({:.0} KB): {} requests, {failures} failed, p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms; load {}",
            bytes as f64 / 1024.0,
            lat.0.len(),
            lat.percentile(0.5),
            lat.percentile(0.95),
            lat.percentile(0.99),
            common::load_average(),
        );
    }
}

fn main() {
    let seconds = common::env_number("WANGJU_BENCH_SECONDS", 5.0);
    let connections =
        common::env_number("WANGJU_BENCH_CONNECTIONS", 32.0).clamp(1.0, 1024.0) as usize;
    let works = common::env_number("WANGJU_BENCH_WORKS", 50_000.0) as i64;
    let pg = std::env::var("WANGJU_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        run_backend("SQLite", String::new(), works, connections, seconds).await;
        if pg != "off" {
            let name = format!("wangju_bench_ranking_{}", std::process::id());
            match inproc::pg_database(&pg, &name).await {
                Ok(url) => {
                    run_backend("PostgreSQL", url, works, connections, seconds).await;
                    inproc::drop_pg_database(&pg, &name).await;
                }
                Err(e) => println!("PostgreSQL skipped: {e}"),
            }
        }
    });
}
