//! Storage seam: one `Db` over SQLite or PostgreSQL, picked at start-up from the URL. Nothing
//! outside this module names a driver. SQL is written once: `$1` placeholders, `RETURNING`,
//! `ON CONFLICT` and integer times mean the same on both; where they differ the query module
//! branches explicitly.

pub mod activities;
pub mod archive;
pub mod audit;
pub mod backup;
pub mod calendars;
pub mod campaigns;
pub mod checkins;
pub mod demo;
pub mod group_commit;
pub mod lecture_team;
pub mod lectures;
pub mod orgs;
pub mod papers;
pub mod photos;
pub mod propagandists;
pub mod publicity;
pub mod quotas;
pub mod reach;
pub mod recommendation;
pub mod reminders;
pub mod schema;
pub mod selection;
pub mod sessions;
pub mod sql;
pub mod summary;
pub mod testing;
pub mod types;
pub mod users;
pub mod works;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};

/// Runs `$body` with `$c` bound to the backend's pool (or connection), whichever it is.
/// The body is generic code that compiles for both drivers.
macro_rules! on_pool {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { read: $c, .. } => $body,
            $crate::db::Db::Postgres($c) => $body,
        }
    };
}

/// Same as [`on_pool`] for an open transaction.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

pub(crate) use {on_pool, on_tx};

sql::statements! {
    /// Whether the database answers.
    PING = "SELECT 1";
    /// Start-up work (bootstrap) is serialised across nodes on PostgreSQL; SQLite nodes hold
    /// the data folder's lock file instead.
    LOCK_STARTUP = "", "SELECT pg_advisory_lock(7240420020)";
    UNLOCK_STARTUP = "", "SELECT pg_advisory_unlock(7240420020)";
}

#[derive(Clone, Debug)]
pub enum Db {
    /// Reads go through a pool; writes through a single connection, because SQLite has one
    /// writer anyway and queueing in-process beats "database is locked".
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// A write transaction. Dropping it without `commit` rolls back: nothing half-written.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// How many connections one pool holds and how many of them are idle.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub name: &'static str,
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Db {
    /// Connects, creating the SQLite file (and its folder) when needed. `max_connections` is
    /// the PostgreSQL pool's size (SQLite: its readers; it has one writer).
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        let max_connections = max_connections.max(1);
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .context("PostgreSQL 连接地址格式不对")?
                .options([
                    ("statement_timeout", "30s"),
                    ("idle_in_transaction_session_timeout", "60s"),
                    ("lock_timeout", "10s"),
                ]);
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                // A request waits this long for a connection, then answers 503: during a
                // database outage nodes answer, they do not hang.
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .context("无法连接 PostgreSQL")?;
            Ok(Db::Postgres(pool))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if let Some(parent) = Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("无法创建数据目录 {}", parent.display()))?;
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // Every acknowledged write survives power loss.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .pragma("journal_size_limit", "67108864");
            let write = open_sqlite(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(10)),
                // A multi-row insert inside a transaction keeps a statement journal (to undo
                // that one statement); past 64 KiB SQLite spills it to a temporary file, which
                // the group-commit writers' batches did every time: a file written and deleted
                // per batch. In memory it is bounded by one statement's pages (a batch of 512
                // visits: a few MB). Readers keep their sorts on disk.
                options.clone().pragma("temp_store", "memory"),
            )
            .await
            .with_context(|| format!("无法打开 SQLite 数据库 {path}"))?;
            let read = open_sqlite(
                SqlitePoolOptions::new()
                    .max_connections(max_connections.min(8))
                    .acquire_timeout(Duration::from_secs(5)),
                options.read_only(true),
            )
            .await
            .with_context(|| format!("无法打开 SQLite 数据库 {path}"))?;
            Ok(Db::Sqlite { read, write })
        } else {
            anyhow::bail!("不支持的数据库地址：须以 sqlite:// 或 postgres:// 开头")
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations. Safe when several nodes start at once: PostgreSQL holds an
    /// advisory lock during migration (sqlx takes it); SQLite callers hold the data folder's
    /// lock file (see `app::bootstrap`).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite { write, .. } => sqlx::migrate!("migrations/sqlite").run(write).await?,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, taking the write lock up
    /// front so a read-then-write transaction cannot fail half-way on a concurrent writer.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Sqlite { write, .. } => match write.begin_with("BEGIN IMMEDIATE").await {
                // A COMMIT that failed (a full disk) leaves sqlx's one write connection
                // counted as inside a transaction, and every later write would fail on it
                // until a restart. That connection is closed; a fresh one takes its place.
                Err(e) if e.to_string().contains("non-zero transaction depth") => {
                    tracing::warn!("replacing the SQLite write connection after a failed commit");
                    let mut stuck = write.acquire().await?;
                    stuck.close_on_drop();
                    drop(stuck);
                    Ok(Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?))
                }
                begun => Ok(Tx::Sqlite(begun?)),
            },
            Db::Postgres(pool) => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }

    /// A read-only transaction on one snapshot: figures read in it agree with one another
    /// however many writes commit meanwhile (a dashboard's totals and its lists). SQLite: a
    /// deferred transaction on a reader, which WAL holds to the snapshot of its first read;
    /// PostgreSQL: REPEATABLE READ, READ ONLY. End it with `commit` (or drop it).
    pub async fn snapshot(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Sqlite { read, .. } => Ok(Tx::Sqlite(read.begin().await?)),
            Db::Postgres(pool) => Ok(Tx::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            )),
        }
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> bool {
        let probe =
            async { on_pool!(self, pool => sql::query(&PING).execute(pool).await.map(|_| ())) };
        matches!(
            tokio::time::timeout(Duration::from_secs(2), probe).await,
            Ok(Ok(()))
        )
    }

    /// Serialises start-up work (bootstrap) across nodes sharing a PostgreSQL database.
    /// Returns a guard connection that holds the lock until dropped.
    pub async fn lock_startup(
        &self,
    ) -> anyhow::Result<Option<sqlx::pool::PoolConnection<Postgres>>> {
        match self {
            Db::Sqlite { .. } => Ok(None),
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                sql::query(&LOCK_STARTUP).execute(&mut *conn).await?;
                Ok(Some(conn))
            }
        }
    }

    pub async fn unlock_startup(
        &self,
        guard: Option<sqlx::pool::PoolConnection<Postgres>>,
    ) -> anyhow::Result<()> {
        if let Some(mut conn) = guard {
            sql::query(&UNLOCK_STARTUP).execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Connections of each pool, for `/metrics`.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        fn stats<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> PoolStats {
            PoolStats {
                name,
                size: pool.size(),
                idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                max: pool.options().get_max_connections(),
            }
        }
        match self {
            Db::Sqlite { read, write } => vec![stats("read", read), stats("write", write)],
            Db::Postgres(pool) => vec![stats("postgres", pool)],
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// Opens a SQLite pool, retrying for a few seconds while the file is locked. Several nodes
/// starting at once on a new file race to switch it to WAL, and SQLite answers that race (and
/// WAL recovery) with "database is locked" without waiting on the busy timeout.
async fn open_sqlite(
    pool: SqlitePoolOptions,
    options: SqliteConnectOptions,
) -> Result<SqlitePool, sqlx::Error> {
    let mut delay = Duration::from_millis(20);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match pool.clone().connect_with(options.clone()).await {
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_millis(500));
            }
            result => return result,
        }
    }
}

/// SQLITE_BUSY and its extended codes (the primary code is the low byte).
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

/// Every named statement of the storage seam (see [`sql`]), for the test that prepares them all.
pub fn statements() -> Vec<&'static sql::Sql> {
    [
        STATEMENTS,
        activities::STATEMENTS,
        archive::STATEMENTS,
        audit::STATEMENTS,
        backup::STATEMENTS,
        calendars::STATEMENTS,
        campaigns::STATEMENTS,
        checkins::STATEMENTS,
        demo::STATEMENTS,
        orgs::STATEMENTS,
        photos::STATEMENTS,
        propagandists::STATEMENTS,
        publicity::STATEMENTS,
        quotas::STATEMENTS,
        reminders::STATEMENTS,
        papers::STATEMENTS,
        schema::STATEMENTS,
        selection::STATEMENTS,
        sessions::STATEMENTS,
        users::STATEMENTS,
        works::STATEMENTS,
        lecture_team::STATEMENTS,
        lectures::STATEMENTS,
        reach::STATEMENTS,
        recommendation::STATEMENTS,
        summary::STATEMENTS,
    ]
    .concat()
}

/// Every multi-row insert of the storage seam.
pub fn bulk_inserts() -> Vec<&'static sql::Bulk> {
    [
        demo::BULK,
        propagandists::BULK,
        reach::BULK,
        selection::BULK,
    ]
    .concat()
}

/// Whether an error is a unique-constraint violation (same code on both databases' drivers).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

#[cfg(test)]
mod tests {
    /// Both databases must carry the same migration versions, or one of them lags behind.
    #[test]
    fn migrations_have_the_same_versions_on_both_databases() {
        let names = |dir: &str| -> Vec<String> {
            let mut list: Vec<String> = std::fs::read_dir(dir)
                .map(|d| {
                    d.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                        .collect()
                })
                .unwrap_or_default();
            list.sort();
            list
        };
        let sqlite = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"));
        let postgres = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"));
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }
}
