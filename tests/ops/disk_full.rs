//! Disk full: the data folder on a small tmpfs the test mounts (needs root, as CI runs). With
//! the disk full, a report, an upload chunk and a check-in are refused with 507 and a Chinese
//! message (never 500); nothing is corrupted; once space is freed everything works again
//! without a restart, and every write acknowledged before is still there.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::crash::{inspect, sqlite_config};
use crate::load::{self, Session, Target};
use crate::support::{self, Node, free_port};

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_clearly_and_recovers() {
    let _serial = crate::serial().await;
    assert!(
        support::is_root(),
        "this test mounts a tmpfs: run it as root (CI does)"
    );
    let work = tempfile::tempdir().expect("temp dir");
    let mnt = work.path().join("mnt");
    std::fs::create_dir_all(&mnt).expect("mount point");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=40m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        mounted,
        "mount -t tmpfs failed: this sandbox forbids mounts"
    );
    let _mount = Mount(mnt.clone());
    let data = mnt.join("data");
    let config = sqlite_config(work.path(), &data, "2020-07-01");
    let mut node = Node::start("node", &config, free_port(), work.path());
    let target = Target {
        base: node.base(),
        local: None,
    };
    let password = node.first_password.clone().expect("admin password");
    let admin = Session::first_admin(&target, &password).await;
    let (_, path) = load::checkin_activity(&admin, "2020-07-01", "满盘演练").await;
    let worker = load::worker(&target).await;
    let video = support::test_video();
    let start = |w: &Session| {
        let w = w.clone();
        let size = video.len();
        async move {
            let (s, up) = w
                .json(Method::POST, "/api/v1/uploads", Some(&json!({"sub_project": "micro-video", "file_name": "a.mp4", "size_bytes": size})))
                .await;
            assert_eq!(s, 201, "{up}");
            up["id"].as_str().unwrap_or_default().to_string()
        }
    };
    let upload = start(&worker).await;
    let patch = |id: String, offset: usize, bytes: Vec<u8>| {
        let w = worker.clone();
        async move {
            let r = w
                .client
                .patch(format!("{}/api/v1/uploads/{id}", w.base))
                .header("x-csrf-token", &w.csrf)
                .header("upload-offset", offset.to_string())
                .body(bytes)
                .send()
                .await
                .expect("PATCH");
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or_default(),
            )
        }
    };
    let (s, _) = patch(upload.clone(), 0, video[..8192].to_vec()).await;
    assert_eq!(s, 200);
    let report = |n: u32| {
        let a = admin.clone();
        async move {
            a.json(
                Method::POST,
                "/api/v1/activities",
                Some(
                    &json!({"name": format!("满盘时的活动{n}"), "starts_at": "2020-07-01T09:00",
                "place": "区职工之家", "format": "知识竞赛", "categories": ["网络安全知识技能"]}),
                ),
            )
            .await
        }
    };
    let (s, before) = report(0).await;
    assert_eq!(s, 201);
    let acked = before["id"].as_i64().unwrap_or_default();

    // Fill the disk, and empty the WAL so the next database write needs new space.
    let ballast = mnt.join("ballast");
    let mut file = std::fs::File::create(&ballast).expect("ballast");
    let block = vec![7u8; 1 << 20];
    while file
        .write_all(&block)
        .and_then(|()| file.sync_all())
        .is_ok()
    {}
    drop(file);
    let db = wangju::db::Db::connect(&format!("sqlite://{}", data.join("wangju.db").display()), 1)
        .await
        .expect("open");
    let _ = wangju::db::testing::execute(&db, "PRAGMA wal_checkpoint(TRUNCATE)").await;
    db.close().await;

    let mut statuses = Vec::new();
    let (s, body) = report(1).await;
    statuses.push((
        "report",
        s,
        body["message"].as_str().unwrap_or_default().to_string(),
    ));
    let (s, body) = patch(upload.clone(), 8192, video[8192..].to_vec()).await;
    statuses.push((
        "upload chunk",
        s,
        body["message"].as_str().unwrap_or_default().to_string(),
    ));
    let mut phone = Session::anonymous(&target);
    phone.refresh_csrf().await;
    let r = phone
        .form(
            &path,
            &[
                ("name", "李华"),
                ("unit", "某公司"),
                ("phone", &load::next_phone()),
                ("consent", "yes"),
            ],
        )
        .await
        .expect("check-in");
    let s = r.status().as_u16();
    let page = r.text().await.unwrap_or_default();
    statuses.push((
        "check-in",
        s,
        if page.contains("存储空间已满") {
            "存储空间已满（页面）".into()
        } else {
            String::new()
        },
    ));
    println!("\ndisk full (tmpfs 40 MB, filled):");
    for (what, status, message) in &statuses {
        println!("  {what}: {status} {message}");
        assert_eq!(
            *status,
            507,
            "{what}: {status} {message}\n{}",
            support::tail(&node.log)
        );
        assert!(message.contains("存储空间已满"), "{what}: {message}");
    }
    assert!(node.running(), "the node kept running");

    // Space freed: the same requests succeed, without a restart.
    std::fs::remove_file(&ballast).expect("free space");
    let (s, body) = report(2).await;
    assert_eq!(s, 201, "{body}");
    let (s, body) = patch(upload.clone(), 8192, video[8192..].to_vec()).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["verdict"], "accepted", "{body}");
    let r = phone
        .form(
            &path,
            &[
                ("name", "李华"),
                ("unit", "某公司"),
                ("phone", &load::next_phone()),
                ("consent", "yes"),
            ],
        )
        .await
        .expect("check-in");
    assert_eq!(r.status().as_u16(), 200);
    println!(
        "  after freeing space: report 201, upload finished and accepted, check-in 200, no restart"
    );
    let _ = node.terminate(Duration::from_secs(10));
    let found = inspect(&data.join("wangju.db")).await;
    assert_eq!(found.integrity, "ok");
    assert!(found.activities.contains(&acked));
    let audit = support::wangju(
        &["audit", "verify"],
        &[("WANGJU_CONFIG", &config.display().to_string())],
    );
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    println!("  integrity_check ok, audit verify ok");
}
