//! 天津市好网民宣讲团 as use cases. `nominations` is the nominating, vetting and joint
//! selection; this module is the step from the selection to the 公示 (the one 公示 mechanism,
//! `service::publicity`, kind `models`) and back, and the team's roster.

pub mod lectures;
pub mod nominations;

use serde_json::json;

use crate::clock::unix_now;
use crate::db::Db;
use crate::db::audit::{self, Actor, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::lecture_team::{self as db, Member, NewMember};
use crate::db::publicity::NewEntry;
use crate::domain::ids::{CampaignId, UserId};
use crate::domain::lecture as rules;
use crate::domain::publicity::{PublicityKind, PublicityState};
use crate::domain::role::Role;
use crate::domain::text;
use crate::error::{AppError, Conflict, FieldError};
use crate::service::acting::Acting;
use crate::service::publicity::{self, DraftInput};
use crate::store::FileStore;

/// Drafts the models' 公示 from the endorsed nominations the city picked, at most the campaign's
/// number of models (`worker_models`).
pub async fn draft_publicity(
    db_: &Db,
    actor: &Actor,
    campaign: &StoredCampaign,
    input: &DraftInput,
    nomination_ids: &[i64],
) -> Result<i64, AppError> {
    let campaign_id = CampaignId(campaign.id);
    let wanted = campaign.campaign.lecture_team.worker_models as usize;
    let endorsed = db::endorsed(db_, campaign_id, rules::MAX_MEMBERS).await?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for id in nomination_ids {
        if !seen.insert(*id) {
            continue;
        }
        match endorsed.iter().find(|n| n.id == *id) {
            Some(n) => entries.push(NewEntry {
                subject_kind: "model",
                subject_id: n.id,
                title: n.name.clone(),
                unit: n.org_name.clone(),
                detail: n.workplace.clone(),
            }),
            None => problems.push(FieldError::new(
                "nominations",
                format!("推荐 {id} 未经市总工会和网信办双方同意，不能列入公示"),
            )),
        }
    }
    if entries.len() > wanted {
        problems.push(FieldError::new(
            "nominations",
            format!(
                "职工好网民榜样共 {wanted} 名，本次选了 {} 名，请减少",
                entries.len()
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    publicity::create(
        db_,
        actor,
        campaign_id,
        PublicityKind::Models,
        input,
        entries,
    )
    .await
}

/// After a models 公示 closed: the entries still listed become selected models and join the
/// team; withdrawn ones are not selected. Safe to run again (nothing joins twice). Returns how
/// many joined now.
pub async fn apply_publicity(
    db_: &Db,
    actor: &Actor,
    user_id: UserId,
    campaign: &StoredCampaign,
    publicity_id: i64,
) -> Result<u64, AppError> {
    let campaign_id = CampaignId(campaign.id);
    let p = crate::db::publicity::one(db_, publicity_id)
        .await?
        .filter(|p| p.campaign_id == campaign_id && p.kind == PublicityKind::Models)
        .ok_or(AppError::NotFound)?;
    if p.state != PublicityState::Closed {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            format!(
                "该公示{}，公示期满并结束后才能确定入选名单",
                p.state.label()
            ),
        ));
    }
    let mut tx = db_.begin().await?;
    if db::count_members(&mut tx, campaign_id).await?
        + campaign.campaign.lecture_team.worker_models as i64
        > rules::MAX_MEMBERS
    {
        return Err(too_many_members());
    }
    let joined = db::apply_publicity(
        &mut tx,
        campaign_id,
        publicity_id,
        rules::MODEL_CATEGORY,
        user_id,
        unix_now(),
    )
    .await?;
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "lecture_team.apply_publicity",
            object_type: "publicity",
            object_id: publicity_id.to_string(),
            before: None,
            after: Some(json!({ "joined": joined })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(joined)
}

fn too_many_members() -> AppError {
    AppError::Conflict(
        Conflict::TooManyOpen,
        format!("宣讲团成员已达上限 {} 人", rules::MAX_MEMBERS),
    )
}

/// The categories the city and the 网信办 may add: the campaign's representative groups
/// (青年好网民, 巾帼好网民…), experts and hired lecturers.
pub fn categories(campaign: &StoredCampaign) -> Vec<String> {
    let mut out = campaign.campaign.lecture_team.representative_groups.clone();
    out.extend(rules::OTHER_CATEGORIES.iter().map(|c| c.to_string()));
    out
}

/// A member from another field, as the form sends it.
#[derive(Debug, Default, Clone)]
pub struct MemberInput {
    pub category: String,
    pub name: String,
    pub workplace: String,
    pub summary: String,
    pub consent: bool,
}

/// Who keeps the roster: the city union and the city's 网信办 (a district liaison does not).
pub fn may_keep_roster(acting: &Acting) -> bool {
    acting.role == Role::CityAdmin
        || (acting.role == Role::CoOrganiserLiaison && acting.scope.prefix == "/")
}

pub async fn add_member(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
    input: &MemberInput,
) -> Result<i64, AppError> {
    if !may_keep_roster(acting) {
        return Err(AppError::Forbidden);
    }
    let mut problems = Vec::new();
    let category = input.category.trim().to_string();
    if !categories(campaign).contains(&category) {
        problems.push(FieldError::new(
            "category",
            format!("请选择成员类别：{}", categories(campaign).join("、")),
        ));
    }
    let mut field = |key: &str, label: &str, r: Result<String, String>| {
        r.map_err(|m| problems.push(FieldError::new(key, format!("{label}{m}"))))
            .unwrap_or_default()
    };
    let name = field(
        "name",
        "姓名",
        text::name(&input.name, rules::MAX_NAME_CHARS),
    );
    let workplace = field(
        "workplace",
        "工作单位",
        text::name(&input.workplace, rules::MAX_WORKPLACE_CHARS),
    );
    let summary = field(
        "summary",
        "简介",
        text::paragraphs(&input.summary, rules::MAX_SUMMARY_CHARS),
    );
    if !input.consent {
        problems.push(FieldError::new(
            "consent",
            "须经本人同意公开姓名、单位和简介后才能加入：请确认并勾选",
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let campaign_id = CampaignId(campaign.id);
    let mut tx = db_.begin().await?;
    if db::count_members(&mut tx, campaign_id).await? >= rules::MAX_MEMBERS {
        return Err(too_many_members());
    }
    let id = db::insert_member(
        &mut tx,
        campaign_id,
        &NewMember {
            category: &category,
            name: &name,
            workplace: &workplace,
            summary: &summary,
            consent_version: rules::CONSENT_VERSION,
        },
        Some(acting.user_id),
        unix_now(),
    )
    .await?;
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "lecture_member.add",
            object_type: "lecture_member",
            object_id: id.to_string(),
            before: None,
            after: Some(json!({
                "category": category, "name": name, "workplace": workplace,
                "consent_version": rules::CONSENT_VERSION,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn retire(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
    id: i64,
    reason: &str,
) -> Result<(), AppError> {
    if !may_keep_roster(acting) {
        return Err(AppError::Forbidden);
    }
    let reason = text::paragraphs(reason, rules::MAX_REASON_CHARS)
        .map_err(|m| AppError::invalid("reason", format!("退出理由{m}")))?;
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "请写明退出宣讲团的理由"));
    }
    let mut tx = db_.begin().await?;
    if !db::retire(&mut tx, CampaignId(campaign.id), id, &reason, unix_now()).await? {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "lecture_member.retire",
            object_type: "lecture_member",
            object_id: id.to_string(),
            before: None,
            after: Some(json!({ "reason": reason })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn members(db_: &Db, campaign: &StoredCampaign) -> Result<Vec<Member>, AppError> {
    Ok(db::members(db_, CampaignId(campaign.id), rules::MAX_MEMBERS).await?)
}

/// Sets a nomination's photo (the unit, while it may edit): checked and re-encoded without
/// metadata by the activity photos' pipeline.
pub async fn set_nomination_photo(
    db_: &Db,
    store: &FileStore,
    acting: &Acting,
    campaign: &StoredCampaign,
    id: i64,
    bytes: Vec<u8>,
) -> Result<(), AppError> {
    let n = nominations::get(db_, acting, campaign, id).await?;
    if acting.role != Role::UnitAdmin || n.org_id != acting.org.id {
        return Err(AppError::Forbidden);
    }
    if bytes.len() as u64 > rules::MAX_PHOTO_BYTES {
        return Err(AppError::invalid(
            "photo",
            format!(
                "照片最大 {} MB，请压缩后再上传",
                rules::MAX_PHOTO_BYTES / 1024 / 1024
            ),
        ));
    }
    let prepared = tokio::task::spawn_blocking(move || crate::media::photo::prepare(&bytes))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::invalid("photo", e.to_string()))?;
    let key = format!(
        "lecture-team/{}.jpg",
        &crate::service::accounts::random_token()[..32]
    );
    store.put_bytes(&key, prepared.image).await?;
    let mut tx = db_.begin().await?;
    if !db::set_photo(&mut tx, id, &key, unix_now()).await? {
        drop(tx);
        let _ = store.delete(&key).await;
        return Err(AppError::Conflict(
            Conflict::WrongState,
            "该推荐已进入评选，不能再更换照片".into(),
        ));
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "nomination.photo",
            object_type: "model_nomination",
            object_id: id.to_string(),
            before: n.photo_key.as_ref().map(|k| json!({ "photo": k })),
            after: Some(json!({ "photo": key })),
        },
    )
    .await?;
    tx.commit().await?;
    if let Some(old) = n.photo_key {
        let _ = store.delete(&old).await;
    }
    Ok(())
}

async fn served(
    store: &FileStore,
    key: String,
    name: String,
) -> Result<crate::service::works::ServedFile, AppError> {
    let size = store.size(&key).await.map_err(|e| {
        if e.is_not_found() {
            AppError::NotFound
        } else {
            AppError::Internal(e.into())
        }
    })?;
    Ok(crate::service::works::ServedFile {
        key,
        size,
        media_type: "image/jpeg".into(),
        download_name: name,
    })
}

/// A current member's public photo (a retired member's is no longer shown).
pub async fn member_photo(
    db_: &Db,
    store: &FileStore,
    campaign: &StoredCampaign,
    id: i64,
) -> Result<crate::service::works::ServedFile, AppError> {
    let key = db::member_photo(db_, CampaignId(campaign.id), id)
        .await?
        .flatten()
        .ok_or(AppError::NotFound)?;
    served(store, key, format!("member-{id}.jpg")).await
}

/// A nomination's photo, for those who may see the nomination.
pub async fn nomination_photo(
    db_: &Db,
    store: &FileStore,
    acting: &Acting,
    campaign: &StoredCampaign,
    id: i64,
) -> Result<crate::service::works::ServedFile, AppError> {
    if !nominations::may_read(acting.role) {
        return Err(AppError::Forbidden);
    }
    let key = db::nomination_photo(db_, CampaignId(campaign.id), &acting.scope, id)
        .await?
        .flatten()
        .ok_or(AppError::NotFound)?;
    served(store, key, format!("nomination-{id}.jpg")).await
}
