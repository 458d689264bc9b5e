//! The demo's activities and check-ins: generated and written in batches of a few thousand
//! (each batch one or two multi-row INSERTs), so memory stays small at national scale.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::Scale;
use super::names::{
    CATEGORY_TOPIC, FORMATS_TOPIC, OUTLETS, PLACES, PLATFORMS, RETURN_REASONS, START_TIMES,
};
use super::people::{mobile, person_name};
use super::tree::Tree;
use crate::db::Tx;
use crate::db::demo::{self as demo_db, Value as V};
use crate::domain::activity::{ActivityInput, Status};
use crate::domain::org::OrgKind;
use crate::error::{AppError, Doing};
use crate::service::checkin::CONSENT_VERSION;

/// What `insert_activities` made.
pub(super) struct Made {
    pub(super) activities: usize,
    pub(super) by_status: [usize; 5],
    pub(super) checkins: usize,
}

/// Activities this many at a time: generated, inserted, then their check-ins.
const ACTIVITY_BATCH: usize = 5_000;

/// The notice's push phase: activities are held from 6/1 to 9/15.
const FIRST_DAY: (i32, u32, u32) = (2020, 6, 1);
const LAST_DAY: (i32, u32, u32) = (2020, 9, 15);

/// For each confirmed activity, how many others a unit has in each earlier status (drafts,
/// waiting for its district, returned, approved and waiting for the city), as in a campaign's
/// last weeks.
const OTHERS_PER_CONFIRMED: [(Status, f64); 4] = [
    (Status::Draft, 0.40),
    (Status::Submitted, 0.28),
    (Status::Returned, 0.10),
    (Status::Approved, 0.32),
];

/// One activity to make: the unit holding it (index in the tree) and its status.
struct Planned {
    holder: usize,
    status: Status,
}

/// What each Annex 1 unit (a district, bureau or group company; a province at national scale)
/// holds: confirmed activities at 40–130% of its quota, spread over the busy units of its
/// subtree, and the others in proportion. So completion reads as a real campaign's does.
fn plan(tree: &Tree, annex: &HashMap<i64, i64>, bureau_min: i64, rng: &mut StdRng) -> Vec<Planned> {
    let Some(root) = tree
        .nodes
        .iter()
        .position(|n| n.parent.is_none() && n.kind == OrgKind::CityUnion)
    else {
        return Vec::new();
    };
    let mut planned = Vec::new();
    for top in (0..tree.nodes.len()).filter(|&i| tree.nodes[i].parent == Some(root)) {
        let node = &tree.nodes[top];
        // A bureau or group company not named in Annex 1 holds the campaign's minimum for
        // them, as progress counts it.
        let quota = node
            .quota
            .or_else(|| annex.get(&node.id).copied())
            .or((node.kind == OrgKind::BureauGroup).then_some(bureau_min));
        let Some(quota) = quota.filter(|q| *q > 0) else {
            continue;
        };
        let prefix = format!("{}/", node.path);
        let holders: Vec<usize> = (0..tree.nodes.len())
            .filter(|&i| {
                let n = &tree.nodes[i];
                n.weight > 0.0 && (i == top || n.path.starts_with(&prefix))
            })
            .collect();
        let Ok(pick) = WeightedIndex::new(holders.iter().map(|&i| tree.nodes[i].weight)) else {
            continue;
        };
        // Rounded into the band, so a quota of 1 is met and none reads 33% or 150%.
        let low = (quota as f64 * 0.4).ceil();
        let high = (quota as f64 * 1.3).floor().max(low);
        let confirmed = (quota as f64 * rng.random_range(0.4..1.3))
            .round()
            .clamp(low, high) as usize;
        let mut statuses = vec![Status::Confirmed; confirmed];
        for (status, per) in OTHERS_PER_CONFIRMED {
            // Rounded at random so small units still get some of each now and then.
            let n = (confirmed as f64 * per + rng.random_range(0.0..1.0)).floor() as usize;
            statuses.extend(std::iter::repeat_n(status, n));
        }
        planned.extend(statuses.into_iter().map(|status| Planned {
            holder: holders[pick.sample(rng)],
            status,
        }));
    }
    planned
}

/// Activities for every Annex 1 unit by `plan`, dated in the push phase — those already
/// reported on a day before `today`, drafts any day — and for each reported one the check-ins
/// of the people who came.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_activities(
    tx: &mut Tx,
    campaign_id: i64,
    scale: Scale,
    tree: &Tree,
    annex: &HashMap<i64, i64>,
    bureau_min: i64,
    today: NaiveDate,
    rng: &mut StdRng,
) -> Result<Made, AppError> {
    let planned = plan(tree, annex, bureau_min, rng);
    // The admin who files each unit's reports: the nearest demo admin above it.
    let creator = admin_ids(tx, tree).await?;
    let reported_total = planned.iter().filter(|p| p.status != Status::Draft).count();
    // Claimed attendance sized so that verified check-ins come to the promised total.
    let mean_verified = scale.checkins() as f64 / reported_total.max(1) as f64;
    let mean_claimed = mean_verified / 0.6;
    let date = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let first_day = date(FIRST_DAY);
    let phase_days = (date(LAST_DAY) - first_day).num_days() + 1;
    // Reported activities were held before today (when today falls in the push phase).
    let reported_days = ((today - first_day).num_days()).clamp(1, phase_days);
    // Nothing was last touched after today's end (China time).
    let today_ends = today
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(i64::MAX, |t| t.and_utc().timestamp() - 8 * 3600 - 1);
    let mut next_id: i64 = demo_db::next_activity_id(tx).await?;
    let mut made = Made {
        activities: 0,
        by_status: [0; 5],
        checkins: 0,
    };
    for chunk in planned.chunks(ACTIVITY_BATCH) {
        let n = chunk.len();
        let mut rows = Vec::with_capacity(n * demo_db::ACTIVITIES.columns.len());
        let mut checkins = Vec::new();
        for p in chunk {
            let unit = &tree.nodes[p.holder];
            let status = p.status;
            let id = next_id;
            next_id += 1;
            // Most drafts are plans for the days ahead; the others were never sent.
            let day =
                if status == Status::Draft && reported_days < phase_days && rng.random_bool(0.7) {
                    first_day + chrono::Duration::days(rng.random_range(reported_days..phase_days))
                } else if status == Status::Draft {
                    first_day + chrono::Duration::days(rng.random_range(0..phase_days))
                } else {
                    first_day + chrono::Duration::days(rng.random_range(0..reported_days))
                };
            let time = START_TIMES.choose(rng).copied().unwrap_or("09:00");
            let starts_at = format!("{}T{time}", day.format("%Y-%m-%d"));
            let starts = NaiveDateTime::parse_from_str(&starts_at, "%Y-%m-%dT%H:%M")
                .map(|t| t.and_utc().timestamp() - 8 * 3600)
                .unwrap_or(0);
            let (format, format_topic) = FORMATS_TOPIC
                .choose(rng)
                .copied()
                .unwrap_or(("知识竞赛", "知识竞赛"));
            let how_many = rng.random_range(1..=2);
            let mut categories: Vec<(&str, &str)> = CATEGORY_TOPIC
                .choose_multiple(rng, how_many)
                .copied()
                .collect();
            categories.sort();
            let topic = categories.first().map_or("网络安全", |c| c.1);
            let name = format!("{}{topic}{format_topic}", unit.short);
            let place = format!(
                "{}{}",
                unit.short,
                PLACES.choose(rng).copied().unwrap_or("职工之家")
            );
            let reported = status != Status::Draft;
            let claimed = (mean_claimed * rng.random_range(0.3..1.7)).round().max(5.0) as i64;
            let mut input = ActivityInput {
                name: name.clone(),
                starts_at: starts_at.clone(),
                place: place.clone(),
                format: format.to_string(),
                categories: categories.iter().map(|c| c.0.to_string()).collect(),
                co_organisers: if rng.random_bool(0.3) {
                    format!("{}网信办", unit.short)
                } else {
                    String::new()
                },
                ..ActivityInput::default()
            };
            if reported {
                input.participants = Some(claimed);
                input.grassroots_unions = Some(rng.random_range(1..=6));
                input.enterprises = Some(rng.random_range(0..=5));
                input.new_propagandists = Some(rng.random_range(0..=15));
                if rng.random_bool(0.5) {
                    input.online_platform = PLATFORMS.choose(rng).copied().unwrap_or("抖音").into();
                    input.online_link = format!("https://live.example.cn/wangju-demo/{id}");
                    // Log-uniform: most streams are small, a few go far.
                    input.online_views = Some(10f64.powf(rng.random_range(2.0..5.5)) as i64);
                }
                if rng.random_bool(0.4) {
                    input.news_links = format!(
                        "{} https://news.example.cn/wangju-demo/{id}.html",
                        OUTLETS.choose(rng).copied().unwrap_or("天津工人报（市级）")
                    );
                }
                input.summary = format!(
                    "{}，{}在{}组织开展“{}”活动，{}名职工参加。活动围绕{}，通过{}的形式引导职工争做中国好网民，反响良好。",
                    day.format("%-m月%-d日"),
                    unit.name,
                    place,
                    name,
                    claimed,
                    input.categories.join("、"),
                    format
                );
            }
            let document = serde_json::to_string(&input).doing("encoding a demo report")?;
            let created = starts - rng.random_range(3..20) * 86_400;
            let updated = if reported {
                (starts + rng.random_range(1..10) * 86_400).min(today_ends.max(starts))
            } else {
                created
            };
            let return_reason = (status == Status::Returned).then(|| {
                RETURN_REASONS
                    .choose(rng)
                    .copied()
                    .unwrap_or("请补充")
                    .to_string()
            });
            rows.extend([
                V::I(id),
                V::I(campaign_id),
                V::I(unit.id),
                V::T(status.code().to_string()),
                V::T(document),
                V::T(name),
                V::T(starts_at),
                V::I(input.participants.unwrap_or(0)),
                V::I(input.grassroots_unions.unwrap_or(0)),
                V::I(input.enterprises.unwrap_or(0)),
                V::I(input.new_propagandists.unwrap_or(0)),
                V::I(input.online_views.unwrap_or(0)),
                V::N(return_reason),
                V::I(1),
                V::NI(creator.get(&unit.id).copied()),
                V::I(created),
                V::I(updated),
            ]);
            made.activities += 1;
            if let Some(k) = Status::ALL.iter().position(|s| *s == status) {
                made.by_status[k] += 1;
            }
            if reported {
                // Most claims hold up; one in twenty is far above who checked in.
                let share = if rng.random_bool(0.05) {
                    rng.random_range(0.02..0.1)
                } else {
                    rng.random_range(0.3..0.9)
                };
                let verified = (claimed as f64 * share).round() as usize;
                let mut keys = HashSet::with_capacity(verified);
                while keys.len() < verified {
                    let person = person_name(rng);
                    let phone = rng.random_bool(0.7).then(|| mobile(rng));
                    let key = match &phone {
                        Some(p) => format!("{person}|{p}"),
                        None => format!("{person}|{}", unit.name),
                    };
                    if !keys.insert(key.clone()) {
                        continue;
                    }
                    checkins.extend([
                        V::I(id),
                        V::T(person),
                        V::T(unit.name.clone()),
                        V::N(phone),
                        V::T(key),
                        V::T(CONSENT_VERSION.to_string()),
                        V::I(starts + rng.random_range(-1800..5400)),
                    ]);
                }
                made.checkins += verified;
            }
        }
        demo_db::insert(tx, &demo_db::ACTIVITIES, &rows).await?;
        demo_db::insert(tx, &demo_db::CHECKINS, &checkins).await?;
    }
    Ok(made)
}

/// org id → the id of the demo admin of the nearest unit above it (or itself).
async fn admin_ids(tx: &mut Tx, tree: &Tree) -> Result<HashMap<i64, i64>, sqlx::Error> {
    let mut by_org = HashMap::new();
    for node in tree.nodes.iter().filter(|n| n.admin_login.is_some()) {
        let login = node.admin_login.clone().unwrap_or_default();
        let id = demo_db::user_id_by_login(tx, &login).await?;
        if let Some(id) = id {
            by_org.insert(node.id, id);
        }
    }
    let mut creator = HashMap::new();
    for node in &tree.nodes {
        let found = node
            .path
            .split('/')
            .filter_map(|s| s.parse::<i64>().ok())
            .rev()
            .find_map(|org| by_org.get(&org).copied());
        if let Some(user) = found {
            creator.insert(node.id, user);
        }
    }
    Ok(creator)
}
