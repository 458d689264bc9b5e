//! The audit log: what is recorded, and that tampering is detected.

use reqwest::StatusCode;
use wangju::db::audit::{Verdict, verify};
use wangju::domain::role::Role;

use crate::harness::each_backend;

#[tokio::test]
async fn logins_and_writes_are_recorded_with_before_and_after() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let r = admin
            .post_form(
                "/orgs/2",
                &[
                    ("name", "中共天津市委网信办"),
                    ("kind", "co_organiser"),
                    ("contact_name", "徐峰"),
                    ("contact_phone", "13920348567"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, entries) = admin.json("/api/v1/audit?object_type=org").await;
        let update = entries
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .find(|e| e["action"] == "org.update")
            .expect("org.update logged");
        assert_eq!(update["actor_login"], "admin");
        assert!(
            update["ip"]
                .as_str()
                .unwrap_or_default()
                .starts_with("127.")
        );
        assert!(
            update["before_json"]
                .as_str()
                .unwrap_or_default()
                .contains("null")
        );
        assert!(
            update["after_json"]
                .as_str()
                .unwrap_or_default()
                .contains("徐峰")
        );
        let (_, logins) = admin.json("/api/v1/audit?action=login").await;
        assert!(!logins.as_array().cloned().unwrap_or_default().is_empty());
        // The page shows the chain's state and filters.
        let (status, html) = admin.text("/audit?verify=1&action=org.").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("哈希链完整") && html.contains("org.update"));
        // A clerk reads it in words: the unit by name, each changed field with before and
        // after, and the filter offered by Chinese names.
        assert!(
            html.contains("修改单位") && html.contains("单位 中共天津市委网信办"),
            "{html}"
        );
        assert!(
            html.contains("<dt>联系人</dt>") && html.contains("<ins>徐峰</ins>"),
            "{html}"
        );
        assert!(html.contains("<option value=\"org.update\">修改单位</option>"));
        assert!(html.contains("以“org.”开头的操作"));
        // The same filtered log as an Excel sheet, read back with a spreadsheet reader.
        let r = admin.get("/audit/export?action=org.update").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap_or_default()
                .contains("attachment")
        );
        let bytes = r.bytes().await.expect("body");
        let table = wangju::office::tabular::read(&bytes).expect("a workbook");
        let text: Vec<String> = table.lines().flat_map(|(_, c)| c.to_vec()).collect();
        assert!(text.iter().any(|c| c == "修改单位"), "{text:?}");
        assert!(
            text.iter().any(|c| c.contains("联系人：（空） → 徐峰")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|c| c.contains("筛选条件：修改单位")),
            "{text:?}"
        );
        assert!(
            !text.iter().any(|c| c == "登录成功"),
            "only what the filter takes"
        );
        // Filter by day (China time): today has entries, a day in 2019 has none.
        let today = chrono::Utc::now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("tz"))
            .format("%Y-%m-%d")
            .to_string();
        let (_, todays) = admin
            .json(&format!("/api/v1/audit?from={today}&to={today}"))
            .await;
        assert!(!todays.as_array().cloned().unwrap_or_default().is_empty());
        let (_, old) = admin
            .json("/api/v1/audit?from=2019-01-01&to=2019-12-31")
            .await;
        assert_eq!(old.as_array().map(Vec::len), Some(0));
        let (status, body) = admin.json("/api/v1/audit?from=2020/07/01").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("2020-07-01 这样的格式"),
            "{body}"
        );
        // Others may not read it.
        let unit = app.user(Role::UnitAdmin, "和平区总工会").await;
        let agent = app.signed_in(&unit).await;
        assert_eq!(agent.get("/audit").await.status(), StatusCode::FORBIDDEN);
        assert_eq!(agent.json("/api/v1/audit").await.0, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn verify_detects_edits_and_deletions() {
    each_backend(|app| async move {
        let db = &app.state.db;
        let _ = app.admin().await;
        let Verdict::Intact { entries } = verify(db).await.expect("verify") else {
            panic!("fresh log should verify")
        };
        assert!(entries > 20, "{entries}");
        // Edit one entry.
        app.sql("UPDATE audit_log SET actor_login = 'someone-else' WHERE id = 5")
            .await;
        assert!(matches!(
            verify(db).await.expect("verify"),
            Verdict::Broken { at_id: 5, .. }
        ));
        app.sql("UPDATE audit_log SET actor_login = 'system' WHERE id = 5")
            .await;
        assert!(matches!(
            verify(db).await.expect("verify"),
            Verdict::Intact { .. }
        ));
        // Delete one in the middle.
        app.sql("DELETE FROM audit_log WHERE id = 7").await;
        assert!(matches!(
            verify(db).await.expect("verify"),
            Verdict::Broken { at_id: 7, .. }
        ));
    })
    .await;
}

#[tokio::test]
async fn deleting_the_newest_entry_is_detected() {
    each_backend(|app| async move {
        let db = &app.state.db;
        let last = app.count("audit_log").await;
        app.sql(&format!("DELETE FROM audit_log WHERE id = {last}"))
            .await;
        assert!(matches!(
            verify(db).await.expect("verify"),
            Verdict::Broken { .. }
        ));
    })
    .await;
}
