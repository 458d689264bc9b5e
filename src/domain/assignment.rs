//! Assigning reviewers to works, with no I/O: every work gets k distinct reviewers, none with
//! a conflict of interest, the load (works per reviewer) balanced so that max − min ≤ 1 among
//! the reviewers of a sub-project's round, and the same input always gives the same output.
//!
//! Existing assignments are kept as they are and count toward the loads, so when a reviewer
//! drops out the caller deletes that reviewer's assignments and runs this again: only the
//! works that lost a reviewer get a new one.
//!
//! The method: works in id order each take the least-loaded eligible reviewers (ties: the
//! lower reviewer id), found by walking an ordered set of (load, reviewer) from the bottom and
//! skipping conflicts; then, while some reviewer has at least two more than another, one of
//! its new assignments that the less-loaded reviewer may take is moved over.

use std::collections::{BTreeSet, HashSet};

use crate::domain::ids::{UserId, WorkId};

/// A reviewer as the assignment sees them.
#[derive(Debug, Clone)]
pub struct Reviewer {
    pub id: UserId,
    /// Path prefixes of the org subtrees the reviewer may not judge: their own org's subtree
    /// (unless it is a top-level org such as the city union, which every work is under) and
    /// the units they declared.
    pub conflict_paths: Vec<String>,
    /// Accounts (work owners) the reviewer declared.
    pub conflict_persons: Vec<UserId>,
}

/// A work as the assignment sees it.
#[derive(Debug, Clone)]
pub struct Work {
    pub id: WorkId,
    /// Materialised path of the work's unit, e.g. `/1/5/23/`.
    pub org_path: String,
    pub owner: UserId,
}

impl Reviewer {
    pub fn conflicts_with(&self, work: &Work) -> bool {
        self.conflict_persons.contains(&work.owner)
            || self
                .conflict_paths
                .iter()
                .any(|p| work.org_path.starts_with(p.as_str()))
    }
}

/// A work that cannot get k reviewers without a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    pub work: WorkId,
    /// Reviewers it could still get.
    pub available: usize,
    pub needed: usize,
}

/// The new assignments (work, reviewer), in work order. `existing` pairs are kept and counted.
pub fn assign(
    works: &[Work],
    reviewers: &[Reviewer],
    k: usize,
    existing: &[(WorkId, UserId)],
) -> Result<Vec<(WorkId, UserId)>, Vec<Shortfall>> {
    let mut reviewers: Vec<&Reviewer> = reviewers.iter().collect();
    reviewers.sort_by_key(|r| r.id);
    reviewers.dedup_by_key(|r| r.id);
    let mut works: Vec<&Work> = works.iter().collect();
    works.sort_by_key(|w| w.id);
    works.dedup_by_key(|w| w.id);

    let index_of = |id: UserId| reviewers.binary_search_by_key(&id, |r| r.id).ok();
    let work_index = |id: WorkId| works.binary_search_by_key(&id, |w| w.id).ok();
    let mut load = vec![0usize; reviewers.len()];
    // Reviewers already on each work (indices), existing and new.
    let mut on_work: Vec<Vec<usize>> = vec![Vec::new(); works.len()];
    for &(w, r) in existing {
        if let (Some(wi), Some(ri)) = (work_index(w), index_of(r))
            && !on_work[wi].contains(&ri)
        {
            on_work[wi].push(ri);
            load[ri] += 1;
        }
    }

    let mut by_load: BTreeSet<(usize, usize)> = load.iter().copied().zip(0..).collect();
    let mut added: Vec<(usize, usize)> = Vec::new();
    let mut shortfalls = Vec::new();
    for (wi, work) in works.iter().enumerate() {
        let need = k.saturating_sub(on_work[wi].len());
        if need == 0 {
            continue;
        }
        let chosen: Vec<(usize, usize)> = by_load
            .iter()
            .filter(|&&(_, ri)| !on_work[wi].contains(&ri) && !reviewers[ri].conflicts_with(work))
            .take(need)
            .copied()
            .collect();
        if chosen.len() < need {
            shortfalls.push(Shortfall {
                work: work.id,
                available: on_work[wi].len() + chosen.len(),
                needed: k,
            });
            continue;
        }
        for (l, ri) in chosen {
            by_load.remove(&(l, ri));
            by_load.insert((l + 1, ri));
            load[ri] = l + 1;
            on_work[wi].push(ri);
            added.push((wi, ri));
        }
    }
    if !shortfalls.is_empty() {
        return Err(shortfalls);
    }

    rebalance(&works, &reviewers, &mut load, &mut on_work, &mut added);

    let mut out: Vec<(WorkId, UserId)> = added
        .into_iter()
        .map(|(wi, ri)| (works[wi].id, reviewers[ri].id))
        .collect();
    out.sort();
    Ok(out)
}

/// Moves new assignments from heavily to lightly loaded reviewers until max − min ≤ 1 or no
/// allowed move is left (possible only when conflicts leave a reviewer nothing to take).
fn rebalance(
    works: &[&Work],
    reviewers: &[&Reviewer],
    load: &mut [usize],
    on_work: &mut [Vec<usize>],
    added: &mut [(usize, usize)],
) {
    if reviewers.len() < 2 {
        return;
    }
    let mut stuck: HashSet<usize> = HashSet::new();
    loop {
        let max = load.iter().copied().max().unwrap_or(0);
        // The least-loaded reviewer that can still take something.
        let Some(lo) = (0..load.len())
            .filter(|ri| !stuck.contains(ri) && load[*ri] + 2 <= max)
            .min_by_key(|&ri| (load[ri], ri))
        else {
            return;
        };
        // The new assignment of the most-loaded reviewer possible that `lo` may take.
        let candidate = added
            .iter()
            .enumerate()
            .filter(|(_, (wi, ri))| {
                load[*ri] >= load[lo] + 2
                    && !on_work[*wi].contains(&lo)
                    && !reviewers[lo].conflicts_with(works[*wi])
            })
            .max_by_key(|(i, (_, ri))| (load[*ri], std::cmp::Reverse(*i)))
            .map(|(i, _)| i);
        let Some(i) = candidate else {
            stuck.insert(lo);
            continue;
        };
        let (wi, hi) = added[i];
        load[hi] -= 1;
        load[lo] += 1;
        if let Some(slot) = on_work[wi].iter_mut().find(|r| **r == hi) {
            *slot = lo;
        }
        added[i] = (wi, lo);
        // A reviewer that was stuck may find something after the loads moved.
        stuck.clear();
    }
}

/// Checks an assignment: every work has k distinct reviewers, no conflicts, and the spread of
/// loads. Returns (conflicts, works without exactly k, max − min load).
pub fn check(
    works: &[Work],
    reviewers: &[Reviewer],
    k: usize,
    pairs: &[(WorkId, UserId)],
) -> (usize, usize, usize) {
    use std::collections::HashMap;
    let rev: HashMap<UserId, &Reviewer> = reviewers.iter().map(|r| (r.id, r)).collect();
    let wk: HashMap<WorkId, &Work> = works.iter().map(|w| (w.id, w)).collect();
    let mut per_work: HashMap<WorkId, HashSet<UserId>> = HashMap::new();
    let mut load: HashMap<UserId, usize> = reviewers.iter().map(|r| (r.id, 0)).collect();
    let mut conflicts = 0;
    for (w, r) in pairs {
        if let (Some(work), Some(reviewer)) = (wk.get(w), rev.get(r))
            && reviewer.conflicts_with(work)
        {
            conflicts += 1;
        }
        per_work.entry(*w).or_default().insert(*r);
        *load.entry(*r).or_default() += 1;
    }
    let wrong = works
        .iter()
        .filter(|w| per_work.get(&w.id).map_or(0, HashSet::len) != k)
        .count();
    let max = load.values().copied().max().unwrap_or(0);
    let min = load.values().copied().min().unwrap_or(0);
    (conflicts, wrong, max - min)
}

/// A reproducible random test population (used by the tests and the benchmark): `works`
/// works in a tree of 16 districts × 20 units, `reviewers` reviewers of whom every third sits
/// in a unit (own subtree conflicts) and every fifth declares a district.
pub fn sample(works: usize, reviewers: usize, seed: u64) -> (Vec<Work>, Vec<Reviewer>) {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n.max(1)
    };
    let path = |d: u64, u: u64| format!("/1/{}/{}/", 100 + d, 1000 + d * 20 + u);
    let ws = (0..works)
        .map(|i| {
            let (d, u) = (next(16), next(20));
            Work {
                id: WorkId(i as i64 + 1),
                org_path: path(d, u),
                owner: UserId(100_000 + next(works as u64 / 2 + 1) as i64),
            }
        })
        .collect();
    let rs = (0..reviewers)
        .map(|i| {
            let mut conflict_paths = Vec::new();
            if i % 3 == 0 {
                conflict_paths.push(path(next(16), next(20)));
            }
            if i % 5 == 0 {
                conflict_paths.push(format!("/1/{}/", 100 + next(16)));
            }
            let conflict_persons = if i % 7 == 0 {
                vec![UserId(100_000 + next(works as u64 / 2 + 1) as i64)]
            } else {
                Vec::new()
            };
            Reviewer {
                id: UserId(i as i64 + 1),
                conflict_paths,
                conflict_persons,
            }
        })
        .collect();
    (ws, rs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn balanced_without_conflicts_and_deterministic() {
        let (works, reviewers) = sample(2_000, 37, 7);
        let a = assign(&works, &reviewers, 3, &[]).unwrap_or_default();
        assert_eq!(check(&works, &reviewers, 3, &a), (0, 0, 1));
        let b = assign(&works, &reviewers, 3, &[]).unwrap_or_default();
        assert_eq!(a, b);
    }

    #[test]
    fn a_dropout_moves_only_its_works() {
        let (works, reviewers) = sample(600, 20, 3);
        let first = assign(&works, &reviewers, 3, &[]).unwrap_or_default();
        let gone = UserId(4);
        let kept: Vec<_> = first.iter().copied().filter(|(_, r)| *r != gone).collect();
        let affected: HashSet<WorkId> = first
            .iter()
            .filter(|(_, r)| *r == gone)
            .map(|(w, _)| *w)
            .collect();
        let rest: Vec<Reviewer> = reviewers.iter().filter(|r| r.id != gone).cloned().collect();
        let again = assign(&works, &rest, 3, &kept).unwrap_or_default();
        assert_eq!(again.len(), affected.len());
        assert!(again.iter().all(|(w, _)| affected.contains(w)));
        let mut all = kept.clone();
        all.extend(again);
        let (conflicts, wrong, _) = check(&works, &rest, 3, &all);
        assert_eq!((conflicts, wrong), (0, 0));
    }

    #[test]
    fn too_few_reviewers_is_a_shortfall() {
        let works = vec![Work {
            id: WorkId(1),
            org_path: "/1/2/".into(),
            owner: UserId(9),
        }];
        let reviewers = vec![
            Reviewer {
                id: UserId(1),
                conflict_paths: vec!["/1/2/".into()],
                conflict_persons: vec![],
            },
            Reviewer {
                id: UserId(2),
                conflict_paths: vec![],
                conflict_persons: vec![UserId(9)],
            },
            Reviewer {
                id: UserId(3),
                conflict_paths: vec![],
                conflict_persons: vec![],
            },
        ];
        let err = assign(&works, &reviewers, 2, &[]).err().unwrap_or_default();
        assert_eq!(
            err,
            vec![Shortfall {
                work: WorkId(1),
                available: 1,
                needed: 2
            }]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_population_is_conflict_free_and_balanced(
            works in 1usize..400, reviewers in 6usize..60, k in 1usize..4, seed in any::<u64>()
        ) {
            let (ws, rs) = sample(works, reviewers, seed);
            if let Ok(pairs) = assign(&ws, &rs, k, &[]) {
                let (conflicts, wrong, spread) = check(&ws, &rs, k, &pairs);
                prop_assert_eq!(conflicts, 0);
                prop_assert_eq!(wrong, 0);
                prop_assert!(spread <= 1, "spread {}", spread);
                prop_assert_eq!(assign(&ws, &rs, k, &[]).ok(), Some(pairs));
            }
        }
    }
}
