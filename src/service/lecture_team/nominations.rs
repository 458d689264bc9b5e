//! Nominating worker good-netizen models (推荐): a district, bureau or group-company union sends
//! candidates within its quota from the campaign file, with the nominee's consent; the city vets
//! them (return with a reason, or shortlist); the city union and the 网信办 then each decide, and
//! a candidate is endorsed for the 公示 only when both approved. Every step is one transaction
//! with its audit entry; status changes are compare-and-set.

use serde_json::json;

use crate::clock::unix_now;
use crate::db::Db;
use crate::db::audit::{self, Event};
use crate::db::campaigns::StoredCampaign;
use crate::db::lecture_team::{self as db, Nomination, NominationFields};
use crate::domain::ids::CampaignId;
use crate::domain::lecture::{self as rules, NominationStatus, Side};
use crate::domain::mask::{is_mobile, mask_phone};
use crate::domain::role::Role;
use crate::domain::text;
use crate::error::{AppError, Conflict, FieldError};
use crate::service::acting::Acting;

/// Nominations a page lists at most (the quota keeps the real number far below).
pub const MAX_LISTED: i64 = 2_000;

/// A nomination as the form sends it.
#[derive(Debug, Default, Clone)]
pub struct NominationInput {
    pub name: String,
    pub phone: String,
    pub workplace: String,
    pub post: String,
    pub political_status: String,
    pub accounts: String,
    pub deeds: String,
    pub summary: String,
    pub links: String,
    /// The box "the nominee agrees" was ticked.
    pub consent: bool,
}

struct Checked {
    name: String,
    person_key: String,
    phone: String,
    workplace: String,
    post: String,
    political_status: String,
    accounts: String,
    deeds: String,
    summary: String,
    links: String,
}

impl Checked {
    fn fields(&self) -> NominationFields<'_> {
        NominationFields {
            name: &self.name,
            person_key: &self.person_key,
            phone: &self.phone,
            workplace: &self.workplace,
            post: &self.post,
            political_status: &self.political_status,
            accounts: &self.accounts,
            deeds: &self.deeds,
            summary: &self.summary,
            links: &self.links,
            consent_version: rules::CONSENT_VERSION,
        }
    }
}

/// Every problem of the form at once.
fn check(input: &NominationInput) -> Result<Checked, AppError> {
    let mut problems = Vec::new();
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
    let post = field(
        "post",
        "职务",
        text::name(&input.post, rules::MAX_POST_CHARS),
    );
    let political_status = field(
        "political_status",
        "政治面貌",
        text::name(&input.political_status, rules::MAX_POLITICAL_CHARS),
    );
    let accounts = field(
        "accounts",
        "网络账号",
        text::paragraphs(&input.accounts, rules::MAX_ACCOUNTS_CHARS),
    );
    let deeds = field(
        "deeds",
        "事迹材料",
        text::paragraphs(&input.deeds, rules::MAX_DEEDS_CHARS),
    );
    let summary = field(
        "summary",
        "事迹简介",
        text::paragraphs(&input.summary, rules::MAX_SUMMARY_CHARS),
    );
    let links = match rules::parse_links(&input.links) {
        Ok(l) => l.join("\n"),
        Err(m) => {
            problems.push(FieldError::new("links", m));
            String::new()
        }
    };
    let phone = input.phone.trim().to_string();
    if !is_mobile(&phone) {
        problems.push(FieldError::new(
            "phone",
            "请填写被推荐人的 11 位手机号（用于核对是否重复推荐和联系本人，不公开）",
        ));
    }
    if problems.iter().all(|p| p.field != "deeds") && deeds.chars().count() < rules::MIN_DEEDS_CHARS
    {
        problems.push(FieldError::new(
            "deeds",
            format!(
                "事迹材料请写明具体事迹，至少 {} 个字（现有 {} 个）",
                rules::MIN_DEEDS_CHARS,
                deeds.chars().count()
            ),
        ));
    }
    if problems.iter().all(|p| p.field != "summary") && summary.is_empty() {
        problems.push(FieldError::new(
            "summary",
            "请填写事迹简介（入选后在宣讲团页面公开）",
        ));
    }
    if !input.consent {
        problems.push(FieldError::new(
            "consent",
            "须经被推荐人本人同意后才能推荐：请确认已取得本人同意并勾选",
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    Ok(Checked {
        person_key: text::person_key_name(&name),
        name,
        phone,
        workplace,
        post,
        political_status,
        accounts,
        deeds,
        summary,
        links,
    })
}

fn duplicate() -> AppError {
    AppError::Conflict(
        Conflict::ChangedMeanwhile,
        "此人（姓名和手机号相同）已被推荐过，不能重复推荐；如属同一人请与原推荐单位或市总工会联系"
            .into(),
    )
}

/// A unit sends a nomination; returns its id.
pub async fn nominate(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
    input: &NominationInput,
) -> Result<i64, AppError> {
    if acting.role != Role::UnitAdmin || !rules::may_nominate(acting.org.kind) {
        return Err(AppError::Forbidden);
    }
    let checked = check(input)?;
    let campaign_id = CampaignId(campaign.id);
    let quota = i64::from(campaign.campaign.lecture_team.nominations_per_unit);
    let mut tx = db_.begin().await?;
    let used = db::lock_and_count_unit(&mut tx, campaign_id, acting.org.id).await?;
    if used >= quota {
        return Err(AppError::Conflict(
            Conflict::TooManyOpen,
            format!("本单位的推荐名额为 {quota} 名，已推荐 {used} 名，不能再推荐"),
        ));
    }
    if db::same_person(&mut tx, campaign_id, &checked.person_key, &checked.phone, 0).await? {
        return Err(duplicate());
    }
    let at = unix_now();
    let id = match db::insert_nomination(
        &mut tx,
        campaign_id,
        acting.org.id,
        &checked.fields(),
        Some(acting.user_id),
        at,
    )
    .await
    {
        Ok(id) => id,
        Err(e) if crate::db::is_unique_violation(&e) => return Err(duplicate()),
        Err(e) => return Err(e.into()),
    };
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "nomination.create",
            object_type: "model_nomination",
            object_id: id.to_string(),
            before: None,
            after: Some(json!({
                "org": acting.org.id,
                "name": checked.name,
                "phone": mask_phone(&checked.phone),
                "consent_version": rules::CONSENT_VERSION,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A nomination the acting account may see: its own unit's, the city's (all), a liaison's
/// within the liaison's scope.
pub async fn get(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
    id: i64,
) -> Result<Nomination, AppError> {
    if !may_read(acting.role) {
        return Err(AppError::Forbidden);
    }
    db::nomination(db_, CampaignId(campaign.id), &acting.scope, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub fn may_read(role: Role) -> bool {
    matches!(
        role,
        Role::CityAdmin | Role::CoOrganiserLiaison | Role::UnitAdmin
    )
}

pub async fn list(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
) -> Result<Vec<Nomination>, AppError> {
    if !may_read(acting.role) {
        return Err(AppError::Forbidden);
    }
    Ok(db::nominations(db_, CampaignId(campaign.id), &acting.scope, MAX_LISTED).await?)
}

fn status_of(n: &Nomination) -> Result<NominationStatus, AppError> {
    NominationStatus::from_code(&n.status).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("unknown nomination status {}", n.status))
    })
}

fn changed() -> AppError {
    AppError::Conflict(
        Conflict::ChangedMeanwhile,
        "该推荐刚被他人处理或修改，请刷新页面后再操作".into(),
    )
}

/// The nominating unit corrects its nomination (while with it or the city); it goes to the city
/// again.
pub async fn edit(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
    id: i64,
    version: i64,
    input: &NominationInput,
) -> Result<(), AppError> {
    let n = get(db_, acting, campaign, id).await?;
    if acting.role != Role::UnitAdmin || n.org_id != acting.org.id {
        return Err(AppError::Forbidden);
    }
    let status = status_of(&n)?;
    if !status.editable() {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            format!("该推荐{}，不能再修改", status.label()),
        ));
    }
    let checked = check(input)?;
    let campaign_id = CampaignId(campaign.id);
    let mut tx = db_.begin().await?;
    if db::same_person(
        &mut tx,
        campaign_id,
        &checked.person_key,
        &checked.phone,
        id,
    )
    .await?
    {
        return Err(duplicate());
    }
    match db::update_nomination(&mut tx, id, version, &checked.fields(), unix_now()).await {
        Ok(true) => {}
        Ok(false) => return Err(changed()),
        Err(e) if crate::db::is_unique_violation(&e) => return Err(duplicate()),
        Err(e) => return Err(e.into()),
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "nomination.edit",
            object_type: "model_nomination",
            object_id: id.to_string(),
            before: Some(json!({ "status": status.code(), "name": n.name })),
            after: Some(json!({ "status": "submitted", "name": checked.name })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The city's vetting: shortlist (`approve`) or return with a reason.
pub async fn vet(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
    id: i64,
    version: i64,
    approve: bool,
    reason: &str,
) -> Result<(), AppError> {
    if acting.role != Role::CityAdmin {
        return Err(AppError::Forbidden);
    }
    let n = get(db_, acting, campaign, id).await?;
    let reason = text::paragraphs(reason, rules::MAX_REASON_CHARS)
        .map_err(|m| AppError::invalid("reason", format!("退回理由{m}")))?;
    if !approve && reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "退回时请写明理由，推荐单位据此修改",
        ));
    }
    let status = status_of(&n)?;
    if status != NominationStatus::Submitted {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            format!("该推荐{}，不能审核", status.label()),
        ));
    }
    let to = if approve {
        NominationStatus::Shortlisted
    } else {
        NominationStatus::Returned
    };
    let mut tx = db_.begin().await?;
    if !db::set_status(
        &mut tx,
        id,
        status.code(),
        version,
        to.code(),
        (!approve).then_some(reason.as_str()),
        unix_now(),
    )
    .await?
    {
        return Err(changed());
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: if approve {
                "nomination.shortlist"
            } else {
                "nomination.return"
            },
            object_type: "model_nomination",
            object_id: id.to_string(),
            before: Some(json!({ "status": status.code() })),
            after: Some(json!({ "status": to.code(), "reason": reason })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One side of the joint selection decides on a shortlisted nomination. The city admin decides
/// for the union, a liaison (the city's, or the nominee's district's) for the 网信办; each side
/// decides once. Returns the status after the decision.
pub async fn decide(
    db_: &Db,
    acting: &Acting,
    campaign: &StoredCampaign,
    id: i64,
    approve: bool,
    reason: &str,
) -> Result<NominationStatus, AppError> {
    let side = match acting.role {
        Role::CityAdmin => Side::Union,
        Role::CoOrganiserLiaison => Side::Liaison,
        _ => return Err(AppError::Forbidden),
    };
    // Out of a district liaison's district: not found.
    let n = get(db_, acting, campaign, id).await?;
    let reason = text::paragraphs(reason, rules::MAX_REASON_CHARS)
        .map_err(|m| AppError::invalid("reason", format!("意见{m}")))?;
    if !approve && reason.is_empty() {
        return Err(AppError::invalid("reason", "不同意时请写明理由"));
    }
    let status = status_of(&n)?;
    if status != NominationStatus::Shortlisted {
        return Err(AppError::Conflict(
            Conflict::WrongState,
            format!("该推荐{}，不在共同评选中", status.label()),
        ));
    }
    let decision = if approve { "approve" } else { "reject" };
    let mut tx = db_.begin().await?;
    let Some((union, liaison)) = db::decide(
        &mut tx,
        side == Side::Liaison,
        id,
        decision,
        &reason,
        Some(acting.user_id),
        unix_now(),
    )
    .await?
    else {
        return Err(AppError::Conflict(
            Conflict::ChangedMeanwhile,
            format!("{}已对该推荐表过态，或评选已结束，请刷新页面", side.label()),
        ));
    };
    let verdict = |d: Option<String>| d.map(|d| d == "approve");
    let outcome = rules::joint_outcome(verdict(union), verdict(liaison));
    if outcome != NominationStatus::Shortlisted {
        db::set_outcome(&mut tx, id, outcome.code()).await?;
    }
    audit::append(
        &mut tx,
        &acting.actor,
        Event {
            action: "nomination.decide",
            object_type: "model_nomination",
            object_id: id.to_string(),
            before: Some(json!({ "status": status.code() })),
            after: Some(json!({
                "side": side.label(), "decision": decision, "reason": reason, "status": outcome.code(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}
