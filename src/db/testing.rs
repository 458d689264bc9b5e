//! Run-time SQL for tests, benchmarks and operations checks: the one place besides `sql.rs`
//! that runs statements built from strings. Tests use it to make time pass, to tamper with
//! rows behind Wangju's back, to count what a flow left behind and to make and drop scratch
//! PostgreSQL databases. Wangju itself never calls it; its own SQL is in the named statements,
//! which `tests/it/seam.rs` prepares on both databases.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Decode, FromRow, PgConnection, Postgres, Sqlite, Type};

use super::Db;

/// A value both drivers decode (`i64`, `String`, `Option<…>` of them).
pub trait Scalar:
    for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
    + Send
    + Unpin
{
}

impl<T> Scalar for T where
    T: for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + Send
        + Unpin
{
}

/// A row both drivers decode (tuples of scalars).
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// Applies the migrations found in `dir` (a copy of the first few of `migrations/<backend>`),
/// as an older Wangju would have: a migration's test writes rows the old way, then migrates on.
pub async fn migrate_from(
    db: &Db,
    dir: &std::path::Path,
) -> Result<(), sqlx::migrate::MigrateError> {
    let migrator = sqlx::migrate::Migrator::new(dir).await?;
    match db {
        Db::Sqlite { write, .. } => migrator.run(write).await,
        Db::Postgres(pool) => migrator.run(pool).await,
    }
}

// SQLite statements run on the writer: it sees every committed write, the test's own included,
// and it is the connection that may change the file.

/// Runs one statement; returns the rows it changed.
pub async fn execute(db: &Db, sql: &str) -> Result<u64, sqlx::Error> {
    Ok(match db {
        Db::Sqlite { write, .. } => sqlx::query(sql).execute(write).await?.rows_affected(),
        Db::Postgres(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
    })
}

/// The first column of the one row `sql` returns.
pub async fn scalar<T: Scalar>(db: &Db, sql: &str) -> Result<T, sqlx::Error> {
    match db {
        Db::Sqlite { write, .. } => sqlx::query_scalar(sql).fetch_one(write).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
}

/// Same as [`scalar`] with one text parameter bound to `$1`.
pub async fn scalar_with<T: Scalar>(db: &Db, sql: &str, param: &str) -> Result<T, sqlx::Error> {
    match db {
        Db::Sqlite { write, .. } => sqlx::query_scalar(sql).bind(param).fetch_one(write).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).bind(param).fetch_one(pool).await,
    }
}

/// The first column of every row `sql` returns.
pub async fn column<T: Scalar>(db: &Db, sql: &str) -> Result<Vec<T>, sqlx::Error> {
    match db {
        Db::Sqlite { write, .. } => sqlx::query_scalar(sql).fetch_all(write).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    }
}

/// Every row `sql` returns, as tuples.
pub async fn rows<T: Row>(db: &Db, sql: &str) -> Result<Vec<T>, sqlx::Error> {
    match db {
        Db::Sqlite { write, .. } => sqlx::query_as(sql).fetch_all(write).await,
        Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
}

/// `COUNT(*)` of a table.
pub async fn count(db: &Db, table: &str) -> Result<i64, sqlx::Error> {
    scalar(db, &format!("SELECT COUNT(*) FROM {}", identifier(table)?)).await
}

/// Creates database `name` on the PostgreSQL server at `server_url` (a URL naming any database
/// on it, usually `…/postgres`).
pub async fn create_database(server_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(server_url).await?;
    sqlx::query(&format!("CREATE DATABASE {}", identifier(name)?))
        .execute(&mut conn)
        .await?;
    conn.close().await
}

/// Drops database `name` if it is there, closing the sessions still on it.
pub async fn drop_database(server_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(server_url).await?;
    sqlx::query(&format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        identifier(name)?
    ))
    .execute(&mut conn)
    .await?;
    conn.close().await
}

/// Table and database names are spliced into SQL, so only plain lower-case identifiers pass.
fn identifier(name: &str) -> Result<&str, sqlx::Error> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(name)
    } else {
        Err(sqlx::Error::Protocol(format!(
            "not a plain identifier: {name:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::identifier;

    #[test]
    fn only_plain_identifiers_are_spliced() {
        assert!(identifier("wangju_test_0a1b").is_ok());
        for bad in ["", "Users", "x; DROP TABLE users", "a-b", "1abc", "名字"] {
            assert!(identifier(bad).is_err(), "{bad}");
        }
    }
}
