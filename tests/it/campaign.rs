//! Campaign files: import all-or-nothing, update in place, a new year from an old one.

use reqwest::StatusCode;
use wangju::db::audit::Actor;
use wangju::domain::campaign::TIANJIN_2020;
use wangju::error::AppError;
use wangju::service::campaigns;

use crate::harness::each_backend;

#[tokio::test]
async fn a_malformed_file_changes_nothing() {
    each_backend(|app| async move {
        let db = &app.state.db;
        let before = (
            app.count("campaigns").await,
            app.count("orgs").await,
            app.count("audit_log").await,
        );
        let broken = TIANJIN_2020
            .replacen("code = \"tianjin-2020\"", "code = \"tianjin-2021\"", 1)
            .replacen("min_activities = 10", "min_activities = \"十\"", 1);
        let err = campaigns::import_toml(db, &broken, &Actor::cli())
            .await
            .err();
        let Some(AppError::Invalid(fields)) = err else {
            panic!("expected field errors, got {err:?}")
        };
        assert!(fields[0].field.starts_with("第 "), "{fields:?}");
        // Semantic errors too: a bureau below its minimum, a phase that ends before it starts.
        let semantic = TIANJIN_2020
            .replacen("code = \"tianjin-2020\"", "code = \"tianjin-2021\"", 1)
            .replacen("ends_on = \"2020-09-30\"", "ends_on = \"2020-09-01\"", 1);
        let err = campaigns::import_toml(db, &semantic, &Actor::cli())
            .await
            .err();
        let Some(AppError::Invalid(fields)) = err else {
            panic!("expected field errors")
        };
        assert!(
            fields.iter().any(|f| f.field.contains("phases[1].ends_on")),
            "{fields:?}"
        );
        let after = (
            app.count("campaigns").await,
            app.count("orgs").await,
            app.count("audit_log").await,
        );
        assert_eq!(before, after);
    })
    .await;
}

#[tokio::test]
async fn a_changed_file_updates_the_campaign_in_place() {
    each_backend(|app| async move {
        let db = &app.state.db;
        let changed = TIANJIN_2020.replacen("min_activities = 10", "min_activities = 12", 1);
        let outcome = campaigns::import_toml(db, &changed, &Actor::cli())
            .await
            .expect("import");
        assert!(!outcome.created);
        assert_eq!(app.count("campaigns").await, 1);
        let (_, o) = app.agent().json("/api/v1/campaign").await;
        // The page cache may hold the old figure for a few seconds; the API reads live data.
        assert_eq!(o["quotas"][0]["min_activities"], 12);
        assert_eq!(o["quota_sum"], 102);
        let exported = campaigns::export_toml(db, None).await.expect("export");
        assert!(exported.contains("min_activities = 12"));
        assert_eq!(
            app.count("audit_log WHERE action = 'campaign.update'")
                .await,
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_new_year_starts_from_the_old_one() {
    each_backend(|app| async move {
        let db = &app.state.db;
        let outcome = campaigns::new_for_year(db, "tianjin-2020", 2021, true, &Actor::cli())
            .await
            .expect("new year");
        assert_eq!(outcome.code, "tianjin-2021");
        let text = campaigns::export_toml(db, Some("tianjin-2021"))
            .await
            .expect("export");
        assert!(
            text.contains("2021-06-01") && text.contains("2021-09-15") && !text.contains("\"2020-")
        );
        assert!(text.contains("关于深入开展2021年"));
        // Now current: the overview shows it.
        let (_, o) = app.agent().json("/api/v1/campaign").await;
        assert_eq!(o["code"], "tianjin-2021");
        assert_eq!(o["quota_sum"], 100);
        // Doing it twice is refused clearly.
        let err = campaigns::new_for_year(db, "tianjin-2020", 2021, false, &Actor::cli())
            .await
            .err();
        assert!(matches!(
            err,
            Some(AppError::Conflict(
                wangju::error::Conflict::AlreadyExists,
                _
            ))
        ));
    })
    .await;
}

#[tokio::test]
async fn public_pages_follow_an_import_within_seconds_from_the_nodes_copy() {
    each_backend(|app| async move {
        let agent = app.agent();
        let (s, html) = agent.text("/projects/micro-video").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("网络正能量微视频征集"));
        // An import elsewhere (here: straight into the database, as another node or the
        // command line would): this node's parsed copy follows within 5 s.
        let changed = TIANJIN_2020.replacen(
            "name = \"网络正能量微视频征集\"",
            "name = \"网络正能量微视频征集（新）\"",
            1,
        );
        campaigns::import_toml(&app.state.db, &changed, &Actor::cli())
            .await
            .expect("import");
        let started = std::time::Instant::now();
        loop {
            let (_, html) = agent.text("/projects/micro-video").await;
            if html.contains("网络正能量微视频征集（新）") {
                break;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "the page still shows the old campaign after 5 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
    .await;
}
