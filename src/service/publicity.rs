//! 公示 as use cases: the city drafts a list, publishes it for N working days (counted on the
//! holiday calendar), anyone lodges real-name objections while it runs, the city rules on each
//! (成立 may withdraw the entry), and closes it once the window has passed and every objection
//! is answered, which publishes the final list. Each step is one transaction with its audit
//! entry; state changes are compare-and-set, so two admins acting at once cannot both win.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::json;

use crate::clock::unix_now;
use crate::db::audit::{self, Actor, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::publicity::{self as db, NewEntry, NewObjection, NewPublicity};
use crate::db::{Db, Tx};
use crate::domain::calendar::Calendar;
use crate::domain::ids::CampaignId;
use crate::domain::mask::{mask_phone, valid_phone};
use crate::domain::publicity::{self as rules, ObjectionState, PublicityKind, PublicityState};
use crate::domain::text;
use crate::error::{AppError, Conflict, FieldError};
use crate::service::accounts::{hash_token, random_token};
use crate::store::FileStore;

/// A 公示 the city is drafting, as the form sends it.
pub struct DraftInput {
    pub title: String,
    pub notice: String,
    pub contact: String,
    pub workdays: u32,
}

/// Checks the draft's own fields; every problem at once.
fn check_draft(input: &DraftInput) -> Result<(String, String, String), AppError> {
    let mut problems = Vec::new();
    let title = text::name(&input.title, rules::MAX_TITLE_CHARS)
        .map_err(|m| problems.push(FieldError::new("title", format!("公示标题{m}"))))
        .unwrap_or_default();
    let notice = text::paragraphs(&input.notice, rules::MAX_NOTICE_CHARS)
        .map_err(|m| problems.push(FieldError::new("notice", format!("公示说明{m}"))))
        .unwrap_or_default();
    let contact = input.contact.trim().to_string();
    if !valid_phone(&contact) {
        problems.push(FieldError::new(
            "contact",
            "受理异议的联系电话须为 11 位手机号或带区号的固话（如 022-23456789）",
        ));
    }
    if !(rules::MIN_WORKDAYS..=rules::MAX_WORKDAYS).contains(&input.workdays) {
        problems.push(FieldError::new(
            "workdays",
            format!(
                "公示期须为 {} 至 {} 个工作日",
                rules::MIN_WORKDAYS,
                rules::MAX_WORKDAYS
            ),
        ));
    }
    if problems.is_empty() {
        Ok((title, notice, contact))
    } else {
        Err(AppError::Invalid(problems))
    }
}

/// Drafts a 公示 of works accepted by the moderators, in the order given.
pub async fn draft_of_works(
    db_: &Db,
    actor: &Actor,
    campaign: &StoredCampaign,
    input: &DraftInput,
    work_ids: &[i64],
) -> Result<i64, AppError> {
    let campaign_id = CampaignId(campaign.id);
    let sub_project_name = |code: &str| {
        campaign
            .campaign
            .sub_projects
            .iter()
            .find(|p| p.code == code)
            .map_or_else(|| code.to_string(), |p| p.name.clone())
    };
    let accepted: HashMap<i64, db::AcceptedWork> =
        db::accepted_works(db_, campaign_id, rules::MAX_ENTRIES as i64 * 20)
            .await?
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for id in work_ids {
        if !seen.insert(*id) {
            continue;
        }
        match accepted.get(id) {
            Some(w) => entries.push(NewEntry {
                subject_kind: "work",
                subject_id: w.id,
                title: w.title.clone(),
                unit: w.unit.clone(),
                detail: sub_project_name(&w.sub_project),
            }),
            None => problems.push(FieldError::new(
                "works",
                format!("作品 {id} 不是本届活动中已审核通过的作品，不能列入公示"),
            )),
        }
    }
    // Every problem at once: the draft's own fields and the works.
    if let Err(AppError::Invalid(mut draft_problems)) = check_draft(input) {
        draft_problems.append(&mut problems);
        problems = draft_problems;
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    create(
        db_,
        actor,
        campaign_id,
        PublicityKind::Works,
        input,
        entries,
    )
    .await
}

/// Drafts a 公示 of any kind with its entries (the caller has checked what they stand for).
pub async fn create(
    db_: &Db,
    actor: &Actor,
    campaign_id: CampaignId,
    kind: PublicityKind,
    input: &DraftInput,
    entries: Vec<NewEntry>,
) -> Result<i64, AppError> {
    let mut tx = db_.begin().await?;
    let id = create_in(&mut tx, actor, campaign_id, kind, input, &entries).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`create`] inside the caller's transaction (the recommendation drafts its 公示 and fixes its
/// list in one).
pub async fn create_in(
    tx: &mut Tx,
    actor: &Actor,
    campaign_id: CampaignId,
    kind: PublicityKind,
    input: &DraftInput,
    entries: &[NewEntry],
) -> Result<i64, AppError> {
    let (title, notice, contact) = check_draft(input)?;
    if entries.is_empty() {
        return Err(AppError::invalid("works", "请至少选择一项列入公示"));
    }
    if entries.len() > rules::MAX_ENTRIES {
        return Err(AppError::invalid(
            "works",
            format!("一次公示最多 {} 项", rules::MAX_ENTRIES),
        ));
    }
    if db::lock_and_count(tx, campaign_id).await? >= rules::MAX_PUBLICITIES {
        return Err(AppError::Conflict(
            Conflict::TooManyOpen,
            format!("本届活动已有 {} 个公示，已达上限", rules::MAX_PUBLICITIES),
        ));
    }
    let id = db::insert(
        tx,
        &NewPublicity {
            campaign_id,
            kind,
            title: &title,
            notice: &notice,
            contact: &contact,
            workdays: input.workdays,
            created_by: actor.user_id,
            created_at: unix_now(),
        },
    )
    .await?;
    for (i, entry) in entries.iter().enumerate() {
        db::insert_entry(tx, id, i as i64 + 1, entry).await?;
    }
    audit::append(
        tx,
        actor,
        Event {
            action: "publicity.create",
            object_type: "publicity",
            object_id: id.to_string(),
            before: None,
            after: Some(json!({
                "title": title,
                "kind": kind.code(),
                "workdays": input.workdays,
                "entries": entries.iter().map(|e| &e.title).collect::<Vec<_>>(),
            })),
        },
    )
    .await?;
    Ok(id)
}

/// Publishes a draft from `today` for its working days; returns the window.
pub async fn publish(
    db_: &Db,
    actor: &Actor,
    calendar: &Calendar,
    today: NaiveDate,
    id: i64,
    version: i64,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    let p = db::one(db_, id).await?.ok_or(AppError::NotFound)?;
    if p.state != PublicityState::Draft {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            format!("该公示{}，不能再发布", p.state.label()),
        ));
    }
    let workdays = u32::try_from(p.workdays).unwrap_or(rules::DEFAULT_WORKDAYS);
    let (starts, ends) = rules::window(calendar, today, workdays)
        .map_err(|gap| AppError::invalid("workdays", gap.to_string()))?;
    let mut tx = db_.begin().await?;
    if !db::publish(
        &mut tx,
        id,
        version,
        &starts.to_string(),
        &ends.to_string(),
        unix_now(),
    )
    .await?
    {
        return Err(AppError::Conflict(
            Conflict::StaleVersion,
            "该公示刚被他人修改或发布，请刷新页面后再操作".into(),
        ));
    }
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "publicity.publish",
            object_type: "publicity",
            object_id: id.to_string(),
            before: Some(json!({ "state": "draft" })),
            after: Some(json!({ "state": "open", "starts_on": starts, "ends_on": ends })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((starts, ends))
}

/// An objection as the public form sends it.
pub struct ObjectionInput {
    pub entry_id: i64,
    pub name: String,
    pub phone: String,
    pub reason: String,
}

/// An evidence file, already read (at most [`rules::MAX_EVIDENCE_BYTES`]).
pub struct Evidence {
    pub bytes: Vec<u8>,
}

/// The stored type of an evidence file, from its first bytes: a photo or a PDF, nothing else.
fn evidence_type(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.starts_with(b"%PDF-") {
        Some(("application/pdf", "pdf"))
    } else {
        None
    }
}

/// Lodges a real-name objection while the 公示 runs; returns the receipt code the objector
/// keeps to see the outcome (only its hash is stored).
pub async fn lodge(
    db_: &Db,
    store: &FileStore,
    today: NaiveDate,
    id: i64,
    input: &ObjectionInput,
    evidence: Option<Evidence>,
    ip: &str,
) -> Result<String, AppError> {
    let mut problems = Vec::new();
    let name = text::name(&input.name, rules::MAX_OBJECTOR_NAME_CHARS)
        .map_err(|m| problems.push(FieldError::new("name", format!("姓名{m}"))))
        .unwrap_or_default();
    let phone = input.phone.trim().to_string();
    if !valid_phone(&phone) {
        problems.push(FieldError::new(
            "phone",
            "请填写 11 位手机号或带区号的固话，以便核实情况时联系您",
        ));
    }
    let reason = text::paragraphs(&input.reason, rules::MAX_REASON_CHARS)
        .map_err(|m| problems.push(FieldError::new("reason", format!("异议理由{m}"))))
        .unwrap_or_default();
    if problems.iter().all(|p| p.field != "reason")
        && reason.chars().count() < rules::MIN_REASON_CHARS
    {
        problems.push(FieldError::new(
            "reason",
            format!(
                "请写明异议的具体事实和理由（至少 {} 个字）",
                rules::MIN_REASON_CHARS
            ),
        ));
    }
    let evidence = match evidence {
        Some(e) if e.bytes.is_empty() => None,
        Some(e) if e.bytes.len() as u64 > rules::MAX_EVIDENCE_BYTES => {
            problems.push(FieldError::new(
                "evidence",
                format!(
                    "证明材料最大 {} MB，请压缩后再上传",
                    rules::MAX_EVIDENCE_BYTES / 1024 / 1024
                ),
            ));
            None
        }
        Some(e) => match evidence_type(&e.bytes) {
            Some((mime, ext)) => Some((e.bytes, mime, ext)),
            None => {
                problems.push(FieldError::new(
                    "evidence",
                    "证明材料只接受 JPG、PNG 图片或 PDF 文件",
                ));
                None
            }
        },
        None => None,
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }

    // The file goes first (a store cannot join the transaction); a refusal below removes it.
    let evidence_key = match &evidence {
        Some((bytes, _, ext)) => {
            let key = format!("objections/{}.{ext}", random_token());
            store.put_bytes(&key, bytes.clone()).await?;
            Some(key)
        }
        None => None,
    };
    let receipt = random_token();
    let outcome = lodge_in_tx(
        db_,
        today,
        id,
        &NewObjection {
            publicity_id: id,
            entry_id: input.entry_id,
            receipt_hash: &hash_token(&receipt),
            name: &name,
            phone: &phone,
            reason: &reason,
            evidence_key: evidence_key.as_deref(),
            evidence_type: evidence.as_ref().map(|(_, mime, _)| *mime),
            lodged_at: unix_now(),
            ip,
        },
    )
    .await;
    if outcome.is_err()
        && let Some(key) = &evidence_key
    {
        let _ = store.delete(key).await;
    }
    outcome.map(|()| receipt)
}

async fn lodge_in_tx(
    db_: &Db,
    today: NaiveDate,
    id: i64,
    o: &NewObjection<'_>,
) -> Result<(), AppError> {
    let mut tx = db_.begin().await?;
    // The lock orders objections against the close: none slips in after the final list.
    let (state, starts, ends) = db::lock(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let window = starts
        .zip(ends)
        .and_then(|(s, e)| Some((s.parse().ok()?, e.parse().ok()?)));
    let open = state == PublicityState::Open
        && window.is_some_and(|(s, e)| rules::takes_objections(s, e, today));
    if !open {
        let message = match window {
            Some((s, e)) => format!("该公示的异议受理期为 {s} 至 {e}，现已不在受理期内"),
            None => "该公示尚未发布，不受理异议".into(),
        };
        return Err(AppError::Conflict(Conflict::PhaseClosed, message));
    }
    check_entry(&mut tx, id, o.entry_id).await?;
    if db::from_address_since(&mut tx, o.ip, o.lodged_at - 3600).await?
        >= i64::from(rules::OBJECTIONS_PER_HOUR)
    {
        return Err(AppError::RateLimited);
    }
    if db::count_objections(&mut tx, id).await? >= rules::MAX_OBJECTIONS {
        return Err(AppError::Conflict(
            Conflict::TooManyOpen,
            "该公示收到的异议已达上限，请拨打公示中的联系电话反映".into(),
        ));
    }
    let objection_id = db::insert_objection(&mut tx, o).await?;
    audit::append(
        &mut tx,
        &Actor {
            user_id: None,
            login: "anonymous".into(),
            ip: o.ip.to_string(),
        },
        Event {
            action: "objection.lodge",
            object_type: "objection",
            object_id: objection_id.to_string(),
            before: None,
            // The objector's number is personal data: the log keeps it masked.
            after: Some(json!({
                "publicity": id,
                "entry": o.entry_id,
                "name": o.name,
                "phone": mask_phone(o.phone),
                "evidence": o.evidence_key.is_some(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The entry must be on this 公示 and still listed.
async fn check_entry(tx: &mut Tx, publicity_id: i64, entry_id: i64) -> Result<(), AppError> {
    if db::entry_listed(tx, publicity_id, entry_id).await? {
        Ok(())
    } else {
        Err(AppError::invalid(
            "entry_id",
            "请选择公示名单中的一项提出异议（该项可能已被撤下）",
        ))
    }
}

/// The city's ruling on one objection. An upheld objection may withdraw its entry.
pub struct Ruling {
    pub upheld: bool,
    pub reason: String,
    pub withdraw: bool,
}

pub async fn rule(
    db_: &Db,
    actor: &Actor,
    id: i64,
    objection_id: i64,
    ruling: &Ruling,
) -> Result<(), AppError> {
    let reason = text::paragraphs(&ruling.reason, rules::MAX_RULING_CHARS)
        .map_err(|m| AppError::invalid("reason", format!("处理意见{m}")))?;
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "请写明处理意见（异议人可以看到）",
        ));
    }
    if ruling.withdraw && !ruling.upheld {
        return Err(AppError::invalid("withdraw", "只有异议成立时才能撤下该项"));
    }
    let state = if ruling.upheld {
        ObjectionState::Upheld
    } else {
        ObjectionState::Dismissed
    };
    let mut tx = db_.begin().await?;
    let (p_state, _, _) = db::lock(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if p_state == PublicityState::Draft {
        return Err(AppError::NotFound);
    }
    let Some(entry_id) = db::rule(
        &mut tx,
        id,
        objection_id,
        state,
        &reason,
        actor.user_id,
        unix_now(),
    )
    .await?
    else {
        return Err(AppError::Conflict(
            Conflict::ChangedMeanwhile,
            "该异议已处理过（或不存在），请刷新页面".into(),
        ));
    };
    let withdrawn =
        ruling.withdraw && db::withdraw(&mut tx, id, entry_id, &reason, unix_now()).await?;
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "objection.rule",
            object_type: "objection",
            object_id: objection_id.to_string(),
            before: Some(json!({ "state": "pending" })),
            after: Some(json!({ "state": state.code(), "ruling": reason, "withdrawn": withdrawn })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a 公示 after its window, publishing the final list (entries not withdrawn).
pub async fn close(
    db_: &Db,
    actor: &Actor,
    today: NaiveDate,
    id: i64,
    version: i64,
) -> Result<(), AppError> {
    let mut tx = db_.begin().await?;
    let (state, _, ends) = db::lock(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if state != PublicityState::Open {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            format!("该公示{}，不能结束", state.label()),
        ));
    }
    if let Some(ends) = ends.and_then(|e| e.parse::<NaiveDate>().ok())
        && today <= ends
    {
        return Err(AppError::Conflict(
            Conflict::PhaseClosed,
            format!("公示期到 {ends} 为止，期满后才能结束并发布结果"),
        ));
    }
    let pending = db::pending_objections(&mut tx, id).await?;
    if pending > 0 {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            format!("还有 {pending} 条异议未处理，处理完才能结束公示"),
        ));
    }
    if !db::close(&mut tx, id, version, unix_now()).await? {
        return Err(AppError::Conflict(
            Conflict::StaleVersion,
            "该公示刚被他人结束或修改，请刷新页面".into(),
        ));
    }
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "publicity.close",
            object_type: "publicity",
            object_id: id.to_string(),
            before: Some(json!({ "state": "open" })),
            after: Some(json!({ "state": "closed" })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What an objector sees, from the receipt code they were given.
pub async fn receipt(db_: &Db, code: &str) -> Result<db::Receipt, AppError> {
    if code.len() != 64 || !code.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    db::by_receipt(db_, &hash_token(code))
        .await?
        .ok_or(AppError::NotFound)
}
