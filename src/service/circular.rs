//! The circular (通报) as a Word document: the same ranking and 零报送 list as the Excel
//! circular (`progress::circular_rows`), laid out as a document to send round.

use chrono::{Datelike, NaiveDate};

use crate::db::Db;
use crate::error::{AppError, Doing};
use crate::office::word::{self, Circular};
use crate::service::acting::current_campaign;
use crate::service::progress;

/// The .docx circular of the progress `p` (the caller's, often the dashboard's snapshot), dated
/// `today`; `scope_name` says whose it is (全市, or the unit whose subtree it covers).
pub async fn circular_docx(
    db: &Db,
    p: &progress::Progress,
    scope_name: &str,
    today: NaiveDate,
) -> Result<Vec<u8>, AppError> {
    let campaign = current_campaign(db).await?;
    let campaign_name = format!(
        "{}年“{}”主题活动",
        campaign.campaign.year, campaign.campaign.title
    );
    let date = format!("{}年{}月{}日", today.year(), today.month(), today.day());
    let ranking = progress::circular_ranking(p);
    let zero = progress::zero_report_names(p);
    word::circular_docx(&Circular {
        title: "“12351+”线下活动任务完成情况通报",
        campaign: &campaign_name,
        date: &date,
        scope: scope_name,
        header: &progress::CIRCULAR_HEADER,
        ranking: &ranking,
        zero_report: &zero,
    })
    .doing("writing the circular as Word")
}
