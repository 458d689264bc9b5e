//! Operations tests: whole deployments as separate processes — `wangju serve` nodes, nginx, a
//! PostgreSQL server of the test's own, moto's S3 server — under load while things fail.
//!
//! A test binary of its own, apart from `tests/it`, because these tests own machine-level
//! things for their duration (a PostgreSQL server they restart, a tmpfs they fill, nginx),
//! measure timings that parallel tests would distort, and run for tens of seconds each: they
//! run one at a time (`serial`), after the main suite. They need what `.ci/run` installs:
//! nginx, PostgreSQL's server binaries, moto, ffmpeg, openssl, and root for the tmpfs mount.
//!
//! `WANGJU_CRASH_TRIALS` sets how many crash trials `crash_trials` runs (CI: a short run);
//! `scripts/crash-trials` runs many. The soak (`scripts/soak`) is `#[ignore]`d here.

mod backup;
mod cluster;
mod crash;
mod disk_full;
mod load;
mod soak;
mod support;

/// One operations test at a time (they measure time and use the machine's cores). A Tokio
/// mutex: the guard lives across each test's awaits, and waiting for it parks no thread.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}
