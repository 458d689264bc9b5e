//! Holiday arrangements the city loaded (one TOML document per year).

use super::sql::{query, query_as, statements};
use super::{Db, Tx, on_pool, on_tx};
use crate::clock::unix_now;
use crate::domain::ids::UserId;

statements! {
    ALL = "SELECT year, document FROM calendars ORDER BY year";
    UPSERT = "INSERT INTO calendars (year, document, loaded_at, loaded_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (year) DO UPDATE SET document = excluded.document, loaded_at = excluded.loaded_at, loaded_by = excluded.loaded_by";
    ONE = "SELECT year, document FROM calendars WHERE year = $1";
}

/// Every loaded year's document, by year.
pub async fn all(db: &Db) -> Result<Vec<(i64, String)>, sqlx::Error> {
    on_pool!(db, pool => query_as(&ALL).fetch_all(pool).await)
}

/// The loaded document of one year, if any (before it is replaced, for the audit log).
pub async fn one(tx: &mut Tx, year: i64) -> Result<Option<(i64, String)>, sqlx::Error> {
    on_tx!(tx, c => query_as(&ONE).bind(year).fetch_optional(c).await)
}

pub async fn upsert(
    tx: &mut Tx,
    year: i64,
    document: &str,
    by: Option<UserId>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&UPSERT)
        .bind(year)
        .bind(document)
        .bind(unix_now())
        .bind(by)
        .execute(c)
        .await
        .map(|_| ()))
}
