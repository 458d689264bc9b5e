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
