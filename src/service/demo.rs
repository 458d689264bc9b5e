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

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::clock::unix_now;
use crate::db::audit::{self, Actor, Event};
use crate::db::orgs::{self, Org, Scope};
use crate::db::users::{self, NewUser};
use crate::db::{Backend, Db, Tx, on_pool, on_tx};
use crate::domain::activity::{ActivityInput, Status};
use crate::domain::org::OrgKind;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::accounts::{hash_password, one_time_password};
use crate::service::acting::current_campaign;
use crate::service::checkin::CONSENT_VERSION;

/// How much to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The Tianjin tree, ~300 units, ~2,000 activities, ~50,000 check-ins.
    City,
    /// 31 provinces, ~3,000 units, ~100,000 activities, ~1,000,000 check-ins.
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

    fn activities(self) -> usize {
        match self {
            Scale::City => 2_000,
            Scale::National => 100_000,
        }
    }

    fn checkins(self) -> usize {
        match self {
            Scale::City => 50_000,
            Scale::National => 1_000_000,
        }
    }

    fn propagandists(self) -> usize {
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
    let started = Instant::now();
    let campaign = current_campaign(db).await?;
    let existing: i64 = on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM activities")
        .fetch_one(pool)
        .await)?;
    if existing > 0 && !force {
        return Err(AppError::Conflict(format!(
            "数据库里已有 {existing} 个线下活动，演示数据只写入没有活动的数据库。\
             如确要删除现有的全部活动、签到和宣传员再生成演示数据，请加 --force"
        )));
    }
    let mut rng = StdRng::seed_from_u64(SEED);
    let known = orgs::list(db, &Scope::everything(), None).await?;
    let city = known
        .iter()
        .find(|o| o.kind() == Some(OrgKind::CityUnion) && o.parent_id.is_none())
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("组织树里没有市总工会")))?;
    let mut tree = Tree::new(known);
    grow_tianjin(&mut tree, &city, &mut rng);
    if scale == Scale::National {
        grow_provinces(&mut tree, &city, &mut rng);
    }

    // One admin password for all demo accounts, hashed once (argon2id is slow on purpose).
    let password = one_time_password();
    let hash = hash_password(&password).await?;

    let mut tx = db.begin().await?;
    if existing > 0 {
        for table in [
            "checkins",
            "checkin_codes",
            "activity_versions",
            "activities",
            "propagandists",
        ] {
            on_tx!(&mut tx, c => sqlx::query(&format!("DELETE FROM {table}"))
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
    }
    let orgs_created = insert_orgs(&mut tx, &tree).await?;
    let quotas = insert_quotas(&mut tx, campaign.id, &tree).await?;
    let admins = upsert_admins(&mut tx, &tree, &hash).await?;
    let made = insert_activities(&mut tx, campaign.id, scale, &tree, &mut rng).await?;
    let propagandists = insert_propagandists(&mut tx, campaign.id, scale, &tree, &mut rng).await?;
    if db.backend() == Backend::Postgres {
        // Rows were given their ids; move the identity sequences past them.
        for table in ["orgs", "activities"] {
            on_tx!(&mut tx, c => sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"))
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
        }
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
                "admins": admins.iter().map(|(login, _)| login).collect::<Vec<_>>(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    // Fresh statistics for the planner: right after a bulk load PostgreSQL still thinks the
    // tables are nearly empty and picks nested loops over 100,000 rows.
    let analyze = match db.backend() {
        Backend::Sqlite => "ANALYZE",
        Backend::Postgres => "ANALYZE orgs, quotas, users, activities, checkins, propagandists",
    };
    match db {
        Db::Sqlite { write, .. } => sqlx::query(analyze).execute(write).await.map(|_| ())?,
        Db::Postgres(pool) => sqlx::query(analyze).execute(pool).await.map(|_| ())?,
    }
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
        elapsed: started.elapsed(),
    })
}

// ---------------------------------------------------------------------------------------------
// The tree

/// One org of the planned tree: already stored (`new == false`) or to insert with this id.
struct Node {
    id: i64,
    parent: Option<usize>,
    name: String,
    kind: OrgKind,
    path: String,
    depth: i64,
    new: bool,
    contact: Option<(String, String)>,
    /// Quota to set for this campaign (None: leave as it is).
    quota: Option<i64>,
    /// Demo admin login for this unit.
    admin_login: Option<String>,
    /// How busy the unit is: its share of the activities.
    weight: f64,
    /// Short name for generated names below it (e.g. 和平 for 和平区总工会).
    short: String,
}

struct Tree {
    nodes: Vec<Node>,
    /// Name → index in `nodes`, stored and planned alike.
    index: HashMap<String, usize>,
    /// Names generated in this run (a re-run generates the same ones and reuses the orgs).
    made: HashSet<String>,
    next_id: i64,
}

impl Tree {
    fn new(known: Vec<Org>) -> Tree {
        let next_id = known.iter().map(|o| o.id).max().unwrap_or(0) + 1;
        let index = known
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.clone(), i))
            .collect();
        let nodes = known
            .into_iter()
            .map(|o| Node {
                id: o.id,
                parent: None,
                kind: o.kind().unwrap_or(OrgKind::Grassroots),
                short: short_name(&o.name),
                name: o.name,
                path: o.path,
                depth: o.depth,
                new: false,
                contact: None,
                quota: None,
                admin_login: None,
                weight: 0.0,
            })
            .collect();
        Tree {
            nodes,
            index,
            made: HashSet::new(),
            next_id,
        }
    }

    fn find_id(&self, id: i64) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// The node named `name` under `parent`: the stored one if the name exists (a re-run with
    /// `--force` reuses the tree), else a new one.
    fn add(&mut self, parent: usize, name: String, kind: OrgKind, weight: f64) -> usize {
        self.made.insert(name.clone());
        if let Some(&i) = self.index.get(&name) {
            self.nodes[i].weight = weight;
            self.nodes[i].parent = Some(parent);
            return i;
        }
        let id = self.next_id;
        self.next_id += 1;
        let (path, depth) = {
            let p = &self.nodes[parent];
            (format!("{}{id}/", p.path), p.depth + 1)
        };
        self.index.insert(name.clone(), self.nodes.len());
        self.nodes.push(Node {
            id,
            parent: Some(parent),
            short: short_name(&name),
            name,
            kind,
            path,
            depth,
            new: true,
            contact: None,
            quota: None,
            admin_login: None,
            weight,
        });
        self.nodes.len() - 1
    }

    /// A name nobody has yet: `make` is asked again until it gives one (then numbered).
    fn fresh(&self, rng: &mut StdRng, make: impl Fn(&mut StdRng) -> String) -> String {
        for _ in 0..20 {
            let name = make(rng);
            if !self.made.contains(&name) {
                return name;
            }
        }
        let base = make(rng);
        let stem = base.trim_end_matches("工会");
        (2..)
            .map(|n| format!("{stem}第{n}分会工会"))
            .find(|n| !self.made.contains(n))
            .unwrap_or(base)
    }

    /// Union units below the city: what the dashboard counts.
    fn units(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| {
                matches!(
                    n.kind,
                    OrgKind::DistrictUnion
                        | OrgKind::IntermediateUnion
                        | OrgKind::BureauGroup
                        | OrgKind::Grassroots
                )
            })
            .count()
    }
}

fn short_name(name: &str) -> String {
    let base = name
        .trim_end_matches("工会")
        .trim_end_matches('总')
        .trim_end_matches("委员会");
    if base.contains("自治") {
        return base.chars().take(2).collect();
    }
    let trimmed = base
        .trim_end_matches('市')
        .trim_end_matches('省')
        .trim_end_matches("新区")
        .trim_end_matches('区');
    if trimmed.chars().count() >= 2 {
        trimmed.to_string()
    } else {
        base.to_string()
    }
}

/// The 16 districts of Annex 1 with their login names, how busy each is, and streets/towns.
/// Two districts lag far behind, so the dashboard has someone to chase.
const TIANJIN: [(&str, &str, f64, &[&str]); 16] = [
    (
        "滨海新区总工会",
        "binhai",
        2.0,
        &[
            "天津经济技术开发区",
            "天津港保税区",
            "滨海高新技术产业开发区",
            "东疆保税港区",
            "中新天津生态城",
            "新北街道",
            "新港街道",
            "杭州道街道",
            "大沽街道",
            "汉沽街道",
            "大港街道",
            "古林街道",
        ],
    ),
    (
        "和平区总工会",
        "heping",
        1.0,
        &[
            "劝业场街道",
            "小白楼街道",
            "五大道街道",
            "新兴街道",
            "南营门街道",
            "南市街道",
        ],
    ),
    (
        "河东区总工会",
        "hedong",
        1.0,
        &[
            "大王庄街道",
            "大直沽街道",
            "中山门街道",
            "富民路街道",
            "二号桥街道",
            "春华街道",
        ],
    ),
    (
        "河西区总工会",
        "hexi",
        1.2,
        &[
            "大营门街道",
            "下瓦房街道",
            "桃园街道",
            "挂甲寺街道",
            "马场街道",
            "越秀路街道",
        ],
    ),
    (
        "南开区总工会",
        "nankai",
        1.2,
        &[
            "长虹街道",
            "鼓楼街道",
            "兴南街道",
            "广开街道",
            "万兴街道",
            "学府街道",
        ],
    ),
    (
        "河北区总工会",
        "hebei",
        0.9,
        &[
            "光复道街道",
            "望海楼街道",
            "鸿顺里街道",
            "新开河街道",
            "铁东路街道",
            "建昌道街道",
        ],
    ),
    (
        "红桥区总工会",
        "hongqiao",
        0.8,
        &[
            "西于庄街道",
            "丁字沽街道",
            "西沽街道",
            "三条石街道",
            "邵公庄街道",
            "芥园街道",
        ],
    ),
    (
        "东丽区总工会",
        "dongli",
        1.0,
        &[
            "张贵庄街道",
            "丰年村街道",
            "万新街道",
            "无瑕街道",
            "华明街道",
            "军粮城街道",
        ],
    ),
    (
        "西青区总工会",
        "xiqing",
        1.1,
        &[
            "西营门街道",
            "李七庄街道",
            "杨柳青镇",
            "中北镇",
            "精武镇",
            "大寺镇",
        ],
    ),
    (
        "津南区总工会",
        "jinnan",
        0.9,
        &[
            "咸水沽镇",
            "葛沽镇",
            "小站镇",
            "双港镇",
            "辛庄镇",
            "八里台镇",
        ],
    ),
    (
        "北辰区总工会",
        "beichen",
        1.0,
        &[
            "果园新村街道",
            "集贤里街道",
            "普东街道",
            "天穆镇",
            "北仓镇",
            "双街镇",
        ],
    ),
    (
        "武清区总工会",
        "wuqing",
        0.9,
        &[
            "杨村街道",
            "下朱庄街道",
            "东蒲洼街道",
            "崔黄口镇",
            "大良镇",
            "王庆坨镇",
        ],
    ),
    (
        "宝坻区总工会",
        "baodi",
        0.7,
        &[
            "海滨街道",
            "宝平街道",
            "钰华街道",
            "大口屯镇",
            "王卜庄镇",
            "林亭口镇",
        ],
    ),
    (
        "静海区总工会",
        "jinghai",
        0.7,
        &[
            "静海镇",
            "唐官屯镇",
            "独流镇",
            "王口镇",
            "大邱庄镇",
            "团泊镇",
        ],
    ),
    (
        "宁河区总工会",
        "ninghe",
        0.04,
        &["芦台镇", "宁河镇", "苗庄镇", "丰台镇", "潘庄镇", "七里海镇"],
    ),
    (
        "蓟州区总工会",
        "jizhou",
        0.03,
        &["渔阳镇", "洇溜镇", "官庄镇", "马伸桥镇", "下营镇", "邦均镇"],
    ),
];

/// Bureau and group-company unions (each at least the campaign's minimum, by default).
const TIANJIN_BUREAUS: [&str; 12] = [
    "天津市教育系统工会",
    "天津市卫生健康系统工会",
    "天津市交通运输系统工会",
    "天津市金融工会",
    "天津港（集团）有限公司工会",
    "天津轨道交通集团有限公司工会",
    "天津城市基础设施建设投资集团有限公司工会",
    "天津食品集团有限公司工会",
    "天津医药集团有限公司工会",
    "天津渤海化工集团有限责任公司工会",
    "天津市政建设集团有限公司工会",
    "天津能源投资集团有限公司工会",
];

fn grow_tianjin(tree: &mut Tree, city: &Org, rng: &mut StdRng) {
    let Some(root) = tree.find_id(city.id) else {
        return;
    };
    for (name, login, busy, streets) in TIANJIN {
        let district = tree.add(root, name.to_string(), OrgKind::DistrictUnion, busy * 0.5);
        tree.nodes[district].admin_login = Some(format!("tj-{login}"));
        tree.nodes[district].contact = Some((person_name(rng), mobile(rng)));
        let district_full = name.trim_end_matches("总工会");
        // Binhai gives each 开发区/街镇 union at least 3; the others 1 or 2.
        let split = if login == "binhai" { 3 } else { 1 };
        for street in streets {
            let union = if street.contains("区") && !street.ends_with("街道") {
                format!("{street}总工会")
            } else {
                format!("{district_full}{street}总工会")
            };
            let weight = if rng.random_bool(0.1) { 0.0 } else { busy };
            let mid = tree.add(district, union, OrgKind::IntermediateUnion, weight);
            tree.nodes[mid].quota = Some(split + i64::from(rng.random_bool(0.3)));
            tree.nodes[mid].short = street
                .trim_end_matches("街道")
                .trim_end_matches('镇')
                .to_string();
            for _ in 0..rng.random_range(1..=2) {
                grassroots(tree, mid, "天津", false, busy, rng);
            }
        }
    }
    for bureau in TIANJIN_BUREAUS {
        let b = tree.add(root, bureau.to_string(), OrgKind::BureauGroup, 0.8);
        for _ in 0..rng.random_range(2..=4) {
            grassroots(tree, b, "天津", true, 0.8, rng);
        }
    }
}

/// Provinces other than Tianjin (the root), their login names and six cities or districts each.
const PROVINCES: [(&str, &str, [&str; 6]); 30] = [
    (
        "北京市",
        "beijing",
        ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "通州区"],
    ),
    (
        "上海市",
        "shanghai",
        ["黄浦区", "徐汇区", "浦东新区", "闵行区", "杨浦区", "嘉定区"],
    ),
    (
        "重庆市",
        "chongqing",
        [
            "渝中区",
            "江北区",
            "沙坪坝区",
            "九龙坡区",
            "南岸区",
            "万州区",
        ],
    ),
    (
        "河北省",
        "hebei",
        ["石家庄市", "唐山市", "保定市", "邯郸市", "沧州市", "廊坊市"],
    ),
    (
        "山西省",
        "shanxi",
        ["太原市", "大同市", "长治市", "晋中市", "运城市", "临汾市"],
    ),
    (
        "内蒙古自治区",
        "neimenggu",
        [
            "呼和浩特市",
            "包头市",
            "鄂尔多斯市",
            "赤峰市",
            "通辽市",
            "呼伦贝尔市",
        ],
    ),
    (
        "辽宁省",
        "liaoning",
        ["沈阳市", "大连市", "鞍山市", "抚顺市", "锦州市", "营口市"],
    ),
    (
        "吉林省",
        "jilin",
        [
            "长春市",
            "吉林市",
            "四平市",
            "通化市",
            "白山市",
            "延边朝鲜族自治州",
        ],
    ),
    (
        "黑龙江省",
        "heilongjiang",
        [
            "哈尔滨市",
            "齐齐哈尔市",
            "牡丹江市",
            "佳木斯市",
            "大庆市",
            "绥化市",
        ],
    ),
    (
        "江苏省",
        "jiangsu",
        ["南京市", "无锡市", "苏州市", "常州市", "南通市", "徐州市"],
    ),
    (
        "浙江省",
        "zhejiang",
        ["杭州市", "宁波市", "温州市", "嘉兴市", "绍兴市", "金华市"],
    ),
    (
        "安徽省",
        "anhui",
        ["合肥市", "芜湖市", "蚌埠市", "安庆市", "马鞍山市", "阜阳市"],
    ),
    (
        "福建省",
        "fujian",
        ["福州市", "厦门市", "泉州市", "漳州市", "莆田市", "龙岩市"],
    ),
    (
        "江西省",
        "jiangxi",
        ["南昌市", "九江市", "赣州市", "上饶市", "宜春市", "景德镇市"],
    ),
    (
        "山东省",
        "shandong",
        ["济南市", "青岛市", "烟台市", "潍坊市", "临沂市", "淄博市"],
    ),
    (
        "河南省",
        "henan",
        ["郑州市", "洛阳市", "开封市", "新乡市", "南阳市", "许昌市"],
    ),
    (
        "湖北省",
        "hubei",
        ["武汉市", "宜昌市", "襄阳市", "荆州市", "黄石市", "十堰市"],
    ),
    (
        "湖南省",
        "hunan",
        ["长沙市", "株洲市", "湘潭市", "衡阳市", "岳阳市", "常德市"],
    ),
    (
        "广东省",
        "guangdong",
        ["广州市", "深圳市", "佛山市", "东莞市", "珠海市", "汕头市"],
    ),
    (
        "广西壮族自治区",
        "guangxi",
        ["南宁市", "柳州市", "桂林市", "梧州市", "北海市", "玉林市"],
    ),
    (
        "海南省",
        "hainan",
        ["海口市", "三亚市", "儋州市", "琼海市", "文昌市", "万宁市"],
    ),
    (
        "四川省",
        "sichuan",
        ["成都市", "绵阳市", "德阳市", "宜宾市", "南充市", "泸州市"],
    ),
    (
        "贵州省",
        "guizhou",
        ["贵阳市", "遵义市", "六盘水市", "安顺市", "毕节市", "铜仁市"],
    ),
    (
        "云南省",
        "yunnan",
        [
            "昆明市",
            "曲靖市",
            "玉溪市",
            "大理白族自治州",
            "红河哈尼族彝族自治州",
            "丽江市",
        ],
    ),
    (
        "西藏自治区",
        "xizang",
        ["拉萨市", "日喀则市", "昌都市", "林芝市", "山南市", "那曲市"],
    ),
    (
        "陕西省",
        "shaanxi",
        ["西安市", "宝鸡市", "咸阳市", "渭南市", "延安市", "榆林市"],
    ),
    (
        "甘肃省",
        "gansu",
        ["兰州市", "天水市", "白银市", "酒泉市", "张掖市", "庆阳市"],
    ),
    (
        "青海省",
        "qinghai",
        [
            "西宁市",
            "海东市",
            "海西蒙古族藏族自治州",
            "海北藏族自治州",
            "黄南藏族自治州",
            "玉树藏族自治州",
        ],
    ),
    (
        "宁夏回族自治区",
        "ningxia",
        [
            "银川市",
            "石嘴山市",
            "吴忠市",
            "固原市",
            "中卫市",
            "宁东能源化工基地",
        ],
    ),
    (
        "新疆维吾尔自治区",
        "xinjiang",
        [
            "乌鲁木齐市",
            "克拉玛依市",
            "吐鲁番市",
            "哈密市",
            "昌吉回族自治州",
            "伊犁哈萨克自治州",
        ],
    ),
];

const INDUSTRIES: [&str; 3] = ["教科文卫体工会", "能源化学工会", "交通运输工会"];

fn grow_provinces(tree: &mut Tree, city: &Org, rng: &mut StdRng) {
    let Some(root) = tree.find_id(city.id) else {
        return;
    };
    for (province, login, cities) in PROVINCES {
        let busy = rng.random_range(0.6..1.4);
        let p = tree.add(
            root,
            format!("{province}总工会"),
            OrgKind::DistrictUnion,
            busy * 0.5,
        );
        let province_quota = rng.random_range(6..=20) * 5;
        tree.nodes[p].quota = Some(province_quota);
        tree.nodes[p].admin_login = Some(format!("sheng-{login}"));
        tree.nodes[p].contact = Some((person_name(rng), mobile(rng)));
        let municipality = province.ends_with('市');
        for c in cities {
            let name = if municipality {
                format!("{province}{c}总工会")
            } else {
                format!("{c}总工会")
            };
            let weight = if rng.random_bool(0.05) { 0.0 } else { busy };
            let mid = tree.add(p, name, OrgKind::IntermediateUnion, weight);
            tree.nodes[mid].quota = Some((province_quota / 6).max(3));
            tree.nodes[mid].short = short_name(c);
            let place = tree.nodes[mid].short.clone();
            for _ in 0..rng.random_range(8..=11) {
                grassroots(tree, mid, &place, false, busy, rng);
            }
        }
        let province_short = short_name(province);
        for industry in INDUSTRIES {
            let b = tree.add(
                p,
                format!("{province}{industry}"),
                OrgKind::BureauGroup,
                busy * 0.7,
            );
            for _ in 0..rng.random_range(6..=9) {
                grassroots(tree, b, &province_short, true, busy, rng);
            }
        }
    }
}

const BRANDS: [&str; 30] = [
    "华信", "恒通", "金桥", "海泰", "宏达", "振华", "瑞丰", "东方", "新兴", "正大", "博远", "永安",
    "鑫源", "中联", "天成", "利民", "光明", "长城", "安泰", "嘉禾", "汇通", "盛世", "百川", "同创",
    "康泰", "宝利", "润德", "和信", "九州", "华源",
];
const TRADES: [&str; 15] = [
    "科技",
    "物流",
    "机械制造",
    "电子",
    "医药",
    "食品",
    "建筑工程",
    "物业服务",
    "纺织",
    "化工",
    "汽车零部件",
    "软件",
    "能源",
    "商贸",
    "环保",
];
const COMPANY: [&str; 3] = ["有限公司", "股份有限公司", "集团有限公司"];
const COMMUNITIES: [&str; 12] = [
    "阳光",
    "和平里",
    "幸福",
    "春华",
    "金泰",
    "华苑",
    "新园",
    "文化",
    "育红",
    "丽苑",
    "朝阳",
    "康宁",
];

/// A grassroots union under `parent`: a company, a school or hospital, or a community union.
/// Under a bureau or industry union (`companies`), companies only.
fn grassroots(
    tree: &mut Tree,
    parent: usize,
    place: &str,
    companies: bool,
    busy: f64,
    rng: &mut StdRng,
) {
    let street = tree.nodes[parent].short.clone();
    let name = tree.fresh(rng, |rng| {
        match rng.random_range(if companies { 4 } else { 0 }..10) {
            0 => format!("{street}第{}中学工会", rng.random_range(1..=60)),
            1 => format!("{street}人民医院工会"),
            2 | 3 => format!(
                "{street}{}社区联合工会",
                COMMUNITIES.choose(rng).copied().unwrap_or("阳光")
            ),
            _ => format!(
                "{place}{}{}{}工会",
                BRANDS.choose(rng).copied().unwrap_or("华信"),
                TRADES.choose(rng).copied().unwrap_or("科技"),
                COMPANY.choose(rng).copied().unwrap_or("有限公司")
            ),
        }
    });
    // One in ten reports nothing at all (零报送 below the district level).
    let weight = if rng.random_bool(0.1) {
        0.0
    } else {
        busy * rng.random_range(0.5..2.0)
    };
    tree.add(parent, name, OrgKind::Grassroots, weight);
}

// ---------------------------------------------------------------------------------------------
// Writing

/// A value bound into a multi-row INSERT.
enum V {
    I(i64),
    T(String),
    /// A text that may be NULL.
    N(Option<String>),
    /// An integer that may be NULL (PostgreSQL wants NULLs typed like their column).
    NI(Option<i64>),
}

/// Most bind parameters in one statement (SQLite allows 32,766).
const MAX_PARAMS: usize = 30_000;

/// Inserts `rows` (each `columns.len()` values) in as few statements as the parameter limit
/// allows.
async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: &[V],
) -> Result<(), sqlx::Error> {
    let width = columns.len();
    let per_statement = (MAX_PARAMS / width).max(1);
    // SQLite looks a numbered parameter's name up by walking a list of all of them, so binding
    // n `$N` parameters costs n²; anonymous `?` parameters have no names and bind in O(1).
    let anonymous = matches!(tx, Tx::Sqlite(_));
    for chunk in rows.chunks(per_statement * width) {
        let n = chunk.len() / width;
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut p = 0;
        for r in 0..n {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..width {
                p += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                if anonymous {
                    sql.push('?');
                } else {
                    sql.push('$');
                    sql.push_str(&p.to_string());
                }
            }
            sql.push(')');
        }
        on_tx!(tx, c => {
            let mut q = sqlx::query(&sql);
            for v in chunk {
                q = match v {
                    V::I(n) => q.bind(*n),
                    V::T(s) => q.bind(s.as_str()),
                    V::N(s) => q.bind(s.as_deref()),
                    V::NI(n) => q.bind(*n),
                };
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

async fn insert_orgs(tx: &mut Tx, tree: &Tree) -> Result<usize, sqlx::Error> {
    let now = unix_now();
    let mut rows = Vec::new();
    let mut n = 0;
    for node in tree.nodes.iter().filter(|n| n.new) {
        n += 1;
        let parent_id = node.parent.map(|p| tree.nodes[p].id);
        rows.extend([
            V::I(node.id),
            V::NI(parent_id),
            V::T(node.name.clone()),
            V::T(node.kind.code().to_string()),
            V::N(node.contact.as_ref().map(|c| c.0.clone())),
            V::N(node.contact.as_ref().map(|c| c.1.clone())),
            V::T(node.path.clone()),
            V::I(node.depth),
            V::I(now),
            V::I(now),
        ]);
    }
    insert_rows(
        tx,
        "orgs",
        &[
            "id",
            "parent_id",
            "name",
            "kind",
            "contact_name",
            "contact_phone",
            "path",
            "depth",
            "created_at",
            "updated_at",
        ],
        &rows,
    )
    .await?;
    Ok(n)
}

/// Sub-unit quotas (the districts keep Annex 1's), upserted one by one: a few hundred rows.
async fn insert_quotas(tx: &mut Tx, campaign_id: i64, tree: &Tree) -> Result<usize, sqlx::Error> {
    let mut n = 0;
    for node in &tree.nodes {
        let Some(q) = node.quota else { continue };
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO quotas (campaign_id, org_id, min_activities, position)
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM quotas WHERE campaign_id = $1))
             ON CONFLICT (campaign_id, org_id) DO UPDATE SET min_activities = excluded.min_activities")
            .bind(campaign_id)
            .bind(node.id)
            .bind(q)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        n += 1;
    }
    Ok(n)
}

/// One unit admin per district (and province), all with the same one-time password. A re-run
/// gives existing demo accounts the new password.
async fn upsert_admins(
    tx: &mut Tx,
    tree: &Tree,
    hash: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut admins = Vec::new();
    for node in &tree.nodes {
        let Some(login) = &node.admin_login else {
            continue;
        };
        let updated = on_tx!(tx, c => sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0, locked_until = NULL, updated_at = $3 WHERE login = $4")
            .bind(hash)
            .bind(true)
            .bind(unix_now())
            .bind(login)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if updated == 0 {
            let display = format!("{}管理员", node.short);
            users::insert(
                tx,
                NewUser {
                    login,
                    display_name: &display,
                    phone: None,
                    role: Role::UnitAdmin,
                    org_id: node.id,
                    password_hash: hash,
                    must_change_password: true,
                },
            )
            .await?;
        }
        admins.push((login.clone(), node.name.clone()));
    }
    Ok(admins)
}

struct Made {
    activities: usize,
    by_status: [usize; 5],
    checkins: usize,
}

/// Activities this many at a time: generated, inserted, then their check-ins.
const ACTIVITY_BATCH: usize = 5_000;

const FORMATS_TOPIC: [(&str, &str); 6] = [
    ("知识竞赛", "知识竞赛"),
    ("主题演讲", "主题演讲比赛"),
    ("公益活动", "公益行"),
    ("志愿服务", "志愿服务进企业"),
    ("集中宣传", "集中宣传日"),
    ("文艺展演", "文艺展演"),
];
const CATEGORY_TOPIC: [(&str, &str); 5] = [
    ("网民素养教育", "职工网络素养"),
    ("依法文明上网", "依法文明上网"),
    ("网络安全知识技能", "网络安全"),
    ("个人信息保护教育", "个人信息保护"),
    ("主题活动宣传", "“网聚职工正能量”"),
];
const PLACES: [&str; 6] = [
    "职工之家",
    "党群服务中心",
    "工人文化宫",
    "职工书屋",
    "多功能厅",
    "社区文化广场",
];
const PLATFORMS: [&str; 5] = ["抖音", "微信视频号", "快手", "新浪微博", "津工惠"];
const OUTLETS: [&str; 5] = [
    "天津工人报（市级）",
    "天津日报（市级）",
    "北方网（市级）",
    "区融媒体中心（区级）",
    "中工网（中央级）",
];
const RETURN_REASONS: [&str; 4] = [
    "请补充活动现场照片",
    "参与人数与签到人数相差较大，请核实",
    "活动简介过于简单，请补充活动内容和成效",
    "新闻报道链接打不开，请重新填写",
];

async fn insert_activities(
    tx: &mut Tx,
    campaign_id: i64,
    scale: Scale,
    tree: &Tree,
    rng: &mut StdRng,
) -> Result<Made, AppError> {
    let holders: Vec<usize> = (0..tree.nodes.len())
        .filter(|&i| tree.nodes[i].weight > 0.0)
        .collect();
    let weights: Vec<f64> = holders.iter().map(|&i| tree.nodes[i].weight).collect();
    let pick = WeightedIndex::new(&weights)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("演示数据的单位权重有误：{e}")))?;
    // The admin who files each unit's reports: the nearest demo admin above it.
    let creator = admin_ids(tx, tree).await?;
    let total = scale.activities();
    // Claimed attendance sized so that verified check-ins come to the promised total.
    let reported_share = 0.8;
    let mean_verified = scale.checkins() as f64 / (total as f64 * reported_share);
    let mean_claimed = mean_verified / 0.6;
    let first_day = NaiveDate::from_ymd_opt(2020, 6, 1).unwrap_or_default();
    let days = 107; // 6/1 ..= 9/15
    let mut next_id: i64 = on_tx!(&mut *tx, c => sqlx::query_scalar::<_, i64>(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM activities")
        .fetch_one(c)
        .await)?;
    let mut made = Made {
        activities: 0,
        by_status: [0; 5],
        checkins: 0,
    };
    let activity_columns = [
        "id",
        "campaign_id",
        "org_id",
        "status",
        "document",
        "name",
        "starts_at",
        "participants",
        "grassroots_unions",
        "enterprises",
        "new_propagandists",
        "online_views",
        "return_reason",
        "version",
        "created_by",
        "created_at",
        "updated_at",
    ];
    let checkin_columns = [
        "activity_id",
        "name",
        "unit",
        "phone",
        "person_key",
        "consent_version",
        "created_at",
    ];
    while made.activities < total {
        let n = ACTIVITY_BATCH.min(total - made.activities);
        let mut rows = Vec::with_capacity(n * activity_columns.len());
        let mut checkins = Vec::new();
        for _ in 0..n {
            let unit = &tree.nodes[holders[pick.sample(rng)]];
            let id = next_id;
            next_id += 1;
            let status = match rng.random_range(0..100) {
                0..20 => Status::Draft,
                20..33 => Status::Submitted,
                33..38 => Status::Returned,
                38..53 => Status::Approved,
                _ => Status::Confirmed,
            };
            let day = first_day + chrono::Duration::days(rng.random_range(0..days));
            let time = [
                "09:00", "09:30", "10:00", "14:00", "14:30", "15:00", "19:00",
            ]
            .choose(rng)
            .copied()
            .unwrap_or("09:00");
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
            let document =
                serde_json::to_string(&input).map_err(|e| AppError::Internal(e.into()))?;
            let created = starts - rng.random_range(3..20) * 86_400;
            let updated = if reported {
                starts + rng.random_range(1..10) * 86_400
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
        insert_rows(tx, "activities", &activity_columns, &rows).await?;
        insert_rows(tx, "checkins", &checkin_columns, &checkins).await?;
    }
    Ok(made)
}

/// org id → the id of the demo admin of the nearest unit above it (or itself).
async fn admin_ids(tx: &mut Tx, tree: &Tree) -> Result<HashMap<i64, i64>, sqlx::Error> {
    let mut by_org = HashMap::new();
    for node in tree.nodes.iter().filter(|n| n.admin_login.is_some()) {
        let login = node.admin_login.clone().unwrap_or_default();
        let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM users WHERE login = $1")
            .bind(&login)
            .fetch_optional(c)
            .await)?;
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

async fn insert_propagandists(
    tx: &mut Tx,
    campaign_id: i64,
    scale: Scale,
    tree: &Tree,
    rng: &mut StdRng,
) -> Result<usize, AppError> {
    let units: Vec<usize> = (0..tree.nodes.len())
        .filter(|&i| tree.nodes[i].weight > 0.0)
        .collect();
    let mut keys = HashSet::new();
    let mut rows = Vec::new();
    let total = scale.propagandists();
    let now = unix_now();
    while keys.len() < total {
        let Some(&unit) = units.choose(rng) else {
            break;
        };
        let org = &tree.nodes[unit];
        let person = person_name(rng);
        let phone = mobile(rng);
        let key = format!("{person}|{phone}");
        if !keys.insert(key.clone()) {
            continue;
        }
        let accounts = match rng.random_range(0..4) {
            0 => String::new(),
            1 => format!("微博 @{}职工{}", org.short, rng.random_range(100..999)),
            2 => format!("抖音 {}", rng.random_range(10_000_000..99_999_999)),
            _ => format!("微信公众号 {}工会", org.short),
        };
        rows.extend([
            V::I(campaign_id),
            V::I(org.id),
            V::T(person),
            V::N(Some(phone)),
            V::T(accounts),
            V::T(key),
            V::I(now),
        ]);
    }
    insert_rows(
        tx,
        "propagandists",
        &[
            "campaign_id",
            "org_id",
            "name",
            "phone",
            "accounts",
            "person_key",
            "created_at",
        ],
        &rows,
    )
    .await?;
    Ok(keys.len())
}

const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
    "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕",
];
const GIVEN: [&str; 48] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "志强", "海燕", "建国",
    "晓东", "丹", "鹏", "玉兰", "欣怡", "子涵", "浩然", "宇轩", "思远", "雨萱", "俊杰", "晨", "博",
    "婷", "颖", "琳", "昊", "凯", "雪",
];

fn person_name(rng: &mut StdRng) -> String {
    let mut name = SURNAMES.choose(rng).copied().unwrap_or("王").to_string();
    name.push_str(GIVEN.choose(rng).copied().unwrap_or("伟"));
    if rng.random_bool(0.4) {
        name.push_str(GIVEN.choose(rng).copied().unwrap_or("伟"));
    }
    name
}

fn mobile(rng: &mut StdRng) -> String {
    let prefix = [
        "135", "136", "138", "139", "150", "152", "158", "186", "188", "189",
    ]
    .choose(rng)
    .copied()
    .unwrap_or("138");
    format!("{prefix}{:08}", rng.random_range(0..100_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_read_naturally() {
        assert_eq!(short_name("和平区总工会"), "和平");
        assert_eq!(short_name("滨海新区总工会"), "滨海");
        assert_eq!(short_name("河北省总工会"), "河北");
        assert_eq!(short_name("内蒙古自治区总工会"), "内蒙");
        assert_eq!(short_name("石家庄市"), "石家庄");
    }

    #[test]
    fn generated_people_are_plausible() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let phone = mobile(&mut rng);
            assert!(crate::service::accounts::valid_phone(&phone), "{phone}");
            let name = person_name(&mut rng);
            assert!((2..=5).contains(&name.chars().count()));
        }
    }
}
