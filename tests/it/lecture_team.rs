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
        // Closing the 公示 decides the team: the model is on the public page at once.
        assert!(text(app.agent().get("/lecture-team").await).await.contains("王 建国"));
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

async fn member(app: &TestApp, city: &Agent, category: &str, name: &str) -> i64 {
    let r = city
        .post_form(
            "/lecture-team/members",
            &[
                ("category", category),
                ("name", name),
                ("workplace", "天津某单位"),
                ("summary", "简介。"),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    scalar(
        app,
        &format!("SELECT id FROM lecture_members WHERE name = '{name}'"),
    )
    .await
}

async fn request(
    agent: &Agent,
    topic: &str,
    form: &str,
    venue: &str,
    from: &str,
    to: &str,
) -> reqwest::Response {
    agent
        .post_form(
            "/lecture-team/lectures",
            &[
                ("topic", topic),
                ("form", form),
                ("venue_type", venue),
                ("place", "天津某中学报告厅"),
                ("starts_at", from),
                ("ends_at", to),
            ],
        )
        .await
}

async fn transition(agent: &Agent, id: i64, step: &str) {
    let (s, body) = agent
        .send_json(
            reqwest::Method::POST,
            &format!("/api/v1/activities/{id}/transitions"),
            &serde_json::json!({"step": step}),
        )
        .await;
    assert!(s.is_success(), "{step}: {s} {body}");
}

#[tokio::test]
async fn a_requested_lecture_is_assigned_confirmed_reported_and_counted() {
    each_backend(|app| async move {
        let city = app.admin().await;
        let teacher = member(&app, &city, "讲师", "张讲").await;
        let retired = member(&app, &city, "专家", "李退").await;
        let r = city.post_form(&format!("/lecture-team/members/{retired}/retire"), &[("reason", "身体原因")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let hexi = scalar(&app, "SELECT id FROM orgs WHERE name = '河西区总工会'").await;
        let (s, body) = city
            .send_json(reqwest::Method::POST, "/api/v1/orgs", &serde_json::json!({"name": "河西某中学工会", "kind": "grassroots", "parent_id": hexi}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let school = body["id"].as_i64().expect("org id");
        let grassroots = app.signed_in(&app.user(Role::GrassrootsAdmin, "河西某中学工会").await).await;
        let unit = app.signed_in(&app.user(Role::UnitAdmin, "河西区总工会").await).await;

        // A request ending before it starts, or of a form the campaign does not have: refused.
        let r = request(&grassroots, "网络安全进校园", "讲座", "进校园", "2020-07-01T02:00", "2020-07-01T01:00").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = text(r).await;
        assert!(page.contains("请选择宣讲方式") && page.contains("结束时间须晚于开始时间"), "{page}");
        let r = request(&grassroots, "网络安全进校园", "专题培训", "进校园", "2020-07-01T00:00", "2020-07-01T02:00").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = request(&unit, "网络素养公开课", "网络公开课", "进网络", "2020-07-01T01:00", "2020-07-01T03:00").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let a = scalar(&app, "SELECT id FROM lectures WHERE topic = '网络安全进校园'").await;
        let b = scalar(&app, "SELECT id FROM lectures WHERE topic = '网络素养公开课'").await;
        // The school sees its own request, not the district's.
        let page = text(grassroots.get("/lecture-team/lectures").await).await;
        assert!(page.contains("网络安全进校园") && !page.contains("网络素养公开课"));

        // A retired lecturer, then a double booking: refused; nothing assigned.
        let assign = |id: i64, m: i64| {
            let city = &city;
            async move { city.post_form(&format!("/lecture-team/lectures/{id}/assign"), &[("member_id", &m.to_string())]).await }
        };
        let r = assign(a, retired).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(text(r).await.contains("已退出宣讲团"));
        assert_eq!(assign(a, teacher).await.status(), StatusCode::SEE_OTHER);
        let r = assign(b, teacher).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(text(r).await.contains("时间不能重叠"));
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM lectures WHERE id = {b} AND member_id IS NULL")).await, 1);
        // A unit cannot assign.
        assert_eq!(unit.post_form(&format!("/lecture-team/lectures/{b}/assign"), &[("member_id", "1")]).await.status(), StatusCode::FORBIDDEN);

        // The lecturer confirms through the link the city passes on.
        let page = text(city.get("/lecture-team/lectures").await).await;
        let at = page.find("/lecture-team/confirm/").expect("the confirmation link");
        let link = page[at..at + 22 + 32].to_string();
        let mut lecturer = app.agent();
        let page = text(lecturer.get(&link).await).await;
        assert!(page.contains("网络安全进校园") && page.contains("河西某中学工会"));
        lecturer.refresh_csrf().await;
        assert_eq!(lecturer.post_form(&link, &[]).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(lecturer.post_form(&link, &[]).await.status(), StatusCode::CONFLICT, "confirmed once");
        assert_eq!(app.agent().get("/lecture-team/confirm/0123456789abcdef0123456789abcdef").await.status(), StatusCode::NOT_FOUND);
        let activity = scalar(&app, &format!("SELECT activity_id FROM lectures WHERE id = {a} AND status = 'confirmed'")).await;
        assert_eq!(scalar(&app, &format!("SELECT org_id FROM activities WHERE id = {activity}")).await, school);
        // On the public calendar, without the place's contacts or anyone's phone.
        assert!(text(app.agent().get("/lecture-team").await).await.contains("网络安全进校园"));

        // The school runs it as an activity: QR check-in, report, approval up the tree.
        let r = grassroots.post_form(&format!("/activities/{activity}/checkin"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let poster = text(grassroots.get(&format!("/activities/{activity}/checkin")).await).await;
        let at = poster.find("/c/").expect("check-in address");
        let code = poster[at..at + 35].to_string();
        let mut phone = app.agent();
        phone.get(&code).await;
        phone.refresh_csrf().await;
        for (name, number) in [("学生甲", "13700000001"), ("学生乙", "13700000002")] {
            let r = phone.post_form(&code, &[("name", name), ("unit", "河西某中学"), ("phone", number), ("consent", "yes")]).await;
            assert!(text(r).await.contains("签到成功"), "{name}");
        }
        let report = serde_json::json!({"name": "专题培训：网络安全进校园", "starts_at": "2020-07-01T00:00", "place": "天津某中学报告厅",
            "format": "专题培训", "categories": ["网民素养教育"], "participants": 80, "grassroots_unions": 1, "enterprises": 0,
            "new_propagandists": 0, "online_platform": "", "online_link": "", "online_views": 0, "news_links": "",
            "summary": "宣讲团讲师走进校园，讲解网络安全和个人信息保护知识。"});
        let (s, body) = grassroots.send_json(reqwest::Method::PUT, &format!("/api/v1/activities/{activity}"), &report).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        transition(&grassroots, activity, "submit").await;
        transition(&unit, activity, "approve").await;
        transition(&city, activity, "confirm").await;

        // The team's record counts it under 进校园 (2 checked in of 80 claimed); 进机关 is a gap.
        let page = text(city.get("/lecture-team/lectures").await).await;
        let row = page.split("<tr><td>张讲").nth(1).expect("张讲's row");
        let row = row.split("</tr>").next().unwrap_or_default();
        assert_eq!(row.matches("<td>").count(), 5, "{row}");
        assert!(row.contains("1 · 2/80"), "{row}");
        assert!(page.contains("进机关: 0") && !page.contains("进校园: 0"), "gaps");
        // And the school's quota counts it as a confirmed activity.
        let (_, p) = city.json("/api/v1/progress").await;
        let school_row = p["rows"].as_array().and_then(|rows| rows.iter().find(|r| r["name"] == "河西区总工会")).cloned().unwrap_or_default();
        assert_eq!(school_row["counts"]["confirmed"], 1, "{school_row}");
    })
    .await;
}
