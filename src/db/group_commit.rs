//! Group commit: small writes that arrive together share one transaction, and so one disk
//! sync. A writer task takes whatever is waiting (up to `MAX_BATCH`), applies it all, commits
//! once, and only then answers each caller, so every acknowledged write is durable (SQLite runs
//! with `synchronous=FULL`). Check-ins and upload progress use it: both come in bursts of many
//! tiny rows, where the sync, not the row, is the cost.
//!
//! Without a queue (`GroupCommit::direct`), each write runs its own transaction: the naive way,
//! kept as the check-in benchmark's baseline.
//!
//! On shutdown (`GroupCommit::shutdown`) the queue stops taking writes (they answer 503) and
//! the writer commits and answers everything already queued before it ends, so a node that is
//! stopped leaves no acknowledged-to-be write behind.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Db, Tx};
use crate::error::AppError;

/// One write that may share a transaction with others.
pub trait Write: Send + Sync + 'static {
    type Output: Send + 'static;

    /// Applies the write inside `tx`. It must not depend on another write of the same batch
    /// having failed: a failed batch is retried one write at a time.
    fn apply(&self, tx: &mut Tx) -> impl Future<Output = Result<Self::Output, sqlx::Error>> + Send;

    /// Applies a whole batch inside `tx`, one output per write in order. By default one write
    /// after another; a write type with a multi-row form (reach visits) overrides it.
    fn apply_all(
        batch: &[&Self],
        tx: &mut Tx,
    ) -> impl Future<Output = Result<Vec<Self::Output>, sqlx::Error>> + Send
    where
        Self: Sized,
    {
        async move {
            let mut outputs = Vec::with_capacity(batch.len());
            for w in batch {
                outputs.push(w.apply(tx).await?);
            }
            Ok(outputs)
        }
    }
}

/// Most writes one commit carries.
const MAX_BATCH: usize = 512;

struct Pending<W: Write> {
    write: W,
    reply: oneshot::Sender<Result<W::Output, AppError>>,
    queued: Instant,
}

/// The writer task's stop signal and handle.
#[derive(Default)]
struct Writer {
    stop: Notify,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// A handle to one writer task (cheap to clone), or to none.
pub struct GroupCommit<W: Write> {
    db: Db,
    /// The queue's name in metrics (`checkins`, `uploads`).
    name: &'static str,
    queue: Option<mpsc::Sender<Pending<W>>>,
    writer: Arc<Writer>,
}

impl<W: Write> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        GroupCommit {
            db: self.db.clone(),
            name: self.name,
            queue: self.queue.clone(),
            writer: Arc::clone(&self.writer),
        }
    }
}

impl<W: Write> GroupCommit<W> {
    /// Starts the writer task (needs a Tokio runtime).
    pub fn start(db: &Db, name: &'static str) -> GroupCommit<W> {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let writer = Arc::new(Writer::default());
        let task = tokio::spawn(run(db.clone(), name, rx, Arc::clone(&writer)));
        if let Ok(mut slot) = writer.task.lock() {
            *slot = Some(task);
        }
        GroupCommit {
            db: db.clone(),
            name,
            queue: Some(tx),
            writer,
        }
    }

    /// One transaction per write, no task.
    pub fn direct(db: &Db, name: &'static str) -> GroupCommit<W> {
        GroupCommit {
            db: db.clone(),
            name,
            queue: None,
            writer: Arc::default(),
        }
    }

    /// Applies `write` and returns once it is committed.
    pub async fn write(&self, write: W) -> Result<W::Output, AppError> {
        let Some(queue) = &self.queue else {
            crate::telemetry::group_commit(self.name, 1);
            return Ok(alone(&self.db, &write).await?);
        };
        let (reply, answer) = oneshot::channel();
        queue
            .send(Pending {
                write,
                reply,
                queued: Instant::now(),
            })
            .await
            .map_err(|_| AppError::Unavailable)?;
        answer.await.map_err(|_| AppError::Unavailable)?
    }

    /// Queues `write` and returns without waiting for its commit (a full queue still makes the
    /// caller wait for room). What is queued is committed on a clean shutdown; a killed process
    /// loses it. Without a queue the write is applied at once.
    pub async fn enqueue(&self, write: W) -> Result<(), AppError> {
        let Some(queue) = &self.queue else {
            crate::telemetry::group_commit(self.name, 1);
            alone(&self.db, &write).await?;
            return Ok(());
        };
        let (reply, _ignored) = oneshot::channel();
        queue
            .send(Pending {
                write,
                reply,
                queued: Instant::now(),
            })
            .await
            .map_err(|_| AppError::Unavailable)
    }

    /// Stops taking writes, commits and answers those queued, and waits for the writer to end.
    pub async fn shutdown(&self) {
        self.writer.stop.notify_one();
        let task = self.writer.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn alone<W: Write>(db: &Db, write: &W) -> Result<W::Output, sqlx::Error> {
    let mut tx = db.begin().await?;
    let out = write.apply(&mut tx).await?;
    tx.commit().await?;
    Ok(out)
}

async fn run<W: Write>(
    db: Db,
    name: &'static str,
    mut rx: mpsc::Receiver<Pending<W>>,
    writer: Arc<Writer>,
) {
    let mut batch: Vec<Pending<W>> = Vec::with_capacity(MAX_BATCH);
    let mut stopping = false;
    loop {
        let n = if stopping {
            rx.recv_many(&mut batch, MAX_BATCH).await
        } else {
            tokio::select! {
                n = rx.recv_many(&mut batch, MAX_BATCH) => n,
                () = writer.stop.notified() => {
                    // No new writes; what is queued is still committed and answered.
                    stopping = true;
                    rx.close();
                    continue;
                }
            }
        };
        if n == 0 {
            break;
        }
        crate::telemetry::group_commit(name, batch.len());
        let committed = apply_batch(&db, &batch).await;
        for p in &batch {
            crate::telemetry::group_commit_wait(name, p.queued.elapsed());
        }
        match committed {
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
    let writes: Vec<&W> = batch.iter().map(|p| &p.write).collect();
    let outputs = W::apply_all(&writes, &mut tx).await?;
    tx.commit().await?;
    Ok(outputs)
}
