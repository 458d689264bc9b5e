//! The showcase and measured reach through real HTTP: a worker's accepted work is public only
//! once the worker chooses to show it; a propagandist's share link spreads three levels deep
//! through visitors who each get their own child link; repeats, floods, bots, self-visits and
//! unknown codes are not counted; the dashboard shows the counts per depth, account, unit and
//! district, scoped by role.

use std::time::Duration;

use chrono::NaiveDate;
use reqwest::header::{HeaderMap, HeaderValue, LOCATION, USER_AGENT};
use reqwest::{Client, Method, StatusCode, redirect};
use serde_json::{Value, json};
use wangju::domain::role::Role;
use wangju::service::reach::{Outcome, Reach, Visitor};

use crate::harness::{Agent, TestApp, backends};
use crate::works::{WORKER_PHONE, api_submission, read, register_worker};

pub(crate) const PHONE_UA: &str = "Mozilla/5.0 (Linux; Android 10; V1990A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.62 XWEB/2691 MMWEBSDK/200901 Mobile Safari/537.36 MicroMessenger/7.0.19.1760(0x27001335) NetType/WIFI Language/zh_CN";

/// Submits one video as a worker and accepts it as the city; returns (worker, work id).
pub(crate) async fn accepted_work(app: &TestApp, city: &Agent) -> (Agent, i64) {
    let worker = register_worker(app, WORKER_PHONE, "河西区总工会").await;
    let upload = worker
        .upload_work("micro-video", "ok.mp4", &read("tagged.mp4"), 512 * 1024)
        .await;
    assert_eq!(upload["verdict"], "accepted", "{upload}");
    let (s, work) = worker
        .send_json(
            Method::POST,
            "/api/v1/works",
            &api_submission(upload["id"].as_str().expect("upload id")),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{work}");
    let id = work["id"].as_i64().expect("work id");
    let (s, decided) = city
        .send_json(
            Method::POST,
            &format!("/api/v1/works/{id}/decision"),
            &json!({"decision": "accept", "reason": "符合要求"}),
        )
        .await;
    assert!(s.is_success(), "{s} {decided}");
    (worker, id)
}

/// A phone on the public internet: its own address (as the trusted proxy names it) and a
/// WeChat user agent; no cookies kept, redirects not followed.
pub(crate) fn phone(ip: &str, user_agent: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        HeaderValue::from_str(ip).expect("address header"),
    );
    headers.insert(
        USER_AGENT,
        HeaderValue::from_str(user_agent).expect("ua header"),
    );
    Client::builder()
        .default_headers(headers)
        .redirect(redirect::Policy::none())
        .build()
        .expect("client")
}

/// Opens `path` and returns where it sends the visitor (302), or "" for a page (200).
pub(crate) async fn open(client: &Client, base: &str, path: &str) -> String {
    let r = client
        .get(format!("{base}{path}"))
        .send()
        .await
        .expect("GET");
    match r.status() {
        StatusCode::FOUND => r
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        StatusCode::OK => String::new(),
        s => panic!("{path}: unexpected {s}"),
    }
}

pub(crate) fn via(location: &str) -> String {
    location
        .split("via=")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// An app behind a trusted proxy on loopback, so each test phone names its own address
/// (`X-Forwarded-For`), on 2020-09-10 (works are being shown and shared).
pub(crate) async fn behind_proxy(backend: wangju::db::Backend) -> TestApp {
    TestApp::spawn_with(
        backend,
        NaiveDate::from_ymd_opt(2020, 9, 10).expect("date"),
        |s| s.trusted_proxies = wangju::net::Cidr::loopback(),
    )
    .await
}

/// The dashboard as JSON once the writer has committed `visits` visits (it batches).
async fn reach_when(agent: &Agent, visits: i64) -> Value {
    // The dashboard reads its figures from one snapshot, so they agree: every sum has the
    // visits once the totals have.
    let sum = |body: &Value, list: &str| -> i64 {
        body[list]
            .as_array()
            .map_or(0, |a| a.iter().filter_map(|x| x["visits"].as_i64()).sum())
    };
    let mut last = Value::Null;
    for _ in 0..100 {
        let (s, body) = agent.json("/api/v1/reach").await;
        assert_eq!(s, StatusCode::OK, "{body}");
        if body["totals"]["visits"].as_i64() == Some(visits) {
            assert_eq!(sum(&body, "by_depth"), visits, "{body}");
            assert_eq!(sum(&body, "top_units"), visits, "{body}");
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {visits} counted visits, the dashboard says {last}");
}

fn depth(body: &Value, d: i64) -> i64 {
    body["by_depth"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["depth"] == d))
        .and_then(|x| x["visits"].as_i64())
        .unwrap_or(0)
}

fn unit(body: &Value, list: &str, name: &str) -> i64 {
    body[list]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == name))
        .and_then(|x| x["visits"].as_i64())
        .unwrap_or(0)
}

/// Shares `target` as `agent`; returns the code.
async fn share(agent: &Agent, target: &str) -> String {
    let r = agent.post_form("/share", &[("target", target)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "share {target}");
    let at = crate::harness::location(&r);
    at.rsplit("#l-").next().expect("code").to_string()
}

#[tokio::test]
async fn a_three_level_share_tree_is_counted_per_depth_account_and_unit() {
    for backend in backends() {
        let app = behind_proxy(backend).await;
        let base = app.base.clone();
        let city = app.admin().await;
        let (worker, id) = accepted_work(&app, &city).await;
        let page = format!("/showcase/works/{id}");

        // Accepted but not chosen: not public, and nobody can share it.
        let (s, _) = app.agent().text(&page).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, list) = app.agent().text("/showcase").await;
        assert!(!list.contains(&page));
        let r = city.post_form("/share", &[("target", &page)]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = app.agent().get(&format!("{page}/poster.jpg")).await;
        assert_eq!(
            r.status(),
            StatusCode::NOT_FOUND,
            "no poster before it is shown"
        );

        // The worker chooses to show it (audited): public, with share metadata, no phone.
        let r = worker
            .post_form(&format!("/works/{id}/showcase"), &[("show", "1")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (s, html) = app.agent().text(&page).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("<video"), "the clean copy plays");
        assert!(html.contains(&format!("/showcase/works/{id}/file")));
        assert!(
            html.contains("property=\"og:image\" content=\"http"),
            "absolute og:image"
        );
        assert!(!html.contains(WORKER_PHONE) && !html.contains("138****"));
        let (_, list) = app.agent().text("/showcase?sub_project=micro-video").await;
        assert!(list.contains(&page), "listed under its sub-project");
        let file = app.agent().get(&format!("/showcase/works/{id}/file")).await;
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(file.headers()["content-type"], "video/mp4");
        // Its poster: the video's first picture, upright, 720 px wide, shared as the page's image.
        let poster = format!("/showcase/works/{id}/poster.jpg");
        assert!(html.contains(&format!("poster=\"{poster}\"")), "{html}");
        assert!(
            html.contains(&format!("property=\"og:image\" content=\"{base}{poster}\"")),
            "{html}"
        );
        let r = app.agent().get(&poster).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        let picture = image::load_from_memory(&r.bytes().await.expect("poster")).expect("a JPEG");
        assert_eq!((picture.width(), picture.height()), (720, 405));
        let (_, audit) = city.json("/api/v1/audit").await;
        assert!(audit.to_string().contains("showcase.show"), "{audit}");

        // A propagandist of 和平区 shares it.
        let heping_login = app.user(Role::UnitAdmin, "和平区总工会").await;
        let heping = app.signed_in(&heping_login).await;
        let code = share(&heping, &page).await;
        assert_eq!(
            share(&heping, &page).await,
            code,
            "one link per account and page"
        );

        // Depth 1: visitor A through the short link gets their own child code.
        let a = phone("203.0.113.1", PHONE_UA);
        let to_a = open(&a, &base, &format!("/s/{code}")).await;
        assert!(to_a.starts_with(&format!("{page}?via=")), "{to_a}");
        let child_a = via(&to_a);
        assert_ne!(child_a, code);
        assert_eq!(open(&a, &base, &to_a).await, "", "A's own page renders");
        // A again, and a flood from A: the same child, counted once.
        for _ in 0..30 {
            assert_eq!(open(&a, &base, &format!("/s/{code}")).await, to_a);
        }
        // A bot and the propagandist: sent on, not counted, no child.
        let bot = phone("203.0.113.9", "Mozilla/5.0 (compatible; Baiduspider/2.0)");
        assert_eq!(open(&bot, &base, &format!("/s/{code}")).await, page);
        let r = heping.get(&format!("/s/{code}")).await;
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(crate::harness::location(&r), format!("{page}?via={code}"));
        // An unknown code: the campaign home, nothing counted.
        assert_eq!(open(&a, &base, "/s/zzzzzzzz").await, "/");

        // Depth 2: B opens the page A shared (WeChat shares the address A is on).
        let b = phone("203.0.113.2", PHONE_UA);
        let to_b = open(&b, &base, &to_a).await;
        let child_b = via(&to_b);
        assert!(!child_b.is_empty() && child_b != child_a, "{to_b}");
        // Depth 3: C opens B's.
        let c = phone("203.0.113.3", PHONE_UA);
        let to_c = open(&c, &base, &format!("/s/{child_b}")).await;
        assert!(!via(&to_c).is_empty());
        // Another direct visitor, D.
        let d = phone("203.0.113.4", PHONE_UA);
        open(&d, &base, &format!("/s/{code}")).await;

        // A propagandist of 河西区 shares the showcase itself; A opens it.
        let hexi_login = app.user(Role::UnitAdmin, "河西区总工会").await;
        let hexi = app.signed_in(&hexi_login).await;
        let hexi_code = share(&hexi, "/showcase").await;
        let to = open(&a, &base, &format!("/s/{hexi_code}")).await;
        assert!(to.starts_with("/showcase?via="), "{to}");

        // The city: A, D (depth 1), B (2), C (3) for 和平; A for 河西.
        let all = reach_when(&city, 5).await;
        assert_eq!(depth(&all, 1), 3, "{all}");
        assert_eq!(depth(&all, 2), 1, "{all}");
        assert_eq!(depth(&all, 3), 1, "{all}");
        assert_eq!(all["totals"]["secondary"], 2);
        assert_eq!(unit(&all, "top_units", "和平区总工会"), 4);
        assert_eq!(unit(&all, "top_units", "河西区总工会"), 1);
        assert_eq!(unit(&all, "districts", "和平区总工会"), 4);
        let top = &all["top_accounts"][0];
        assert_eq!(top["visits"], 4, "{all}");
        assert_eq!(top["secondary"], 2);
        // Four visitors a day (A counted twice, through two links, is still one visitor).
        assert_eq!(all["totals"]["visitor_days"], 4);
        assert_eq!(all["by_day"][0]["day"], "2020-09-10");

        // 河西's admin sees only 河西's subtree.
        let mine = reach_when(&hexi, 1).await;
        assert_eq!(unit(&mine, "top_units", "和平区总工会"), 0);
        // The propagandist's own page: counts by depth.
        let (_, links) = heping.text("/reach/links").await;
        assert!(links.contains(&format!("/s/{code}")));
        assert!(links.contains("id=\"my-total\">4<"), "{links}");
        // The dashboard page and the progress counters show measured and claimed apart.
        let (s, dash) = city.text("/reach").await;
        assert_eq!(s, StatusCode::OK);
        assert!(dash.contains("id=\"measured-visitors\">4<"));
        assert!(dash.contains("id=\"claimed\">"));
        let (_, progress) = city.text("/progress").await;
        assert!(
            progress.contains("id=\"reach-measured\">4<"),
            "progress shows measured reach"
        );
        assert!(progress.contains("单位填报线上浏览量"));

        // Hidden again: off the showcase at once, and no longer shareable.
        let r = worker
            .post_form(&format!("/works/{id}/showcase"), &[("show", "0")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (s, _) = app.agent().text(&page).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let r = hexi.post_form("/share", &[("target", &page)]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        app.finish().await;
    }
}

#[tokio::test]
async fn only_the_author_or_unit_admins_choose_one_address_counts_at_most_30_and_a_clean_stop_keeps_every_visit()
 {
    for backend in backends() {
        let app = behind_proxy(backend).await;
        let city = app.admin().await;
        let (_worker, id) = accepted_work(&app, &city).await;
        // An admin of another district cannot see the work, so cannot choose: 404.
        let other = app.user(Role::UnitAdmin, "和平区总工会").await;
        let other = app.signed_in(&other).await;
        let r = other
            .post_form(&format!("/works/{id}/showcase"), &[("show", "1")])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        // A moderator may see it but is neither author nor unit admin: 403.
        let m = app.moderator("天津市总工会").await;
        let m = app.signed_in(&m).await;
        let r = m
            .post_form(&format!("/works/{id}/showcase"), &[("show", "1")])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // 河西's admin may.
        let hexi = app.user(Role::UnitAdmin, "河西区总工会").await;
        let hexi = app.signed_in(&hexi).await;
        let r = hexi
            .post_form(&format!("/works/{id}/showcase"), &[("show", "1")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        // 200 visitors, each acknowledged by a 302, then a clean stop of the writer: all kept.
        let code = share(&hexi, &format!("/showcase/works/{id}")).await;
        for i in 0..200 {
            let v = phone(
                &format!("198.51.100.{}", i % 250 + 1),
                &format!("{PHONE_UA} #{i}"),
            );
            let to = open(&v, &app.base, &format!("/s/{code}")).await;
            assert!(to.contains("?via="), "{to}");
        }
        app.state.reach.shutdown().await;
        assert_eq!(app.count("reach_visits").await, 200);
        assert_eq!(
            app.count("share_links").await,
            1,
            "a visit is its visitor's child link: no row of its own beside the root"
        );

        // Another node, with nothing cached, finds a child link among the visits: a visitor
        // through it is counted one level deeper, for the same account.
        let child = via(&open(
            &phone("198.51.100.7", &format!("{PHONE_UA} #6")),
            &app.base,
            &format!("/s/{code}"),
        )
        .await);
        assert_eq!(
            child.len(),
            wangju::domain::reach::CHILD_CODE_LEN,
            "{child}"
        );
        let node = Reach::new(&app.state.db, false);
        let visitor = Visitor {
            ip: "203.0.113.9",
            user_agent: PHONE_UA,
            account: None,
        };
        match node
            .visit(&app.state.db, &app.state.clock, &child, &visitor)
            .await
            .expect("visit on another node")
        {
            Outcome::Counted { link, child: next } => {
                assert_eq!(link.depth, 2);
                assert_eq!(link.parent_code.as_deref(), Some(code.as_str()));
                assert!(next.is_some_and(|c| c != child));
            }
            other => panic!("a child link from the database: {other:?}"),
        }
        assert_eq!(app.count("reach_visits").await, 201);
        let unknown = "23456789abcd";
        assert_eq!(
            node.visit(&app.state.db, &app.state.clock, unknown, &visitor)
                .await
                .expect("unknown code"),
            Outcome::Unknown
        );
        app.finish().await;
    }
}

/// Migration 0029 folds each child link into its visit. A database with visits and child links
/// written the old way keeps every visit, each old child code still opens its link one level
/// deeper, a visit that had no child (the deepest level) is kept under a key that is no code,
/// and the root link stays its account's.
#[tokio::test]
async fn visits_and_child_links_from_before_migration_29_keep_their_counts_and_codes() {
    use wangju::db::Backend;
    use wangju::db::reach as db;
    use wangju::db::testing::{execute, migrate_from, scalar};
    for backend in backends() {
        let dir = tempfile::tempdir().expect("dir");
        let pg = match backend {
            Backend::Postgres => Some(crate::harness::PgDatabase::create().await),
            Backend::Sqlite => None,
        };
        let url = pg.as_ref().map_or_else(
            || format!("sqlite://{}", dir.path().join("old.db").display()),
            |p| p.url(),
        );
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(match backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            });
        let old = dir.path().join("migrations");
        std::fs::create_dir(&old).expect("folder");
        for entry in std::fs::read_dir(&folder).expect("migrations") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name
                .get(..4)
                .and_then(|v| v.parse::<u32>().ok())
                .is_some_and(|v| v <= 28)
            {
                std::fs::copy(&path, old.join(name)).expect("copy");
            }
        }
        let store = wangju::db::Db::connect(&url, 2).await.expect("connect");
        migrate_from(&store, &old)
            .await
            .expect("migrations up to 0028");
        for sql in [
            "INSERT INTO campaigns (id, code, year, title, document, created_at, updated_at)
             VALUES (1, 'tj2020', 2020, '网聚职工正能量', '{}', 0, 0)",
            "INSERT INTO orgs (id, name, kind, path, depth, created_at, updated_at)
             VALUES (1, '河西区总工会', 'district', '/1/', 1, 0, 0)",
            "INSERT INTO users (id, login, display_name, role, org_id, password_hash, created_at, updated_at)
             VALUES (1, 'hexi', '河西', 'unit_admin', 1, 'x', 0, 0)",
            // A root link; its visitor v1 with child c1; c1's visitor v2 with child c2; c2's
            // visitor v3 the next day, at the deepest level, so with no child.
            "INSERT INTO share_links VALUES ('r2345678', 1, 1, 1, '/showcase/works/7', NULL, 1, NULL, 100)",
            "INSERT INTO share_links VALUES ('c234567892', 1, 1, 1, '/showcase/works/7', 'r2345678', 2, 'v1', 101)",
            "INSERT INTO share_links VALUES ('c234567893', 1, 1, 1, '/showcase/works/7', 'c234567892', 3, 'v2', 102)",
            "INSERT INTO reach_visits VALUES ('r2345678', '2020-07-01', 'v1', 1, 1, 1, 1, 101)",
            "INSERT INTO reach_visits VALUES ('c234567892', '2020-07-01', 'v2', 1, 2, 1, 1, 102)",
            "INSERT INTO reach_visits VALUES ('c234567893', '2020-07-02', 'v3', 1, 3, 1, 1, 103)",
        ] {
            execute(&store, sql).await.expect(sql);
        }
        store.migrate().await.expect("migration 0029");

        let count = |sql: &'static str| scalar::<i64>(&store, sql);
        assert_eq!(
            count("SELECT COUNT(*) FROM share_links")
                .await
                .expect("links"),
            1
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM reach_visits")
                .await
                .expect("visits"),
            3
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM reach_visits WHERE target = '/showcase/works/7'")
                .await
                .expect("targets"),
            3
        );
        let root = db::link(&store, "r2345678", 50)
            .await
            .expect("root")
            .expect("kept");
        assert_eq!((root.depth, root.parent_code), (1, None));
        let c1 = db::link(&store, "c234567892", 50)
            .await
            .expect("c1")
            .expect("kept");
        assert_eq!(
            (c1.depth, c1.parent_code.as_deref(), c1.visitor.as_deref()),
            (2, Some("r2345678"), Some("v1"))
        );
        let c2 = db::link(&store, "c234567893", 50)
            .await
            .expect("c2")
            .expect("kept");
        assert_eq!(
            (c2.depth, c2.parent_code.as_deref()),
            (3, Some("c234567892"))
        );
        assert_eq!(
            db::link(&store, "c234567893", 2).await.expect("too deep"),
            None,
            "a link at the deepest level is none"
        );
        let mine = db::my_links(&store, wangju::domain::ids::UserId(1))
            .await
            .expect("my links");
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].code.as_str(), mine[0].direct), ("r2345678", 1));
        let depths = db::account_depths(&store, wangju::domain::ids::UserId(1))
            .await
            .expect("depths");
        assert_eq!(
            depths
                .iter()
                .map(|d| (d.depth, d.visits))
                .collect::<Vec<_>>(),
            [(1, 1), (2, 1), (3, 1)]
        );
        store.close().await;
    }
}

/// The dashboard reads its figures from one snapshot: while visits are being committed batch
/// by batch, every answer's totals, depths, days and units add up to the same number.
#[tokio::test]
async fn the_reach_dashboard_agrees_with_itself_while_visits_are_committed() {
    for backend in backends() {
        let app = behind_proxy(backend).await;
        let city = app.admin().await;
        let (worker, id) = accepted_work(&app, &city).await;
        let r = worker
            .post_form(&format!("/works/{id}/showcase"), &[("show", "1")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let code = share(&city, &format!("/showcase/works/{id}")).await;
        const VISITS: usize = 600;
        let base = app.base.clone();
        let visitors = tokio::spawn(async move {
            let mut tasks = Vec::new();
            for lane in 0..6 {
                let (base, code) = (base.clone(), code.clone());
                tasks.push(tokio::spawn(async move {
                    for i in (lane..VISITS).step_by(6) {
                        let v = phone(
                            &format!("203.0.{}.{}", i / 250, i % 250 + 1),
                            &format!("{PHONE_UA} #{i}"),
                        );
                        let to = open(&v, &base, &format!("/s/{code}")).await;
                        assert!(to.contains("?via="), "{to}");
                    }
                }));
            }
            for t in tasks {
                t.await.expect("visitors");
            }
        });
        let sum = |body: &Value, list: &str| -> i64 {
            body[list]
                .as_array()
                .map_or(0, |a| a.iter().filter_map(|x| x["visits"].as_i64()).sum())
        };
        let mut reads = 0;
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let finished = visitors.is_finished();
            let (s, body) = city.json("/api/v1/reach").await;
            assert_eq!(s, StatusCode::OK, "{body}");
            let total = body["totals"]["visits"].as_i64().expect("total");
            // (Not the districts: the city's own link belongs to no district.)
            for list in ["by_depth", "by_day", "top_units", "top_accounts"] {
                assert_eq!(sum(&body, list), total, "{list} against the total: {body}");
            }
            seen.insert(total);
            reads += 1;
            if finished && total == VISITS as i64 {
                break;
            }
            assert!(reads < 2_000, "the visits never all arrived: {body}");
        }
        assert!(seen.len() > 2, "read while counting: {seen:?}");
        visitors.await.expect("visitors");
        app.finish().await;
    }
}
