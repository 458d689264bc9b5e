//! The dashboard's charts count what the lists behind them hold: every bar and slice links to
//! the activity list it counts, and that list has exactly that many rows.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Agent, each_backend};

async fn step(agent: &Agent, id: i64, step: &str) {
    let (s, body) = agent
        .send_json(
            Method::POST,
            &format!("/api/v1/activities/{id}/transitions"),
            &json!({"step": step}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{step}: {body}");
}

/// Rows in the activity list at `link`.
async fn rows(agent: &Agent, link: &str) -> usize {
    let (s, page) = agent.text(link).await;
    assert_eq!(s, StatusCode::OK, "{link}");
    page.matches("data-label=\"活动名称\"").count()
}

#[tokio::test]
async fn every_chart_figure_leads_to_the_rows_it_counts() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        // The city files for two districts directly (it may file for any unit).
        let hexi = wangju::db::orgs::find_by_name(&app.state.db, "河西区总工会").await.expect("q").expect("org").id;
        let heping = wangju::db::orgs::find_by_name(&app.state.db, "和平区总工会").await.expect("q").expect("org").id;
        let mut ids = Vec::new();
        for (org, name, when, format, cats) in [
            (hexi, "河西知识竞赛", "2020-06-03T09:00", "知识竞赛", vec!["网民素养教育", "网络安全知识技能"]),
            (hexi, "河西主题演讲", "2020-06-05T09:00", "主题演讲", vec!["网民素养教育"]),
            (heping, "和平知识竞赛", "2020-06-24T14:00", "知识竞赛", vec!["个人信息保护教育"]),
        ] {
            let body = json!({"name": name, "starts_at": when, "place": "职工之家", "format": format, "categories": cats,
                "participants": 80, "grassroots_unions": 2, "enterprises": 1, "new_propagandists": 3,
                "summary": "组织本单位职工开展网络文明宣传，讲解个人信息保护知识，并在线上同步发布。", "org_id": org});
            let (s, created) = admin.send_json(Method::POST, "/api/v1/activities", &body).await;
            assert_eq!(s, StatusCode::CREATED, "{created}");
            let id = created["id"].as_i64().expect("id");
            ids.push(id);
        }
        for id in &ids[..2] {
            step(&admin, *id, "submit").await;
            step(&admin, *id, "confirm").await;
        }

        let (s, charts) = admin.json("/api/v1/progress/charts").await;
        assert_eq!(s, StatusCode::OK, "{charts}");
        let bars = |key: &str| -> Vec<Value> { charts[key].as_array().cloned().unwrap_or_default() };
        // Completion: Hexi has 2 confirmed of its quota; its bar leads to those 2.
        let hexi_bar = bars("completion").into_iter().find(|b| b["label"] == "河西区总工会").expect("河西 bar");
        assert!(hexi_bar["detail"].as_str().unwrap_or_default().starts_with("已确认 2 场"), "{hexi_bar}");
        assert_eq!(rows(&admin, hexi_bar["link"].as_str().unwrap_or_default()).await, 2);
        // Weeks: 3 activities over four Monday-weeks, the empty ones shown as 0.
        let weeks = bars("weeks");
        let values: Vec<i64> = weeks.iter().map(|b| b["value"].as_i64().unwrap_or(-1)).collect();
        assert_eq!(values, [2, 0, 0, 1], "{weeks:?}");
        assert_eq!(rows(&admin, weeks[0]["link"].as_str().unwrap_or_default()).await, 2);
        // Formats and categories: each slice's list holds exactly its count.
        for key in ["formats", "categories"] {
            for bar in bars(key) {
                let n = bar["value"].as_u64().unwrap_or_default() as usize;
                assert_eq!(rows(&admin, bar["link"].as_str().unwrap_or_default()).await, n, "{bar}");
            }
        }
        assert_eq!(bars("formats").iter().find(|b| b["label"] == "知识竞赛").map(|b| b["value"].clone()), Some(json!(2)));
        assert_eq!(bars("categories").iter().find(|b| b["label"] == "网民素养教育").map(|b| b["value"].clone()), Some(json!(2)));
        // The page carries the charts and the figures link to their lists.
        let (_, page) = admin.text("/progress").await;
        assert!(page.contains("/static/echarts.min.js") && page.contains("data-source=\"/api/v1/progress/charts\""));
        assert!(page.contains(&format!("/activities?org={hexi}&amp;status=confirmed")));
        assert_eq!(rows(&admin, "/activities?status=reported").await, 2);
    })
    .await;
}
