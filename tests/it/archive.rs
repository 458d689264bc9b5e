//! The campaign archive end to end: a campaign with an activity, photos, a check-in, accepted
//! works with files and audit entries is archived through the `wangju` binary; the zip's
//! manifest, JSON counts, Excel cells and files are checked against the database and the store;
//! `--verify` passes, then fails naming the entry for each kind of tampering (an altered byte, a
//! dropped entry, an added one, a broken audit chain); closing makes every write answer 409 with
//! one Chinese message while pages and exports still answer; only the command line reopens.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wangju::domain::role::Role;

use crate::harness::{Agent, TestApp, each_backend_on};

const CODE: &str = "tianjin-2020";
const CLOSED: &str = "本次活动已结束并归档，只能查看，不能修改";

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 7, 1).expect("date")
}

/// Runs `wangju` on the app's own database and file store.
fn cli(app: &TestApp, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wangju"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(&app.settings.data_dir)
        .env("WANGJU_LOG", "warn");
    if !app.settings.database_url.is_empty() {
        command
            .arg("--database-url")
            .arg(&app.settings.database_url);
    }
    command.output().expect("run wangju")
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn entries(zip_path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(zip_path).expect("zip");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    (0..zip.len())
        .map(|i| {
            let mut e = zip.by_index(i).expect("entry");
            let mut data = Vec::new();
            e.read_to_end(&mut data).expect("read");
            (e.name().to_string(), data)
        })
        .collect()
}

fn entry(all: &[(String, Vec<u8>)], name: &str) -> Vec<u8> {
    all.iter()
        .find(|(n, _)| n == name)
        .map(|(_, d)| d.clone())
        .unwrap_or_else(|| panic!("{name} in the archive"))
}

fn rewrite(all: &[(String, Vec<u8>)], to: &Path) {
    let file = std::fs::File::create(to).expect("create");
    let mut zip = zip::ZipWriter::new(file);
    for (name, data) in all {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .expect("start");
        zip.write_all(data).expect("write");
    }
    zip.finish().expect("finish");
}

fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Puts `name`'s new bytes into the manifest and the manifest's digest, as a careful forger
/// would: only the audit chain can tell then.
fn reseal(all: &mut [(String, Vec<u8>)], name: &str) {
    let data = entry(all, name);
    let mut manifest: Value = serde_json::from_slice(&entry(all, "manifest.json")).expect("json");
    for e in manifest["entries"].as_array_mut().expect("entries") {
        if e["path"] == name {
            e["size"] = json!(data.len());
            e["sha256"] = json!(sha(&data));
        }
    }
    let text = serde_json::to_vec_pretty(&manifest).expect("json");
    let digest = format!("{}  manifest.json\n", sha(&text));
    for (n, d) in all.iter_mut() {
        if n == "manifest.json" {
            *d = text.clone();
        } else if n == "manifest.sha256" {
            *d = digest.clone().into_bytes();
        }
    }
}

fn verify(app: &TestApp, path: &Path) -> (bool, String) {
    let o = cli(
        app,
        &[
            "campaign",
            "archive",
            "--verify",
            &path.display().to_string(),
        ],
    );
    (o.status.success(), out(&o))
}

fn json_rows(all: &[(String, Vec<u8>)], name: &str) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&entry(all, name)).expect("valid JSON");
    v.as_array().expect("an array").clone()
}

struct Built {
    admin: Agent,
    unit: Agent,
    worker: Agent,
    activity: i64,
    checkin: String,
}

/// An activity with two photos and a check-in code, two accepted micro-videos and a check-in.
async fn build(app: &TestApp) -> Built {
    let admin = app.admin().await;
    let unit = app
        .signed_in(&app.user(Role::UnitAdmin, "南开区总工会").await)
        .await;
    let (s, body) = unit
        .send_json(
            Method::POST,
            "/api/v1/activities",
            &json!({"name": "南开网络安全知识竞赛", "starts_at": "2020-07-01T00:00", "place": "职工之家", "format": "知识竞赛", "categories": ["网民素养教育"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let activity = body["id"].as_i64().expect("id");
    let photo = |w: u32, h: u32| {
        let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 255) as u8, (y % 255) as u8, ((x + y) % 255) as u8])
        }));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("encode");
        out.into_inner()
    };
    let r = unit
        .upload_files(
            &format!("/activities/{activity}/photos"),
            "photos",
            vec![("a.jpg", photo(900, 600)), ("b.jpg", photo(640, 480))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = unit
        .post_form(&format!("/activities/{activity}/checkin"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = unit.text(&format!("/activities/{activity}/checkin")).await;
    let start = html.find("/c/").expect("check-in address");
    let checkin = html[start..start + 3 + 32].to_string();

    app.account(
        "arc-worker",
        "作者王五",
        "13811112222",
        Role::Worker,
        "河西区总工会",
    )
    .await;
    let worker = app.signed_in("arc-worker").await;
    let video = std::fs::read(crate::media::files().path("ok.mp4")).expect("video");
    for i in 0..2 {
        let upload = worker
            .upload_work("micro-video", &format!("v{i}.mp4"), &video, 1 << 20)
            .await;
        assert_eq!(upload["verdict"], "accepted", "{upload}");
        let (s, body) = worker
            .send_json(
                Method::POST,
                "/api/v1/works",
                &json!({"sub_project": "micro-video", "upload_id": upload["id"], "title": format!("车间/好网民{i}"),
                        "description": "一段短片", "authors": ["作者王五"], "contact_phone": "13811112222",
                        "originality": true, "portrait": true, "subtitles": true}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().expect("id");
        let r = admin
            .post_form(
                &format!("/works/{id}/decision"),
                &[("decision", "accept"), ("reason", "符合要求")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let mut phone = app.agent();
    phone.refresh_csrf().await;
    let r = phone
        .post_form(
            &checkin,
            &[
                ("name", "张三"),
                ("unit", "南开某公司"),
                ("phone", "13700000001"),
                ("consent", "yes"),
            ],
        )
        .await;
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "{text}");
    Built {
        admin,
        unit,
        worker,
        activity,
        checkin,
    }
}

/// Waits for the check-in group commit to land.
async fn settle(app: &TestApp, table: &str, n: i64) {
    for _ in 0..100 {
        if app.count(table).await >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{table} never reached {n}");
}

fn archive(app: &TestApp, to: &Path) -> String {
    let o = cli(
        app,
        &[
            "campaign",
            "archive",
            "--code",
            CODE,
            "--out",
            &to.display().to_string(),
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    out(&o)
}

#[tokio::test]
async fn a_campaign_is_archived_verified_tampered_with_and_closed() {
    each_backend_on(day(), |app: TestApp| async move {
        let built = build(&app).await;
        settle(&app, "checkins", 1).await;
        // Measured reach: the worker shows a work, the city shares it, two phones open the link.
        let work: i64 = wangju::db::testing::scalar(&app.state.db, "SELECT MIN(id) FROM works")
            .await
            .expect("a work");
        let r = built
            .worker
            .post_form(&format!("/works/{work}/showcase"), &[("show", "1")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = built
            .admin
            .post_form("/share", &[("target", &format!("/showcase/works/{work}"))])
            .await;
        let root = crate::harness::location(&r)
            .rsplit("#l-")
            .next()
            .expect("code")
            .to_string();
        for i in 0..2 {
            let visitor = crate::showcase::phone("127.0.0.1", &format!("{} #{i}", crate::showcase::PHONE_UA));
            let to = crate::showcase::open(&visitor, &app.base, &format!("/s/{root}")).await;
            assert!(to.contains("?via="), "{to}");
        }
        settle(&app, "reach_visits", 2).await;
        let dir = tempfile::tempdir().expect("dir");
        let zip_path: PathBuf = dir.path().join("archive.zip");
        let said = archive(&app, &zip_path);
        assert!(said.contains("已归档") && said.contains("档案摘要"), "{said}");
        let all = entries(&zip_path);

        // The manifest lists every entry with its size and SHA-256, and its digest matches.
        let manifest: Value =
            serde_json::from_slice(&entry(&all, "manifest.json")).expect("manifest");
        let listed = manifest["entries"].as_array().expect("entries");
        assert_eq!(listed.len() + 2, all.len(), "every entry but the manifest's own two");
        for e in listed {
            let path = e["path"].as_str().expect("path");
            let data = entry(&all, path);
            assert_eq!(e["size"], json!(data.len()), "{path}");
            assert_eq!(e["sha256"], json!(sha(&data)), "{path}");
        }
        let digest = String::from_utf8(entry(&all, "manifest.sha256")).expect("text");
        assert!(digest.starts_with(&sha(&entry(&all, "manifest.json"))));
        assert!(said.contains(digest.split_whitespace().next().expect("digest")));
        let readme = String::from_utf8(entry(&all, "README.md")).expect("readme");
        assert!(readme.contains("归档") && readme.contains("manifest.json") && readme.contains("脱敏"));
        assert!(String::from_utf8(entry(&all, "campaign/campaign.toml"))
            .expect("toml")
            .contains(&format!("code = \"{CODE}\"")));

        // JSON counts match the database; personal data as the docs say.
        for (file, table) in [
            ("data/activities.json", "activities"),
            ("data/works.json", "works"),
            ("data/activity_photos.json", "activity_photos"),
            ("data/checkins.json", "checkins"),
            ("data/orgs.json", "orgs"),
            ("data/users.json", "users"),
            ("data/share_links.json", "share_links"),
            ("data/reach_visits.json", "reach_visits"),
        ] {
            assert_eq!(
                json_rows(&all, file).len() as i64,
                app.count(table).await,
                "{file}"
            );
        }
        let works = json_rows(&all, "data/works.json");
        assert_eq!(works[0]["contact_phone"], "138****2222");
        assert!(works[0]["title"].as_str().is_some_and(|t| t.contains("好网民")));
        let users = json_rows(&all, "data/users.json");
        assert!(users.iter().all(|u| u.get("password_hash").is_none()));
        // A visit is its visitor's child link: its code, the link it came through, the page.
        let links = json_rows(&all, "data/share_links.json");
        assert_eq!(links.len(), 1, "only the root link is a row of its own");
        for v in json_rows(&all, "data/reach_visits.json") {
            assert_eq!(v["link_code"], json!(root), "{v}");
            assert_eq!(v["code"].as_str().map(str::len), Some(12), "{v}");
            assert_eq!(v["target"], json!(format!("/showcase/works/{work}")), "{v}");
            assert_eq!(v["depth"], json!(1), "{v}");
        }
        let checkins = json_rows(&all, "data/checkins.json");
        assert_eq!(checkins[0]["phone"], "137****0001");
        assert!(checkins[0].get("person_key").is_none());
        // The audit log whole: the archive's own entry came after it.
        let audit = json_rows(&all, "audit/audit_log.json");
        assert_eq!(audit.len() as i64 + 1, app.count("audit_log").await);
        assert_eq!(manifest["audit"]["last_id"], json!(audit.len()));

        // Files byte-identical to the store: photos as the page serves them, works' clean copies.
        let photo_ids: Vec<i64> = json_rows(&all, "data/activity_photos.json")
            .iter()
            .map(|p| p["id"].as_i64().expect("id"))
            .collect();
        assert_eq!(photo_ids.len(), 2);
        for id in &photo_ids {
            let served = built
                .unit
                .get(&format!("/activities/{}/photos/{id}", built.activity))
                .await
                .bytes()
                .await
                .expect("photo");
            let kept = entry(&all, &format!("files/photos/{}/{id}.jpg", built.activity));
            assert_eq!(served.to_vec(), kept, "photo {id}");
        }
        let root = app.state.store.local_root().expect("local store").to_path_buf();
        let uploads = json_rows(&all, "data/uploads.json");
        let work_files: Vec<&(String, Vec<u8>)> =
            all.iter().filter(|(n, _)| n.starts_with("files/works/")).collect();
        assert_eq!(work_files.len(), 2);
        for (w, u) in works.iter().zip(&uploads) {
            let key = u["clean_key"].as_str().expect("clean copy");
            let stored = std::fs::read(root.join(key)).expect("stored file");
            let name = format!(
                "files/works/micro-video/{}-车间好网民",
                w["id"].as_i64().expect("id")
            );
            let (_, kept) = work_files
                .iter()
                .find(|(n, _)| n.starts_with(&name))
                .unwrap_or_else(|| panic!("{name} in {work_files:?}"));
            assert_eq!(&stored, kept);
        }

        // Excel: the data workbook has a sheet per table, numbers as numbers.
        {
            use calamine::{Data, Reader, Xlsx};
            let mut book: Xlsx<_> =
                Xlsx::new(Cursor::new(entry(&all, "excel/数据明细.xlsx"))).expect("xlsx");
            let sheet = book.worksheet_range("works").expect("works sheet");
            let header: Vec<String> = sheet
                .rows()
                .nth(2)
                .expect("header")
                .iter()
                .map(|c| c.to_string())
                .collect();
            let id_col = header.iter().position(|h| h == "id").expect("id column");
            let first = sheet.rows().nth(3).expect("a work");
            assert!(matches!(first[id_col], Data::Float(_) | Data::Int(_)), "{:?}", first[id_col]);
            assert_eq!(sheet.rows().count(), 3 + 2);
            let visits = book.worksheet_range("reach_visits").expect("reach sheet");
            let header: Vec<String> =
                visits.rows().nth(2).expect("header").iter().map(|c| c.to_string()).collect();
            let depth = header.iter().position(|h| h == "depth").expect("depth column");
            let code = header.iter().position(|h| h == "code").expect("code column");
            let first = visits.rows().nth(3).expect("a visit");
            assert!(matches!(first[depth], Data::Float(_) | Data::Int(_)), "{:?}", first[depth]);
            assert!(matches!(first[code], Data::String(_)), "{:?}", first[code]);
            assert_eq!(visits.rows().count(), 3 + 2);
            if app.state.db.backend() == wangju::db::Backend::Sqlite {
                crate::papers::render("archive-data.xlsx", &entry(&all, "excel/数据明细.xlsx"));
            }
            for name in ["excel/统计表.xlsx", "excel/任务分配表.xlsx", "excel/线下活动.xlsx"] {
                let mut b: Xlsx<_> = Xlsx::new(Cursor::new(entry(&all, name))).expect(name);
                assert!(!b.worksheets().is_empty(), "{name}");
            }
        }

        // Verify passes; each kind of tampering fails and names what.
        let (ok, report) = verify(&app, &zip_path);
        assert!(ok, "{report}");
        assert!(report.contains("档案完整"), "{report}");

        let altered = dir.path().join("altered.zip");
        let mut copy = all.clone();
        for (n, d) in copy.iter_mut() {
            if n == "data/works.json" {
                let i = d.len() / 2;
                d[i] ^= 0x01;
            }
        }
        rewrite(&copy, &altered);
        let (ok, report) = verify(&app, &altered);
        assert!(!ok && report.contains("文件被改动：data/works.json"), "{report}");

        let dropped = dir.path().join("dropped.zip");
        let photo_entry = format!("files/photos/{}/{}.jpg", built.activity, photo_ids[0]);
        let copy: Vec<_> = all.iter().filter(|(n, _)| *n != photo_entry).cloned().collect();
        rewrite(&copy, &dropped);
        let (ok, report) = verify(&app, &dropped);
        assert!(!ok && report.contains(&format!("缺少文件：{photo_entry}")), "{report}");

        let added = dir.path().join("added.zip");
        let mut copy = all.clone();
        copy.push(("files/extra.txt".into(), b"not in the manifest".to_vec()));
        rewrite(&copy, &added);
        let (ok, report) = verify(&app, &added);
        assert!(!ok && report.contains("多出的文件：files/extra.txt"), "{report}");

        let forged = dir.path().join("forged.zip");
        let mut copy = all.clone();
        for (n, d) in copy.iter_mut() {
            if n == "audit/audit_log.json" {
                let text = String::from_utf8(d.clone()).expect("text");
                *d = text
                    .replacen("\"login.success\"", "\"login.failure\"", 1)
                    .into_bytes();
            }
        }
        reseal(&mut copy, "audit/audit_log.json");
        rewrite(&copy, &forged);
        let (ok, report) = verify(&app, &forged);
        assert!(!ok && report.contains("审计日志哈希链断开"), "{report}");
        assert!(!report.contains("文件被改动"), "the manifest was resealed: {report}");

        // Close: every write refused with the one message, nothing written; reads still answer.
        let o = cli(&app, &["campaign", "close", "--code", CODE]);
        assert!(o.status.success(), "{}", out(&o));
        let (activities, works_n, checkins_n, uploads_n) = (
            app.count("activities").await,
            app.count("works").await,
            app.count("checkins").await,
            app.count("uploads").await,
        );
        let (s, body) = built
            .unit
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &json!({"name": "归档后的活动", "starts_at": "2020-06-21T09:00", "place": "职工之家", "format": "知识竞赛", "categories": ["网民素养教育"]}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"], "conflict");
        assert_eq!(body["reason"], "campaign_closed", "{body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains(CLOSED)), "{body}");
        let (s, body) = built
            .worker
            .send_json(
                Method::POST,
                "/api/v1/uploads",
                &json!({"sub_project": "micro-video", "file_name": "late.mp4", "size_bytes": 1000}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        let (s, body) = built
            .worker
            .send_json(
                Method::POST,
                "/api/v1/works",
                &json!({"sub_project": "micro-video", "upload_id": "x", "title": "迟到的作品",
                        "description": "d", "authors": ["作者王五"], "contact_phone": "13811112222",
                        "originality": true, "portrait": true, "subtitles": true}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains(CLOSED)), "{body}");
        let mut phone = app.agent();
        phone.refresh_csrf().await;
        let r = phone
            .post_form(
                &built.checkin,
                &[
                    ("name", "李四"),
                    ("unit", "南开某公司"),
                    ("phone", "13700000002"),
                    ("consent", "yes"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.unwrap_or_default().contains(CLOSED));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(app.count("activities").await, activities);
        assert_eq!(app.count("works").await, works_n);
        assert_eq!(app.count("checkins").await, checkins_n);
        assert_eq!(app.count("uploads").await, uploads_n);

        let (s, html) = built.admin.text("/dashboard").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("已归档"));
        let (s, html) = app.agent().text("/").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("已归档"), "the public overview says so");
        let (s, html) = built.admin.text("/campaign/archive").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("已归档") && !html.contains("结束活动并设为只读"));
        let (s, _) = built.unit.text(&format!("/activities/{}", built.activity)).await;
        assert_eq!(s, StatusCode::OK);
        let r = built.admin.get("/progress/export?sheet=statistics").await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = built.admin.get("/activities/export").await;
        assert_eq!(r.status(), StatusCode::OK);
        // Signing in still works (accounts outlive the campaign).
        let again = app.signed_in("arc-worker").await;
        let (s, _) = again.text("/dashboard").await;
        assert_eq!(s, StatusCode::OK);

        // Reopening is the command line's, with a reason; then writes go through again.
        let o = cli(&app, &["campaign", "reopen", "--code", CODE, "--reason", ""]);
        assert!(!o.status.success());
        let o = cli(&app, &["campaign", "reopen", "--code", CODE, "--reason", "补录一条漏报的活动"]);
        assert!(o.status.success(), "{}", out(&o));
        let (s, body) = built
            .unit
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &json!({"name": "补录的活动", "starts_at": "2020-06-21T09:00", "place": "职工之家", "format": "知识竞赛", "categories": ["网民素养教育"]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let actions = wangju::db::testing::scalar::<i64>(
            &app.state.db,
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('campaign.archive', 'campaign.close', 'campaign.reopen')",
        )
        .await
        .expect("count");
        assert_eq!(actions, 3);
    })
    .await;
}

#[tokio::test]
async fn closing_needs_a_fresh_archive_and_the_page_confirms() {
    each_backend_on(day(), |app: TestApp| async move {
        let admin = app.admin().await;
        let unit = app
            .signed_in(&app.user(Role::UnitAdmin, "南开区总工会").await)
            .await;
        let (s, page) = admin.text("/campaign/archive").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("进行中") && page.contains("还没有归档"));
        let close = |code: &'static str, confirm: &'static str| {
            let admin = &admin;
            async move {
                admin
                    .post_form("/campaign/close", &[("confirm", confirm), ("code", code)])
                    .await
            }
        };
        let r = close(CODE, "yes").await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.unwrap_or_default().contains("还没有归档"));

        let dir = tempfile::tempdir().expect("dir");
        archive(&app, &dir.path().join("a.zip"));
        // A write after the archive: the archive is stale, closing is refused.
        let (s, _) = unit
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &json!({"name": "归档后又报的活动", "starts_at": "2020-06-20T09:00", "place": "职工之家", "format": "知识竞赛", "categories": ["网民素养教育"]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let r = close(CODE, "yes").await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.unwrap_or_default().contains("重新归档"));

        archive(&app, &dir.path().join("b.zip"));
        let r = close(CODE, "").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = close("wrong", "yes").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = close(CODE, "yes").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, page) = admin.text("/campaign/archive?closed=1").await;
        assert!(page.contains("已归档") && page.contains("b.zip"));
        // A second close: the campaign is read-only already.
        let r = close(CODE, "yes").await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        // Only the city admin sees the page.
        let (s, _) = unit.text("/campaign/archive").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    })
    .await;
}

/// Every write route is a campaign write but the account ones, which are named exactly (a typo
/// there would leave nothing exempt rather than something open).
#[test]
fn every_write_route_but_accounts_stops_at_a_closed_campaign() {
    use wangju::http::{route_table, writes_campaign};
    let table = route_table();
    let writes: Vec<_> = table
        .iter()
        .map(|(spec, _)| spec)
        .filter(|s| !matches!(s.method.as_str(), "GET" | "HEAD" | "OPTIONS"))
        .collect();
    let mut exempt: Vec<&str> = writes
        .iter()
        .filter(|s| !writes_campaign(s))
        .map(|s| s.path)
        .collect();
    exempt.dedup();
    // Each of the 20 named paths is a route (`/api/v1/session` takes POST and DELETE).
    assert_eq!(exempt.len(), 20, "{exempt:?}");
    for path in [
        "/login",
        "/logout",
        "/account/password",
        "/users",
        "/orgs/{org_id}",
    ] {
        assert!(exempt.contains(&path), "{path}");
    }
    for path in [
        "/api/v1/activities",
        "/activities/{activity_id}/photos",
        "/c/{token}",
        "/api/v1/uploads",
        "/api/v1/works",
        "/quotas/{org_id}",
        "/propagandists",
        "/publicity",
        "/lecture-team/nominations",
        "/selection/{code}/start",
        "/api/v1/orgs/{org_id}/reminders",
        "/users/{user_id}/sub-projects",
        "/campaign/close",
    ] {
        let spec = writes
            .iter()
            .find(|s| s.path == path)
            .unwrap_or_else(|| panic!("{path} is a write route"));
        assert!(writes_campaign(spec), "{path}");
    }
}

/// The archive reads works and photos from S3-compatible storage as well (streamed the same
/// way), and the result verifies.
#[tokio::test]
async fn works_and_photos_are_archived_from_s3_storage() {
    let endpoint = crate::works::moto_endpoint().to_string();
    for backend in crate::harness::backends() {
        let bucket = format!("wangju-archive-{}", std::process::id() ^ backend as u32);
        let r = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .expect("create bucket");
        assert!(r.status().is_success(), "moto created the bucket");
        let app = TestApp::spawn_with(backend, day(), |s| {
            s.storage = "s3".into();
            s.s3_endpoint = endpoint.clone();
            s.s3_bucket = bucket.clone();
            s.s3_region = "us-east-1".into();
            s.s3_access_key_id = "test".into();
            s.s3_secret_access_key = "test".into();
        })
        .await;
        build(&app).await;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("s3.zip");
        let written = wangju::service::archive::write(
            &app.state.db,
            &app.state.store,
            CODE,
            &path,
            &wangju::db::audit::Actor::cli(),
            day(),
        )
        .await
        .expect("archive from S3");
        assert_eq!((written.work_files, written.photo_files), (2, 2));
        assert!(written.missing.is_empty(), "{:?}", written.missing);
        let report = wangju::service::archive::verify(&path);
        assert!(report.ok(), "{:?}", report.problems);
        app.finish().await;
    }
}
