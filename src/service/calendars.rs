//! The working-day calendar: the built-in years with the years the city loaded over them.
//! Loading a year is audited; the document is validated before anything is written.

use crate::db::audit::{self, Actor, Event};
use crate::db::{Db, calendars};
use crate::domain::calendar::{Calendar, CalendarFileError, YearCalendar};
use crate::error::{AppError, FieldError};

impl From<Vec<CalendarFileError>> for AppError {
    fn from(errors: Vec<CalendarFileError>) -> AppError {
        AppError::Invalid(
            errors
                .into_iter()
                .map(|e| FieldError::new(e.field, e.message))
                .collect(),
        )
    }
}

/// The calendar in force: built-in years, replaced by any the city loaded for the same year.
pub async fn current(db: &Db) -> Result<Calendar, AppError> {
    let mut calendar = Calendar::built_in();
    for (year, document) in calendars::all(db).await? {
        match YearCalendar::parse_toml(&document) {
            Ok(loaded) => calendar.insert(loaded),
            // Stored documents were checked on the way in; one that no longer parses (a rule
            // added since) leaves the built-in year in force and says so.
            Err(errors) => tracing::warn!(year, ?errors, "stored calendar no longer parses"),
        }
    }
    Ok(calendar)
}

/// Checks and stores one year's arrangement; returns its year.
pub async fn import_toml(db: &Db, source: &str, actor: &Actor) -> Result<i32, AppError> {
    let year = YearCalendar::parse_toml(source)?;
    let mut tx = db.begin().await?;
    let before = calendars::one(&mut tx, i64::from(year.year)).await?;
    calendars::upsert(&mut tx, i64::from(year.year), source, actor.user_id).await?;
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "calendar.import",
            object_type: "calendar",
            object_id: year.year.to_string(),
            before: before.map(|(_, document)| serde_json::json!({ "document": document })),
            after: Some(serde_json::json!({ "document": source })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(year.year)
}

/// One year's arrangement as a file (the loaded one, or the built-in one).
pub async fn export_toml(db: &Db, year: i32) -> Result<String, AppError> {
    current(db)
        .await?
        .year(year)
        .map(YearCalendar::to_toml)
        .ok_or_else(|| AppError::invalid("year", format!("没有 {year} 年的节假日安排")))
}
