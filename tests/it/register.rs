//! The propagandist register at campaign scale (issue 12, item 2): Excel import with row
//! errors and all-or-nothing, the phone as the person's key across units (a move is an edit),
//! removal with a reason, search, and keyset pages that cover everyone once.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use wangju::domain::role::Role;

use crate::harness::{Agent, TestApp, each_backend};

fn xlsx(rows: &[[&str; 5]]) -> Vec<u8> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    wangju::office::tabular::write_xlsx(
        "宣传员名册",
        &wangju::service::propagandists::HEADER,
        &rows,
    )
    .expect("xlsx")
}

async fn import(agent: &Agent, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = agent
        .client
        .post(format!("{}/api/v1/propagandists/import", agent.base))
        .header("x-csrf-token", &agent.csrf)
        .body(bytes)
        .send()
        .await
        .expect("POST");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// The total the register's first page shows to `agent`.
async fn total(agent: &Agent) -> Option<i64> {
    agent.json("/api/v1/propagandists/page").await.1["total"].as_i64()
}

async fn on_register(app: &TestApp) -> i64 {
    wangju::db::testing::scalar::<i64>(
        &app.state.db,
        "SELECT COUNT(*) FROM propagandists WHERE removed_at IS NULL",
    )
    .await
    .expect("count")
}

async fn walk(agent: &Agent, q: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    for _ in 0..100 {
        let (s, page) = agent
            .json(&format!(
                "/api/v1/propagandists/page?limit=50&q={q}&cursor={cursor}"
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        ids.extend(
            page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["id"].as_i64()),
        );
        match page["next"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => return ids,
        }
    }
    panic!("the pages do not end");
}

#[tokio::test]
async fn the_register_imports_all_or_nothing_and_keeps_one_person_once() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        // A file with mistakes: nothing is kept, each row and field is named.
        let (s, body) = import(
            &admin,
            xlsx(&[
                [
                    "王芳",
                    "13800000001",
                    "和平区总工会",
                    "2020-06-15",
                    "抖音 @王芳",
                ],
                ["李强", "12345", "和平区总工会", "", ""],
                ["赵敏", "13800000003", "不存在的工会", "", ""],
                ["钱进", "13800000001", "河西区总工会", "", ""],
                ["孙丽", "13800000005", "河西区总工会", "六月", ""],
            ]),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let fields: Vec<String> = body["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| format!("{} {}", f["field"], f["message"]))
            .collect();
        let text = fields.join("\n");
        assert!(text.contains("第 3 行 手机号"), "{text}");
        assert!(
            text.contains("第 4 行 所在单位") && text.contains("不存在的工会"),
            "{text}"
        );
        assert!(
            text.contains("第 5 行 手机号") && text.contains("与第 2 行是同一人"),
            "{text}"
        );
        assert!(text.contains("第 6 行 加入日期"), "{text}");
        assert_eq!(on_register(&app).await, 0, "all or nothing");

        // 120 people in two districts, imported at once.
        let mut rows = Vec::new();
        let names: Vec<String> = (0..120).map(|n| format!("宣传员{n:03}")).collect();
        let phones: Vec<String> = (0..120).map(|n| format!("139{n:08}")).collect();
        for n in 0..120 {
            rows.push([
                names[n].as_str(),
                phones[n].as_str(),
                if n % 2 == 0 {
                    "和平区总工会"
                } else {
                    "河西区总工会"
                },
                "2020/6/1",
                "",
            ]);
        }
        let (s, body) = import(&admin, xlsx(&rows)).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["imported"], 120);
        assert_eq!(on_register(&app).await, 120);
        // Every page walked: everyone once.
        let ids = walk(&admin, "").await;
        assert_eq!(ids.len(), 120);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 120);
        // Search by phone and by name.
        let (_, page) = admin.json("/api/v1/propagandists/page?q=13900000007").await;
        assert_eq!(page["total"], 1);
        assert_eq!(page["items"][0]["name"], "宣传员007");
        assert_eq!(page["items"][0]["joined_on"], "2020-06-01");
        let ids = walk(&admin, "%E5%AE%A3%E4%BC%A0%E5%91%9801").await; // 宣传员01
        assert_eq!(ids.len(), 10);
        // A tampered cursor is refused in Chinese.
        let (_, page) = admin.json("/api/v1/propagandists/page?limit=50").await;
        let next = page["next"].as_str().unwrap_or_default().to_string();
        let tampered = format!("{}0", &next[..next.len() - 1]);
        let tampered = if tampered == next {
            format!("{}1", &next[..next.len() - 1])
        } else {
            tampered
        };
        let (s, body) = admin
            .json(&format!("/api/v1/propagandists/page?cursor={tampered}"))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains("翻页参数无效"), "{body}");

        // The same phone again, in another unit or file: refused, they are one person.
        let (s, body) = import(
            &admin,
            xlsx(&[["宣传员七", "13900000007", "南开区总工会", "", ""]]),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("第 2 行 手机号"), "{body}");
        assert!(
            body.to_string().contains("已登记在“河西区总工会”"),
            "{body}"
        );
        let (s, body) = admin
            .send_json(
                Method::POST,
                "/api/v1/propagandists",
                &json!({"name": "另一个名字", "phone": "13900000007"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("只计一次"), "{body}");

        // A move between units is an edit: still one person, counted at the new unit.
        let hexi = app
            .signed_in(&app.user(Role::UnitAdmin, "河西区总工会").await)
            .await;
        let hexi_before = total(&hexi).await.expect("河西's total");
        assert_eq!(total(&admin).await, Some(120));
        let (_, page) = admin.json("/api/v1/propagandists/page?q=13900000007").await;
        let id = page["items"][0]["id"].as_i64().unwrap_or_default();
        let nankai = wangju::db::testing::scalar::<i64>(
            &app.state.db,
            "SELECT id FROM orgs WHERE name = '南开区总工会'",
        )
        .await
        .expect("org");
        let (s, body) = admin
            .send_json(
                Method::PUT,
                &format!("/api/v1/propagandists/{id}"),
                &json!({"name": "宣传员007", "org_id": nankai, "joined_on": "2020-06-01"}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(on_register(&app).await, 120);
        // The totals pages show were counted before the move; the move changes 河西's at once
        // (every write moves the register's revision), the city's stays.
        assert_eq!(total(&hexi).await, Some(hexi_before - 1));
        assert_eq!(total(&admin).await, Some(120));
        let (_, p) = admin.json("/api/v1/progress").await;
        let count_of = |name: &str| {
            p["rows"]
                .as_array()
                .and_then(|r| r.iter().find(|r| r["name"] == name))
                .map(|r| r["counts"]["registered_propagandists"].clone())
                .unwrap_or(Value::Null)
        };
        assert_eq!(count_of("南开区总工会"), 1);
        assert_eq!(count_of("河西区总工会"), 59);
        assert_eq!(
            wangju::db::testing::scalar::<i64>(
                &app.state.db,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'propagandist.move'",
            )
            .await
            .expect("count"),
            1
        );

        // Removal needs a reason; afterwards the phone may be registered again.
        let (s, body) = admin
            .send_json(
                Method::POST,
                &format!("/api/v1/propagandists/{id}/removal"),
                &json!({"reason": "  "}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("移除原因"), "{body}");
        let (s, _) = admin
            .send_json(
                Method::POST,
                &format!("/api/v1/propagandists/{id}/removal"),
                &json!({"reason": "本人申请退出"}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(on_register(&app).await, 119);
        let (s, body) = admin
            .send_json(
                Method::POST,
                "/api/v1/propagandists",
                &json!({"name": "宣传员007", "phone": "13900000007"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");

        // The page shows the total, and the export the whole register.
        let (s, html) = admin.text("/propagandists").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("共 120 名"), "{html}");
        let r = admin.get("/propagandists/export").await;
        assert_eq!(r.status(), StatusCode::OK);
    })
    .await;
}
