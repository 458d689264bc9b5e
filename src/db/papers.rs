//! What the city sets for its papers, per campaign: the circular's document number and its
//! edited first paragraph.

use super::sql::{query, query_as, statements};
use super::{Db, Tx, on_pool, on_tx};

statements! {
    GET = "SELECT doc_number, lead FROM campaign_papers WHERE campaign_id = $1";
    /// Sets both (NULL clears one).
    PUT = "INSERT INTO campaign_papers (campaign_id, doc_number, lead, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (campaign_id) DO UPDATE SET doc_number = excluded.doc_number, lead = excluded.lead,
         updated_at = excluded.updated_at";
}

/// The circular's settings; both `None` until the city sets them.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct PaperTexts {
    pub doc_number: Option<String>,
    pub lead: Option<String>,
}

pub async fn get(db: &Db, campaign_id: i64) -> Result<PaperTexts, sqlx::Error> {
    let row: Option<PaperTexts> = on_pool!(db, pool => query_as::<_, PaperTexts>(&GET)
        .bind(campaign_id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.unwrap_or_default())
}

/// The settings as they stand inside a transaction (for the audit log's before).
pub async fn get_tx(tx: &mut Tx, campaign_id: i64) -> Result<PaperTexts, sqlx::Error> {
    let row: Option<PaperTexts> = on_tx!(tx, c => query_as::<_, PaperTexts>(&GET)
        .bind(campaign_id)
        .fetch_optional(c)
        .await)?;
    Ok(row.unwrap_or_default())
}

pub async fn put(
    tx: &mut Tx,
    campaign_id: i64,
    texts: &PaperTexts,
    now: i64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, c => query(&PUT)
        .bind(campaign_id)
        .bind(texts.doc_number.as_deref())
        .bind(texts.lead.as_deref())
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
