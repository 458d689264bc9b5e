//! Assignment of 50,000 works × 3 reviewers over 1,000 reviewers with conflicts (own unit
//! subtrees, declared districts and persons): the time, zero conflicts, max − min load ≤ 1.
//! `cargo bench --bench assignment`; the figure goes in docs/benchmarks.md.

use std::time::Instant;

use wangju::domain::assignment::{assign, check, sample};

fn main() {
    let (works, reviewers) = sample(50_000, 1_000, 2020);
    let conflicted: usize = reviewers
        .iter()
        .filter(|r| !r.conflict_paths.is_empty() || !r.conflict_persons.is_empty())
        .count();
    let mut best = f64::MAX;
    let mut pairs = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        pairs = match assign(&works, &reviewers, 3, &[]) {
            Ok(p) => p,
            Err(short) => panic!("shortfall: {:?}", &short[..short.len().min(5)]),
        };
        best = best.min(start.elapsed().as_secs_f64());
    }
    let (conflicts, wrong, spread) = check(&works, &reviewers, 3, &pairs);
    println!(
        "assignment: 50000 works x 3 over 1000 reviewers ({conflicted} with conflicts): best of 5 {:.3} s; {} assignments, {conflicts} conflicts, {wrong} works without 3, max-min load {spread}",
        best,
        pairs.len()
    );
    assert_eq!(conflicts, 0, "no conflicts");
    assert_eq!(wrong, 0, "every work has 3 reviewers");
    assert!(spread <= 1, "max - min load {spread}");
    assert!(best < 2.0, "target < 2 s, took {best:.3} s");
}
