//! Demo 宣讲团: two nominations from each district, bureau and group-company union in every
//! state of the selection (most sent, some returned, shortlisted with one side's view, rejected
//! by one side, endorsed), the campaign's number of models selected and on the roster with
//! members from other fields, one retired, and lecture requests from units — some assigned to
//! lecturers at times that never overlap. No 公示 is made: the city runs that on the demo.

use rand::Rng;
use rand::rngs::StdRng;

use crate::db::Tx;
use crate::db::campaigns::StoredCampaign;
use crate::db::lecture_team::{self as db, NewMember, NominationFields};
use crate::db::lectures::{self as lectures, NewLecture};
use crate::db::orgs;
use crate::domain::ids::CampaignId;
use crate::domain::lecture::{self as rules, NominationStatus};
use crate::domain::org::OrgKind;
use crate::domain::text::person_key_name;
use crate::error::AppError;

/// What the demo lecture team made.
#[derive(Debug, Default, Clone)]
pub struct Made {
    pub nominations: usize,
    pub members: usize,
    pub lectures: usize,
}

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: [&str; 12] = [
    "建国", "红梅", "志强", "丽娟", "海涛", "秀英", "振华", "晓燕", "德明", "春霞", "立新", "文静",
];
const POSTS: [&str; 6] = ["车间主任", "技师", "驾驶员", "护士长", "教师", "客服班长"];
const DEEDS: &str = "长期扎根生产一线，业余时间运营职工网络账号，坚持用短视频、图文讲述身边劳模工匠故事，传播网络正能量；\
积极参与网络安全知识和个人信息保护宣传，带动身边职工依法文明上网；在疫情防控期间主动参与网上辟谣和志愿服务，\
多次获得单位先进个人称号，在职工群众中有良好口碑。";

pub(super) async fn insert_lecture_team(
    tx: &mut Tx,
    campaign: &StoredCampaign,
    now: i64,
    rng: &mut StdRng,
) -> Result<Made, AppError> {
    let campaign_id = CampaignId(campaign.id);
    let t = &campaign.campaign.lecture_team;
    let units: Vec<_> = orgs::all_tx(tx)
        .await?
        .into_iter()
        .filter(|o| rules::may_nominate(o.kind))
        .collect();
    let mut made = Made::default();
    let per_unit = t.nominations_per_unit.min(2) as usize;
    let wanted = t.worker_models as usize;
    let mut n = 0usize;
    for unit in &units {
        for k in 0..per_unit {
            let name = format!("{}{}", SURNAMES[n % 12], GIVEN[(n / 12 + k * 5) % 12]);
            let phone = format!("139{:08}", 20_000_000 + n);
            let workplace = format!("{}所属单位", unit.name.trim_end_matches("工会"));
            let summary = format!("{}，网上传播技能知识和劳动者故事。", POSTS[n % 6]);
            let f = NominationFields {
                name: &name,
                person_key: &person_key_name(&name),
                phone: &phone,
                workplace: &workplace,
                post: POSTS[n % 6],
                political_status: if n.is_multiple_of(3) {
                    "群众"
                } else {
                    "中共党员"
                },
                accounts: "抖音、微信视频号：同名账号",
                deeds: DEEDS,
                summary: &summary,
                links: "https://example.cn/demo/video",
                consent_version: rules::CONSENT_VERSION,
            };
            let id = db::insert_nomination(tx, campaign_id, unit.id, &f, None, now).await?;
            made.nominations += 1;
            // Selected first (the campaign's number of models), then the other states in turn.
            let (status, union, liaison) = if n < wanted {
                (NominationStatus::Selected, Some("approve"), Some("approve"))
            } else {
                match n % 5 {
                    0 => (NominationStatus::Returned, None, None),
                    1 => (NominationStatus::Shortlisted, Some("approve"), None),
                    2 => (NominationStatus::Rejected, Some("approve"), Some("reject")),
                    3 => (NominationStatus::Endorsed, Some("approve"), Some("approve")),
                    _ => (NominationStatus::Submitted, None, None),
                }
            };
            if status != NominationStatus::Submitted {
                let reason = (status == NominationStatus::Returned)
                    .then_some("请补充网络作品链接和事迹中的具体数据");
                let to = if union.is_some() {
                    NominationStatus::Shortlisted
                } else {
                    status
                };
                db::set_status(tx, id, "submitted", 0, to.code(), reason, now).await?;
                if let Some(d) = union {
                    db::decide(tx, false, id, d, "", None, now).await?;
                }
                if let Some(d) = liaison {
                    let why = if d == "reject" {
                        "网络影响力有待提高"
                    } else {
                        ""
                    };
                    db::decide(tx, true, id, d, why, None, now).await?;
                }
                if union.is_some() && status != NominationStatus::Shortlisted {
                    db::set_outcome(tx, id, status.code()).await?;
                }
            }
            n += 1;
        }
    }
    made.members +=
        db::join_selected(tx, campaign_id, rules::MODEL_CATEGORY, None, now).await? as usize;
    let others = [
        (
            "青年好网民",
            "刘青",
            "天津大学",
            "青年网络文明志愿者，组织高校网络素养讲座。",
        ),
        (
            "巾帼好网民",
            "陈慧",
            "天津市妇女联合会",
            "运营女性职工网络课堂，讲解防范网络诈骗。",
        ),
        (
            "专家",
            "周安",
            "天津市网络安全协会",
            "网络安全专家，长期从事个人信息保护研究。",
        ),
        (
            "讲师",
            "吴敏",
            "天津市总工会职工学校",
            "聘请讲师，讲授依法文明上网课程。",
        ),
        ("讲师", "郑退", "天津某培训中心", "原聘讲师。"),
    ];
    let mut member_ids = Vec::new();
    for (category, name, workplace, summary) in others {
        let id = db::insert_member(
            tx,
            campaign_id,
            &NewMember {
                category,
                name,
                workplace,
                summary,
                consent_version: rules::CONSENT_VERSION,
            },
            None,
            now,
        )
        .await?;
        member_ids.push(id);
        made.members += 1;
    }
    if let Some(last) = member_ids.pop() {
        db::retire(tx, campaign_id, last, "工作调整，本人申请退出", now).await?;
    }
    // Lecture requests from the first districts: even ones assigned, a lecturer each morning
    // of a different day (never overlapping).
    let districts: Vec<_> = units
        .iter()
        .filter(|o| o.kind == OrgKind::DistrictUnion)
        .collect();
    let (forms, venues) = (&t.forms, &t.venues);
    if forms.is_empty() || venues.is_empty() {
        return Ok(made);
    }
    // Open classes (网络公开课) carry a platform and a link; the seventh request has two
    // lecturers, one of whom declined (the city has not yet replaced them).
    for (i, d) in districts.iter().take(12).enumerate() {
        let day = 10 + i % 20;
        let (starts, ends) = (
            format!("2020-07-{day:02}T09:00"),
            format!("2020-07-{day:02}T11:00"),
        );
        let topic = format!("网络素养教育{}", venues[i % venues.len()]);
        let form = &forms[i % forms.len()];
        let open_class = form == crate::service::lecture_team::lectures::OPEN_CLASS_FORM;
        let id = lectures::insert(
            tx,
            &NewLecture {
                campaign_id,
                org_id: d.id,
                topic: &topic,
                form,
                venue_type: &venues[i % venues.len()],
                place: &format!("{}职工之家", d.name.trim_end_matches("总工会")),
                starts_at: &starts,
                ends_at: &ends,
                requested_by: None,
                created_at: now,
                online_platform: if open_class { "抖音" } else { "" },
                online_link: if open_class {
                    "https://live.example.cn/wangju-demo"
                } else {
                    ""
                },
            },
        )
        .await?;
        made.lectures += 1;
        if i.is_multiple_of(2) && !member_ids.is_empty() {
            let n = if i == 6 { 2 } else { 1 };
            for k in 0..n.min(member_ids.len()) {
                let member = member_ids[(i / 2 + k) % member_ids.len()];
                // 128 bits from the seeded generator: unguessable from outside, same on every run.
                let token = format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>());
                let a = lectures::insert_assignment(tx, id, member, &token, None, now).await?;
                if k == 1 {
                    lectures::respond(tx, a, "declined", Some("当天另有培训任务"), now).await?;
                }
            }
            lectures::set_status(tx, id, "assigned").await?;
        }
    }
    Ok(made)
}
