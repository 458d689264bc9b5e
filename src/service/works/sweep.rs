//! The sweep of abandoned uploads: half-sent files and checked files nobody submitted, idle
//! past `upload_keep_days`, are claimed, their objects deleted, then their rows; every node runs
//! it every ten minutes.

use crate::db::Db;
use crate::db::works;
use crate::error::AppError;
use crate::store::FileStore;

/// What one sweep of abandoned uploads did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub uploads: u64,
    pub objects_failed: u64,
}

/// Most uploads one sweep deletes; the next sweep takes the rest.
const SWEEP_BATCH: i64 = 200;

/// Deletes uploads that no work uses, idle for longer than `keep`: half-sent ones a phone
/// never finished (with their parts) and checked files nobody submitted. A file named by any
/// submission in a work's history is kept. Safe on several nodes at once: each upload is first
/// claimed (after which no submission can take it), then its objects go, then its row; a node
/// that dies midway leaves a claimed row the next sweep finishes. `now` is the Unix time the
/// idle periods are measured to (the real clock, except in tests that let days pass).
pub async fn sweep_abandoned(
    db: &Db,
    store: &FileStore,
    keep: std::time::Duration,
    now: i64,
) -> Result<Swept, AppError> {
    let keep = i64::try_from(keep.as_secs()).unwrap_or(i64::MAX);
    let idle_since = now.saturating_sub(keep);
    let mut swept = Swept::default();
    for upload in works::abandoned_uploads(db, idle_since, SWEEP_BATCH).await? {
        if !works::claim_abandoned(db, &upload.id, idle_since).await? {
            continue;
        }
        let mut failed = 0;
        if store
            .delete_prefix(&format!("uploads/{}/", upload.id))
            .await
            .is_err()
        {
            failed += 1;
        }
        for key in [&upload.stored_key, &upload.clean_key, &upload.poster_key]
            .into_iter()
            .flatten()
        {
            if store.delete(key).await.is_err() {
                failed += 1;
            }
        }
        if failed > 0 {
            // Keep the claimed row: the next sweep tries its objects again.
            tracing::warn!(upload = %upload.id, failed, "could not delete an abandoned upload's files");
            swept.objects_failed += failed;
            continue;
        }
        works::delete_expired(db, &upload.id).await?;
        swept.uploads += 1;
    }
    Ok(swept)
}

/// Sweeps abandoned uploads every ten minutes (see [`sweep_abandoned`]).
pub async fn sweep_ticker(db: Db, store: FileStore, keep: std::time::Duration) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(600));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match sweep_abandoned(&db, &store, keep, crate::clock::unix_now()).await {
            Ok(s) if s.uploads + s.objects_failed > 0 => {
                tracing::info!(
                    uploads = s.uploads,
                    failed = s.objects_failed,
                    "swept abandoned uploads"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweep of abandoned uploads failed"),
        }
    }
}
