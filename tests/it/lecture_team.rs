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
                // Read only for a 网络公开课.
                ("online_platform", "抖音"),
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
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM lecture_assignments WHERE lecture_id = {b}")).await, 0);
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
        let row = page.split("<td class=\"lead\">张讲").nth(1).expect("张讲's row");
        let row = row.split("</tr>").next().unwrap_or_default();
        assert_eq!(row.matches("<td data-label=").count(), 5, "{row}");
        assert!(row.contains("1 · 2/80"), "{row}");
        assert!(page.contains("进机关: 0") && !page.contains("进校园: 0"), "gaps");
        // And the school's quota counts it as a confirmed activity.
        let (_, p) = city.json("/api/v1/progress").await;
        let school_row = p["rows"].as_array().and_then(|rows| rows.iter().find(|r| r["name"] == "河西区总工会")).cloned().unwrap_or_default();
        assert_eq!(school_row["counts"]["confirmed"], 1, "{school_row}");

        // The statistics workbook carries the team's record: numeric cells, a title, 合计.
        let r = city.get("/progress/export?sheet=progress").await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.expect("xlsx").to_vec();
        // Kept for a look through LibreOffice.
        let kept = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("lecture-team-statistics-{:?}.xlsx", app.state.db.backend()).to_lowercase());
        std::fs::write(&kept, &bytes).expect("keep the workbook");
        let grid = team_sheet(&bytes);
        assert!(cell_text(&grid, 0, 0).contains("网聚职工正能量"), "the campaign's title");
        assert!(grid.iter().any(|row| row.iter().any(|c| c.to_string().contains("天津市好网民宣讲团宣讲记录"))));
        let header = grid.iter().position(|row| row.iter().any(|c| is_text(c, "进校园场次"))).expect("the header");
        let col = grid[header].iter().position(|c| is_text(c, "进校园场次")).expect("进校园");
        let row = grid.iter().find(|row| row.get(1).is_some_and(|c| is_text(c, "张讲"))).expect("张讲's row");
        assert_eq!((num(&row[col]), num(&row[col + 1]), num(&row[col + 2])), (1.0, 2.0, 80.0));
        let total = grid.iter().find(|row| row.get(1).is_some_and(|c| c.to_string().starts_with("合计"))).expect("合计");
        assert_eq!(num(&total[col]), 1.0);

        // A campaign that keeps lectures out of the quota: the same lecture no longer counts in
        // progress (nor in the papers built on it); the team's record still has it.
        let changed = wangju::domain::campaign::TIANJIN_2020.replacen(
            "lectures_count_toward_quota = true",
            "lectures_count_toward_quota = false",
            1,
        );
        assert_ne!(changed, wangju::domain::campaign::TIANJIN_2020, "the 2020 file says yes");
        wangju::service::campaigns::import_toml(&app.state.db, &changed, &wangju::db::audit::Actor::cli())
            .await
            .expect("import");
        let started = std::time::Instant::now();
        loop {
            let p = wangju::service::progress::progress(&app.state.db, &wangju::db::orgs::Scope::everything()).await.expect("progress");
            let hexi_row = p.rows.iter().find(|r| r.name == "河西区总工会").expect("河西");
            if hexi_row.counts.confirmed == 0 {
                break;
            }
            assert!(started.elapsed().as_secs() < 15, "the setting takes effect");
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        let page = text(city.get("/lecture-team/lectures").await).await;
        assert!(page.contains("不计入单位任务数"), "the page says so");
        let row = page.split("<td class=\"lead\">张讲").nth(1).expect("张讲's row");
        assert!(row.split("</tr>").next().unwrap_or_default().contains("1 · 2/80"));
    })
    .await;
}

/// The 宣讲团记录 sheet of a statistics workbook.
fn team_sheet(bytes: &[u8]) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("a workbook");
    assert!(
        book.sheet_names().iter().any(|n| n == "宣讲团记录"),
        "{:?}",
        book.sheet_names()
    );
    let range = book.worksheet_range("宣讲团记录").expect("the sheet");
    range.rows().map(|r| r.to_vec()).collect()
}

fn is_text(c: &calamine::Data, text: &str) -> bool {
    matches!(c, calamine::Data::String(s) if s == text)
}

fn cell_text(grid: &[Vec<calamine::Data>], r: usize, c: usize) -> String {
    grid.get(r)
        .and_then(|row| row.get(c))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

fn num(d: &calamine::Data) -> f64 {
    match d {
        calamine::Data::Float(f) => *f,
        calamine::Data::Int(i) => *i as f64,
        other => panic!("a number cell, found {other:?}"),
    }
}

async fn tokens(app: &TestApp, member: i64) -> Vec<String> {
    wangju::db::testing::column(
        &app.state.db,
        &format!("SELECT token FROM lecture_assignments WHERE member_id = {member} ORDER BY id"),
    )
    .await
    .expect("tokens")
}

#[tokio::test]
async fn several_lecturers_answer_each_and_a_decline_is_replaced() {
    each_backend(|app| async move {
        let city = app.admin().await;
        let (jia, yi, bing) = (
            member(&app, &city, "讲师", "甲讲师").await,
            member(&app, &city, "专家", "乙专家").await,
            member(&app, &city, "讲师", "丙讲师").await,
        );
        let unit = app.signed_in(&app.user(Role::UnitAdmin, "河西区总工会").await).await;
        let r = request(&unit, "网络安全进机关", "巡回宣讲", "进机关", "2020-07-02T09:00", "2020-07-02T11:00").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = request(&unit, "同时段另一场", "专题培训", "进社区", "2020-07-02T10:00", "2020-07-02T12:00").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let a = scalar(&app, "SELECT id FROM lectures WHERE topic = '网络安全进机关'").await;
        let b = scalar(&app, "SELECT id FROM lectures WHERE topic = '同时段另一场'").await;
        let assign = |id: i64, m: i64| {
            let city = &city;
            async move { city.post_form(&format!("/lecture-team/lectures/{id}/assign"), &[("member_id", &m.to_string())]).await }
        };
        // Two lecturers on one lecture; neither twice, neither at an overlapping time elsewhere.
        assert_eq!(assign(a, jia).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(assign(a, yi).await.status(), StatusCode::SEE_OTHER);
        let r = assign(a, jia).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(text(r).await.contains("已在这场宣讲的讲师名单中"));
        let r = assign(b, yi).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(text(r).await.contains("时间不能重叠"));
        let page = text(city.get("/lecture-team/lectures").await).await;
        assert_eq!(page.matches("class=\"confirm-link\"").count(), 2, "a link per lecturer");

        // 乙 declines: a reason is required; then the unit and the city both see it.
        let yi_link = format!("/lecture-team/confirm/{}", tokens(&app, yi).await[0]);
        let mut phone = app.agent();
        let page = text(phone.get(&yi_link).await).await;
        assert!(page.contains("网络安全进机关") && page.contains("甲讲师、乙专家"), "{page}");
        phone.refresh_csrf().await;
        let r = phone.post_form(&format!("{yi_link}/decline"), &[("reason", " ")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text(r).await.contains("请写明不能参加的原因"));
        let r = phone.post_form(&format!("{yi_link}/decline"), &[("reason", "当天另有培训任务")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(phone.post_form(&yi_link, &[]).await.status(), StatusCode::CONFLICT, "declined, not confirmable");
        for who in [&unit, &city] {
            let page = text(who.get("/lecture-team/lectures").await).await;
            assert!(page.contains("已婉拒") && page.contains("当天另有培训任务") && page.contains("有讲师婉拒"), "{page}");
        }
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'lecture.decline'").await, 1);
        // 乙 is free again at that time.
        assert_eq!(assign(b, yi).await.status(), StatusCode::SEE_OTHER);

        // The city assigns 丙 in 乙's place; the lecture is confirmed once 甲 and 丙 both are.
        assert_eq!(assign(a, bing).await.status(), StatusCode::SEE_OTHER);
        let mut lecturer = app.agent();
        let jia_link = format!("/lecture-team/confirm/{}", tokens(&app, jia).await[0]);
        lecturer.get(&jia_link).await;
        lecturer.refresh_csrf().await;
        assert_eq!(lecturer.post_form(&jia_link, &[]).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM lectures WHERE id = {a} AND status = 'assigned' AND activity_id IS NULL")).await, 1, "丙 has not answered");
        let bing_link = format!("/lecture-team/confirm/{}", tokens(&app, bing).await[0]);
        assert_eq!(lecturer.post_form(&bing_link, &[]).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(scalar(&app, &format!("SELECT COUNT(*) FROM lectures WHERE id = {a} AND status = 'confirmed' AND activity_id IS NOT NULL")).await, 1);
        assert_eq!(scalar(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'lecture.confirm'").await, 2);
        // The public calendar names the lecturers who confirmed, not the one who declined.
        let public = text(app.agent().get("/lecture-team").await).await;
        assert!(public.contains("讲师 甲讲师、丙讲师"), "{public}");
        assert!(!public.contains("当天另有培训任务"), "a decline's reason is not public");
    })
    .await;
}

#[tokio::test]
async fn an_open_class_records_platform_link_and_claimed_views_with_a_screenshot() {
    each_backend(|app| async move {
        let city = app.admin().await;
        let jia = member(&app, &city, "讲师", "网课讲师").await;
        let unit = app
            .signed_in(&app.user(Role::UnitAdmin, "河西区总工会").await)
            .await;
        let open = |platform: &'static str, link: &'static str| {
            let unit = &unit;
            async move {
                unit.post_form(
                    "/lecture-team/lectures",
                    &[
                        ("topic", "网络素养公开课"),
                        ("form", "网络公开课"),
                        ("venue_type", "进网络"),
                        ("place", "线上直播间"),
                        ("starts_at", "2020-07-03T19:00"),
                        ("ends_at", "2020-07-03T20:00"),
                        ("online_platform", platform),
                        ("online_link", link),
                    ],
                )
                .await
            }
        };
        let r = open("", "").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text(r).await.contains("网络公开课请填写直播或发布平台"));
        let r = open("抖音", "javascript:alert(1)").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            text(r)
                .await
                .contains("公开课链接须以 http:// 或 https:// 开头")
        );
        assert_eq!(open("抖音", "").await.status(), StatusCode::SEE_OTHER);
        let id = scalar(
            &app,
            "SELECT id FROM lectures WHERE topic = '网络素养公开课'",
        )
        .await;
        let views = |views: &'static str, link: &'static str, shot: Vec<u8>| {
            let unit = &unit;
            async move {
                let form = reqwest::multipart::Form::new()
                    .text("views", views)
                    .text("online_link", link)
                    .part(
                        "screenshot",
                        reqwest::multipart::Part::bytes(shot).file_name("shot.png"),
                    );
                unit.client
                    .post(format!(
                        "{}/lecture-team/lectures/{id}/views?_csrf={}",
                        unit.base, unit.csrf
                    ))
                    .multipart(form)
                    .send()
                    .await
                    .expect("views")
            }
        };
        // Not before the lecturer confirmed.
        assert_eq!(
            views("100", "https://live.example.cn/1", screenshot())
                .await
                .status(),
            StatusCode::CONFLICT
        );
        let r = city
            .post_form(
                &format!("/lecture-team/lectures/{id}/assign"),
                &[("member_id", &jia.to_string())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let link = format!("/lecture-team/confirm/{}", tokens(&app, jia).await[0]);
        let mut lecturer = app.agent();
        lecturer.get(&link).await;
        lecturer.refresh_csrf().await;
        assert_eq!(
            lecturer.post_form(&link, &[]).await.status(),
            StatusCode::SEE_OTHER
        );
        let activity = scalar(
            &app,
            &format!("SELECT activity_id FROM lectures WHERE id = {id}"),
        )
        .await;
        let (_, a) = unit.json(&format!("/api/v1/activities/{activity}")).await;
        assert!(
            a.to_string().contains("抖音"),
            "the activity carries the platform: {a}"
        );

        // A claim needs a number, a link and a screenshot.
        let r = views("很多", "https://live.example.cn/1", screenshot()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text(r).await.contains("浏览量请填 0 到 1 亿之间的整数"));
        let r = views("1200", "", screenshot()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "no link yet");
        let r = views("1200", "https://live.example.cn/1", Vec::new()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text(r).await.contains("请上传显示浏览量的平台截图"));
        let r = views(
            "1200",
            "https://live.example.cn/1",
            b"not an image".to_vec(),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            views("1200", "https://live.example.cn/1", screenshot())
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            scalar(
                &app,
                &format!("SELECT views_claimed FROM lectures WHERE id = {id}")
            )
            .await,
            1200
        );
        assert_eq!(
            scalar(
                &app,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'lecture.views'"
            )
            .await,
            1
        );
        let page = text(city.get("/lecture-team/lectures").await).await;
        assert!(
            page.contains("填报浏览量 1200") && page.contains("网聚展示页实测访问 0"),
            "{page}"
        );
        let r = city
            .get(&format!("/lecture-team/lectures/{id}/screenshot"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            &r.bytes().await.expect("jpeg")[..2],
            &[0xFF, 0xD8],
            "re-encoded as JPEG"
        );
        // Wangju hosts the class page (the lecture's activity on the showcase): a visit through
        // a share link is measured and shown beside the claim, never added to it. (The approval
        // chain is the activities' own and tested there; here the city's confirmation is set.)
        app.sql(&format!("UPDATE activities SET status = 'confirmed' WHERE id = {activity}")).await;
        let r = unit.post_form(&format!("/activities/{activity}/showcase"), &[("show", "1")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = unit.post_form("/share", &[("target", &format!("/showcase/activities/{activity}"))]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let code = location(&r).rsplit("#l-").next().expect("code").to_string();
        let visitor = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 Mobile Safari/537.36 MicroMessenger/7.0.19")
            .build()
            .expect("client");
        let r = visitor.get(format!("{}/s/{code}", app.base)).send().await.expect("visit");
        assert_eq!(r.status(), StatusCode::FOUND);
        let mut measured = false;
        for _ in 0..100 {
            let page = text(city.get("/lecture-team/lectures").await).await;
            if page.contains("网聚展示页实测访问 1") {
                assert!(page.contains("填报浏览量 1200"), "the claim stays as it was");
                measured = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(measured, "the visit is measured on the lecture");
        // Another district's union neither sees the screenshot nor claims for the lecture.
        let other = app
            .signed_in(&app.user(Role::UnitAdmin, "南开区总工会").await)
            .await;
        assert_eq!(
            other
                .get(&format!("/lecture-team/lectures/{id}/screenshot"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

/// A small PNG standing for a platform's screenshot.
fn screenshot() -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(120, 200, |x, y| {
        image::Rgb([(x * 2) as u8, (y) as u8, 90])
    }));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode");
    out.into_inner()
}
