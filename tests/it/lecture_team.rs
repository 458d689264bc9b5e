//! 天津市好网民宣讲团 end to end: a district nominates within its quota (with consent, no person
//! twice), the city vets, the city union and the district's 网信办 liaison each decide (selected
//! only when both approve), the endorsed go through the one 公示, and after it closes the
//! remaining entries join the team, which the public page shows without private data.

use chrono::NaiveDate;
use reqwest::StatusCode;
use wangju::domain::role::Role;

use crate::harness::{Agent, TestApp, each_backend, location};

const DEEDS: &str = "该同志长期在生产一线工作，利用业余时间运营单位微信公众号，坚持在网上传播正能量，\
发布原创技能短视频一百余条，累计播放量超过五十万次；积极参与网络谣言辟谣和网络安全知识宣传，带动身边职工依法文明上网，\
多次获得单位先进个人称号，在职工群众中有良好口碑。";

fn nomination<'a>(name: &'a str, phone: &'a str, consent: bool) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("name", name),
        ("phone", phone),
        ("workplace", "天津某机械厂"),
        ("post", "车间主任"),
        ("political_status", "中共党员"),
        ("accounts", "抖音：津门工匠"),
        ("deeds", DEEDS),
        ("summary", "一线技术能手，网上传播技能知识和正能量。"),
        ("links", "https://example.cn/v/1"),
    ];
    if consent {
        f.push(("consent", "1"));
    }
    f
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    wangju::db::testing::scalar(&app.state.db, sql)
        .await
        .expect("scalar")
}

async fn id_of(app: &TestApp, name: &str) -> i64 {
    scalar(
        app,
        &format!("SELECT id FROM model_nominations WHERE name = '{name}'"),
    )
    .await
}

async fn text(r: reqwest::Response) -> String {
    r.text().await.expect("body")
}

async fn version(app: &TestApp, id: i64) -> String {
    scalar(
        app,
        &format!("SELECT version FROM model_nominations WHERE id = {id}"),
    )
    .await
    .to_string()
}

async fn vet(app: &TestApp, city: &Agent, id: i64, decision: &str, reason: &str) -> StatusCode {
    let v = version(app, id).await;
    city.post_form(
        &format!("/lecture-team/nominations/{id}/vet"),
        &[("version", &v), ("decision", decision), ("reason", reason)],
    )
    .await
    .status()
}

async fn decide(who: &Agent, id: i64, decision: &str, reason: &str) -> reqwest::Response {
    who.post_form(
        &format!("/lecture-team/nominations/{id}/decision"),
        &[("decision", decision), ("reason", reason)],
    )
    .await
}

#[tokio::test]
async fn models_are_nominated_jointly_selected_publicised_and_join_the_team() {
    each_backend(|app| async move {
        let city = app.admin().await;
        let hexi = app.signed_in(&app.user(Role::UnitAdmin, "河西区总工会").await).await;
        let nankai = app.signed_in(&app.user(Role::UnitAdmin, "南开区总工会").await).await;

        // Without the nominee's consent: refused, saying why, nothing kept.
        let r = hexi.post_form("/lecture-team/nominations", &nomination("王 建国", "13900001111", false)).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text(r).await.contains("须经被推荐人本人同意"));
        // Too short a deed and a bad link: refused with each reason.
        let mut short = nomination("王建国", "13900001111", true);
        short[6] = ("deeds", "事迹很好。");
        short[8] = ("links", "javascript:alert(1)");
        let r = hexi.post_form("/lecture-team/nominations", &short).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = text(r).await;
        assert!(page.contains("事迹材料请写明具体事迹"), "{page}");
        assert!(page.contains("作品链接须以 http"), "{page}");
        assert_eq!(app.count("model_nominations").await, 0);

        // Two within the quota of 2.
        for (name, phone) in [("王 建国", "13900001111"), ("李红", "13900002222")] {
            let r = hexi.post_form("/lecture-team/nominations", &nomination(name, phone, true)).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name}");
        }
        // The same person (spaces and traditional characters aside) from another district: refused.
        let r = nankai.post_form("/lecture-team/nominations", &nomination("王建國", "13900001111", true)).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(text(r).await.contains("已被推荐过"));
        // A third from 河西: over the quota.
        let r = hexi.post_form("/lecture-team/nominations", &nomination("赵六", "13900003333", true)).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(text(r).await.contains("推荐名额为 2 名"));
        assert_eq!(app.count("model_nominations").await, 2);
        assert_eq!(
            scalar(&app, "SELECT COUNT(*) FROM model_nominations WHERE consent_version = 'lecture-team-2020-v1'").await,
            2
        );
        // A grassroots union does not nominate.
        let grassroots = app.signed_in(&app.user(Role::GrassrootsAdmin, "河西区总工会").await).await;
        let r = grassroots.post_form("/lecture-team/nominations", &nomination("钱七", "13900004444", true)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        let wang = id_of(&app, "王 建国").await;
        let li = id_of(&app, "李红").await;
        // 南开 cannot see 河西's nominations.
        assert_eq!(nankai.get(&format!("/lecture-team/nominations/{wang}")).await.status(), StatusCode::NOT_FOUND);

        // The city returns one with a reason; the unit corrects it and sends it again.
        assert_eq!(vet(&app, &city, li, "return", "").await, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(vet(&app, &city, li, "return", "请补充网络作品链接").await, StatusCode::SEE_OTHER);
        let page = text(hexi.get(&format!("/lecture-team/nominations/{li}")).await).await;
        assert!(page.contains("请补充网络作品链接") && page.contains("已退回"), "{page}");
        let v = version(&app, li).await;
        let mut fixed = nomination("李红", "13900002222", true);
        fixed[8] = ("links", "https://example.cn/v/2\nhttps://example.cn/v/3");
        fixed.push(("version", &v));
        let r = hexi.post_form(&format!("/lecture-team/nominations/{li}"), &fixed).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        for id in [wang, li] {
            assert_eq!(vet(&app, &city, id, "approve", "").await, StatusCode::SEE_OTHER);
        }
        // Shortlisted: the unit can no longer change it.
        let v = version(&app, li).await;
        let mut late = nomination("李红", "13900002222", true);
        late.push(("version", &v));
        let r = hexi.post_form(&format!("/lecture-team/nominations/{li}"), &late).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // 河西's district 网信办 liaison sees and decides on its district's nominations only.
        app.account("hexi-wxb", "河西区委网信办", "13800009999", Role::CoOrganiserLiaison, "河西区总工会").await;
        let hexi_liaison = app.signed_in("hexi-wxb").await;
        app.account("nankai-wxb", "南开区委网信办", "13800008888", Role::CoOrganiserLiaison, "南开区总工会").await;
        let nankai_liaison = app.signed_in("nankai-wxb").await;
        let r = decide(&nankai_liaison, wang, "approve", "").await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "another district's liaison cannot decide");
        let page = text(hexi_liaison.get("/lecture-team/manage").await).await;
        assert!(page.contains("王 建国") && page.contains("139****2222"), "the liaison sees names, masked phones: {page}");
        assert!(!page.contains("13900002222"));
        assert!(!text(nankai_liaison.get("/lecture-team/manage").await).await.contains("王 建国"));

        // The union approves both; the liaison approves 王 and declines 李.
        assert_eq!(decide(&city, wang, "approve", "").await.status(), StatusCode::SEE_OTHER);
        // One approval is not a selection.
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM model_nominations WHERE id = {wang} AND status = 'shortlisted'")).await, 1);
        assert_eq!(decide(&city, li, "approve", "").await.status(), StatusCode::SEE_OTHER);
        assert_eq!(decide(&hexi_liaison, li, "reject", "").await.status(), StatusCode::UNPROCESSABLE_ENTITY, "a refusal needs a reason");
        assert_eq!(decide(&hexi_liaison, li, "reject", "网络作品传播范围有限").await.status(), StatusCode::SEE_OTHER);
        assert_eq!(decide(&hexi_liaison, wang, "approve", "").await.status(), StatusCode::SEE_OTHER);
        // Each side decides once.
        assert_eq!(decide(&city, wang, "reject", "改变主意").await.status(), StatusCode::CONFLICT);
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM model_nominations WHERE id = {wang} AND status = 'endorsed'")).await, 1);
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM model_nominations WHERE id = {li} AND status = 'rejected'")).await, 1);

        // A 公示 cannot list one the two sides did not both approve.
        let (li_s, wang_s) = (li.to_string(), wang.to_string());
        let r = city
            .post_form(
                "/lecture-team/publicity",
                &[("title", "职工好网民榜样拟入选名单公示"), ("notice", "现予以公示。"), ("contact", "022-23456789"), ("workdays", "5"), ("nominations", &li_s)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = city
            .post_form(
                "/lecture-team/publicity",
                &[("title", "职工好网民榜样拟入选名单公示"), ("notice", "现予以公示。"), ("contact", "022-23456789"), ("workdays", "5"), ("nominations", &wang_s)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = location(&r);
        let publicity: i64 = to.trim_start_matches("/publicity/").parse().expect("publicity id");
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM publicities WHERE id = {publicity} AND kind = 'models'")).await, 1);
        // Applying before the 公示 ran: refused.
        let apply = format!("/lecture-team/publicity/{publicity}/apply");
        assert_eq!(city.post_form(&apply, &[]).await.status(), StatusCode::CONFLICT);
        let r = city.post_form(&format!("/publicity/{publicity}/publish"), &[("version", "0")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(text(app.agent().get(&format!("/gongshi/{publicity}")).await).await.contains("王 建国"));
        assert!(app.state.clock.set_today(NaiveDate::from_ymd_opt(2020, 7, 20).expect("date")));
        let r = city.post_form(&format!("/publicity/{publicity}/close"), &[("version", "1")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        // The public page waits for the result.
        assert!(!text(app.agent().get("/lecture-team").await).await.contains("王 建国"));
        assert_eq!(city.post_form(&apply, &[]).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(city.post_form(&apply, &[]).await.status(), StatusCode::SEE_OTHER, "applying twice adds no one twice");
        assert_eq!(app.count("lecture_members").await, 1);
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM model_nominations WHERE id = {wang} AND status = 'selected'")).await, 1);

        // The city's 网信办 adds a 青年好网民 (with consent) and the city retires them with a reason.
        let city_liaison = app.signed_in(&app.user(Role::CoOrganiserLiaison, "中共天津市委网信办").await).await;
        let member = [("category", "青年好网民"), ("name", "孙青"), ("workplace", "南开大学"), ("summary", "青年网络文明志愿者。")];
        assert_eq!(city_liaison.post_form("/lecture-team/members", &member).await.status(), StatusCode::UNPROCESSABLE_ENTITY, "no consent");
        let mut with_consent = member.to_vec();
        with_consent.push(("consent", "1"));
        assert_eq!(city_liaison.post_form("/lecture-team/members", &with_consent).await.status(), StatusCode::SEE_OTHER);
        // A district liaison does not keep the city's roster.
        assert_eq!(hexi_liaison.post_form("/lecture-team/members", &with_consent).await.status(), StatusCode::FORBIDDEN);
        let page = text(app.agent().get("/lecture-team").await).await;
        assert!(page.contains("王 建国") && page.contains("职工好网民榜样") && page.contains("孙青") && page.contains("青年好网民"));
        assert!(!page.contains("13900001111") && !page.contains("139****1111"), "no phone on the public page");
        assert!(!page.contains(DEEDS), "the full deeds stay private");
        let sun = scalar(&app, "SELECT id FROM lecture_members WHERE name = '孙青'").await;
        let retire = format!("/lecture-team/members/{sun}/retire");
        assert_eq!(city.post_form(&retire, &[("reason", "")]).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(city.post_form(&retire, &[("reason", "工作调动，本人申请退出")]).await.status(), StatusCode::SEE_OTHER);
        let page = text(app.agent().get("/lecture-team").await).await;
        assert!(page.contains("王 建国") && !page.contains("孙青"));
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'nomination.%'").await, 10);
    })
    .await;
}
