//! Behind a balancer: the client address comes from `X-Forwarded-For` only when the socket
//! peer is a trusted proxy (login limits and the audit log key on it); `/metrics` answers
//! loopback, the configured ranges or the token, and 404 to everyone else; every response
//! carries a request id.

use chrono::NaiveDate;
use reqwest::StatusCode;

use crate::harness::{TestApp, backends};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 7, 1).expect("date")
}

async fn audit_entries_from(app: &TestApp, ip: &str) -> i64 {
    let q = "SELECT COUNT(*) FROM audit_log WHERE ip = $1";
    wangju::db::testing::scalar_with(&app.state.db, q, ip)
        .await
        .expect("count")
}

/// A failed sign-in sent with `X-Forwarded-For: forwarded`; returns the status.
async fn failed_login(app: &TestApp, forwarded: &str) -> StatusCode {
    let mut agent = app.agent();
    agent.refresh_csrf().await;
    // A new name each time: only the address's budget is at stake, not an account's.
    let login = format!("nobody-{}", hex::encode(rand::random::<[u8; 4]>()));
    let fields = [
        ("login", login.as_str()),
        ("password", "wrong-Passw0rd!"),
        ("_csrf", agent.csrf.as_str()),
    ];
    agent
        .client
        .post(format!("{}/login", app.base))
        .header("x-forwarded-for", forwarded)
        .form(&fields)
        .send()
        .await
        .expect("POST /login")
        .status()
}

/// Signs the first admin in with `X-Forwarded-For: forwarded`.
async fn admin_login(app: &TestApp, forwarded: &str) -> StatusCode {
    let mut agent = app.agent();
    agent.refresh_csrf().await;
    let fields = [
        ("login", "admin"),
        ("password", app.admin_password.as_str()),
        ("_csrf", agent.csrf.as_str()),
    ];
    agent
        .client
        .post(format!("{}/login", app.base))
        .header("x-forwarded-for", forwarded)
        .form(&fields)
        .send()
        .await
        .expect("POST /login")
        .status()
}

#[tokio::test]
async fn the_client_address_comes_from_a_trusted_proxy_only() {
    for backend in backends() {
        // Behind the balancer (127.0.0.1 is the proxy).
        let app = TestApp::spawn_with(backend, day(), |s| {
            s.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
        })
        .await;
        // A client's own header lies left of what the proxy appended: never believed.
        assert_eq!(
            admin_login(&app, "1.2.3.4, 203.0.113.7").await,
            StatusCode::SEE_OTHER
        );
        assert!(audit_entries_from(&app, "203.0.113.7").await >= 1);
        assert_eq!(audit_entries_from(&app, "1.2.3.4").await, 0);
        // The per-address login limit holds each client to its own budget.
        for _ in 0..wangju::http::limit::MAX_ATTEMPTS {
            assert_eq!(
                failed_login(&app, "203.0.113.8").await,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            failed_login(&app, "203.0.113.8").await,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            failed_login(&app, "203.0.113.9").await,
            StatusCode::UNAUTHORIZED,
            "another client behind the same balancer is not held up"
        );
        app.finish().await;

        // No trusted proxy (the default): the header is ignored, the socket peer counts.
        let app = TestApp::spawn_on(backend, day()).await;
        assert_eq!(
            admin_login(&app, "203.0.113.7").await,
            StatusCode::SEE_OTHER
        );
        assert_eq!(audit_entries_from(&app, "203.0.113.7").await, 0);
        assert!(audit_entries_from(&app, "127.0.0.1").await >= 1);
        for i in 0..wangju::http::limit::MAX_ATTEMPTS {
            failed_login(&app, &format!("198.51.100.{i}")).await;
        }
        assert_eq!(
            failed_login(&app, "198.51.100.200").await,
            StatusCode::TOO_MANY_REQUESTS,
            "a forged header does not buy a fresh budget"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn metrics_answer_loopback_or_the_token_and_nobody_else() {
    let backend = backends()[0];
    let app = TestApp::spawn_with(backend, day(), |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
        s.metrics_token = "metrics-secret-token".into();
    })
    .await;
    let agent = app.agent();
    // Some traffic of each kind first.
    let _ = agent.get("/").await;
    let _ = agent.get("/no/such/page").await;
    let login = app
        .signed_in(
            &app.user(wangju::domain::role::Role::CityAdmin, "天津市总工会")
                .await,
        )
        .await;
    let _ = login.get("/activities/12345").await;

    let r = agent.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain; version=0.0.4"))
    );
    let text = r.text().await.unwrap_or_default();
    for needle in [
        "wangju_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"}",
        "route=\"/activities/{activity_id}\"",
        "route=\"(unmatched)\"",
        "wangju_http_request_duration_seconds_bucket",
        "wangju_db_pool_connections",
        "wangju_errors_total{code=\"not_found\"}",
        "wangju_process_resident_memory_bytes",
        "wangju_reminder_mails_waiting",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    // Raw paths never become labels.
    assert!(!text.contains("/activities/12345") && !text.contains("/no/such/page"));

    // Through the balancer the client is a remote address: nothing there, unless the token.
    let remote = |token: Option<&str>| {
        let mut request = agent
            .client
            .get(format!("{}/metrics", app.base))
            .header("x-forwarded-for", "203.0.113.50");
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send()
    };
    assert_eq!(
        remote(None).await.expect("GET").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        remote(Some("wrong")).await.expect("GET").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        remote(Some("metrics-secret-token"))
            .await
            .expect("GET")
            .status(),
        StatusCode::OK
    );
    app.finish().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn_on(backends()[0], day()).await;
    let client = reqwest::Client::new();
    let id = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let made = client
        .get(format!("{}/livez", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(id(&made).len(), 16, "a fresh id: {}", id(&made));
    let kept = client
        .get(format!("{}/nowhere", app.base))
        .header("x-request-id", "nginx-5f2c9a")
        .send()
        .await
        .expect("GET");
    assert_eq!(id(&kept), "nginx-5f2c9a", "the balancer's id is kept");
    let replaced = client
        .get(format!("{}/livez", app.base))
        .header("x-request-id", "a b\"{forged}")
        .send()
        .await
        .expect("GET");
    assert_ne!(id(&replaced), "a b\"{forged}");
    assert_eq!(id(&replaced).len(), 16);
    app.finish().await;
}
