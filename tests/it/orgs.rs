//! The org tree: scope, search, edits, moves, imports and exports.

use reqwest::{Method, StatusCode};
use serde_json::json;
use wangju::domain::role::Role;

use crate::harness::{TestApp, each_backend};

async fn id_of(app: &TestApp, name: &str) -> i64 {
    wangju::db::orgs::find_by_name(&app.state.db, name)
        .await
        .ok()
        .flatten()
        .map_or(-1, |o| o.id.get())
}

#[tokio::test]
async fn unit_admins_see_their_subtree_only() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let binhai = id_of(&app, "滨海新区总工会").await;
        let (status, kaifa) = admin
            .send_json(Method::POST, "/api/v1/orgs", &json!({"name": "天津经济技术开发区总工会", "kind": "intermediate_union", "parent_id": binhai}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{kaifa}");
        let unit = app.user(Role::UnitAdmin, "滨海新区总工会").await;
        let agent = app.signed_in(&unit).await;
        let (_, list) = agent.json("/api/v1/orgs").await;
        let names: Vec<String> = list.as_array().cloned().unwrap_or_default().iter().filter_map(|o| o["name"].as_str().map(str::to_string)).collect();
        assert_eq!(names, vec!["滨海新区总工会".to_string(), "天津经济技术开发区总工会".to_string()]);
        // Another district: 404, page and API alike.
        let heping = id_of(&app, "和平区总工会").await;
        assert_eq!(agent.json(&format!("/api/v1/orgs/{heping}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(agent.get(&format!("/orgs/{heping}")).await.status(), StatusCode::NOT_FOUND);
        let (_, html) = agent.text("/orgs").await;
        assert!(!html.contains("和平区总工会"));
        // Search within scope.
        let (_, html) = agent.text("/orgs?q=开发区").await;
        assert!(html.contains("天津经济技术开发区总工会") && html.contains("找到 1 个单位"));
        // It may add units below itself, not elsewhere.
        let (status, _) = agent
            .send_json(Method::POST, "/api/v1/orgs", &json!({"name": "某街道总工会", "kind": "intermediate_union", "parent_id": heping}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let kaifa_id = kaifa["id"].as_i64().unwrap_or_default();
        let (status, _) = agent
            .send_json(Method::POST, "/api/v1/orgs", &json!({"name": "泰达街总工会", "kind": "intermediate_union", "parent_id": kaifa_id}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        // City-level kinds are the city's to give, and its own org's kind is not its to change.
        let (status, body) = agent
            .send_json(Method::POST, "/api/v1/orgs", &json!({"name": "某集团公司工会", "kind": "bureau_group", "parent_id": binhai}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap_or_default().contains("只有市总管理员"), "{body}");
        let (status, _) = agent
            .send_json(Method::PUT, &format!("/api/v1/orgs/{binhai}"), &json!({"name": "滨海新区总工会", "kind": "city_union"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

#[tokio::test]
async fn moves_keep_the_tree_and_refuse_cycles() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let binhai = id_of(&app, "滨海新区总工会").await;
        let (_, a) = admin.send_json(Method::POST, "/api/v1/orgs", &json!({"name": "甲开发区总工会", "kind": "intermediate_union", "parent_id": binhai})).await;
        let a = a["id"].as_i64().unwrap_or_default();
        let (_, b) = admin.send_json(Method::POST, "/api/v1/orgs", &json!({"name": "乙公司工会", "kind": "grassroots", "parent_id": a})).await;
        let b = b["id"].as_i64().unwrap_or_default();
        // Moving 甲 under its own child is a cycle.
        let (status, body) = admin
            .send_json(Method::PUT, &format!("/api/v1/orgs/{a}"), &json!({"name": "甲开发区总工会", "kind": "intermediate_union", "parent_id": b}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap_or_default().contains("循环"), "{body}");
        // Moving 甲 (with 乙) to 和平区 carries the subtree.
        let heping = id_of(&app, "和平区总工会").await;
        let (status, _) = admin
            .send_json(Method::PUT, &format!("/api/v1/orgs/{a}"), &json!({"name": "甲开发区总工会", "kind": "intermediate_union", "parent_id": heping}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let unit = app.user(Role::UnitAdmin, "和平区总工会").await;
        let agent = app.signed_in(&unit).await;
        assert_eq!(agent.json(&format!("/api/v1/orgs/{b}")).await.0, StatusCode::OK, "乙 moved with 甲");
        // Duplicate names are refused.
        let (status, body) = admin.send_json(Method::POST, "/api/v1/orgs", &json!({"name": "和平区总工会", "kind": "district_union", "parent_id": 1})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap_or_default().contains("不能重复"));
        // The audit log has before and after of the move.
        assert!(app.count("audit_log WHERE action = 'org.update'").await >= 1);
    })
    .await;
}

const GOOD_CSV: &str = "单位名称,上级单位,类型,联系人,联系电话\n\
乙街道总工会,滨海新区总工会,中间层工会,王五,13800000001\n\
甲街道总工会,滨海新区总工会,intermediate_union,,\n\
甲社区工会,甲街道总工会,基层工会,赵六,022-23456789\n\
天津港（集团）有限公司工会,天津市总工会,局、集团公司工会,,\n";

#[tokio::test]
async fn csv_import_creates_and_updates_all_or_nothing() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let before = app.count("orgs").await;
        let r = admin
            .upload("/orgs/import", "orgs.csv", GOOD_CSV.as_bytes().to_vec())
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap_or_default().contains("新建 4 个"));
        assert_eq!(app.count("orgs").await, before + 4);

        // Each kind of mistake is named with its line; nothing at all is written.
        let bad = "单位名称,上级单位,类型,联系人,联系电话\n\
新单位一,滨海新区总工会,基层工会,,\n\
新单位二,不存在的工会,基层工会,,\n\
新单位一,滨海新区总工会,基层工会,,\n\
新单位三,滨海新区总工会,神秘工会,,\n\
新单位四,滨海新区总工会,基层工会,,12345\n\
循环甲,循环乙,基层工会,,\n\
循环乙,循环甲,基层工会,,\n";
        let count = app.count("orgs").await;
        let audit = app.count("audit_log").await;
        let r = admin
            .upload("/orgs/import", "bad.csv", bad.as_bytes().to_vec())
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap_or_default();
        for expected in [
            "第 3 行 上级单位",
            "不存在的工会",
            "第 4 行 单位名称",
            "与第 2 行重复",
            "第 5 行 类型",
            "神秘工会",
            "第 6 行 联系电话",
            "循环",
            "数据库未作任何改动",
        ] {
            assert!(html.contains(expected), "missing {expected}");
        }
        assert_eq!(app.count("orgs").await, count);
        assert_eq!(app.count("audit_log").await, audit);

        // A changed file updates in place.
        let changed = GOOD_CSV.replace("王五,13800000001", "王五,13800000002");
        let r = admin
            .upload("/orgs/import", "orgs.csv", changed.into_bytes())
            .await;
        assert!(r.text().await.unwrap_or_default().contains("更新 1 个"));
        assert_eq!(app.count("orgs").await, count);
    })
    .await;
}

#[tokio::test]
async fn xlsx_export_imports_back_unchanged() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        admin
            .upload("/orgs/import", "orgs.csv", GOOD_CSV.as_bytes().to_vec())
            .await;
        let r = admin.get("/orgs/export?format=xlsx").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()
                .get("content-disposition")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .starts_with("attachment")
        );
        let bytes = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let count = app.count("orgs").await;
        let r = admin.upload("/orgs/import", "export.xlsx", bytes).await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap_or_default();
        assert!(
            html.contains(&format!("新建 0 个，更新 0 个，未变 {count} 个")),
            "{html}"
        );
        // The export was audited.
        assert_eq!(app.count("audit_log WHERE action = 'org.export'").await, 1);
    })
    .await;
}

#[tokio::test]
async fn hostile_uploads_are_refused_cleanly() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let count = app.count("orgs").await;
        // Not a workbook although named like one.
        let r = admin
            .upload("/orgs/import", "x.xlsx", b"PK\x03\x04garbage".to_vec())
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap_or_default()
                .contains("不是有效的 xlsx")
        );
        // GBK-encoded CSV.
        let r = admin
            .upload(
                "/orgs/import",
                "gbk.csv",
                vec![0xB5, 0xA5, 0xCE, 0xBB, b'\n', 0xC3, 0xFB, b'\n'],
            )
            .await;
        assert!(r.text().await.unwrap_or_default().contains("UTF-8"));
        // Missing columns.
        let r = admin
            .upload(
                "/orgs/import",
                "x.csv",
                "名字,别的\n甲,乙\n".as_bytes().to_vec(),
            )
            .await;
        assert!(r.text().await.unwrap_or_default().contains("单位名称"));
        // Too big.
        let r = admin
            .upload("/orgs/import", "big.csv", vec![b'a'; 7 * 1024 * 1024])
            .await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(app.count("orgs").await, count);
    })
    .await;
}
