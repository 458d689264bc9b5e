//! Measured reach: attributed share links and the visits counted through them.
//!
//! A signed-in account gets a root link (depth 1) to a showcase page or the campaign home. A
//! visit through a link is counted once per visitor, link and China day: the visitor is a keyed
//! hash of address and user agent under the day's random key (`domain::reach::visitor`), so no
//! address is stored and, once the key is deleted after its day, no hash can be tied to one.
//! Bots and self-visits (the link's own account, or the visitor a child link was made for) are
//! not counted. Each counted visitor gets a child link one level deeper, derived from the parent
//! and the visitor, so the page they land on carries it and whatever they share onward (WeChat's
//! own share menu shares the current address) extends the tree. The child link is not a row of
//! its own: its code is the visit's key, and a child code is looked up among the visits.
//!
//! Counting is off the request path: the visit is queued for the reach writer
//! (`GroupCommit<Visit>`, multi-row inserts, one commit per batch) and the redirect is sent at
//! once. A clean shutdown commits the queue; a killed process loses what is queued (measured in
//! docs/benchmarks.md). A node-local set drops repeats (a flood from one source) before they
//! reach the queue, and the database's primary key drops any that get past it (another node).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::clock::{Clock, unix_now};
use crate::db::Db;
use crate::db::group_commit::GroupCommit;
use crate::db::reach::{self as db, Link, Visit};
use crate::domain::ids::UserId;
use crate::domain::reach::{self as rules, Target};
use crate::error::AppError;
use crate::service::acting::{Acting, current_campaign};

/// Links kept in a node's memory (they never change); the cache is emptied when full.
pub const MAX_CACHED_LINKS: usize = 100_000;
/// (link, visitor) pairs a node remembers for the day (as a 64-bit hash each, about 16 MB when
/// full) to drop repeats before the queue; when full it is emptied, and the database's key
/// still drops the repeats.
pub const MAX_SEEN: usize = 1_000_000;
/// Most visitors counted from one address in a day on a node (a small office behind one NAT
/// address still counts; a script varying its user agent does not count more than this).
pub const MAX_PER_ADDRESS: u32 = 30;

#[derive(Default)]
struct Seen {
    day: String,
    /// Hashes of (link, visitor) counted today.
    pairs: HashSet<u64>,
    /// Visitors counted today per address (by hash).
    addresses: HashMap<u64, u32>,
}

fn hash64(parts: &[&str]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(parts, &mut h);
    std::hash::Hasher::finish(&h)
}

/// The node's reach counter: the writer, the link cache, the day's repeats and key.
pub struct Reach {
    writer: GroupCommit<Visit>,
    links: Mutex<HashMap<String, Link>>,
    seen: Mutex<Seen>,
    key: Mutex<Option<(String, Vec<u8>)>>,
}

/// Who is visiting.
pub struct Visitor<'a> {
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The signed-in account, if any (its own links are self-visits).
    pub account: Option<UserId>,
}

/// What a visit through a code came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No such link: nothing counted.
    Unknown,
    /// A crawler or link previewer: nothing counted, no child.
    Bot(Link),
    /// The link's own account or visitor: nothing counted; they keep their link.
    Own(Link),
    /// Counted now.
    Counted { link: Link, child: Option<String> },
    /// This visitor was counted through this link today already.
    Repeat { link: Link, child: Option<String> },
}

impl Outcome {
    /// Where the visitor goes: the link's page carrying the code they share onward.
    pub fn location(&self) -> String {
        let with = |link: &Link, code: Option<&str>| match code {
            Some(c) => format!("{}?via={c}", link.target),
            None => link.target.clone(),
        };
        match self {
            Outcome::Unknown => "/".into(),
            Outcome::Bot(link) => link.target.clone(),
            Outcome::Own(link) => with(link, Some(&link.code)),
            Outcome::Counted { link, child } | Outcome::Repeat { link, child } => {
                with(link, child.as_deref().or(Some(&link.code)))
            }
        }
    }

    pub fn counted(&self) -> bool {
        matches!(self, Outcome::Counted { .. })
    }
}

impl Reach {
    /// With a writer task (`group_commit`), or writing each visit at once (`direct`).
    pub fn new(db: &Db, group_commit: bool) -> Reach {
        Reach {
            writer: if group_commit {
                GroupCommit::start(db, "reach")
            } else {
                GroupCommit::direct(db, "reach")
            },
            links: Mutex::default(),
            seen: Mutex::default(),
            key: Mutex::default(),
        }
    }

    /// Commits what is queued and stops the writer (clean shutdown).
    pub async fn shutdown(&self) {
        self.writer.shutdown().await;
    }

    async fn day_key(&self, db: &Db, day: &str) -> Result<Vec<u8>, AppError> {
        if let Ok(guard) = self.key.lock()
            && let Some((d, k)) = guard.as_ref()
            && d == day
        {
            return Ok(k.clone());
        }
        let fresh = crate::service::accounts::random_token();
        let key = db::day_key(db, day, &fresh).await?.into_bytes();
        if let Ok(mut guard) = self.key.lock() {
            *guard = Some((day.to_string(), key.clone()));
        }
        Ok(key)
    }

    async fn link(&self, db: &Db, code: &str) -> Result<Option<Link>, AppError> {
        if let Some(l) = self.links.lock().ok().and_then(|m| m.get(code).cloned()) {
            return Ok(Some(l));
        }
        let found = db::link(db, code, rules::MAX_DEPTH).await?;
        if let Some(l) = &found {
            self.remember(l.clone());
        }
        Ok(found)
    }

    fn remember(&self, link: Link) {
        if let Ok(mut m) = self.links.lock() {
            if m.len() >= MAX_CACHED_LINKS {
                m.clear();
            }
            m.insert(link.code.clone(), link);
        }
    }

    /// Whether (code, visitor) is new today on this node and its address has not reached
    /// `MAX_PER_ADDRESS`; remembers it.
    fn first_today(&self, day: &str, code: &str, visitor: &str, ip: &str) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        if seen.day != day || seen.pairs.len() >= MAX_SEEN || seen.addresses.len() >= MAX_SEEN {
            *seen = Seen {
                day: day.to_string(),
                ..Seen::default()
            };
        }
        let pair = hash64(&[code, visitor]);
        if seen.pairs.contains(&pair) {
            return false;
        }
        let from = seen.addresses.entry(hash64(&[day, ip])).or_insert(0);
        if *from >= MAX_PER_ADDRESS {
            return false;
        }
        *from += 1;
        seen.pairs.insert(pair)
    }

    /// A visit through `code`: judged, and when it counts, queued for the writer.
    pub async fn visit(
        &self,
        db: &Db,
        clock: &Clock,
        code: &str,
        who: &Visitor<'_>,
    ) -> Result<Outcome, AppError> {
        if !rules::plausible_code(code) {
            return Ok(Outcome::Unknown);
        }
        let Some(link) = self.link(db, code).await? else {
            return Ok(Outcome::Unknown);
        };
        if who.account == Some(link.account_id) {
            return Ok(Outcome::Own(link));
        }
        if rules::is_bot(who.user_agent) {
            return Ok(Outcome::Bot(link));
        }
        let day = clock.today().format("%Y-%m-%d").to_string();
        let key = self.day_key(db, &day).await?;
        let visitor = rules::visitor(&key, who.ip, who.user_agent);
        if link.visitor.as_deref() == Some(visitor.as_str()) {
            return Ok(Outcome::Own(link));
        }
        // The visit's key, and the child link its visitor shares onward (none past the
        // deepest level: they share the same link).
        let visit_code = rules::child_code(&key, code, &visitor);
        let child = (link.depth < rules::MAX_DEPTH).then(|| visit_code.clone());
        if !self.first_today(&day, code, &visitor, who.ip) {
            return Ok(Outcome::Repeat { link, child });
        }
        if let Some(c) = &child {
            // Known on this node before the writer commits it: the redirect goes there next.
            self.remember(Link {
                code: c.clone(),
                campaign_id: link.campaign_id,
                account_id: link.account_id,
                org_id: link.org_id,
                target: link.target.clone(),
                parent_code: Some(link.code.clone()),
                depth: link.depth + 1,
                visitor: Some(visitor.clone()),
            });
        }
        self.writer
            .enqueue(Visit {
                code: visit_code,
                link_code: link.code.clone(),
                day,
                visitor,
                campaign_id: link.campaign_id,
                depth: link.depth,
                account_id: link.account_id,
                org_id: link.org_id,
                target: link.target.clone(),
                at: unix_now(),
            })
            .await?;
        Ok(Outcome::Counted { link, child })
    }
}

/// The account's root link to `target` (made on first ask). Only a page the public can open
/// may be shared: a work shown and accepted, an activity shown and confirmed, the showcase or
/// the campaign home.
pub async fn share(db: &Db, acting: &Acting, target: &str) -> Result<Link, AppError> {
    let target = Target::parse(target).ok_or(AppError::NotFound)?;
    match target {
        Target::Home | Target::Showcase => {}
        Target::Work(id) => {
            db::public_work(db, id).await?.ok_or(AppError::NotFound)?;
        }
        Target::Activity(id) => {
            db::public_activity(db, id)
                .await?
                .ok_or(AppError::NotFound)?;
        }
    }
    let path = target.path();
    if let Some(l) = db::root_link(db, acting.user_id, &path).await? {
        return Ok(l);
    }
    let campaign = current_campaign(db).await?;
    for _ in 0..3 {
        let mut random = [0u8; rules::ROOT_CODE_LEN];
        rand::fill(&mut random);
        let link = Link {
            code: rules::root_code(&random),
            campaign_id: campaign.id,
            account_id: acting.user_id,
            org_id: acting.org.id,
            target: path.clone(),
            parent_code: None,
            depth: 1,
            visitor: None,
        };
        if db::insert_root(db, &link, unix_now()).await? {
            return Ok(link);
        }
        if let Some(l) = db::root_link(db, acting.user_id, &path).await? {
            return Ok(l);
        }
    }
    Err(AppError::Unavailable)
}

/// Accounts and units listed as top propagators.
pub const TOP: i64 = 20;

/// A unit's (or district's) measured reach.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UnitReach {
    pub org_id: i64,
    pub name: String,
    pub visits: i64,
    /// Of them at depth 2 or more.
    pub secondary: i64,
}

/// The reach dashboard of a scope: measured beside claimed, against the notice's target.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub totals: db::Totals,
    pub by_day: Vec<db::DayCount>,
    pub by_depth: Vec<db::DepthCount>,
    pub top_accounts: Vec<db::AccountCount>,
    /// Units by their own links' visits, most first.
    pub top_units: Vec<UnitReach>,
    /// The units right under the scope's top (for the city: the districts and bureaus), each
    /// with its whole subtree.
    pub districts: Vec<UnitReach>,
    /// What confirmed activity reports claim as online views (线上浏览量), same scope.
    pub claimed: i64,
    /// The notice's online target (1亿).
    pub target: u64,
}

/// The dashboard for the acting account's scope (unit admins: their subtree).
pub async fn dashboard(
    db: &Db,
    acting: &Acting,
    campaign: &crate::db::campaigns::StoredCampaign,
    claimed: i64,
) -> Result<Dashboard, AppError> {
    let scope = &acting.scope;
    let id = campaign.id;
    let orgs = crate::db::orgs::list(db, scope, None).await?;
    // Every figure from one snapshot: a visit committed meanwhile is in all of them or none.
    let mut snapshot = db.snapshot().await?;
    let by_org = db::by_org(&mut snapshot, id, scope).await?;
    let totals = db::totals(&mut snapshot, id, scope).await?;
    let by_day = db::by_day(&mut snapshot, id, scope).await?;
    let by_depth = db::by_depth(&mut snapshot, id, scope).await?;
    let top_accounts = db::top_accounts(&mut snapshot, id, scope, TOP).await?;
    snapshot.commit().await?;
    let name_of = |org: crate::domain::ids::OrgId| {
        orgs.iter()
            .find(|o| o.id == org)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    let mut top_units: Vec<UnitReach> = by_org
        .iter()
        .map(|c| UnitReach {
            org_id: c.org_id.get(),
            name: name_of(c.org_id),
            visits: c.visits,
            secondary: c.secondary,
        })
        .collect();
    top_units.sort_by(|a, b| b.visits.cmp(&a.visits).then(a.org_id.cmp(&b.org_id)));
    top_units.truncate(usize::try_from(TOP).unwrap_or(20));
    let top_depth = orgs.iter().map(|o| o.depth).min().unwrap_or(0);
    let mut districts: Vec<UnitReach> = orgs
        .iter()
        .filter(|o| o.depth == top_depth + 1)
        .map(|o| UnitReach {
            org_id: o.id.get(),
            name: o.name.clone(),
            visits: 0,
            secondary: 0,
        })
        .collect();
    for c in &by_org {
        let Some(path) = orgs.iter().find(|o| o.id == c.org_id).map(|o| &o.path) else {
            continue;
        };
        let district = orgs
            .iter()
            .filter(|o| o.depth == top_depth + 1 && path.starts_with(&o.path))
            .map(|o| o.id.get())
            .next();
        if let Some(d) = districts.iter_mut().find(|d| Some(d.org_id) == district) {
            d.visits += c.visits;
            d.secondary += c.secondary;
        }
    }
    districts.sort_by(|a, b| b.visits.cmp(&a.visits).then(a.org_id.cmp(&b.org_id)));
    Ok(Dashboard {
        totals,
        by_day,
        by_depth,
        top_accounts,
        top_units,
        districts,
        claimed,
        target: campaign.campaign.targets.online_reach,
    })
}

/// Measured reach in a scope, for the 12351+ counters (counted visits, unique visitor-days).
pub async fn measured(
    db: &Db,
    campaign_id: i64,
    scope: &crate::db::orgs::Scope,
) -> Result<db::Totals, AppError> {
    let mut snapshot = db.snapshot().await?;
    let totals = db::totals(&mut snapshot, campaign_id, scope).await?;
    snapshot.commit().await?;
    Ok(totals)
}
