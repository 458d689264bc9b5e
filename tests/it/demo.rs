//! Demo data and the activity list export, as someone trying the product sees them.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::Value;
use wangju::db::audit::Actor;
use wangju::service::demo::{self, Scale};

use crate::harness::{Agent, PASSWORD, TestApp, each_backend};

/// Signs in a demo admin with the seeding's one-time password and sets `PASSWORD`.
async fn demo_admin(app: &TestApp, login: &str, one_time: &str) -> Agent {
    let mut agent = app.agent();
    let r = agent.login(login, one_time).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {login}");
    let r = agent
        .post_form(
            "/account/password",
            &[
                ("current", one_time),
                ("new", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "password change");
    agent.refresh_csrf().await;
    agent
}

/// The activity sheet of an export: header and data rows as text.
async fn export(agent: &Agent) -> (Vec<String>, Vec<Vec<String>>) {
    let r = agent.get("/activities/export").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap_or_default()
            .contains("spreadsheetml")
    );
    let bytes = r.bytes().await.expect("body");
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("a workbook");
    let range = book
        .worksheet_range("线下活动")
        .expect("the activity sheet");
    let formulas = book.worksheet_formula("线下活动").expect("formulas");
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell is a formula"
    );
    let mut rows = range.rows().map(|row| {
        row.iter()
            .map(|c| match c {
                Data::String(s) => s.clone(),
                Data::Float(f) => format!("{f}"),
                Data::Int(i) => i.to_string(),
                Data::Empty => String::new(),
                other => other.to_string(),
            })
            .collect::<Vec<String>>()
    });
    let header = rows.next().unwrap_or_default();
    (header, rows.collect())
}

fn rows_named<'a>(p: &'a Value, kind: &str) -> Vec<&'a Value> {
    p["rows"]
        .as_array()
        .map(|rows| rows.iter().filter(|r| r["kind"] == kind).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn city_demo_data_fills_a_consistent_dashboard_and_exports_by_scope() {
    each_backend(|app| async move {
        let db = &app.state.db;
        let today = NaiveDate::from_ymd_opt(2020, 9, 10).expect("date");
        let report = demo::seed_as_of(db, Scale::City, false, &Actor::cli(), today)
            .await
            .expect("seed");
        // The promised orders of magnitude: Annex 1 asks Tianjin for 100 activities.
        assert!(
            (250..=400).contains(&report.units),
            "{} units",
            report.units
        );
        assert!(
            (120..=400).contains(&report.activities),
            "{}",
            report.activities
        );
        assert!(
            (8_000..=16_000).contains(&report.checkins),
            "{}",
            report.checkins
        );
        // What has been reported was held before "today"; only drafts may lie ahead.
        assert_eq!(
            app.count("activities WHERE status <> 'draft' AND starts_at >= '2020-09-10'")
                .await,
            0
        );
        assert!(
            app.count("activities WHERE status = 'draft' AND starts_at >= '2020-09-10'")
                .await
                > 0,
            "plans ahead"
        );
        assert!(report.propagandists >= 1_000);
        assert!(report.by_status.iter().all(|(_, n)| *n > 0), "every status");
        assert_eq!(report.admins.len(), 16, "one admin per district");
        assert_eq!(app.count("activities").await, report.activities as i64);
        // The lecture team: nominations in every state, the ten models and others on the roster
        // (one retired), lecture requests, some assigned; the public page shows the models.
        assert!(
            report.lecture_team.nominations >= 20,
            "{:?}",
            report.lecture_team
        );
        for status in [
            "submitted",
            "returned",
            "shortlisted",
            "endorsed",
            "rejected",
            "selected",
        ] {
            assert!(
                app.count(&format!("model_nominations WHERE status = '{status}'"))
                    .await
                    > 0,
                "{status}"
            );
        }
        assert_eq!(
            app.count("lecture_members WHERE nomination_id IS NOT NULL")
                .await,
            10
        );
        assert_eq!(
            app.count("lecture_members WHERE retired_at IS NOT NULL")
                .await,
            1
        );
        assert!(app.count("lectures WHERE status = 'assigned'").await > 0);
        let (s, page) = app.agent().text("/lecture-team").await;
        assert_eq!(s, reqwest::StatusCode::OK);
        assert_eq!(
            page.matches("<li class=\"member\">").count(),
            14,
            "10 models and 4 other members"
        );
        assert_eq!(app.count("checkins").await, report.checkins as i64);
        assert_eq!(
            app.count("audit_log WHERE action = 'demo.seed'").await,
            1,
            "one audit entry for the whole seeding"
        );

        // A second run is refused and changes nothing; --force replaces, reusing the tree.
        let orgs = app.count("orgs").await;
        let again = demo::seed(db, Scale::City, false, &Actor::cli()).await;
        let message = match again {
            Err(e) => e.message_zh(),
            Ok(_) => panic!("a second seeding must be refused"),
        };
        assert!(message.contains("--force"), "{message}");
        assert_eq!(app.count("activities").await, report.activities as i64);
        let forced = demo::seed_as_of(db, Scale::City, true, &Actor::cli(), today)
            .await
            .expect("forced seed");
        assert_eq!(forced.activities, report.activities, "deterministic");
        assert_eq!(forced.checkins, report.checkins, "deterministic");
        assert_eq!(app.count("orgs").await, orgs, "the tree is reused");
        assert_eq!(app.count("activities").await, report.activities as i64);

        // The city dashboard adds up: totals are the sum over the top units.
        let admin = app.admin().await;
        let (s, p) = admin.json("/api/v1/progress").await;
        assert_eq!(s, StatusCode::OK);
        let top: Vec<&Value> = p["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter(|r| r["depth"] == 1)
            .collect();
        let districts = rows_named(&p, "区总工会");
        assert_eq!(districts.len(), 16);
        for field in [
            "confirmed",
            "reported",
            "planned",
            "participants",
            "verified",
        ] {
            let sum: i64 = top
                .iter()
                .map(|r| r["counts"][field].as_i64().unwrap_or(0))
                .sum();
            assert_eq!(p["totals"][field].as_i64(), Some(sum), "{field}");
        }
        assert_eq!(
            p["totals"]["planned"].as_i64(),
            Some(report.activities as i64)
        );
        let confirmed = report
            .by_status
            .iter()
            .find(|(s, _)| s.code() == "confirmed")
            .map(|(_, n)| *n as i64);
        assert_eq!(p["totals"]["confirmed"].as_i64(), confirmed);
        // A real campaign's completion: every Annex 1 unit between 40% and 130% of its quota.
        let annex: Vec<&&Value> = top
            .iter()
            .filter(|r| r["quota"].as_i64() > Some(0))
            .collect();
        assert!(annex.len() >= 16, "{}", annex.len());
        for r in &annex {
            let percent = r["completion_percent"].as_i64().unwrap_or(-1);
            assert!((40..=130).contains(&percent), "{}: {percent}%", r["name"]);
        }
        // Someone to chase: a district behind its quota, and 零报送 units below the districts.
        assert!(
            districts
                .iter()
                .any(|r| r["completion_percent"].as_i64().unwrap_or(0) < 100)
        );
        assert!(
            p["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .any(|r| r["zero_report"] == true)
        );

        // The export: the city gets every activity; a district only its own subtree's.
        let (header, rows) = export(&admin).await;
        assert_eq!(header.first().map(String::as_str), Some("序号"));
        assert!(header.iter().any(|h| h == "活动名称"));
        assert!(header.iter().any(|h| h == "详情链接"));
        assert_eq!(rows.len(), report.activities);
        let heping = demo_admin(&app, "tj-heping", &forced.password).await;
        let (_, mine) = export(&heping).await;
        let expected = app
            .count(
                "activities a JOIN orgs o ON o.id = a.org_id \
                 WHERE o.path LIKE (SELECT path FROM orgs WHERE name = '和平区总工会') || '%'",
            )
            .await;
        assert!(expected > 0);
        assert_eq!(mine.len() as i64, expected);
        let heping_units: Vec<String> = {
            let (_, orgs) = heping.json("/api/v1/orgs").await;
            orgs.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|o| o["name"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert!(heping_units.iter().any(|n| n == "和平区总工会"));
        for row in &mine {
            assert!(
                heping_units.contains(&row[2]),
                "“{}” lies outside 和平区",
                row[2]
            );
        }

        // A name that looks like a formula is exported as text.
        app.sql(
            "UPDATE activities SET name = '=HYPERLINK(\"http://evil.example\",\"点我\")' \
             WHERE id = (SELECT MIN(id) FROM activities)",
        )
        .await;
        let (_, rows) = export(&admin).await;
        assert!(rows.iter().any(|r| r[1].starts_with("=HYPERLINK")));
    })
    .await;
}
