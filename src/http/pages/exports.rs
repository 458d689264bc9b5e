//! Downloads of campaign progress: the statistics sheet, the allocation table and the circular
//! (通报) as Excel, the circular as Word, and the whole activity list in scope as Excel.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppResult, Doing};
use crate::http::extract::Query;
use crate::http::session::CurrentUser;
use crate::office::tabular;
use crate::service::progress;

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    /// `progress` (the statistics sheet, default), `allocation` (Annex 1's layout) or
    /// `circular` (通报: ranking and the 零报送 list).
    #[serde(default)]
    sheet: String,
}

/// The statistics sheet or the allocation table of the scope, as Excel.
pub async fn export(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ExportQuery>,
) -> AppResult<Response> {
    let p = state.progress.get(&state.db, &session.scope()).await?;
    let (bytes, ascii, zh) = if q.sheet == "circular" {
        let rows = progress::circular_rows(&p);
        let bytes = tabular::write_xlsx("通报", &progress::CIRCULAR_HEADER, &rows);
        (bytes, "circular.xlsx", "线下活动进展通报.xlsx")
    } else if q.sheet == "allocation" {
        let rows = progress::allocation_rows(&p);
        let bytes = tabular::write_xlsx("任务分配表", &progress::ALLOCATION_HEADER, &rows);
        (bytes, "allocation.xlsx", "线下活动任务分配表.xlsx")
    } else {
        let rows = progress::sheet_rows(&p);
        let bytes = tabular::write_xlsx("统计表", &progress::SHEET_HEADER, &rows);
        (bytes, "progress.xlsx", "线下活动统计表.xlsx")
    };
    let bytes = bytes.doing("writing the progress export")?;
    Ok(super::download(bytes, super::XLSX, ascii, zh))
}

/// The circular (通报) of the account's scope as a Word document, from the same snapshot as
/// the Excel sheets.
pub async fn circular_docx(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> AppResult<Response> {
    let scope_name = if session.role.sees_everything() {
        "全市".to_string()
    } else {
        session.org.name.clone()
    };
    let p = state.progress.get(&state.db, &session.scope()).await?;
    let bytes =
        crate::service::circular::circular_docx(&state.db, &p, &scope_name, state.clock.today())
            .await?;
    Ok(super::download(
        bytes,
        super::DOCX,
        "circular.docx",
        "线下活动进展通报.docx",
    ))
}

/// The activity list in scope as Excel, narrowed by the list's filter (every matching row, with
/// links to each activity's page).
pub async fn export_list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<super::activities::ListQuery>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    let filter = super::activities::filter_of(&state, &session.acting(), &q).await?;
    let base_url = super::origin(&state, &headers);
    let dir = tempfile::tempdir().doing("making a scratch folder for the export")?;
    let path = dir.path().join("activities.xlsx");
    crate::service::activity_export::write_xlsx(
        &state.db,
        &session.scope(),
        &filter.filter,
        base_url,
        &path,
    )
    .await?;
    let bytes = tokio::fs::read(&path)
        .await
        .doing("streaming the activity export")?;
    Ok(super::download(
        bytes,
        super::XLSX,
        "activities.xlsx",
        "线下活动清单.xlsx",
    ))
}
