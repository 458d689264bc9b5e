//! Cross-cutting behaviour: health, security headers, limits, errors.

use reqwest::StatusCode;

use crate::harness::each_backend;

#[tokio::test]
async fn healthz_follows_the_database() {
    each_backend(|app| async move {
        let agent = app.agent();
        assert_eq!(agent.get("/healthz").await.status(), StatusCode::OK);
        assert_eq!(agent.get("/livez").await.status(), StatusCode::OK);
        app.state.db.close().await;
        assert_eq!(
            agent.get("/healthz").await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(agent.get("/livez").await.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    each_backend(|app| async move {
        let agent = app.admin().await;
        for path in [
            "/",
            "/login",
            "/dashboard",
            "/orgs",
            "/nope",
            "/api/v1/campaign",
            "/static/app.css",
        ] {
            let r = agent.get(path).await;
            let h = r.headers();
            let csp = h
                .get("content-security-policy")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(
                csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
                "{path}: {csp}"
            );
            assert!(csp.contains("frame-ancestors 'none'"), "{path}");
            assert_eq!(
                h.get("x-content-type-options")
                    .and_then(|v| v.to_str().ok()),
                Some("nosniff"),
                "{path}"
            );
            assert_eq!(
                h.get("referrer-policy").and_then(|v| v.to_str().ok()),
                Some("same-origin"),
                "{path}"
            );
        }
        let r = agent.get("/dashboard").await;
        assert_eq!(
            r.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
    })
    .await;
}

#[tokio::test]
async fn pages_carry_no_inline_script() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let anonymous = app.agent();
        let pages = [
            ("/", &anonymous),
            ("/login", &anonymous),
            ("/nowhere", &anonymous),
            ("/dashboard", &admin),
            ("/orgs", &admin),
            ("/orgs/1", &admin),
            ("/users", &admin),
            ("/audit", &admin),
            ("/account/password", &admin),
        ];
        for (path, agent) in pages {
            let (status, html) = agent.text(path).await;
            let status = if path == "/nowhere" {
                StatusCode::OK
            } else {
                status
            };
            assert_eq!(status, StatusCode::OK, "{path}");
            for (i, _) in html.match_indices("<script") {
                let tag = &html[i..html[i..].find('>').map_or(html.len(), |e| i + e)];
                assert!(
                    tag.contains("src=\"/static/"),
                    "{path}: inline script {tag}"
                );
            }
            assert!(
                !html.contains(" onclick=") && !html.contains("javascript:"),
                "{path}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn oversized_and_malformed_requests_get_clear_answers() {
    each_backend(|app| async move {
        let agent = app.admin().await;
        let before = app.count("orgs").await;
        let huge = "工".repeat(600_000);
        let r = agent
            .post_form(
                "/orgs",
                &[("name", &huge), ("kind", "grassroots"), ("parent_id", "1")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let (status, body) = agent
            .send_json(
                reqwest::Method::POST,
                "/api/v1/orgs",
                &serde_json::json!({"name": 5}),
            )
            .await;
        assert!(status.is_client_error(), "{status}");
        let _ = body;
        let (status, body) = agent.json("/api/v1/orgs/not-a-number").await;
        assert!(status.is_client_error(), "{status} {body}");
        let (status, body) = agent.json("/api/v1/nothing-here").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"], "not_found");
        let (status, html) = agent.text("/nothing-here").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("页面或对象不存在"));
        assert_eq!(app.count("orgs").await, before);
    })
    .await;
}

#[tokio::test]
async fn openapi_document_lists_the_api() {
    each_backend(|app| async move {
        let (status, doc) = app.agent().json("/api/v1/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        // Every API route in the route table is documented.
        for spec in wangju::http::routes() {
            if spec.path.starts_with("/api/v1/") && spec.path != "/api/v1/openapi.json" {
                let entry = paths
                    .get(spec.path)
                    .unwrap_or_else(|| panic!("{} undocumented", spec.path));
                let method = spec.method.as_str().to_lowercase();
                assert!(
                    entry.get(&method).is_some(),
                    "{} {} undocumented",
                    spec.method,
                    spec.path
                );
            }
        }
        // The error body names its conflict reasons, so clients can branch on them.
        let reasons = doc["components"]["schemas"]["Conflict"]["enum"]
            .as_array()
            .cloned()
            .expect("the Conflict reasons are listed");
        for code in ["phase_closed", "upload_offset_mismatch", "stale_version"] {
            assert!(reasons.iter().any(|r| r == code), "{code} missing");
        }
    })
    .await;
}

#[tokio::test]
async fn nodes_are_stateless_a_session_works_on_any_node() {
    each_backend(|app| async move {
        let mut agent = app.admin().await;
        let other = app.second_node().await;
        // Same cookie (cookies are per host, not per port), another node.
        agent.base = other;
        let (status, me) = agent.json("/api/v1/me").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["login"], "admin");
        // A write on the second node with the session's token, seen by the first.
        let r = agent
            .post_form(
                "/orgs",
                &[
                    ("name", "第二节点建的工会"),
                    ("kind", "grassroots"),
                    ("parent_id", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let found = wangju::db::orgs::find_by_name(&app.state.db, "第二节点建的工会")
            .await
            .ok()
            .flatten();
        assert!(found.is_some());
        // Logging out on one node ends the session everywhere.
        agent.post_form("/logout", &[]).await;
        agent.base = app.base.clone();
        assert_eq!(agent.json("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    })
    .await;
}
