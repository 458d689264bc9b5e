//! People in the demo data: generated names and mobile numbers (also used for check-ins and
//! unit contacts), and the propagandists registered with the units.

use std::collections::HashSet;

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::Scale;
use super::names::{GIVEN, MOBILE_PREFIXES, SURNAMES};
use super::tree::Tree;
use crate::clock::unix_now;
use crate::db::Tx;
use crate::db::demo::{self as demo_db, Value as V};
use crate::error::AppError;

/// Propagandists (宣传员) registered with the units that are active, each a different person.
pub(super) async fn insert_propagandists(
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
    demo_db::insert(tx, &demo_db::PROPAGANDISTS, &rows).await?;
    Ok(keys.len())
}

/// A plausible Chinese name: a surname and one or two given characters.
pub(super) fn person_name(rng: &mut StdRng) -> String {
    let mut name = SURNAMES.choose(rng).copied().unwrap_or("王").to_string();
    name.push_str(GIVEN.choose(rng).copied().unwrap_or("伟"));
    if rng.random_bool(0.4) {
        name.push_str(GIVEN.choose(rng).copied().unwrap_or("伟"));
    }
    name
}

/// A plausible mainland mobile number.
pub(super) fn mobile(rng: &mut StdRng) -> String {
    let prefix = MOBILE_PREFIXES.choose(rng).copied().unwrap_or("138");
    format!("{prefix}{:08}", rng.random_range(0..100_000_000))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

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
