//! Downloads of campaign progress: the statistics sheet, the allocation table and the circular
//! (通报) as Excel, the circular as Word, and the whole activity list in scope as Excel.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::AppError;
use crate::error::{AppResult, Doing};
use crate::http::extract::Query;
use crate::http::session::CurrentUser;
use crate::service::papers;

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    /// `progress` (the statistics sheet, default), `allocation` (Annex 1's layout) or
    /// `circular` (通报: ranking and the 零报送 list).
    #[serde(default)]
    sheet: String,
}

/// Whose papers the account gets: the city's, or its own unit's.
pub(crate) async fn issuer(
    state: &AppState,
    session: &crate::http::session::Session,
) -> AppResult<papers::Issuer> {
    if session.sees_everything() {
        papers::Issuer::city(&state.db).await
    } else {
        Ok(papers::Issuer {
            name: session.org.name.clone(),
        })
    }
}

/// The paper `sheet` of the account's scope: the statistics sheet, the allocation table or the
/// circular as Excel, or the circular as Word when `docx`. One function for the page and the API,
/// so both give the same file under the same name.
pub(crate) async fn paper(
    state: &AppState,
    session: &crate::http::session::Session,
    sheet: &str,
    docx: bool,
) -> AppResult<Response> {
    let which = papers::Which::parse(sheet).ok_or_else(|| {
        AppError::invalid(
            "sheet",
            format!("不认识的表“{sheet}”：可选 progress、allocation、circular"),
        )
    })?;
    let p = state.progress.get(&state.db, &session.scope()).await?;
    let issuer = issuer(state, session).await?;
    let today = state.clock.today();
    let (file, kind) = match (which, docx) {
        (papers::Which::Circular, true) => (
            crate::service::circular::circular_docx(
                &state.db,
                &state.store,
                &p,
                &issuer,
                session.sees_everything(),
                today,
            )
            .await?,
            super::DOCX,
        ),
        (_, true) => {
            return Err(AppError::invalid(
                "format",
                "只有通报（sheet=circular）可以导出为 Word；其他表请导出 Excel",
            ));
        }
        (_, false) => (
            papers::workbook(&state.db, &p, which, &issuer, today).await?,
            super::XLSX,
        ),
    };
    Ok(super::download(
        file.bytes,
        kind,
        &file.ascii_name,
        &file.name,
    ))
}

/// The statistics sheet, the allocation table or the circular of the scope, as Excel.
pub async fn export(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ExportQuery>,
) -> AppResult<Response> {
    paper(&state, &session, &q.sheet, false).await
}

/// The circular (通报) of the account's scope as a Word document, from the same snapshot as
/// the Excel sheets.
pub async fn circular_docx(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> AppResult<Response> {
    paper(&state, &session, "circular", true).await
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
