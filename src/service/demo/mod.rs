//! Demo data: `wangju demo seed --scale city|national` fills a database with a realistic,
//! generated campaign — the Tianjin tree grown to a few hundred unions (or 31 provinces and a
//! few thousand), activities in every status over the push phase, QR check-ins, propagandists,
//! quotas split down the tree, and one admin account per district (or province).
//!
//! Deterministic: the same scale gives the same data (a seeded RNG, no hash-map order).
//! Fast: rows go in as multi-row INSERTs of up to ~30,000 parameters (SQLite's limit is 32,766,
//! PostgreSQL's 65,535) inside one transaction, so national scale (~1.1 million rows) takes
//! seconds, not hours. One audit entry records the seeding, not one per row.
//!
//! The org kinds describe a city's tree. At national scale a province (or municipality)
//! stands where a district does (`district_union`), its cities or districts where streets do
//! (`intermediate_union`), its industry unions where bureaus do (`bureau_group`); Tianjin is the
//! root itself, with its city tree.

//!
//! Layout: `names.rs` holds the name tables (data only), `tree.rs` plans the org tree,
//! `orgs.rs` writes it with quotas and demo admins, `activities.rs` makes activities and
//! check-ins, `people.rs` names people and registers propagandists. Every statement they run is
//! in `db::demo`.

mod activities;
mod lecture_team;
mod names;
mod orgs;
mod people;
pub mod selection;
mod tree;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::clock::Clock;
use crate::db::audit::{self, Actor, Event};
use crate::db::demo as demo_db;
use crate::db::orgs::{self as org_rows, Scope};
use crate::db::quotas as quota_rows;
use crate::db::{Backend, Db};
use crate::domain::activity::Status;
use crate::domain::org::OrgKind;
use crate::error::{AppError, Conflict, Doing};
use crate::service::accounts::{hash_password, one_time_password};
use crate::service::acting::current_campaign;
use tree::{Tree, grow_provinces, grow_tianjin};

/// How much to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The Tianjin tree, ~300 units, activities at 40–130% of Annex 1's 100 (~200 in all),
    /// ~12,000 check-ins.
    City,
    /// 31 provinces with quotas of 600–3,000 each, ~3,000 units, ~100,000 activities,
    /// ~1,000,000 check-ins.
    National,
}

impl Scale {
    pub fn parse(text: &str) -> Option<Scale> {
        match text.trim() {
            "city" => Some(Scale::City),
            "national" => Some(Scale::National),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Scale::City => "city",
            Scale::National => "national",
        }
    }

    pub(super) fn checkins(self) -> usize {
        match self {
            Scale::City => 12_000,
            Scale::National => 1_000_000,
        }
    }

    pub(super) fn propagandists(self) -> usize {
        match self {
            Scale::City => 1_500,
            Scale::National => 20_000,
        }
    }
}

/// What a seeding made.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub scale: Scale,
    /// Union units in the tree below the city union (districts, bureaus, streets, grassroots).
    pub units: usize,
    pub orgs_created: usize,
    pub quotas: usize,
    pub activities: usize,
    /// Activities per status, in `Status::ALL` order.
    pub by_status: Vec<(Status, usize)>,
    pub checkins: usize,
    pub propagandists: usize,
    /// (login, unit name) of the demo admins; they share `password`, to change at first login.
    pub admins: Vec<(String, String)>,
    pub password: String,
    /// Removed first (with `--force`): activities that were there before.
    pub replaced_activities: i64,
    /// Works, reviewers, assignments and scores for the selection pages.
    pub selection: selection::Made,
    /// Model nominations, team members and lecture requests for the 宣讲团 pages.
    pub lecture_team: lecture_team::Made,
    pub elapsed: Duration,
}

/// Seed for the RNG: the notice's date.
const SEED: u64 = 20200612;

/// Fills the database. Refuses when it already holds activities, unless `force` (which first
/// removes every activity, check-in and propagandist; the org tree and accounts stay).
pub async fn seed(
    db: &Db,
    scale: Scale,
    force: bool,
    actor: &Actor,
) -> Result<SeedReport, AppError> {
    seed_as_of(db, scale, force, actor, Clock::new(None).today()).await
}

/// `seed`, standing on `today` (the campaign's day, `WANGJU_TODAY` for a demo): activities
/// already reported were held before it.
pub async fn seed_as_of(
    db: &Db,
    scale: Scale,
    force: bool,
    actor: &Actor,
    today: NaiveDate,
) -> Result<SeedReport, AppError> {
    let started = Instant::now();
    let campaign = current_campaign(db).await?;
    let existing = demo_db::count_activities(db).await?;
    if existing > 0 && !force {
        return Err(AppError::conflict(
            Conflict::AlreadyExists,
            format!(
                "数据库里已有 {existing} 个线下活动，演示数据只写入没有活动的数据库。\
             如确要删除现有的全部活动、签到和宣传员再生成演示数据，请加 --force"
            ),
        ));
    }
    let mut rng = StdRng::seed_from_u64(SEED);
    let known = org_rows::list(db, &Scope::everything(), None).await?;
    let city = known
        .iter()
        .find(|o| o.kind == OrgKind::CityUnion && o.parent_id.is_none())
        .cloned()
        .doing("finding the city union in the org tree")?;
    let mut tree = Tree::new(known);
    grow_tianjin(&mut tree, &city, &mut rng);
    if scale == Scale::National {
        grow_provinces(&mut tree, &city, &mut rng);
    }

    // One admin password for all demo accounts, hashed once (argon2id is slow on purpose).
    let password = one_time_password();
    let hash = hash_password(&password).await?;

    // Annex 1's quotas, which the districts and bureaus keep (the seeding sets the others).
    let annex: HashMap<i64, i64> = quota_rows::list(db, campaign.id)
        .await?
        .into_iter()
        .filter(|q| q.annex_level == 1)
        .map(|q| (q.org_id.get(), q.min_activities))
        .collect();

    let mut tx = db.begin().await?;
    if existing > 0 {
        demo_db::clear_activities(&mut tx).await?;
    }
    let orgs_created = orgs::insert_orgs(&mut tx, &tree).await?;
    let quotas = orgs::insert_quotas(&mut tx, campaign.id, &tree).await?;
    let admins = orgs::upsert_admins(&mut tx, &tree, &hash).await?;
    let made = activities::insert_activities(
        &mut tx,
        campaign.id,
        scale,
        &tree,
        &annex,
        i64::from(campaign.campaign.quotas.bureau_group_min),
        today,
        &mut rng,
    )
    .await?;
    let propagandists =
        people::insert_propagandists(&mut tx, campaign.id, scale, &tree, &mut rng).await?;
    let selection =
        selection::insert_selection(&mut tx, &campaign, &admins, city.id, &hash, &mut rng).await?;
    let lecture_team =
        lecture_team::insert_lecture_team(&mut tx, &campaign, crate::clock::unix_now(), &mut rng)
            .await?;
    if db.backend() == Backend::Postgres {
        // Rows were given their ids; move the identity sequences past them.
        demo_db::sync_id_sequences(&mut tx).await?;
    }
    let units = tree.units();
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "demo.seed",
            object_type: "campaign",
            object_id: campaign.campaign.code.clone(),
            before: (existing > 0).then(|| serde_json::json!({ "activities": existing })),
            after: Some(serde_json::json!({
                "scale": scale.code(),
                "units": units,
                "orgs_created": orgs_created,
                "quotas": quotas,
                "activities": made.activities,
                "checkins": made.checkins,
                "propagandists": propagandists,
                "works": selection.works,
                "review_assignments": selection.assignments,
                "scores": selection.scores,
                "model_nominations": lecture_team.nominations,
                "lecture_members": lecture_team.members,
                "lectures": lecture_team.lectures,
                "admins": admins.iter().map(|(login, _)| login).collect::<Vec<_>>(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    // Fresh statistics for the planner: right after a bulk load PostgreSQL still thinks the
    // tables are nearly empty and picks nested loops over 100,000 rows.
    demo_db::analyze(db).await?;
    Ok(SeedReport {
        scale,
        units,
        orgs_created,
        quotas,
        activities: made.activities,
        by_status: Status::ALL
            .iter()
            .zip(made.by_status)
            .map(|(s, n)| (*s, n))
            .collect(),
        checkins: made.checkins,
        propagandists,
        admins,
        password,
        replaced_activities: existing,
        selection,
        lecture_team,
        elapsed: started.elapsed(),
    })
}
