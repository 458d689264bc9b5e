//! The planned org tree: the orgs already stored plus the ones the seeding adds under the city
//! union — the Tianjin districts, their streets and towns and the city's bureaus, at national
//! scale the provinces with their cities and industry unions, and grassroots unions under all
//! of them — each with how busy it is, its quota and its demo admin. Planned in memory with
//! the seeded RNG, then written by `orgs.rs`.

use std::collections::{HashMap, HashSet};

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::names::{
    BRANDS, COMMUNITIES, COMPANY, INDUSTRIES, PROVINCES, TIANJIN, TIANJIN_BUREAUS, TRADES,
};
use super::people::{mobile, person_name};
use crate::db::orgs::Org;
use crate::domain::org::OrgKind;

/// One org of the planned tree: already stored (`new == false`) or to insert with this id.
pub(super) struct Node {
    pub(super) id: i64,
    pub(super) parent: Option<usize>,
    pub(super) name: String,
    pub(super) kind: OrgKind,
    pub(super) path: String,
    pub(super) depth: i64,
    pub(super) new: bool,
    pub(super) contact: Option<(String, String)>,
    /// Quota to set for this campaign (None: leave as it is).
    pub(super) quota: Option<i64>,
    /// Demo admin login for this unit.
    pub(super) admin_login: Option<String>,
    /// How busy the unit is: its share of the activities.
    pub(super) weight: f64,
    /// Short name for generated names below it (e.g. 和平 for 和平区总工会).
    pub(super) short: String,
}

pub(super) struct Tree {
    pub(super) nodes: Vec<Node>,
    /// Name → index in `nodes`, stored and planned alike.
    index: HashMap<String, usize>,
    /// Names generated in this run (a re-run generates the same ones and reuses the orgs).
    made: HashSet<String>,
    next_id: i64,
}

impl Tree {
    pub(super) fn new(known: Vec<Org>) -> Tree {
        let next_id = known.iter().map(|o| o.id.get()).max().unwrap_or(0) + 1;
        let index = known
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.clone(), i))
            .collect();
        let nodes = known
            .into_iter()
            .map(|o| Node {
                id: o.id.get(),
                parent: None,
                kind: o.kind,
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

    pub(super) fn find_id(&self, id: i64) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// The node named `name` under `parent`: the stored one if the name exists (a re-run with
    /// `--force` reuses the tree), else a new one.
    pub(super) fn add(&mut self, parent: usize, name: String, kind: OrgKind, weight: f64) -> usize {
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
    pub(super) fn units(&self) -> usize {
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

pub(super) fn short_name(name: &str) -> String {
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

pub(super) fn grow_tianjin(tree: &mut Tree, city: &Org, rng: &mut StdRng) {
    let Some(root) = tree.find_id(city.id.get()) else {
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

pub(super) fn grow_provinces(tree: &mut Tree, city: &Org, rng: &mut StdRng) {
    let Some(root) = tree.find_id(city.id.get()) else {
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
        // A province's unions hold thousands: ~100,000 activities over the 31.
        let province_quota = rng.random_range(24..=120) * 25;
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
}
