//! The reviewer's blind score sheet.

use super::*;

// Blind scoring.

/// A reviewer's assignment as shown to them: what blind review may show, nothing else.
#[derive(Debug, Clone, Serialize)]
pub struct Sheet {
    pub id: i64,
    pub status: String,
    pub round_name: String,
    pub round_open: bool,
    pub window: String,
    pub title: String,
    pub description: String,
    pub media_type: Option<String>,
    /// The measurements of the clean copy (duration, resolution, …) as label and value.
    pub measurements: Vec<(String, String)>,
    pub criteria: Vec<rules::Criterion>,
    pub scores: Vec<Option<u32>>,
    pub comment: String,
    #[serde(skip)]
    pub clean_key: Option<String>,
}

pub(super) fn measurements(report: Option<&str>) -> Vec<(String, String)> {
    let Some(v) = report.and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok()) else {
        return Vec::new();
    };
    let probe = v.get("probe").unwrap_or(&v);
    let mut out = Vec::new();
    let num = |k: &str| probe.get(k).and_then(serde_json::Value::as_f64);
    if let Some(d) = num("duration_seconds") {
        out.push(("时长".into(), format!("{d:.1} 秒")));
    }
    if let (Some(w), Some(h)) = (num("display_width"), num("display_height")) {
        out.push(("画面".into(), format!("{w}×{h}")));
    } else if let (Some(w), Some(h)) = (num("width"), num("height")) {
        out.push(("画面".into(), format!("{w}×{h}")));
    }
    if let Some(s) = num("size_bytes") {
        out.push(("大小".into(), format!("{:.1} MB", s / 1_048_576.0)));
    }
    out
}

pub(super) async fn own_sheet(
    db: &Db,
    acting: &Acting,
    id: i64,
) -> Result<(SheetRow, StoredCampaign), AppError> {
    let row = db::sheet(db, id).await?.ok_or(AppError::NotFound)?;
    if row.reviewer_id != acting.user_id {
        return Err(AppError::NotFound);
    }
    let campaign = current_campaign(db).await?;
    if campaign.id != row.campaign_id {
        return Err(AppError::NotFound);
    }
    Ok((row, campaign))
}

pub(super) fn round_of<'a>(
    campaign: &'a StoredCampaign,
    row: &SheetRow,
) -> Result<&'a Round, AppError> {
    judged(campaign, &row.sub_project)?
        .rounds
        .iter()
        .find(|r| r.code == row.round_code)
        .ok_or(AppError::NotFound)
}

/// A reviewer's own assignment: 404 for anyone else's.
pub async fn sheet(db: &Db, acting: &Acting, id: i64) -> Result<Sheet, AppError> {
    let (row, campaign) = own_sheet(db, acting, id).await?;
    let round = round_of(&campaign, &row)?;
    let scores: Vec<Option<u32>> = row
        .scores
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_else(|| vec![None; round.criteria.len()]);
    Ok(Sheet {
        id: row.id,
        status: row.status.clone(),
        round_name: round.name.clone(),
        round_open: row.round_status == "open",
        window: format!("{} 至 {}", round.starts_on, round.ends_on),
        title: row.title.clone(),
        description: row.description.clone(),
        media_type: row.media_type.clone(),
        measurements: measurements(row.report.as_deref()),
        criteria: round.criteria.clone(),
        scores,
        comment: row.comment.clone(),
        clean_key: row.clean_key.clone(),
    })
}

/// A reviewer's assignments (titles only).
pub async fn mine(db: &Db, acting: &Acting) -> Result<Vec<db::MineRow>, AppError> {
    if acting.role != Role::Reviewer {
        return Err(AppError::Forbidden);
    }
    Ok(db::mine(db, acting.user_id).await?)
}

/// Saves a draft, or submits (which locks the sheet). Refused with nothing written when a
/// score is out of range, a comment is missing, the round is closed or outside its window.
pub async fn save(
    db: &Db,
    clock: &Clock,
    acting: &Acting,
    id: i64,
    sheet: &ScoreSheet,
    submit: bool,
) -> Result<(), AppError> {
    let (row, campaign) = own_sheet(db, acting, id).await?;
    let round = round_of(&campaign, &row)?;
    if row.round_status != "open" {
        return Err(AppError::conflict(
            Conflict::PhaseClosed,
            format!("{}已结束，不能再评分", round.name),
        ));
    }
    let today = clock.today();
    if today < round.starts_on || today > round.ends_on {
        return Err(AppError::conflict(
            Conflict::PhaseClosed,
            format!(
                "{}的评分时间是 {} 至 {}，今天不能评分",
                round.name, round.starts_on, round.ends_on
            ),
        ));
    }
    if row.status == "submitted" {
        return Err(AppError::conflict(
            Conflict::WrongState,
            "这份评分已提交，不能再修改",
        ));
    }
    let problems = rules::sheet_problems(&round.criteria, sheet, submit);
    if !problems.is_empty() {
        return Err(AppError::Invalid(
            problems
                .into_iter()
                .map(|(f, m)| FieldError::new(f, m))
                .collect(),
        ));
    }
    let score_centi = if submit {
        let full: Vec<u32> = sheet.scores.iter().map(|s| s.unwrap_or(0)).collect();
        Some((rules::weighted_score(&round.criteria, &full) * 100.0).round() as i64)
    } else {
        None
    };
    let scores = serde_json::to_string(&sheet.scores).map_err(|e| AppError::Internal(e.into()))?;
    let mut tx = db.begin().await?;
    let saved = db::save_sheet(
        &mut tx,
        Save {
            id,
            reviewer: acting.user_id,
            submit,
            scores: &scores,
            comment: sheet.comment.trim(),
            score_centi,
        },
    )
    .await?;
    if !saved {
        return Err(AppError::conflict(
            Conflict::ChangedMeanwhile,
            "评审已结束或这份评分已提交，没有保存",
        ));
    }
    if submit {
        audit::append(
            &mut tx,
            &acting.actor,
            Event {
                action: "score.submit",
                object_type: "review_assignment",
                object_id: id.to_string(),
                before: None,
                after: Some(serde_json::json!({"score_centi": score_centi})),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
