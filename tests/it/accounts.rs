//! Signing in: one-time password, password policy, lockout, idle timeout, CSRF.

use reqwest::StatusCode;
use wangju::domain::role::Role;

use crate::harness::{PASSWORD, each_backend, location};

#[tokio::test]
async fn first_login_must_change_the_one_time_password() {
    each_backend(|app| async move {
        let mut agent = app.agent();
        let r = agent.login("admin", &app.admin_password).await;
        assert_eq!(location(&r), "/account/password");
        // Until the password is changed, work pages send the account back.
        let r = agent.get("/orgs").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/account/password");
        let (status, body) = agent.json("/api/v1/orgs").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"], "password_change_required");
        // A weak password is refused with the rule it breaks.
        let r = agent
            .post_form(
                "/account/password",
                &[
                    ("current", &app.admin_password),
                    ("new", "short1A"),
                    ("confirm", "short1A"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap_or_default()
                .contains("密码至少 10 个字符")
        );
        let r = agent
            .post_form(
                "/account/password",
                &[
                    ("current", &app.admin_password),
                    ("new", "alllowercase1"),
                    ("confirm", "alllowercase1"),
                ],
            )
            .await;
        assert!(r.text().await.unwrap_or_default().contains("至少 3 类"));
        let r = agent
            .post_form(
                "/account/password",
                &[
                    ("current", &app.admin_password),
                    ("new", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (status, html) = agent.text("/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("市总管理员"));
        // The one-time password no longer works.
        let mut other = app.agent();
        let r = other.login("admin", &app.admin_password).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    each_backend(|app| async move {
        let login = app.user(Role::UnitAdmin, "和平区总工会").await;
        let mut agent = app.agent();
        for i in 1..=4 {
            let r = agent.login(&login, "Wrong-pass-123").await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
            assert!(
                r.text()
                    .await
                    .unwrap_or_default()
                    .contains("登录名或密码不正确")
            );
        }
        let r = agent.login(&login, "Wrong-pass-123").await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        // Locked: even the right password is refused, with the minutes left.
        let r = agent.login(&login, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(r.text().await.unwrap_or_default().contains("15 分钟后再试"));
        // Every attempt is in the audit log, the lock too.
        assert!(app.count("audit_log WHERE action = 'login.failure'").await >= 6);
        assert_eq!(
            app.count("audit_log WHERE action = 'account.lock'").await,
            1
        );
        // When the lock has run out, the right password works again.
        app.sql("UPDATE users SET locked_until = 1 WHERE login LIKE 'unit-admin-%'")
            .await;
        let r = agent.login(&login, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    })
    .await;
}

#[tokio::test]
async fn unknown_login_and_wrong_password_look_the_same() {
    each_backend(|app| async move {
        let mut agent = app.agent();
        let a = agent.login("nobody-here", "Whatever-123").await;
        let a_status = a.status();
        let a_text = a.text().await.unwrap_or_default();
        let b = agent.login("admin", "Whatever-123").await;
        assert_eq!(a_status, b.status());
        let b_text = b.text().await.unwrap_or_default();
        assert!(a_text.contains("登录名或密码不正确") && b_text.contains("登录名或密码不正确"));
    })
    .await;
}

#[tokio::test]
async fn idle_sessions_expire_after_thirty_minutes() {
    each_backend(|app| async move {
        let agent = app.admin().await;
        assert_eq!(agent.get("/dashboard").await.status(), StatusCode::OK);
        let stale = wangju::clock::unix_now() - 31 * 60;
        app.sql(&format!("UPDATE sessions SET last_seen_at = {stale}"))
            .await;
        let r = agent.get("/dashboard").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/login?expired=1");
        assert_eq!(
            app.count("sessions").await,
            0,
            "the expired session is gone"
        );
        let (status, body) = agent.json("/api/v1/me").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "unauthenticated");
    })
    .await;
}

#[tokio::test]
async fn login_issues_a_new_session_id_and_logout_ends_it() {
    each_backend(|app| async move {
        let mut agent = app.agent();
        // A session id planted before login (fixation) is not the one used after it.
        let planted = "a".repeat(64);
        let jar_cookie = format!("wangju_sid={planted}");
        let r = agent
            .client
            .get(format!("{}/api/v1/csrf", agent.base))
            .header("cookie", &jar_cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), StatusCode::OK);
        let r = agent.login("admin", &app.admin_password).await;
        let set_cookie: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let sid = set_cookie
            .iter()
            .find(|c| c.starts_with("wangju_sid="))
            .cloned()
            .unwrap_or_default();
        assert!(!sid.contains(&planted));
        assert!(
            sid.contains("HttpOnly") && sid.contains("SameSite=Lax"),
            "{sid}"
        );
        assert_eq!(app.count("sessions").await, 1);
        let r = agent.post_form("/logout", &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("sessions").await, 0);
    })
    .await;
}

#[tokio::test]
async fn state_changes_without_the_csrf_token_are_refused() {
    each_backend(|app| async move {
        let agent = app.admin().await;
        let before = app.count("orgs").await;
        let form = [
            ("name", "伪造请求工会"),
            ("kind", "grassroots"),
            ("parent_id", "1"),
        ];
        // No token.
        let r = agent.post_form_raw("/orgs", &form).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(
            r.text()
                .await
                .unwrap_or_default()
                .contains("表单已过期或来源不可信")
        );
        // A forged token.
        let mut forged = form.to_vec();
        forged.push((
            "_csrf",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ));
        assert_eq!(
            agent.post_form_raw("/orgs", &forged).await.status(),
            StatusCode::FORBIDDEN
        );
        // JSON without the header.
        let r = agent
            .client
            .post(format!("{}/api/v1/orgs", agent.base))
            .json(
                &serde_json::json!({"name": "伪造请求工会", "kind": "grassroots", "parent_id": 1}),
            )
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        assert_eq!(body["error"], "csrf_failed");
        assert_eq!(app.count("orgs").await, before, "nothing was written");
        // A login form posted from elsewhere (no pre-session cookie) is refused too.
        let stranger = app.agent();
        let r = stranger
            .post_form_raw(
                "/login",
                &[("login", "admin"), ("password", "x"), ("_csrf", "abc")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // With the token, it works.
        let r = agent
            .post_form(
                "/orgs",
                &[
                    ("name", "真实请求工会"),
                    ("kind", "grassroots"),
                    ("parent_id", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.count("orgs").await, before + 1);
    })
    .await;
}

#[tokio::test]
async fn admins_create_accounts_only_within_their_grant() {
    each_backend(|app| async move {
        let unit = app.user(Role::UnitAdmin, "河西区总工会").await;
        let agent = app.signed_in(&unit).await;
        let hexi = wangju::db::orgs::find_by_name(&app.state.db, "河西区总工会").await.ok().flatten().map(|o| o.id.get()).expect("org exists");
        let nankai = wangju::db::orgs::find_by_name(&app.state.db, "南开区总工会").await.ok().flatten().map(|o| o.id.get()).expect("org exists");
        // A city admin is above a unit admin's grant.
        let (status, body) = agent
            .send_json(reqwest::Method::POST, "/api/v1/users", &serde_json::json!({"login": "boss", "display_name": "某某", "role": "city_admin", "org_id": hexi}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap_or_default().contains("不能创建"));
        // Another district is outside the scope.
        let (status, _) = agent
            .send_json(reqwest::Method::POST, "/api/v1/users", &serde_json::json!({"login": "spy", "display_name": "某某", "role": "worker", "org_id": nankai}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        // Within scope and grant: created with a one-time password that must be changed.
        let (status, body) = agent
            .send_json(reqwest::Method::POST, "/api/v1/users", &serde_json::json!({"login": "hexi-grassroots", "display_name": "张三", "role": "grassroots_admin", "org_id": hexi}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let otp = body["one_time_password"].as_str().unwrap_or_default().to_string();
        let mut newcomer = app.agent();
        let r = newcomer.login("hexi-grassroots", &otp).await;
        assert_eq!(location(&r), "/account/password");
        // Duplicate login: a clear message.
        let (status, body) = agent
            .send_json(reqwest::Method::POST, "/api/v1/users", &serde_json::json!({"login": "hexi-grassroots", "display_name": "李四", "role": "worker", "org_id": hexi}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap_or_default().contains("已被使用"));
    })
    .await;
}

#[tokio::test]
async fn one_address_cannot_spray_passwords_across_accounts() {
    each_backend(|app| async move {
        let mut agent = app.agent();
        // Different (unknown) accounts each time: the per-account lock never triggers.
        for i in 0..30 {
            let r = agent.login(&format!("guess-{i}"), "Spring-2020!").await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        }
        let r = agent.login("guess-31", "Spring-2020!").await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            r.text()
                .await
                .unwrap_or_default()
                .contains("登录尝试过于频繁")
        );
    })
    .await;
}
