//! The circular (情况通报) as a Word document in 公文 form: the same ranking as the Excel
//! circular (`papers::circular_units`), with a first paragraph written from the figures. The
//! city may replace that paragraph and set the document number on the progress page; both are
//! kept with the campaign (`db::papers`).

use chrono::{Datelike, NaiveDate};

use crate::db::Db;
use crate::domain::org::OrgKind;
use crate::error::{AppError, Doing};
use crate::office::word::{self, Circular};
use crate::service::acting::current_campaign;
use crate::service::papers::{self, File, Issuer, Which};
use crate::service::progress::Progress;

/// The ranking table's columns.
pub const HEADER: [&str; 6] = ["名次", "单位", "任务数", "已确认", "完成率", "备注"];

/// 16.7%: one decimal, as the sheets show it.
pub fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// The first paragraph, written from the figures of `p` as of `as_of`, for `whose` (全市工会系统
/// or a unit's name).
pub fn lead_paragraph(p: &Progress, whose: &str, as_of: NaiveDate) -> String {
    let t = &p.totals;
    let rate = if p.total_quota > 0 {
        format!(
            "，完成任务数（{}场）的{}",
            p.total_quota,
            percent(t.confirmed as f64 / p.total_quota as f64)
        )
    } else {
        String::new()
    };
    let zero = p.rows.iter().filter(|r| r.zero_report).count();
    let zero = if zero > 0 {
        format!("；仍有{zero}个单位零报送")
    } else {
        String::new()
    };
    format!(
        "截至{}月{}日，{whose}共开展线下活动{}场（经市总工会确认，另有{}场已报送待确认）{rate}；面对面接触职工{}人，其中扫码签到{}人；动员基层工会{}个，走进企业{}家，新发展职工好网民宣传员{}名，线上浏览量{}次{zero}。现将各单位完成情况通报如下。",
        as_of.month(),
        as_of.day(),
        t.confirmed,
        (t.reported - t.confirmed).max(0),
        t.participants,
        t.verified,
        t.grassroots_unions,
        t.enterprises,
        t.new_propagandists,
        t.online_views,
    )
}

const CLOSING: &str = "距9月15日线下活动截止时间已近，请各单位对照任务分配表，抓紧组织开展线下活动，及时在系统中报送并上传照片；零报送和完成率较低的单位要查找原因、加快进度，确保按时完成任务。";

/// The .docx circular of the progress `p` as of `as_of`, issued by `issuer`.
pub async fn circular_docx(
    db: &Db,
    store: &crate::store::FileStore,
    p: &Progress,
    issuer: &Issuer,
    city: bool,
    as_of: NaiveDate,
) -> Result<File, AppError> {
    let stored = current_campaign(db).await?;
    let campaign = &stored.campaign;
    let texts = crate::db::papers::get(db, stored.id).await?;
    let organs: Vec<String> = if city {
        let mut list: Vec<&crate::domain::campaign::Organiser> =
            campaign.organisers.iter().collect();
        list.sort_by_key(|o| o.kind != OrgKind::CityUnion);
        list.into_iter().map(|o| o.name.clone()).collect()
    } else {
        vec![issuer.name.clone()]
    };
    let whose = if city {
        "全市工会系统".to_string()
    } else {
        format!("{}系统", issuer.name)
    };
    let lead = match (&texts.lead, city) {
        (Some(edited), true) if !edited.trim().is_empty() => edited.clone(),
        _ => lead_paragraph(p, &whose, as_of),
    };
    let groups: Vec<(String, Vec<Vec<String>>)> = papers::circular_units(p)
        .into_iter()
        .map(|(among, rows)| {
            let rows = rows
                .iter()
                .map(|r| {
                    vec![
                        r.rank.map(|k| k.to_string()).unwrap_or_default(),
                        r.name.clone(),
                        r.quota.map(|q| q.to_string()).unwrap_or_default(),
                        r.counts.confirmed.to_string(),
                        r.completion.map(percent).unwrap_or_default(),
                        if r.zero_report { "零报送" } else { "" }.to_string(),
                    ]
                })
                .collect();
            (among, rows)
        })
        .collect();
    let zero: Vec<String> = p
        .rows
        .iter()
        .filter(|r| r.zero_report)
        .map(|r| r.name.clone())
        .collect();
    // Broken where the meaning breaks (at 2号 a line holds about 20 characters): the slogan's
    // two halves, then what the circular is about.
    let title = format!(
        "关于{}年“{}”主题活动\n线下活动开展情况的通报",
        campaign.year,
        campaign.title.replacen(' ', "\n", 1)
    );
    let addressees = if city {
        "各区总工会，各局、集团公司工会：".to_string()
    } else {
        "各下级工会：".to_string()
    };
    let doc_number = if city {
        texts.doc_number.clone().unwrap_or_default()
    } else {
        String::new()
    };
    // The city's circular shows the best confirmed activities with a photo each (issue 11).
    let cases: Vec<word::CaseBlock> = if city {
        crate::service::summary::case_figures(db, store, stored.id, CASES)
            .await?
            .into_iter()
            .map(|c| word::CaseBlock {
                heading: format!("{}：{}", c.org, c.name),
                text: c.line(),
                photo: c.photo.map(|p| (p.bytes, p.width, p.height)),
            })
            .collect()
    } else {
        Vec::new()
    };
    let bytes = word::circular_docx(&Circular {
        cases: &cases,
        organs: &organs,
        doc_number: &doc_number,
        title: &title,
        addressees: &addressees,
        lead: &lead,
        header: &HEADER,
        groups: &groups,
        zero_report: &zero,
        closing: CLOSING,
        date: &crate::office::sheet::date_zh(as_of),
    })
    .doing("writing the circular as Word")?;
    let (name, ascii_name) =
        papers::file_names(campaign.year, Which::Circular, &issuer.name, as_of, "docx");
    Ok(File {
        bytes,
        name,
        ascii_name,
    })
}

/// Typical activities in the city's circular.
pub const CASES: i64 = 3;

/// Longest document number and first paragraph the city may set.
pub const MAX_DOC_NUMBER: usize = 40;
pub const MAX_LEAD: usize = 2_000;

/// Sets the circular's document number and first paragraph (empty: written from the figures
/// again). City admins only; audited with before and after.
pub async fn set_texts(
    db: &Db,
    acting: &crate::service::acting::Acting,
    doc_number: &str,
    lead: &str,
) -> Result<(), AppError> {
    use crate::domain::text;
    if acting.role != crate::domain::role::Role::CityAdmin {
        return Err(AppError::Forbidden);
    }
    let mut errors = Vec::new();
    let doc_number = text::line(doc_number, MAX_DOC_NUMBER)
        .map_err(|m| errors.push(crate::error::FieldError::new("文号", m)))
        .unwrap_or_default();
    let lead = text::paragraphs(lead, MAX_LEAD)
        .map_err(|m| errors.push(crate::error::FieldError::new("通报首段", m)))
        .unwrap_or_default();
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let stored = current_campaign(db).await?;
    let after = crate::db::papers::PaperTexts {
        doc_number: (!doc_number.is_empty()).then_some(doc_number),
        lead: (!lead.is_empty()).then_some(lead),
    };
    let mut tx = db.begin().await?;
    let before = crate::db::papers::get_tx(&mut tx, stored.id).await?;
    crate::db::papers::put(&mut tx, stored.id, &after, crate::clock::unix_now()).await?;
    crate::db::audit::append(
        &mut tx,
        &acting.actor,
        crate::db::audit::Event {
            action: "circular.texts",
            object_type: "campaign",
            object_id: stored.campaign.code.clone(),
            before: Some(serde_json::json!(before)),
            after: Some(serde_json::json!(after)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
