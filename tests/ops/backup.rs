//! Backup while writing: `wangju backup` runs beside a serving node under load, `wangju
//! restore` brings it back into a new folder; the restored database holds every write
//! acknowledged before the backup started, its counts equal the manifest's, its audit chain
//! verifies, and a node started on it serves the files of the local store.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::crash::{inspect, sqlite_config};
use crate::load::{self, Session, Stop, Target};
use crate::support::{self, Node, free_port};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_restores_whole() {
    let _serial = crate::serial().await;
    let work = tempfile::tempdir().expect("temp dir");
    let data = work.path().join("data");
    let config = sqlite_config(work.path(), &data, "2020-07-01");
    let mut node = Node::start("node", &config, free_port(), work.path());
    let target = Target {
        base: node.base(),
        local: None,
    };
    let password = node.first_password.clone().expect("admin password");
    let admin = Session::first_admin(&target, &password).await;
    let (_, path) = load::checkin_activity(&admin, "2020-07-01", "备份演练签到").await;
    // A submitted work, so the file store holds something.
    let worker = load::worker(&target).await;
    let ledger: load::Shared = Default::default();
    let stop = Stop::new(Duration::from_secs(20));
    let uploader = tokio::spawn(load::uploads(
        worker.clone(),
        support::test_video(),
        32 * 1024,
        ledger.clone(),
        stop.clone(),
    ));
    while ledger.lock().map(|l| l.works.is_empty()).unwrap_or(true) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ms = Duration::from_millis;
    let loops = vec![
        tokio::spawn(load::reports(
            admin.clone(),
            ledger.clone(),
            stop.clone(),
            "2020-07-01",
            ms(20),
        )),
        tokio::spawn(load::checkins(
            target.clone(),
            path.clone(),
            ledger.clone(),
            stop.clone(),
            ms(50),
        )),
    ];
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = ledger
        .lock()
        .map(|l| (l.activities.clone(), l.checkins.clone(), l.works.clone()))
        .unwrap_or_default();
    let out = work.path().join("backup");
    let cfg = config.display().to_string();
    let taken = tokio::task::block_in_place(|| {
        support::wangju(
            &["backup", "--out", &out.display().to_string()],
            &[("WANGJU_CONFIG", &cfg)],
        )
    });
    assert!(
        taken.status.success(),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.set();
    for l in loops {
        let _ = l.await;
    }
    let _ = uploader.await;
    let after = ledger
        .lock()
        .map(|l| l.activities.len())
        .unwrap_or_default();

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    let restored = work.path().join("restored");
    let back = support::wangju(
        &[
            "restore",
            &out.display().to_string(),
            "--data-dir",
            &restored.display().to_string(),
        ],
        &[],
    );
    println!(
        "\nbackup during writes:\n  {}\n  {}",
        String::from_utf8_lossy(&taken.stdout).trim(),
        String::from_utf8_lossy(&back.stdout).trim()
    );
    assert!(
        back.status.success(),
        "restore: {}{}",
        String::from_utf8_lossy(&back.stdout),
        String::from_utf8_lossy(&back.stderr)
    );
    let found = inspect(&restored.join("wangju.db")).await;
    assert_eq!(found.integrity, "ok");
    let missing = before
        .0
        .iter()
        .filter(|id| !found.activities.contains(id))
        .count()
        + before
            .1
            .iter()
            .filter(|p| !found.phones.contains(*p))
            .count();
    assert_eq!(
        missing, 0,
        "writes acknowledged before the backup are in it"
    );
    let counted = i64::try_from(found.activities.len()).unwrap_or(-1);
    assert_eq!(manifest["counts"]["activities"].as_i64(), Some(counted));
    assert!(
        found.activities.len() <= after + 2,
        "nothing after the load ended"
    );
    assert!(manifest["files"].as_u64().unwrap_or(0) >= 2, "{manifest}");
    println!(
        "  acknowledged before the backup: {} reports, {} check-ins, {} works; in the backup: {} reports (manifest {}), all of them found",
        before.0.len(),
        before.1.len(),
        before.2.len(),
        found.activities.len(),
        manifest["counts"]["activities"]
    );

    // A node on the restored folder serves the work's file from the copied store.
    let _ = node.terminate(Duration::from_secs(10));
    let restored_config = work.path().join("restored.toml");
    std::fs::write(
        &restored_config,
        format!(
            "data_dir = \"{}\"\ntoday = \"2020-07-01\"\n",
            restored.display()
        ),
    )
    .expect("config");
    let node = Node::start("restored", &restored_config, free_port(), work.path());
    let target = Target {
        base: node.base(),
        local: None,
    };
    let admin = Session::login(&target, "admin", load::PASSWORD).await;
    let work_id = before.2[0];
    let (s, w) = admin
        .json(Method::GET, &format!("/api/v1/works/{work_id}"), None)
        .await;
    assert_eq!(s, 200, "{w}");
    let file = admin
        .client
        .get(format!("{}/works/{work_id}/file", target.base))
        .send()
        .await
        .expect("file");
    assert_eq!(file.status().as_u16(), 200);
    assert!(file.bytes().await.map(|b| b.len()).unwrap_or(0) > 1000);
}
