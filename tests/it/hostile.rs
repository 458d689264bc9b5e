//! Hostile input and concurrency against the running server (issue: hardening). Each test
//! names the defect it guards against; all run on SQLite and PostgreSQL.

use reqwest::StatusCode;
use serde_json::json;
use wangju::domain::role::Role;

use crate::harness::{PASSWORD, each_backend};

/// 20 wrong passwords at the same moment: the budget is taken before any password is checked,
/// so at most 5 are checked, the account ends locked, and the right password afterwards is
/// refused with the minutes left (a right password never lifts a lock in force).
#[tokio::test]
async fn concurrent_wrong_passwords_cannot_outrun_the_lockout() {
    each_backend(|app| async move {
        let login = app.user(Role::UnitAdmin, "和平区总工会").await;
        let mut agents = Vec::new();
        for _ in 0..20 {
            let mut agent = app.agent();
            agent.refresh_csrf().await;
            agents.push(agent);
        }
        let guesses = agents.into_iter().enumerate().map(|(i, agent)| {
            let login = login.clone();
            async move {
                let (status, _) = agent
                    .send_json(
                        reqwest::Method::POST,
                        "/api/v1/session",
                        &json!({"login": login, "password": format!("Wrong-pass-{i:03}")}),
                    )
                    .await;
                status
            }
        });
        let statuses = futures_util::future::join_all(guesses).await;
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
            "{statuses:?}"
        );
        let admin = app.admin().await;
        let (status, log) = admin.json("/api/v1/audit?action=login.failure").await;
        assert_eq!(status, StatusCode::OK);
        let checked = log
            .as_array()
            .expect("audit entries")
            .iter()
            .filter(|e| {
                e["after_json"]
                    .as_str()
                    .is_some_and(|a| a.contains("wrong_password"))
            })
            .count();
        assert!(
            (1..=5).contains(&checked),
            "{checked} wrong passwords were checked"
        );
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert!(refused >= 15, "only {refused} were refused unchecked");
        let mut owner = app.agent();
        owner.refresh_csrf().await;
        let (status, body) = owner
            .send_json(
                reqwest::Method::POST,
                "/api/v1/session",
                &json!({"login": login, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"], "account_locked", "{body}");
    })
    .await;
}

/// A workbook of a few KB with one cell at A1 and one at `row`, `column` (0-based).
fn sparse_workbook(row: u32, column: u16) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "单位名称").expect("cell");
    sheet.write_number(row, column, 1.0).expect("far cell");
    workbook.save_to_buffer().expect("workbook")
}

/// A spreadsheet whose one cell sits at the far corner (XFD1048576) used to make the reader
/// allocate the whole range and abort the process. Every import refuses it with the limit
/// named, writes nothing, and the server keeps answering.
#[tokio::test]
async fn sparse_spreadsheets_are_refused_by_every_import() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let orgs = app.count("orgs").await;
        for (row, column, limit) in [
            (1_048_575, 16_383, "64 列"),
            (1_048_575, 1, "20000 行"),
            (5, 200, "64 列"),
        ] {
            for path in ["/orgs/import", "/quotas/import"] {
                let r = admin
                    .upload(path, "稀疏.xlsx", sparse_workbook(row, column))
                    .await;
                assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
                let text = r.text().await.expect("body");
                assert!(text.contains(limit), "{path}: {limit} not named");
            }
        }
        let (status, _) = admin.text("/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.count("orgs").await, orgs);
    })
    .await;
}

/// NUL and other control characters in any text input answer 422 (PostgreSQL refused them
/// with a 500), in forms, queries, JSON bodies and the login.
#[tokio::test]
async fn control_characters_in_any_input_answer_422() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let (status, body) = admin.text("/orgs?q=%00").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("控制字符"), "{body}");
        let (status, _) = admin.text("/activities?status=%01").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, body) = admin
            .send_json(
                reqwest::Method::POST,
                "/api/v1/orgs",
                &json!({"name": "新单位\u{0}", "kind": "grassroots", "parent_id": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"], "invalid_input");
        let mut anonymous = app.agent();
        anonymous.refresh_csrf().await;
        let (status, body) = anonymous
            .send_json(
                reqwest::Method::POST,
                "/api/v1/session",
                &json!({"login": "admin\u{0}", "password": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let r = admin
            .post_form("/orgs", &[("name", "某\u{0}工会"), ("kind", "grassroots")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Invalid UTF-8 is refused, not silently replaced.
        let r = admin
            .client
            .post(format!("{}/orgs", admin.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={}&name=%FF%FE&kind=grassroots", admin.csrf))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.expect("body").contains("UTF-8"));
    })
    .await;
}

/// What the framework used to answer in English plain text is answered in Chinese.
#[tokio::test]
async fn framework_errors_are_answered_in_chinese() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        // A multipart body without a boundary.
        let r = admin
            .client
            .post(format!("{}/orgs/import?_csrf={}", admin.base, admin.csrf))
            .header("content-type", "multipart/form-data")
            .body("x")
            .send()
            .await
            .expect("POST");
        assert!(r.status().is_client_error());
        let text = r.text().await.expect("body");
        assert!(text.contains("multipart/form-data"), "{text}");
        // A form body over the limit.
        let r = admin
            .client
            .post(format!("{}/orgs", admin.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "_csrf={}&name={}",
                admin.csrf,
                "a".repeat(2 * 1024 * 1024)
            ))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.text().await.expect("body").contains("太大"));
        // JSON that is not JSON.
        let r = admin
            .client
            .post(format!("{}/api/v1/orgs", admin.base))
            .header("x-csrf-token", &admin.csrf)
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .expect("POST");
        let body: serde_json::Value = r.json().await.expect("json error");
        assert_eq!(body["error"], "invalid_input");
    })
    .await;
}
