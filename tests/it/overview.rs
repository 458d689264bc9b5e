//! The public overview: what a visitor sees of the built-in 2020 Tianjin campaign.

use reqwest::StatusCode;

use crate::harness::each_backend;

const DISTRICTS: [&str; 16] = [
    "滨海新区总工会",
    "和平区总工会",
    "河东区总工会",
    "河西区总工会",
    "南开区总工会",
    "河北区总工会",
    "红桥区总工会",
    "东丽区总工会",
    "西青区总工会",
    "津南区总工会",
    "北辰区总工会",
    "武清区总工会",
    "宝坻区总工会",
    "静海区总工会",
    "宁河区总工会",
    "蓟州区总工会",
];

#[tokio::test]
async fn home_page_shows_contacts_by_the_one_rule() {
    each_backend(|app| async move {
        let (status, html) = app.agent().text("/").await;
        assert_eq!(status, StatusCode::OK);
        for district in DISTRICTS {
            assert!(html.contains(district), "{district} missing");
        }
        assert!(
            html.contains("<td class=\"num\">100</td>"),
            "quota total 100"
        );
        assert!(
            html.contains("当前阶段"),
            "current phase marked on 2020-07-01"
        );
        assert!(html.contains("第一阶段：活动启动推进"));
        for name in [
            "网络正能量微视频征集",
            "网络正能量微课征集",
            "互联网+普惠服务优秀平台征集",
        ] {
            assert!(html.contains(name), "{name}");
        }
        assert!(
            html.contains("时长小于 3 分钟")
                && html.contains("文件小于 50 MB")
                && html.contains("16:9")
        );
        assert!(html.contains("津工E家"));
        // Contacts: office landlines whole for everyone; mobiles masked for an anonymous
        // visitor, with the way to see them.
        assert!(html.contains("139****4997"));
        assert!(html.contains("022-84236266"), "office landline whole");
        assert!(html.contains("登录后查看"));
        for whole in ["13920354997", "15822117117", "13920348567"] {
            assert!(!html.contains(whole), "{whole} shown unmasked");
        }
        let r = app.agent().get("/").await;
        assert_eq!(r.headers()["cache-control"], "public, max-age=60");

        // Signed in: mobiles whole (staff must be able to call), never kept by a shared cache.
        let admin = app.admin().await;
        let r = admin.get("/").await;
        assert_eq!(r.headers()["cache-control"], "no-store");
        let html = r.text().await.unwrap_or_default();
        assert!(html.contains("13920354997") && !html.contains("登录后查看"));
        let (_, api) = admin.json("/api/v1/campaign").await;
        assert!(api.to_string().contains("13920354997"));
        let (_, api) = app.agent().json("/api/v1/campaign").await;
        assert!(!api.to_string().contains("13920354997"));
    })
    .await;
}

#[tokio::test]
async fn campaign_api_matches_annex_one() {
    each_backend(|app| async move {
        let (status, o) = app.agent().json("/api/v1/campaign").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(o["code"], "tianjin-2020");
        let quotas = o["quotas"].as_array().cloned().unwrap_or_default();
        assert_eq!(quotas.len(), 16);
        assert_eq!(quotas[0]["unit"], "滨海新区总工会");
        assert_eq!(quotas[0]["min_activities"], 10);
        assert!(quotas[1..].iter().all(|q| q["min_activities"] == 6));
        assert_eq!(o["quota_sum"], 100);
        assert_eq!(o["quota_bureau_group_min"], 1);
        assert_eq!(o["sub_projects"].as_array().map(Vec::len), Some(8));
        assert_eq!(o["current_phase"], "第一阶段：活动启动推进");
        assert_eq!(o["lecture_team"]["worker_models"], 10);
        let text = o.to_string();
        assert!(!text.contains("13920354997"), "API must mask phones too");
    })
    .await;
}
