//! Application state and start-up. `App::build` gives a ready app (database migrated, built-in
//! campaign loaded) so tests can serve it on port 0 without a command line.

use std::sync::Arc;

use page_cache::CachedPage;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::service::bootstrap::{self, FirstAdmin};

/// Everything a handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl App {
    /// A node-local folder for files being checked (never shared between nodes).
    pub fn scratch_dir(&self) -> std::path::PathBuf {
        self.settings.data_dir.join("tmp")
    }
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

pub struct App {
    pub db: Db,
    pub settings: Settings,
    pub clock: Clock,
    /// The rendered public overview; it changes only when the campaign (or the day) does.
    pub overview: CachedPage,
    /// Login attempts per client address.
    pub login_limiter: crate::http::limit::LoginLimiter,
    /// Where uploaded works are kept (local folder or S3-compatible storage).
    pub store: crate::store::FileStore,
    /// Stores check-ins, grouping the commits of those arriving together.
    pub checkins: crate::service::checkin::CheckinWriter,
    /// Records the bytes each upload chunk delivered, sharing commits between uploads.
    pub upload_progress: crate::db::group_commit::GroupCommit<crate::db::works::Advance>,
    /// Limits on check-ins: unknown codes, check-ins per code and per phone.
    pub checkin_limits: crate::http::limit::CheckinLimits,
    /// The dashboard's figures, shared by all requests (see `ProgressCache`).
    pub progress: crate::service::progress::ProgressCache,
    /// The current campaign, parsed once per node (see `CampaignCache`).
    pub campaign: crate::service::campaigns::CampaignCache,
    /// Counts visits through share links off the request path (see `service::reach`).
    pub reach: crate::service::reach::Reach,
    /// Open review rounds' live rankings (see `RankingCache`).
    pub rankings: crate::service::selection::RankingCache,
    /// Shown works recently asked for (see `ShownWorks`).
    pub shown_works: crate::service::showcase::ShownWorks,
    /// The register's totals, counted once per change (see `RegisterTotals`).
    pub register_totals: crate::service::propagandists::RegisterTotals,
    /// The program that makes video posters in a child process (`Settings::poster_helper`).
    pub poster_helper: Option<std::path::PathBuf>,
}

impl App {
    /// Connects, migrates and bootstraps. Returns the first admin's one-time password when this
    /// start created it.
    pub async fn build(settings: Settings) -> anyhow::Result<(AppState, Option<FirstAdmin>)> {
        // Metrics are recorded from the first moment on.
        crate::telemetry::prometheus();
        let url = settings.database_url();
        let db = Db::connect(&url, settings.database_max_connections).await?;
        let lock_file = url
            .strip_prefix("sqlite://")
            .map(|path| std::path::PathBuf::from(format!("{path}.lock")));
        let first_admin = bootstrap::prepare(&db, lock_file).await?;
        let db_for_writer = db.clone();
        let settings_group_commit = settings.checkin_group_commit;
        let store = crate::store::FileStore::from_settings(&settings)?;
        let poster_helper = settings.poster_helper();
        store
            .check()
            .await
            .map_err(|e| anyhow::anyhow!("{e}（请检查 storage 与 s3_* 配置）"))?;
        let app = App {
            db,
            clock: Clock::new(settings.today),
            settings,
            overview: CachedPage::default(),
            campaign: Default::default(),
            login_limiter: Default::default(),
            store,
            checkins: if settings_group_commit {
                crate::db::group_commit::GroupCommit::start(&db_for_writer, "checkins")
            } else {
                crate::db::group_commit::GroupCommit::direct(&db_for_writer, "checkins")
            },
            upload_progress: crate::db::group_commit::GroupCommit::start(&db_for_writer, "uploads"),
            checkin_limits: Default::default(),
            progress: Default::default(),
            reach: crate::service::reach::Reach::new(&db_for_writer, settings_group_commit),
            rankings: Default::default(),
            register_totals: Default::default(),
            shown_works: Default::default(),
            poster_helper,
        };
        Ok((AppState(Arc::new(app)), first_admin))
    }
}

/// Serves until Ctrl-C or SIGTERM. Then: the listener closes at once (the balancer sends new
/// connections to other nodes), requests in flight may finish for `shutdown_grace_seconds`,
/// the group-commit queues commit and answer what they hold, and the pools close.
pub async fn serve(state: AppState, listener: TcpListener) -> anyhow::Result<()> {
    use std::time::Duration;
    let router = crate::http::router(state.clone());
    let sweeper = tokio::spawn(crate::http::session::sweep_idle(state.clone()));
    let reminders = tokio::spawn(crate::service::reminders::ticker(state.clone()));
    let uploads = tokio::spawn(crate::service::works::sweep_ticker(
        state.db.clone(),
        state.store.clone(),
        Duration::from_secs(state.settings.upload_keep_days.saturating_mul(86_400)),
    ));
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("stop signal: no new connections, finishing the requests in flight");
        let _ = stopping.send(());
    })
    .into_future();
    let grace = Duration::from_secs(state.settings.shutdown_grace_seconds);
    let deadline = async move {
        if stopped.await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = serving => served?,
        () = deadline => tracing::warn!(
            seconds = grace.as_secs(),
            "requests still in flight after the grace period; stopping anyway"
        ),
    }
    sweeper.abort();
    reminders.abort();
    uploads.abort();
    state.checkins.shutdown().await;
    state.upload_progress.shutdown().await;
    state.reach.shutdown().await;
    // Connections still held by requests cut off above are not waited for.
    let _ = tokio::time::timeout(Duration::from_secs(5), state.db.close()).await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// A small cache for one rendered page, shared by all requests of this node. Each node keeps
/// its own; entries expire after a few seconds so another node's campaign change shows soon.
pub mod page_cache {
    use std::sync::RwLock;
    use std::time::{Duration, Instant};

    use axum::body::Bytes;
    use chrono::NaiveDate;

    /// How long another node's change may take to show.
    pub const MAX_AGE: Duration = Duration::from_secs(5);

    #[derive(Default)]
    pub struct CachedPage {
        inner: RwLock<[Option<Entry>; 2]>,
    }

    struct Entry {
        day: NaiveDate,
        built: Instant,
        body: Bytes,
    }

    impl CachedPage {
        /// The page for `day`, in its anonymous or signed-in variant (`variant` 0 or 1).
        pub fn get(&self, day: NaiveDate, variant: usize) -> Option<Bytes> {
            let guard = self.inner.read().ok()?;
            let entry = guard.get(variant)?.as_ref()?;
            (entry.day == day && entry.built.elapsed() < MAX_AGE).then(|| entry.body.clone())
        }

        pub fn put(&self, day: NaiveDate, variant: usize, body: Bytes) {
            if let Ok(mut guard) = self.inner.write()
                && let Some(slot) = guard.get_mut(variant)
            {
                *slot = Some(Entry {
                    day,
                    built: Instant::now(),
                    body,
                });
            }
        }
    }
}
