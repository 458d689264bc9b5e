//! The database side of `wangju backup` and `wangju restore`: a consistent copy taken while
//! nodes keep writing, and the row counts at the moment of that copy.
//!
//! - SQLite: `VACUUM INTO` on a connection of its own (a read transaction: writers go on; the
//!   copy is one snapshot, compact and checked), then the counts read from the copy itself.
//! - PostgreSQL: a REPEATABLE READ transaction exports its snapshot, counts in it, and
//!   `pg_dump --snapshot` dumps exactly that snapshot while the transaction stays open.

use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

use super::sql::{query, query_as, query_scalar, statements};
use super::{Db, on_pool};

statements! {
    /// Writes a consistent copy of the whole database to a new file.
    VACUUM_INTO = "VACUUM INTO $1", "";
    INTEGRITY_CHECK = "PRAGMA integrity_check", "";
    /// The snapshot `pg_dump --snapshot` will dump; only inside a REPEATABLE READ transaction.
    REPEATABLE_READ = "", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    EXPORT_SNAPSHOT = "", "SELECT pg_export_snapshot()";
    /// Whether a database already holds Wangju's tables (a restore needs an empty one).
    HAS_SCHEMA = "SELECT COUNT(*) FROM sqlite_master WHERE name = '_sqlx_migrations'",
        "SELECT COUNT(*) FROM pg_tables WHERE tablename = '_sqlx_migrations'";
    /// What a backup holds: the latest migration and the rows of the tables people write.
    COUNTS = "SELECT (SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations) AS schema_version,
        (SELECT COUNT(*) FROM orgs) AS orgs,
        (SELECT COUNT(*) FROM users) AS users,
        (SELECT COUNT(*) FROM activities) AS activities,
        (SELECT COUNT(*) FROM activity_photos) AS photos,
        (SELECT COUNT(*) FROM checkins) AS checkins,
        (SELECT COUNT(*) FROM propagandists) AS propagandists,
        (SELECT COUNT(*) FROM uploads) AS uploads,
        (SELECT COUNT(*) FROM works) AS works,
        (SELECT COUNT(*) FROM reminders) AS reminders,
        (SELECT COUNT(*) FROM audit_log) AS audit_entries";
}

/// Rows per table at the backup point (recorded in the manifest, compared after a restore).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Counts {
    pub schema_version: i64,
    pub orgs: i64,
    pub users: i64,
    pub activities: i64,
    pub photos: i64,
    pub checkins: i64,
    pub propagandists: i64,
    pub uploads: i64,
    pub works: i64,
    pub reminders: i64,
    pub audit_entries: i64,
}

/// Counts of the database as it stands.
pub async fn counts(db: &Db) -> Result<Counts, sqlx::Error> {
    on_pool!(db, pool => query_as(&COUNTS).fetch_one(pool).await)
}

/// Whether the database already holds Wangju's schema.
pub async fn has_schema(db: &Db) -> Result<bool, sqlx::Error> {
    let n: i64 = on_pool!(db, pool => query_scalar(&HAS_SCHEMA).fetch_one(pool).await)?;
    Ok(n > 0)
}

/// A SQLite connection of its own to the file at `path` (not the app's pools: the copy must
/// not hold the app's one writer, and a read-only reader cannot write the copy).
async fn own_connection(path: &Path, read_only: bool) -> Result<SqliteConnection, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .read_only(read_only)
        .busy_timeout(std::time::Duration::from_secs(5));
    SqliteConnection::connect_with(&options).await
}

/// Copies the SQLite database at `source` into the new file `target` (one snapshot), checks
/// the copy and returns its counts.
pub async fn sqlite_copy(source: &Path, target: &Path) -> anyhow::Result<Counts> {
    let mut conn = own_connection(source, false).await?;
    query(&VACUUM_INTO)
        .bind(target.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    sqlite_check(target).await
}

/// Checks a SQLite file (`PRAGMA integrity_check`) and returns its counts.
pub async fn sqlite_check(path: &Path) -> anyhow::Result<Counts> {
    let mut conn = own_connection(path, true).await?;
    let verdict: String = query_scalar(&INTEGRITY_CHECK).fetch_one(&mut conn).await?;
    if verdict != "ok" {
        anyhow::bail!("数据库文件 {} 校验未通过：{verdict}", path.display());
    }
    let counts = query_as(&COUNTS).fetch_one(&mut conn).await?;
    conn.close().await?;
    Ok(counts)
}

/// A PostgreSQL snapshot held open: its id (for `pg_dump --snapshot`) and its counts. The
/// snapshot lives as long as this value.
pub struct PgSnapshot {
    pub id: String,
    pub counts: Counts,
    _tx: sqlx::Transaction<'static, sqlx::Postgres>,
}

/// Opens a snapshot of the PostgreSQL database and counts its rows.
pub async fn pg_snapshot(db: &Db) -> anyhow::Result<PgSnapshot> {
    let Db::Postgres(pool) = db else {
        anyhow::bail!("not a PostgreSQL database");
    };
    let mut tx = pool.begin().await?;
    query(&REPEATABLE_READ).execute(&mut *tx).await?;
    let id: String = query_scalar(&EXPORT_SNAPSHOT).fetch_one(&mut *tx).await?;
    let counts = query_as(&COUNTS).fetch_one(&mut *tx).await?;
    Ok(PgSnapshot {
        id,
        counts,
        _tx: tx,
    })
}
