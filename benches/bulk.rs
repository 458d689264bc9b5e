//! Bulk-confirming 300 activity reports in one request (issue 12: "one request, under 3 s"),
//! on SQLite and on PostgreSQL.
//!
//! Run with `cargo bench --bench bulk` (see docs/benchmarks.md). For each backend it builds
//! the app in-process over a fresh database (SQLite in a temporary folder; PostgreSQL as a new
//! database on `WANGJU_BENCH_PG`, dropped afterwards), seeds `wangju demo seed --scale national`
//! (~100,000 activities, tens of thousands waiting at the city; the city scale's ~200 hold too
//! few), serves it on a loopback port, signs in as
//! the city admin, reads the waiting reports with their versions from the API, and times
//! `POST /api/v1/activities/bulk-transitions` confirming 300 of them. It then checks that all
//! 300 were done and that each has its own audit entry, and times the same request again (a
//! retry: every item answers "already").
//!
//! `cargo test --benches` runs it too (a debug build: slower figures, same checks).
//! Environment: `WANGJU_BENCH_PG` (PostgreSQL server URL without a database, default
//! `postgres://postgres@127.0.0.1:5432`; `off` to skip).

mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use common::inproc;
use serde_json::{Value, json};
use wangju::db::audit::Actor;
use wangju::db::testing;

const ITEMS: usize = 300;
/// Target: one request confirming 300 reports.
const TARGET: Duration = Duration::from_secs(3);
struct Figures {
    first: Duration,
    retry: Duration,
    done: u64,
    audited: i64,
}

async fn run(database_url: String) -> Result<Figures, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let state = inproc::build(dir.path(), database_url).await?;
    let db = state.db.clone();
    wangju::service::demo::seed(
        &db,
        wangju::service::demo::Scale::National,
        false,
        &Actor::cli(),
    )
    .await
    .map_err(|e| format!("seed: {e}"))?;
    let inproc::Admin {
        client,
        base,
        csrf: token,
    } = inproc::serve_and_sign_in(state).await?;

    // What waits for the city: approved first, then submitted (the city may confirm both).
    let mut items = Vec::new();
    for status in ["approved", "submitted"] {
        let list: Value = client
            .get(format!("{base}/api/v1/activities?status={status}"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        for a in list.as_array().into_iter().flatten() {
            if items.len() < ITEMS {
                items.push(json!({"id": a["id"], "version": a["version"]}));
            }
        }
    }
    if items.len() < ITEMS {
        return Err(format!("only {} reports wait at the city", items.len()));
    }
    let body = json!({"step": "confirm", "items": items});
    let send = || async {
        let started = Instant::now();
        let response = client
            .post(format!("{base}/api/v1/activities/bulk-transitions"))
            .header("X-CSRF-Token", &token)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let answer: Value = response.json().await.map_err(|e| e.to_string())?;
        let took = started.elapsed();
        if !status.is_success() {
            return Err(format!("bulk answered {status}: {answer}"));
        }
        Ok::<_, String>((took, answer))
    };
    let (first, answer) = send().await?;
    let done = answer["tally"]["done"].as_u64().unwrap_or(0);
    let (retry, again) = send().await?;
    if again["tally"]["already"].as_u64() != Some(ITEMS as u64) {
        return Err(format!(
            "the retry was not all 'already': {}",
            again["tally"]
        ));
    }
    let audited = testing::scalar::<i64>(
        &db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'activity.confirm'",
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(Figures {
        first,
        retry,
        done,
        audited,
    })
}

fn main() -> ExitCode {
    let pg_server = std::env::var("WANGJU_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "wangju bulk benchmark ({} build), load average {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        common::load_average()
    );
    println!("  data: `wangju demo seed --scale national`; one request confirming {ITEMS} reports");
    let mut backends = vec![("SQLite", String::new(), None)];
    if pg_server != "off" {
        let name = format!("wangju_bench_bulk_{}", std::process::id());
        match runtime.block_on(inproc::pg_database(&pg_server, &name)) {
            Ok(url) => backends.push(("PostgreSQL", url, Some(name))),
            Err(e) => eprintln!("  PostgreSQL skipped: {e}"),
        }
    }
    let mut ok = true;
    for (label, url, pg_name) in backends {
        match runtime.block_on(run(url)) {
            Ok(f) => {
                let pass = f.first < TARGET && f.done == ITEMS as u64 && f.audited == ITEMS as i64;
                // Correctness always counts; the time target only in a release build.
                ok &= f.done == ITEMS as u64
                    && f.audited == ITEMS as i64
                    && (cfg!(debug_assertions) || pass);
                println!(
                    "  {label:<11} {ITEMS} confirmed in {:.0} ms (target < {} ms) {}; {} done, {} audit entries; retry {:.0} ms, all 'already'",
                    f.first.as_secs_f64() * 1000.0,
                    TARGET.as_millis(),
                    common::verdict(pass),
                    f.done,
                    f.audited,
                    f.retry.as_secs_f64() * 1000.0,
                );
            }
            Err(e) => {
                ok = false;
                eprintln!("  {label}: {e}");
            }
        }
        if let Some(name) = pg_name {
            runtime.block_on(inproc::drop_pg_database(&pg_server, &name));
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
