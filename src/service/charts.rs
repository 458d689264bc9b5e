//! The dashboard's charts as data: completion by unit, activities per week, formats and
//! content categories. Each bar or slice carries the link to the activity list it counts, so
//! every figure leads to the rows behind it.

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use crate::db::Db;
use crate::db::activities as db_activities;
use crate::error::AppError;
use crate::service::acting::{Acting, current_campaign};
use crate::service::progress::Progress;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    /// For completion: the confirmed count and quota behind the percentage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The list this figure counts.
    pub link: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Charts {
    /// Completion (%) of the units directly under the viewer's own unit.
    pub completion: Vec<Bar>,
    /// Activities per week (Monday to Sunday) by their date.
    pub weeks: Vec<Bar>,
    pub formats: Vec<Bar>,
    pub categories: Vec<Bar>,
}

fn query(pairs: &[(&str, String)]) -> String {
    format!(
        "/activities?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// The Monday of the week `day` falls in.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The days inside the campaign's activity dates: whatever an old row holds, the chart spans
/// the campaign, not the years between a stray 0001 and 9999.
pub fn within(
    per_day: Vec<(String, i64)>,
    dates: Option<(NaiveDate, NaiveDate)>,
) -> Vec<(String, i64)> {
    let Some((first, last)) = dates else {
        return Vec::new();
    };
    per_day
        .into_iter()
        .filter(|(d, _)| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok_and(|d| d >= first && d <= last)
        })
        .collect()
}

/// Days summed into weeks, every week between the first and last present (empty ones as 0).
pub fn weeks(per_day: &[(String, i64)]) -> Vec<Bar> {
    let days: Vec<(NaiveDate, i64)> = per_day
        .iter()
        .filter_map(|(d, n)| Some((NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?, *n)))
        .collect();
    let (Some(first), Some(last)) = (
        days.iter().map(|(d, _)| *d).min(),
        days.iter().map(|(d, _)| *d).max(),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut monday = week_start(first);
    while monday <= last {
        let sunday = monday + Duration::days(6);
        let value = days
            .iter()
            .filter(|(d, _)| *d >= monday && *d <= sunday)
            .map(|(_, n)| n)
            .sum();
        out.push(Bar {
            label: monday.format("%m-%d").to_string(),
            value,
            detail: Some(format!("{monday} 至 {sunday}")),
            link: query(&[("from", monday.to_string()), ("to", sunday.to_string())]),
        });
        monday += Duration::days(7);
    }
    out
}

pub async fn charts(db: &Db, acting: &Acting, progress: &Progress) -> Result<Charts, AppError> {
    let campaign = current_campaign(db).await?;
    let own_depth = acting.org.depth;
    // The level below the viewer: districts and bureaus for the city, sub-units for a unit.
    let level = progress
        .rows
        .iter()
        .filter(|r| r.quota.is_some() && r.depth > own_depth)
        .map(|r| r.depth)
        .min();
    let completion = progress
        .rows
        .iter()
        .filter(|r| Some(r.depth) == level)
        .filter_map(|r| {
            Some(Bar {
                label: r.name.clone(),
                value: r.completion_percent?,
                detail: Some(format!(
                    "已确认 {} 场 / 任务 {} 场",
                    r.counts.confirmed,
                    r.quota.unwrap_or(0)
                )),
                link: query(&[
                    ("org", r.org_id.to_string()),
                    ("status", "confirmed".into()),
                ]),
            })
        })
        .collect();
    let slices = |rows: Vec<(String, i64)>, key: &str| -> Vec<Bar> {
        rows.into_iter()
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, value)| Bar {
                link: query(&[(key, name.clone())]),
                label: name,
                value,
                detail: None,
            })
            .collect()
    };
    Ok(Charts {
        completion,
        weeks: weeks(&within(
            db_activities::per_day(db, &acting.scope, campaign.id).await?,
            campaign.campaign.activity_dates(),
        )),
        formats: slices(
            db_activities::per_format(db, &acting.scope, campaign.id).await?,
            "format",
        ),
        categories: slices(
            db_activities::per_category(db, &acting.scope, campaign.id).await?,
            "category",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_fold_into_monday_weeks_with_gaps_kept() {
        let days = [
            ("2020-06-03".to_string(), 2), // Wednesday
            ("2020-06-07".to_string(), 1), // Sunday, same week
            ("2020-06-22".to_string(), 4), // two weeks later
        ];
        let w = weeks(&days);
        let values: Vec<i64> = w.iter().map(|b| b.value).collect();
        assert_eq!(values, [3, 0, 0, 4]);
        assert_eq!(w[0].link, "/activities?from=2020-06-01&to=2020-06-07");
        assert_eq!(w[0].detail.as_deref(), Some("2020-06-01 至 2020-06-07"));
    }
}
