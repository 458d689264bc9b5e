//! Crash trials on one node (SQLite, local files): start, load with check-ins and reports,
//! kill -9 at a random moment, and before restarting compare: every acknowledged write is in
//! the database, `PRAGMA integrity_check` and `foreign_key_check` pass, `wangju audit verify`
//! passes. `WANGJU_CRASH_TRIALS` trials (default 5; `scripts/crash-trials` runs 200).

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::load::{self, Session, Stop, Target};
use crate::support::{self, Node, free_port};

/// Writes a config for one SQLite node on `data`; returns its path.
pub fn sqlite_config(dir: &Path, data: &Path, today: &str) -> std::path::PathBuf {
    let path = dir.join("node.toml");
    let text = format!(
        "data_dir = \"{}\"\ntoday = \"{today}\"\nshutdown_grace_seconds = 5\n",
        data.display()
    );
    std::fs::write(&path, text).expect("config");
    path
}

/// What a crashed data folder holds: integrity verdicts and the acknowledged rows found.
pub struct Found {
    pub integrity: String,
    pub foreign_keys_ok: bool,
    pub activities: HashSet<i64>,
    pub phones: HashSet<String>,
}

/// Opens the database as the next start would (WAL recovery included) and reads it.
pub async fn inspect(db_file: &Path) -> Found {
    let url = format!("sqlite://{}", db_file.display());
    use wangju::db::testing;
    let db = wangju::db::Db::connect(&url, 1)
        .await
        .expect("open the crashed database");
    let integrity: String = testing::scalar(&db, "PRAGMA integrity_check")
        .await
        .unwrap_or_default();
    let fk: Vec<(String,)> = testing::rows(&db, "SELECT \"table\" FROM pragma_foreign_key_check")
        .await
        .unwrap_or_default();
    let activities = testing::column(&db, "SELECT id FROM activities")
        .await
        .unwrap_or_default()
        .into_iter()
        .collect();
    let phones = testing::column(&db, "SELECT phone FROM checkins WHERE phone IS NOT NULL")
        .await
        .unwrap_or_default()
        .into_iter()
        .collect();
    db.close().await;
    Found {
        integrity,
        foreign_keys_ok: fk.is_empty(),
        activities,
        phones,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_trials() {
    let _serial = crate::serial().await;
    let trials: usize = std::env::var("WANGJU_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let work = tempfile::tempdir().expect("temp dir");
    let data = work.path().join("data");
    let config = sqlite_config(work.path(), &data, "2020-07-01");
    let port = free_port();
    let mut node = Node::start("node", &config, port, work.path());
    let target = Target {
        base: node.base(),
        local: None,
    };
    let password = node
        .first_password
        .clone()
        .expect("first start prints the admin's password");
    let admin = Session::first_admin(&target, &password).await;
    let (_, path) = load::checkin_activity(&admin, "2020-07-01", "断电演练签到").await;
    let ledger: load::Shared = Default::default();
    let config_arg = config.display().to_string();
    let (mut lost, mut integrity_ok, mut fk_ok, mut audit_ok) = (0usize, 0usize, 0usize, 0usize);
    let (mut shortest, mut longest) = (f64::MAX, 0f64);
    let started = Instant::now();
    for trial in 1..=trials {
        if trial > 1 {
            tokio::task::block_in_place(|| node.restart());
        }
        let stop = Stop::new(Duration::from_secs(30));
        let ms = Duration::from_millis;
        let loops = vec![
            tokio::spawn(load::reports(
                admin.clone(),
                ledger.clone(),
                stop.clone(),
                "2020-07-01",
                ms(15),
            )),
            tokio::spawn(load::checkins(
                target.clone(),
                path.clone(),
                ledger.clone(),
                stop.clone(),
                ms(60),
            )),
            tokio::spawn(load::checkins(
                target.clone(),
                path.clone(),
                ledger.clone(),
                stop.clone(),
                ms(60),
            )),
        ];
        let wait = 0.2 + rand::random::<f64>() * 1.6;
        shortest = shortest.min(wait);
        longest = longest.max(wait);
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        tokio::task::block_in_place(|| node.kill9());
        stop.set();
        for l in loops {
            let _ = l.await;
        }
        let found = inspect(&data.join("wangju.db")).await;
        let (acked_activities, acked_phones) = match ledger.lock() {
            Ok(l) => (l.activities.clone(), l.checkins.clone()),
            Err(_) => (Vec::new(), Vec::new()),
        };
        let missing = acked_activities
            .iter()
            .filter(|id| !found.activities.contains(id))
            .count()
            + acked_phones
                .iter()
                .filter(|p| !found.phones.contains(*p))
                .count();
        lost += missing;
        integrity_ok += usize::from(found.integrity == "ok");
        fk_ok += usize::from(found.foreign_keys_ok);
        let audit = support::wangju(&["audit", "verify"], &[("WANGJU_CONFIG", &config_arg)]);
        audit_ok += usize::from(audit.status.success());
        assert!(
            missing == 0
                && found.integrity == "ok"
                && found.foreign_keys_ok
                && audit.status.success(),
            "trial {trial}: lost {missing}, integrity {:?}, foreign keys ok {}, audit {}",
            found.integrity,
            found.foreign_keys_ok,
            String::from_utf8_lossy(&audit.stderr)
        );
    }
    let (activities, checkins) = ledger
        .lock()
        .map(|l| (l.activities.len(), l.checkins.len()))
        .unwrap_or_default();
    println!(
        "\ncrash trials (SQLite, synchronous=FULL, kill -9 after {shortest:.2}–{longest:.2} s of load), {:.0} s",
        started.elapsed().as_secs_f64()
    );
    println!("  trials: {trials}");
    println!(
        "  acknowledged writes: {} ({activities} activity reports, {checkins} check-ins)",
        activities + checkins
    );
    println!("  lost: {lost}");
    println!(
        "  PRAGMA integrity_check ok: {integrity_ok}/{trials}; foreign_key_check empty: {fk_ok}/{trials}"
    );
    println!("  wangju audit verify ok: {audit_ok}/{trials}");
    assert_eq!(lost, 0);
    assert!(activities + checkins > trials, "the load ran");
}
