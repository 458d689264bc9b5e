//! The "12351+" strand: quotas down the tree, and an activity going from a grassroots union's
//! plan to the city's confirmation, with progress following.

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wangju::domain::role::Role;

use crate::harness::{Agent, TestApp, each_backend, each_backend_on};

async fn create_org(admin: &Agent, name: &str, kind: &str, parent: i64) -> i64 {
    let (s, body) = admin
        .send_json(
            Method::POST,
            "/api/v1/orgs",
            &json!({"name": name, "kind": kind, "parent_id": parent}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap_or_default()
}

async fn id_of(app: &TestApp, name: &str) -> i64 {
    wangju::db::orgs::find_by_name(&app.state.db, name)
        .await
        .ok()
        .flatten()
        .map_or(-1, |o| o.id.get())
}

fn plan(name: &str, when: &str) -> Value {
    json!({"name": name, "starts_at": when, "place": "开发区职工之家", "format": "知识竞赛",
           "categories": ["网络安全知识技能", "个人信息保护教育"]})
}

fn report(name: &str, when: &str) -> Value {
    let mut v = plan(name, when);
    let extra = json!({"participants": 120, "grassroots_unions": 3, "enterprises": 2, "new_propagandists": 15,
        "online_platform": "津工E家", "online_link": "https://example.org/live/1", "online_views": 5000,
        "news_links": "滨海新区融媒体中心 https://example.org/news/1",
        "summary": "组织开发区职工开展网络安全知识竞赛，宣传个人信息保护，线上同步直播。"});
    if let (Some(a), Some(b)) = (v.as_object_mut(), extra.as_object()) {
        a.extend(b.clone());
    }
    v
}

async fn row<'a>(progress: &'a Value, name: &str) -> &'a Value {
    progress["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["name"] == name))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn a_report_goes_from_grassroots_to_city_and_progress_follows() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let binhai = id_of(&app, "滨海新区总工会").await;
        let kaifa = create_org(
            &admin,
            "天津经济技术开发区总工会",
            "intermediate_union",
            binhai,
        )
        .await;
        let company = create_org(&admin, "开发区某电子公司工会", "grassroots", kaifa).await;
        let _ = company;

        // Binhai splits its quota: at least 3 for 开发区.
        let binhai_admin = app
            .signed_in(&app.user(Role::UnitAdmin, "滨海新区总工会").await)
            .await;
        let (s, _) = binhai_admin
            .send_json(
                Method::PUT,
                &format!("/api/v1/quotas/{kaifa}"),
                &json!({"min_activities": 3}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        // Its own quota is the city's to set.
        let (s, body) = binhai_admin
            .send_json(
                Method::PUT,
                &format!("/api/v1/quotas/{binhai}"),
                &json!({"min_activities": 1}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

        // The grassroots union plans an activity, then reports it.
        let grassroots = app
            .signed_in(
                &app.user(Role::GrassrootsAdmin, "开发区某电子公司工会")
                    .await,
            )
            .await;
        let (s, created) = grassroots
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &plan("网络安全知识竞赛", "2020-06-28T09:30"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let id = created["id"].as_i64().unwrap_or_default();
        // Submitting a plan without its report names what is missing.
        let (s, body) = grassroots
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "submit"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("面对面参与职工人数"), "{body}");
        let (s, _) = grassroots
            .send_json(
                Method::PUT,
                &format!("/api/v1/activities/{id}"),
                &report("网络安全知识竞赛", "2020-06-28T09:30"),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, body) = grassroots
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "submit"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "submitted");
        // Nobody approves their own report.
        let (s, body) = grassroots
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "approve"}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("上级单位审核")
        );

        // The unit above sees the report waiting for it on its own home.
        let (_, home) = binhai_admin.text("/dashboard").await;
        assert!(home.contains("下级单位待审核的报送：<b>1</b> 条"), "{home}");
        // Binhai (above it) returns it; a return needs a reason.
        let (s, body) = binhai_admin
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "return", "reason": "  "}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("写明原因")
        );
        let (s, _) = binhai_admin
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "return", "reason": "请补充新闻报道链接和现场人数依据"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (_, a) = grassroots.json(&format!("/api/v1/activities/{id}")).await;
        assert_eq!(a["status"], "returned");
        assert_eq!(a["return_reason"], "请补充新闻报道链接和现场人数依据");
        // Each home counts it where it now waits: with the unit it went back to, no longer
        // with the unit above.
        let (_, home) = grassroots.text("/dashboard").await;
        assert!(
            home.contains("被退回待修改的本单位报送：<b>1</b> 条"),
            "{home}"
        );
        let (_, home) = binhai_admin.text("/dashboard").await;
        assert!(home.contains("下级单位待审核的报送：0 条"), "{home}");
        assert!(home.contains("被退回待修改的本单位报送：0 条"), "{home}");
        // The form the grassroots admin lands on says why, at the top, above the form.
        let (s, form) = grassroots.text(&format!("/activities/{id}")).await;
        assert_eq!(s, StatusCode::OK);
        let reason = form
            .find("退回原因：请补充新闻报道链接和现场人数依据")
            .expect("the return reason on the form");
        let form_at = form.find("<h2>活动计划").expect("the form");
        assert!(reason < form_at, "the reason comes first");
        // Viewing the details says nothing was done.
        let (_, details) = grassroots
            .text(&format!("/activities/{id}?done=view"))
            .await;
        assert!(details.contains("退回原因"));
        assert!(
            !details.contains("已完成"),
            "no 'done' for a returned report"
        );

        // Fixed and sent again; the earlier version is kept.
        let mut fixed = report("网络安全知识竞赛", "2020-06-28T09:30");
        fixed["participants"] = json!(118);
        let (s, _) = grassroots
            .send_json(Method::PUT, &format!("/api/v1/activities/{id}"), &fixed)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            app.count(&format!("activity_versions WHERE activity_id = {id}"))
                .await,
            1,
            "the returned version is kept"
        );
        grassroots
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "submit"}),
            )
            .await;
        let (s, _) = binhai_admin
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "approve"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        // Approved but not confirmed: it does not count yet.
        let (_, p) = admin.json("/api/v1/progress").await;
        assert_eq!(row(&p, "滨海新区总工会").await["counts"]["confirmed"], 0);
        assert_eq!(row(&p, "滨海新区总工会").await["counts"]["reported"], 1);
        // Only the city confirms.
        let (s, _) = binhai_admin
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "confirm"}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, body) = admin
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "confirm"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // Confirmed reports are final.
        let (s, _) = grassroots
            .send_json(Method::PUT, &format!("/api/v1/activities/{id}"), &fixed)
            .await;
        assert_eq!(s, StatusCode::CONFLICT);

        // Progress: counted at the unit and every unit above it; others are 零报送.
        let (_, p) = admin.json("/api/v1/progress").await;
        let binhai_row = row(&p, "滨海新区总工会").await;
        assert_eq!(binhai_row["quota"], 10);
        assert_eq!(binhai_row["counts"]["confirmed"], 1);
        assert_eq!(binhai_row["counts"]["participants"], 118);
        assert_eq!(binhai_row["completion_percent"], 10);
        assert_eq!(binhai_row["zero_report"], false);
        assert_eq!(binhai_row["children_quota"], 3);
        let kaifa_row = row(&p, "天津经济技术开发区总工会").await;
        assert_eq!(kaifa_row["quota"], 3);
        assert_eq!(kaifa_row["completion_percent"], 33);
        assert_eq!(row(&p, "和平区总工会").await["zero_report"], true);
        // Ranking within peers: 开发区 (33%) among Binhai's units, Binhai (10%) first among the
        // districts, the districts at 0% sharing the next rank.
        assert_eq!(kaifa_row["rank"], 1);
        assert_eq!(kaifa_row["rank_among"], "滨海新区总工会下级单位");
        assert_eq!(binhai_row["rank"], 1);
        assert_eq!(binhai_row["rank_among"], "区总工会");
        assert_eq!(row(&p, "和平区总工会").await["rank"], 2);
        assert_eq!(
            row(&p, "和平区总工会").await["rank"],
            row(&p, "蓟州区总工会").await["rank"]
        );
        assert_eq!(p["totals"]["confirmed"], 1);
        assert_eq!(p["totals"]["new_propagandists"], 15);
        assert_eq!(p["total_quota"], 100);
        // Binhai's home shows its own figures: 任务数 10, 1 confirmed, 10%.
        let (s, home) = binhai_admin.text("/dashboard").await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            home.contains("滨海新区总工会 任务数</dt><dd>10</dd>"),
            "{home}"
        );
        assert!(home.contains("已完成（市总确认）</dt><dd>1</dd>"), "{home}");
        assert!(home.contains("完成率</dt><dd>10%</dd>"), "{home}");
        // Binhai's own view holds its subtree only.
        let (_, mine) = binhai_admin.json("/api/v1/progress").await;
        assert!(row(&mine, "和平区总工会").await.is_null());
        // Every step is in the audit log.
        for action in [
            "activity.create",
            "activity.submit",
            "activity.return",
            "activity.approve",
            "activity.confirm",
            "quota.set",
        ] {
            assert!(
                app.count(&format!("audit_log WHERE action = '{action}'"))
                    .await
                    >= 1,
                "{action}"
            );
        }
        // The pages show the same.
        let (s, html) = admin.text("/progress").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("零报送") && html.contains("天津经济技术开发区总工会"));
        let (s, html) = admin.text(&format!("/activities/{id}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("市总已确认") && html.contains("修改记录"));
    })
    .await;
}

#[tokio::test]
async fn forms_and_rules_refuse_bad_reports_clearly() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let heping = id_of(&app, "和平区总工会").await;
        let unit = app
            .signed_in(&app.user(Role::UnitAdmin, "和平区总工会").await)
            .await;
        // The page form: a typo in a number and a missing format get Chinese messages.
        let r = unit
            .post_form(
                "/activities",
                &[
                    ("name", "主题演讲"),
                    ("starts_at", "2020-06-30T14:00"),
                    ("place", "和平区文化宫"),
                    ("format", ""),
                    ("participants", "一百"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap_or_default();
        assert!(html.contains("不是整数"), "number typo explained");
        // A future activity cannot be reported yet.
        let (_, created) = unit
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &plan("七月的活动", "2020-07-20T09:00"),
            )
            .await;
        let id = created["id"].as_i64().unwrap_or_default();
        unit.send_json(
            Method::PUT,
            &format!("/api/v1/activities/{id}"),
            &report("七月的活动", "2020-07-20T09:00"),
        )
        .await;
        let (s, body) = unit
            .send_json(
                Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "submit"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("活动结束后才能报送"), "{body}");
        // Unknown format and categories are refused against the campaign file.
        let mut bad = plan("乱填的活动", "2020-06-30T14:00");
        bad["format"] = json!("跳广场舞");
        bad["categories"] = json!(["随便聊聊"]);
        let (s, body) = unit
            .send_json(Method::POST, "/api/v1/activities", &bad)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("请从以下方式中选择"));
        // A format the notice's list does not name: 其他（请注明）, said in the unit's words.
        let mut other = plan("职工读书会", "2020-06-30T14:00");
        other["format"] = json!("其他（请注明）");
        let (s, body) = unit
            .send_json(Method::POST, "/api/v1/activities", &other)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("写明"), "{body}");
        other["format_other"] = json!("读书分享会");
        let (s, body) = unit
            .send_json(Method::POST, "/api/v1/activities", &other)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().unwrap_or_default();
        let (_, saved) = unit.json(&format!("/api/v1/activities/{id}")).await;
        assert_eq!(saved["input"]["format_other"], "读书分享会", "{saved}");
        let (_, page) = unit.text(&format!("/activities/{id}")).await;
        assert!(
            page.contains("value=\"读书分享会\""),
            "the draft's form keeps it"
        );
        let (_, form) = unit.text("/activities/new").await;
        assert!(form.contains("其他（请注明）") && form.contains("name=\"format_other\""));
        // Bureau/group-company unions hold at least the minimum.
        let port = create_org(&admin, "天津港（集团）有限公司工会", "bureau_group", 1).await;
        let (s, body) = admin
            .send_json(
                Method::PUT,
                &format!("/api/v1/quotas/{port}"),
                &json!({"min_activities": 0}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("不少于 1 场"));
        let (_, p) = admin.json("/api/v1/progress").await;
        let port_row = row(&p, "天津港（集团）有限公司工会").await;
        assert_eq!(port_row["quota"], 1);
        assert_eq!(port_row["quota_is_default"], true);
        let _ = heping;
    })
    .await;
}

#[tokio::test]
async fn reporting_closes_when_the_push_phase_ends() {
    let after = NaiveDate::from_ymd_opt(2020, 10, 8).expect("date");
    each_backend_on(after, |app| async move {
        let unit = app
            .signed_in(&app.user(Role::UnitAdmin, "河东区总工会").await)
            .await;
        let (s, body) = unit
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &plan("迟到的活动", "2020-09-10T09:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("不在线下活动报送期内") && message.contains("2020-09-15"),
            "{message}"
        );
        assert_eq!(app.count("activities").await, 0);
    })
    .await;
}

#[tokio::test]
async fn allocation_and_statistics_travel_as_excel() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let binhai = id_of(&app, "滨海新区总工会").await;
        create_org(&admin, "天津港保税区总工会", "intermediate_union", binhai).await;
        create_org(&admin, "东疆综合保税区总工会", "intermediate_union", binhai).await;

        // The allocation table comes out in Annex 1's layout, under its title block.
        let r = admin.get("/progress/export?sheet=allocation").await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let table = wangju::office::tabular::read(&bytes).expect("a workbook");
        let lines: Vec<Vec<String>> = table.lines().map(|(_, r)| r.to_vec()).collect();
        assert_eq!(lines[2], vec!["序号", "单位", "线下活动数量"]);
        assert_eq!(lines[3], vec!["1", "滨海新区总工会", "10"]);
        assert_eq!(lines[19][1..], ["合计".to_string(), "100".to_string()]);

        // Binhai's admin gives its sub-units 3 each from a spreadsheet.
        let unit = app.signed_in(&app.user(Role::UnitAdmin, "滨海新区总工会").await).await;
        let bad = "序号,单位,线下活动数量\n1,天津港保税区总工会,3\n2,和平区总工会,6\n3,东疆综合保税区总工会,三\n4,滨海新区总工会,12\n";
        let before = app.count("quotas").await;
        let r = unit.upload("/quotas/import", "bad.csv", bad.as_bytes().to_vec()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap_or_default();
        for expected in ["第 3 行 B 列（单位）", "不在您的管理范围内", "第 4 行 C 列（线下活动数量）", "第 5 行 B 列（单位）", "本单位的任务由上级下达"] {
            assert!(html.contains(expected), "missing {expected}");
        }
        assert_eq!(app.count("quotas").await, before, "nothing written");
        let good = "序号,单位,线下活动数量\n1,天津港保税区总工会,3\n2,东疆综合保税区总工会,3\n合  计,,6\n";
        let r = unit.upload("/quotas/import", "good.csv", good.as_bytes().to_vec()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap_or_default().contains("设置了 2 个单位"));
        assert_eq!(app.count("quotas").await, before + 2);

        // The statistics sheet: Binhai on the first sheet, its units on the second.
        let r = unit.get("/progress/export").await;
        let bytes = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let sheet = wangju::office::tabular::read(&bytes).expect("a workbook");
        let lines: Vec<Vec<String>> = sheet.lines().map(|(_, r)| r.to_vec()).collect();
        assert_eq!(lines[2][1], "单位");
        assert_eq!(lines[3][1], "滨海新区总工会");
        assert_eq!(lines[3][15], "零报送；下级仅分配6场，少于本单位任务");
        assert_eq!(lines[4][1], "合计");
        // The circular: the districts ranked, then the units that reported nothing.
        let r = admin.get("/progress/export?sheet=circular").await;
        let bytes = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let circular = wangju::office::tabular::read(&bytes).expect("a workbook");
        let lines: Vec<Vec<String>> = circular.lines().map(|(_, r)| r.to_vec()).collect();
        assert_eq!(lines[2], vec!["名次", "单位", "任务数", "已确认", "完成率", "备注"]);
        let zero = lines.iter().map(|l| l.join("")).find(|l| l.starts_with("零报送单位")).unwrap_or_default();
        assert!(zero.contains("和平区总工会") && zero.contains("天津港保税区总工会"), "{zero}");
    })
    .await;
}

#[tokio::test]
async fn propagandists_are_registered_once_and_counted_up_the_tree() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let hexi = id_of(&app, "河西区总工会").await;
        let company = create_org(&admin, "河西某物流公司工会", "grassroots", hexi).await;
        let grassroots = app
            .signed_in(&app.user(Role::GrassrootsAdmin, "河西某物流公司工会").await)
            .await;
        let (s, _) = grassroots
            .send_json(
                Method::POST,
                "/api/v1/propagandists",
                &json!({"name": "王芳", "phone": "13812345678", "accounts": "抖音 @王芳说网安"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        // The same person again: refused, counted once.
        let (s, body) = grassroots
            .send_json(
                Method::POST,
                "/api/v1/propagandists",
                &json!({"name": "王芳", "phone": "13812345678"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("只计一次"));
        let (s, body) = grassroots
            .send_json(
                Method::POST,
                "/api/v1/propagandists",
                &json!({"name": "李强", "phone": "12345"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.to_string().contains("手机号"));
        // Masked for the unit, whole for the city.
        let (_, mine) = grassroots.json("/api/v1/propagandists").await;
        assert_eq!(mine[0]["phone"], "138****5678");
        let (_, all) = admin.json("/api/v1/propagandists").await;
        assert_eq!(all[0]["phone"], "13812345678");
        // Counted at the company, the district and the city.
        let (_, p) = admin.json("/api/v1/progress").await;
        assert_eq!(
            row(&p, "河西区总工会").await["counts"]["registered_propagandists"],
            1
        );
        assert_eq!(p["totals"]["registered_propagandists"], 1);
        let _ = company;
    })
    .await;
}

/// The check-in path printed on the activity's poster (the code made first: looking at the
/// poster never makes one).
async fn checkin_path(agent: &Agent, id: i64) -> String {
    let (status, html) = agent.text(&format!("/activities/{id}/checkin")).await;
    assert_eq!(status, StatusCode::OK);
    if html.contains("生成签到二维码") {
        let (status, _) = agent.text(&format!("/activities/{id}/qr.svg")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no code before it is made");
        let r = agent
            .post_form(&format!("/activities/{id}/checkin"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let (status, html) = agent.text(&format!("/activities/{id}/checkin")).await;
    assert_eq!(status, StatusCode::OK);
    let start = html
        .find("/c/")
        .expect("the poster shows the check-in address");
    html[start..start + 3 + 32].to_string()
}

#[tokio::test]
async fn attendees_check_in_once_and_claims_are_compared() {
    each_backend(|app| async move {
        let unit = app
            .signed_in(&app.user(Role::UnitAdmin, "南开区总工会").await)
            .await;
        let (_, created) = unit
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &plan("南开网络文明主题演讲", "2020-07-01T00:00"),
            )
            .await;
        let id = created["id"].as_i64().unwrap_or_default();
        let path = checkin_path(&unit, id).await;
        assert_eq!(checkin_path(&unit, id).await, path, "one code per activity");
        let r = unit.get(&format!("/activities/{id}/qr.svg")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("image/svg+xml")
        );
        let svg = r.text().await.unwrap_or_default();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && !svg.contains("<script"));

        // An attendee on a phone: the page, then the form (consent required).
        let mut phone = app.agent();
        let (status, html) = phone.text(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("南开网络文明主题演讲") && html.contains("我同意"));
        phone.refresh_csrf().await;
        let r = phone
            .post_form(&path, &[("name", "张三"), ("unit", "南开某公司")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap_or_default().contains("请勾选同意"));
        let r = phone
            .post_form(
                &path,
                &[
                    ("name", "张三"),
                    ("unit", "南开某公司"),
                    ("phone", "13700000001"),
                    ("consent", "yes"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap_or_default().contains("签到成功"));
        // Twice (spaces in the name do not make another person): counted once.
        let r = phone
            .post_form(
                &path,
                &[
                    ("name", "张 三"),
                    ("unit", "南开某公司"),
                    ("phone", "13700000001"),
                    ("consent", "yes"),
                ],
            )
            .await;
        assert!(r.text().await.unwrap_or_default().contains("已经签到过了"));
        let r = phone
            .post_form(
                &path,
                &[("name", "李四"), ("unit", "南开某公司"), ("consent", "yes")],
            )
            .await;
        assert!(r.text().await.unwrap_or_default().contains("签到成功"));
        let (_, a) = unit.json(&format!("/api/v1/activities/{id}")).await;
        assert_eq!(a["verified"], 2);

        // A forged code and a malformed one are refused clearly; nothing is recorded.
        let before = app.count("checkins").await;
        let r = phone
            .post_form(
                "/c/0123456789abcdef0123456789abcdef",
                &[("name", "王五"), ("unit", "某"), ("consent", "yes")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(
            r.text()
                .await
                .unwrap_or_default()
                .contains("签到二维码无效")
        );
        assert_eq!(
            phone.get("/c/not-a-code").await.status(),
            StatusCode::NOT_FOUND
        );
        // A code from an earlier day has closed.
        let (_, old) = unit
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &plan("上周的活动", "2020-06-24T09:00"),
            )
            .await;
        let old_path = checkin_path(&unit, old["id"].as_i64().unwrap_or_default()).await;
        let r = phone
            .post_form(
                &old_path,
                &[("name", "王五"), ("unit", "某"), ("consent", "yes")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.unwrap_or_default().contains("签到已结束"));
        assert_eq!(app.count("checkins").await, before);

        // Claimed 500, checked in 2: the report is flagged.
        let mut claimed = report("南开网络文明主题演讲", "2020-07-01T00:00");
        claimed["participants"] = json!(500);
        unit.send_json(Method::PUT, &format!("/api/v1/activities/{id}"), &claimed)
            .await;
        let (_, html) = unit.text("/activities").await;
        assert!(html.contains("存疑"));
        // Check-in data is not public: personal details never reach the attendee page.
        let (_, html) = phone.text(&path).await;
        assert!(!html.contains("13700000001") && !html.contains("李四"));
    })
    .await;
}

#[tokio::test]
async fn concurrent_check_ins_are_all_kept_once_and_code_guessing_is_slowed() {
    each_backend(|app| async move {
        let unit = app
            .signed_in(&app.user(Role::UnitAdmin, "南开区总工会").await)
            .await;
        let (_, created) = unit
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &plan("南开职工网络安全讲座", "2020-07-01T00:00"),
            )
            .await;
        let id = created["id"].as_i64().unwrap_or_default();
        let path = checkin_path(&unit, id).await;
        let png = unit.get(&format!("/activities/{id}/qr.png")).await;
        assert_eq!(png.status(), StatusCode::OK);
        let png = png.bytes().await.unwrap_or_default();
        let img = image::load_from_memory(&png).expect("a PNG");
        assert!(img.width() >= 250 && img.width() == img.height());

        // 60 people scan at once, 20 of them twice: every answer is right and each counts once.
        // The code takes so many check-ins a second; a phone told to wait a moment gets in on
        // its next try.
        let mut tasks = Vec::new();
        for i in 0..80 {
            let mut phone = app.agent();
            let path = path.clone();
            tasks.push(tokio::spawn(async move {
                phone.refresh_csrf().await;
                let who = format!("职工{}", i % 60);
                for _ in 0..20 {
                    let r = phone
                        .post_form(
                            &path,
                            &[
                                ("name", who.as_str()),
                                ("unit", "南开某公司"),
                                ("consent", "yes"),
                            ],
                        )
                        .await;
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        assert!(body.contains("请稍等几秒"), "{body}");
                        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
                        continue;
                    }
                    return (status, body);
                }
                panic!("a phone never got through");
            }));
        }
        let mut fresh = 0;
        for t in tasks {
            let (status, body) = t.await.expect("task");
            assert_eq!(status, StatusCode::OK, "{body}");
            assert!(!body.contains("locked"));
            if body.contains("签到成功") {
                fresh += 1;
            } else {
                assert!(body.contains("已经签到过了"));
            }
        }
        assert_eq!(fresh, 60);
        let (_, a) = unit.json(&format!("/api/v1/activities/{id}")).await;
        assert_eq!(a["verified"], 60);

        // Guessing codes: an address that tries many unknown codes is not blocked from the
        // real one (a venue's shared network), but one unknown code tried over and over is.
        let mut guesser = app.agent();
        guesser.refresh_csrf().await;
        for i in 0..30 {
            let r = guesser
                .post_form(
                    &format!("/c/{i:032x}"),
                    &[("name", "王五"), ("unit", "某"), ("consent", "yes")],
                )
                .await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
        }
        let mut neighbour = app.agent();
        neighbour.refresh_csrf().await;
        // (past the code's per-second window the crowd above filled)
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let r = neighbour
            .post_form(
                &path,
                &[("name", "王五"), ("unit", "某"), ("consent", "yes")],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{}",
            r.text().await.unwrap_or_default()
        );
        let wrong = format!("/c/{:032x}", 7);
        let mut last = StatusCode::OK;
        for _ in 0..12 {
            last = guesser
                .post_form(
                    &wrong,
                    &[("name", "王五"), ("unit", "某"), ("consent", "yes")],
                )
                .await
                .status();
        }
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(app.count("checkins").await, 61);
    })
    .await;
}
