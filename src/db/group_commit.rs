//! Group commit: small writes that arrive together share one transaction, and so one disk
//! sync. A writer task takes whatever is waiting (up to `MAX_BATCH`), applies it all, commits
//! once, and only then answers each caller, so every acknowledged write is durable (SQLite runs
//! with `synchronous=FULL`). Check-ins and upload progress use it: both come in bursts of many
//! tiny rows, where the sync, not the row, is the cost.
//!
//! Without a queue (`GroupCommit::direct`), each write runs its own transaction: the naive way,
//! kept as the check-in benchmark's baseline.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use super::{Db, Tx};
use crate::error::AppError;

/// One write that may share a transaction with others.
pub trait Write: Send + Sync + 'static {
    type Output: Send + 'static;

    /// Applies the write inside `tx`. It must not depend on another write of the same batch
    /// having failed: a failed batch is retried one write at a time.
    fn apply(&self, tx: &mut Tx) -> impl Future<Output = Result<Self::Output, sqlx::Error>> + Send;
}

/// Most writes one commit carries.
const MAX_BATCH: usize = 512;

struct Pending<W: Write> {
    write: W,
    reply: oneshot::Sender<Result<W::Output, AppError>>,
}

/// A handle to one writer task (cheap to clone), or to none.
pub struct GroupCommit<W: Write> {
    db: Db,
    queue: Option<mpsc::Sender<Pending<W>>>,
}

impl<W: Write> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        GroupCommit {
            db: self.db.clone(),
            queue: self.queue.clone(),
        }
    }
}

impl<W: Write> GroupCommit<W> {
    /// Starts the writer task (needs a Tokio runtime).
    pub fn start(db: &Db) -> GroupCommit<W> {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db.clone(), rx));
        GroupCommit {
            db: db.clone(),
            queue: Some(tx),
        }
    }

    /// One transaction per write, no task.
    pub fn direct(db: &Db) -> GroupCommit<W> {
        GroupCommit {
            db: db.clone(),
            queue: None,
        }
    }

    /// Applies `write` and returns once it is committed.
    pub async fn write(&self, write: W) -> Result<W::Output, AppError> {
        let Some(queue) = &self.queue else {
            return Ok(alone(&self.db, &write).await?);
        };
        let (reply, answer) = oneshot::channel();
        queue
            .send(Pending { write, reply })
            .await
            .map_err(|_| AppError::Unavailable)?;
        answer.await.map_err(|_| AppError::Unavailable)?
    }
}

async fn alone<W: Write>(db: &Db, write: &W) -> Result<W::Output, sqlx::Error> {
    let mut tx = db.begin().await?;
    let out = write.apply(&mut tx).await?;
    tx.commit().await?;
    Ok(out)
}

async fn run<W: Write>(db: Db, mut rx: mpsc::Receiver<Pending<W>>) {
    let mut batch: Vec<Pending<W>> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match apply_batch(&db, &batch).await {
            Ok(outputs) => {
                for (p, out) in batch.drain(..).zip(outputs) {
                    let _ = p.reply.send(Ok(out));
                }
            }
            Err(e) => {
                // One bad row (say, its activity was just deleted) must not fail the others:
                // retry each on its own.
                tracing::warn!(error = %e, size = batch.len(), "group commit failed; writing one by one");
                for p in batch.drain(..) {
                    let result = alone(&db, &p.write).await.map_err(AppError::from);
                    let _ = p.reply.send(result);
                }
            }
        }
    }
}

async fn apply_batch<W: Write>(
    db: &Db,
    batch: &[Pending<W>],
) -> Result<Vec<W::Output>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut outputs = Vec::with_capacity(batch.len());
    for p in batch {
        outputs.push(p.write.apply(&mut tx).await?);
    }
    tx.commit().await?;
    Ok(outputs)
}
