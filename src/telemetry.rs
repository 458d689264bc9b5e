//! Logs and metrics. Logs are human-readable lines on stderr, or JSON lines with
//! `WANGJU_LOG_FORMAT=json` (each line inside a request carries its request id). Metrics are
//! kept by the `metrics` facade and rendered in Prometheus' text format on `/metrics` by
//! `metrics-exporter-prometheus`; every metric name and label is declared here, so this file
//! is the list of what Wangju measures.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Sets up logging from `WANGJU_LOG` (filter; `default_filter` when unset) and
/// `WANGJU_LOG_FORMAT` (`json` for JSON lines; anything else: text).
pub fn init_tracing(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WANGJU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let json = std::env::var("WANGJU_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        // One object per line: time, level, target, the event's fields at the top level, and
        // the request span's fields (method, route, request_id) under "span".
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}

/// Latency buckets (seconds): from a cached page to a checked 50 MB upload.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Writes per group commit.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// The process-wide recorder (installed on first use) and the handle that renders it. Every
/// app in the process shares it: in production one per process; in tests, their sum.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Suffix("_batch_size".into()), BATCH_BUCKETS)
            });
        let recorder = match builder {
            Ok(b) => b.build_recorder(),
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_ok() {
            describe();
            spawn_upkeep(handle.clone());
        }
        handle
    })
}

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The recorder keeps each histogram sample in a queue until something drains it: a scrape of
/// `/metrics`, or this upkeep. `build_recorder` starts no upkeep of its own, and a node nobody
/// scrapes would keep every request's latency in memory (about 8 bytes a sample, forever).
/// A plain thread, so it runs whether or not the process has a tokio runtime.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "metrics upkeep thread did not start; histograms drain only when /metrics is scraped");
    }
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "wangju_http_requests_total",
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        "wangju_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer, by method and route template"
    );
    describe_counter!(
        "wangju_errors_total",
        "Error answers by code (internal, unavailable, storage_full, …)"
    );
    describe_histogram!(
        "wangju_group_commit_batch_size",
        "Writes sharing one commit, by queue (checkins, uploads)"
    );
    describe_histogram!(
        "wangju_group_commit_wait_seconds",
        Unit::Seconds,
        "From a write joining the queue to its commit, by queue"
    );
    describe_counter!(
        "wangju_upload_bytes_total",
        Unit::Bytes,
        "Upload bytes acknowledged (stored and recorded)"
    );
    describe_counter!("wangju_checkins_total", "Check-ins by outcome");
    describe_counter!(
        "wangju_reminder_mails_total",
        "Reminder e-mails by result (sent, failed, skipped)"
    );
    describe_gauge!(
        "wangju_reminder_mails_waiting",
        "Reminder e-mails pending or failed (to be retried), whole database"
    );
    describe_gauge!(
        "wangju_db_pool_connections",
        "Database connections of this node by pool and state (in_use, idle, max)"
    );
    describe_gauge!(
        "wangju_process_resident_memory_bytes",
        Unit::Bytes,
        "Resident memory of this node"
    );
}

/// One answered request.
pub fn http_request(method: &str, route: &'static str, status: u16, elapsed: Duration) {
    let method = method.to_string();
    counter!("wangju_http_requests_total", "method" => method.clone(), "route" => route, "status" => status.to_string())
        .increment(1);
    histogram!("wangju_http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
}

/// One error answer, by its machine code.
pub fn error(code: &'static str) {
    counter!("wangju_errors_total", "code" => code).increment(1);
}

/// One group commit of `size` writes on `queue`.
pub fn group_commit(queue: &'static str, size: usize) {
    histogram!("wangju_group_commit_batch_size", "queue" => queue).record(size as f64);
}

/// How long one write waited on `queue` for its commit.
pub fn group_commit_wait(queue: &'static str, waited: Duration) {
    histogram!("wangju_group_commit_wait_seconds", "queue" => queue).record(waited.as_secs_f64());
}

pub fn upload_bytes(n: u64) {
    counter!("wangju_upload_bytes_total").increment(n);
}

/// `new`, `repeat`, or why it was refused.
pub fn checkin(outcome: &'static str) {
    counter!("wangju_checkins_total", "outcome" => outcome).increment(1);
}

pub fn reminder_mails(result: &'static str, n: usize) {
    if n > 0 {
        counter!("wangju_reminder_mails_total", "result" => result).increment(n as u64);
    }
}

/// Gauges read when `/metrics` is scraped.
pub fn scrape_gauges(pools: &[crate::db::PoolStats], reminders_waiting: Option<i64>) {
    for p in pools {
        let busy = p.size.saturating_sub(p.idle);
        gauge!("wangju_db_pool_connections", "pool" => p.name, "state" => "in_use")
            .set(f64::from(busy));
        gauge!("wangju_db_pool_connections", "pool" => p.name, "state" => "idle")
            .set(f64::from(p.idle));
        gauge!("wangju_db_pool_connections", "pool" => p.name, "state" => "max")
            .set(f64::from(p.max));
    }
    if let Some(n) = reminders_waiting {
        gauge!("wangju_reminder_mails_waiting").set(n as f64);
    }
    if let Some(rss) = resident_bytes() {
        gauge!("wangju_process_resident_memory_bytes").set(rss);
    }
}

/// This process's resident memory, from /proc (Linux).
fn resident_bytes() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0)
}
