//! Hostile input and concurrency against the running server (issue: hardening). Each test
//! names the defect it guards against; all run on SQLite and PostgreSQL.

use reqwest::StatusCode;
use serde_json::json;
use wangju::domain::role::Role;

use crate::harness::{PASSWORD, each_backend};

/// 20 wrong passwords at the same moment: the budget is taken before any password is checked,
/// so at most 5 are checked, the account ends locked, and the right password afterwards is
/// refused with the minutes left (a right password never lifts a lock in force).
#[tokio::test]
async fn concurrent_wrong_passwords_cannot_outrun_the_lockout() {
    each_backend(|app| async move {
        let login = app.user(Role::UnitAdmin, "和平区总工会").await;
        let mut agents = Vec::new();
        for _ in 0..20 {
            let mut agent = app.agent();
            agent.refresh_csrf().await;
            agents.push(agent);
        }
        let guesses = agents.into_iter().enumerate().map(|(i, agent)| {
            let login = login.clone();
            async move {
                let (status, _) = agent
                    .send_json(
                        reqwest::Method::POST,
                        "/api/v1/session",
                        &json!({"login": login, "password": format!("Wrong-pass-{i:03}")}),
                    )
                    .await;
                status
            }
        });
        let statuses = futures_util::future::join_all(guesses).await;
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
            "{statuses:?}"
        );
        let admin = app.admin().await;
        let (status, log) = admin.json("/api/v1/audit?action=login.failure").await;
        assert_eq!(status, StatusCode::OK);
        let checked = log
            .as_array()
            .expect("audit entries")
            .iter()
            .filter(|e| {
                e["after_json"]
                    .as_str()
                    .is_some_and(|a| a.contains("wrong_password"))
            })
            .count();
        assert!(
            (1..=5).contains(&checked),
            "{checked} wrong passwords were checked"
        );
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert!(refused >= 15, "only {refused} were refused unchecked");
        let mut owner = app.agent();
        owner.refresh_csrf().await;
        let (status, body) = owner
            .send_json(
                reqwest::Method::POST,
                "/api/v1/session",
                &json!({"login": login, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"], "account_locked", "{body}");
    })
    .await;
}

/// A workbook of a few KB with one cell at A1 and one at `row`, `column` (0-based).
fn sparse_workbook(row: u32, column: u16) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "单位名称").expect("cell");
    sheet.write_number(row, column, 1.0).expect("far cell");
    workbook.save_to_buffer().expect("workbook")
}

/// A spreadsheet whose one cell sits at the far corner (XFD1048576) used to make the reader
/// allocate the whole range and abort the process. Every import refuses it with the limit
/// named, writes nothing, and the server keeps answering.
#[tokio::test]
async fn sparse_spreadsheets_are_refused_by_every_import() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let orgs = app.count("orgs").await;
        for (row, column, limit) in [
            (1_048_575, 16_383, "64 列"),
            (1_048_575, 1, "20000 行"),
            (5, 200, "64 列"),
        ] {
            for path in [
                "/orgs/import",
                "/quotas/import",
                "/propagandists/import",
                "/selection/reviewers/import",
            ] {
                let r = admin
                    .upload(path, "稀疏.xlsx", sparse_workbook(row, column))
                    .await;
                assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
                let text = r.text().await.expect("body");
                assert!(text.contains(limit), "{path}: {limit} not named");
            }
        }
        let (status, _) = admin.text("/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.count("orgs").await, orgs);
    })
    .await;
}

/// NUL and other control characters in any text input answer 422 (PostgreSQL refused them
/// with a 500), in forms, queries, JSON bodies and the login.
#[tokio::test]
async fn control_characters_in_any_input_answer_422() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let (status, body) = admin.text("/orgs?q=%00").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("控制字符"), "{body}");
        let (status, _) = admin.text("/activities?status=%01").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, body) = admin
            .send_json(
                reqwest::Method::POST,
                "/api/v1/orgs",
                &json!({"name": "新单位\u{0}", "kind": "grassroots", "parent_id": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"], "invalid_input");
        let mut anonymous = app.agent();
        anonymous.refresh_csrf().await;
        let (status, body) = anonymous
            .send_json(
                reqwest::Method::POST,
                "/api/v1/session",
                &json!({"login": "admin\u{0}", "password": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let r = admin
            .post_form("/orgs", &[("name", "某\u{0}工会"), ("kind", "grassroots")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Invalid UTF-8 is refused, not silently replaced.
        let r = admin
            .client
            .post(format!("{}/orgs", admin.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={}&name=%FF%FE&kind=grassroots", admin.csrf))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.expect("body").contains("UTF-8"));
    })
    .await;
}

/// What the framework used to answer in English plain text is answered in Chinese.
#[tokio::test]
async fn framework_errors_are_answered_in_chinese() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        // A multipart body without a boundary.
        let r = admin
            .client
            .post(format!("{}/orgs/import?_csrf={}", admin.base, admin.csrf))
            .header("content-type", "multipart/form-data")
            .body("x")
            .send()
            .await
            .expect("POST");
        assert!(r.status().is_client_error());
        let text = r.text().await.expect("body");
        assert!(text.contains("multipart/form-data"), "{text}");
        // A form body over the limit.
        let r = admin
            .client
            .post(format!("{}/orgs", admin.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "_csrf={}&name={}",
                admin.csrf,
                "a".repeat(2 * 1024 * 1024)
            ))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.text().await.expect("body").contains("太大"));
        // JSON that is not JSON.
        let r = admin
            .client
            .post(format!("{}/api/v1/orgs", admin.base))
            .header("x-csrf-token", &admin.csrf)
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .expect("POST");
        let body: serde_json::Value = r.json().await.expect("json error");
        assert_eq!(body["error"], "invalid_input");
    })
    .await;
}

/// An admin manages the accounts of the units below and the non-admin accounts of its own
/// unit; a peer admin of the same unit cannot reset (and read the new password of) or disable
/// another, nor see them in the list.
#[tokio::test]
async fn peer_admins_cannot_take_each_other_over() {
    each_backend(|app| async move {
        let first = app.user(Role::UnitAdmin, "和平区总工会").await;
        let admin = app.admin().await;
        let heping = wangju::db::orgs::find_by_name(&app.state.db, "和平区总工会")
            .await
            .expect("query")
            .expect("org");
        let (status, created) = admin
            .send_json(
                reqwest::Method::POST,
                "/api/v1/users",
                &json!({"login": "heping-second", "display_name": "第二管理员", "role": "unit_admin", "org_id": heping.id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let peer = created["id"].as_i64().expect("id");
        let (status, worker) = admin
            .send_json(
                reqwest::Method::POST,
                "/api/v1/users",
                &json!({"login": "13812345678", "display_name": "职工甲", "phone": "13812345678", "role": "worker", "org_id": heping.id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{worker}");
        let worker = worker["id"].as_i64().expect("id");
        let district = app.signed_in(&first).await;
        let r = district
            .post_form(&format!("/users/{peer}/reset-password"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = district
            .post_form(&format!("/users/{peer}/status"), &[("disabled", "1")])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let (status, _) = district.json(&format!("/api/v1/users/{peer}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, list) = district.json("/api/v1/users").await;
        let ids: Vec<i64> = list
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|u| u["id"].as_i64())
            .collect();
        assert!(!ids.contains(&peer), "{ids:?}");
        // The worker of its own unit it does manage, and sees the login (a mobile) masked.
        assert!(ids.contains(&worker));
        let (_, row) = district.json(&format!("/api/v1/users/{worker}")).await;
        assert_eq!(row["login"], "138****5678", "{row}");
        assert_eq!(row["phone"], "138****5678", "{row}");
        let (_, html) = district.text("/users").await;
        assert!(!html.contains("13812345678"));
        // The city may reset the district admin.
        let r = admin
            .post_form(&format!("/users/{peer}/reset-password"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    })
    .await;
}

/// An org import goes through the rules of a single edit: a district cannot change its own
/// org's kind (or name, or place) through a spreadsheet either.
#[tokio::test]
async fn imports_follow_the_rules_of_single_edits() {
    each_backend(|app| async move {
        let district = app
            .signed_in(&app.user(Role::UnitAdmin, "和平区总工会").await)
            .await;
        let csv = "单位名称,上级单位,类型\n和平区总工会,天津市总工会,局、集团公司工会\n";
        let r = district
            .upload("/orgs/import", "orgs.csv", csv.as_bytes().to_vec())
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let text = r.text().await.expect("body");
        assert!(text.contains("第 2 行"), "{text}");
        let org = wangju::db::orgs::find_by_name(&app.state.db, "和平区总工会")
            .await
            .expect("query")
            .expect("org");
        assert_eq!(org.kind, wangju::domain::org::OrgKind::DistrictUnion);
        // The form refuses the same change, and a rename of its own unit.
        let r = district
            .post_form(
                &format!("/orgs/{}", org.id),
                &[("name", "和平区总工会"), ("kind", "bureau_group")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = district
            .post_form(
                &format!("/orgs/{}", org.id),
                &[("name", "河东区总工会（和平）"), ("kind", "district_union")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // A name another district holds is refused without describing that district.
        let r = district
            .post_form(
                "/orgs",
                &[
                    ("name", "河东区总工会"),
                    ("kind", "grassroots"),
                    ("parent_id", &org.id.to_string()),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let text = r.text().await.expect("body");
        assert!(text.contains("管理范围以外"), "{text}");
        // A lookalike with a zero-width space is refused.
        let r = district
            .post_form(
                "/orgs",
                &[
                    ("name", "和平区\u{200B}总工会"),
                    ("kind", "grassroots"),
                    ("parent_id", &org.id.to_string()),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

/// Changing one's password ends every session, the current one included, and hands a new
/// session id to the browser that changed it.
#[tokio::test]
async fn a_password_change_rotates_the_session_id() {
    each_backend(|app| async move {
        let login = app.user(Role::UnitAdmin, "和平区总工会").await;
        let agent = app.signed_in(&login).await;
        let before = agent.csrf.clone();
        let r = agent
            .post_form(
                "/account/password",
                &[
                    ("current", PASSWORD),
                    ("new", "Another-Passw0rd!"),
                    ("confirm", "Another-Passw0rd!"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("wangju_sid="))
            .map(str::to_string);
        assert!(cookie.is_some(), "a new session cookie is set");
        let (status, me) = agent.json("/api/v1/me").await;
        assert_eq!(status, StatusCode::OK);
        assert_ne!(me["csrf_token"].as_str().expect("token"), before);
    })
    .await;
}

fn report_json(when: &str) -> serde_json::Value {
    json!({"name": "网络安全知识竞赛", "starts_at": when, "place": "区工人文化宫", "format": "知识竞赛",
        "categories": ["网络安全知识技能"], "participants": 80, "grassroots_unions": 2, "enterprises": 1,
        "new_propagandists": 5, "summary": "组织职工开展网络安全知识竞赛，宣传个人信息保护知识。"})
}

/// Dates outside the campaign's reporting days (2019, year 0, negative years, 9999) are
/// refused, and the dashboard's charts stay within the campaign whatever the database holds.
#[tokio::test]
async fn activity_dates_are_bounded_by_the_campaign() {
    each_backend(|app| async move {
        let district = app
            .signed_in(&app.user(Role::UnitAdmin, "和平区总工会").await)
            .await;
        for when in [
            "2019-07-01T09:00",
            "0000-07-01T09:00",
            "-0001-07-01T09:00",
            "9999-07-01T09:00",
            "2020-12-01T09:00",
        ] {
            let (status, body) = district
                .send_json(
                    reqwest::Method::POST,
                    "/api/v1/activities",
                    &report_json(when),
                )
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{when}: {body}");
            assert!(body.to_string().contains("报送期"), "{body}");
        }
        let (status, body) = district
            .send_json(
                reqwest::Method::POST,
                "/api/v1/activities",
                &report_json("2020-06-20T09:00"),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // A row stored before the rule (or written by hand) cannot stretch the charts.
        app.sql("UPDATE activities SET starts_at = '0001-01-01T00:00'")
            .await;
        let (status, charts) = district.json("/api/v1/progress/charts").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            charts.to_string().len() < 20_000,
            "{}",
            charts.to_string().len()
        );
    })
    .await;
}

/// A submitted report is frozen until returned, and an approval applies to the version the
/// reviewer saw: an edit (or a return and resubmission) in between makes it refuse.
#[tokio::test]
async fn an_approval_pins_the_version_it_approves() {
    each_backend(|app| async move {
        let district_login = app.user(Role::UnitAdmin, "和平区总工会").await;
        let admin = app.admin().await;
        let heping = wangju::db::orgs::find_by_name(&app.state.db, "和平区总工会")
            .await
            .expect("query")
            .expect("org");
        let (status, body) = admin
            .send_json(
                reqwest::Method::POST,
                "/api/v1/orgs",
                &json!({"name": "和平区某公司工会", "kind": "grassroots", "parent_id": heping.id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let grassroots = app.signed_in(&app.user(Role::GrassrootsAdmin, "和平区某公司工会").await).await;
        let district = app.signed_in(&district_login).await;
        let (_, created) = grassroots
            .send_json(reqwest::Method::POST, "/api/v1/activities", &report_json("2020-06-20T09:00"))
            .await;
        let id = created["id"].as_i64().expect("id");
        let step = |s: &str, version: Option<i64>| json!({"step": s, "reason": "请补充照片", "version": version});
        let (status, body) = grassroots
            .send_json(reqwest::Method::POST, &format!("/api/v1/activities/{id}/transitions"), &step("submit", None))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, seen) = district.json(&format!("/api/v1/activities/{id}")).await;
        let seen_version = seen["version"].as_i64().expect("version");
        // Frozen: the unit cannot change what the reviewer is reading.
        let (status, _) = grassroots
            .send_json(reqwest::Method::PUT, &format!("/api/v1/activities/{id}"), &report_json("2020-06-21T09:00"))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        // The city returns it; the unit edits and resubmits; the district's stale approval fails.
        let (status, _) = admin
            .send_json(reqwest::Method::POST, &format!("/api/v1/activities/{id}/transitions"), &step("return", Some(seen_version)))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = grassroots
            .send_json(reqwest::Method::PUT, &format!("/api/v1/activities/{id}"), &report_json("2020-06-21T09:00"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = grassroots
            .send_json(reqwest::Method::POST, &format!("/api/v1/activities/{id}/transitions"), &step("submit", None))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = district
            .send_json(reqwest::Method::POST, &format!("/api/v1/activities/{id}/transitions"), &step("approve", Some(seen_version)))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body["message"].as_str().expect("message").contains("刷新"));
        let (_, fresh) = district.json(&format!("/api/v1/activities/{id}")).await;
        let (status, body) = district
            .send_json(reqwest::Method::POST, &format!("/api/v1/activities/{id}/transitions"), &step("approve", fresh["version"].as_i64()))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    })
    .await;
}

/// Check-in cannot be gamed: a script on one phone is slowed and capped at three names, a
/// burst on one code is held to its rate, a traditional-character variant is the same
/// person, the reviewers see the list with the shared phone flagged, and the code closes once
/// the report goes up.
#[tokio::test]
async fn check_in_cannot_be_gamed() {
    each_backend(|app| async move {
        let unit = app
            .signed_in(&app.user(Role::UnitAdmin, "南开区总工会").await)
            .await;
        let (_, created) = unit
            .send_json(
                reqwest::Method::POST,
                "/api/v1/activities",
                &report_json("2020-07-01T00:00"),
            )
            .await;
        let id = created["id"].as_i64().expect("id");
        let r = unit
            .post_form(&format!("/activities/{id}/checkin"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, poster) = unit.text(&format!("/activities/{id}/checkin")).await;
        let start = poster.find("/c/").expect("address");
        let path = poster[start..start + 35].to_string();
        // One phone (one cookie jar), a script signing in many names.
        let mut script = app.agent();
        script.refresh_csrf().await;
        let _ = script.text(&path).await;
        let mut statuses = Vec::new();
        for (i, name) in [
            "张三", "張三", "李四", "王五", "赵六", "钱七", "孙八", "周九",
        ]
        .iter()
        .enumerate()
        {
            let r = script
                .post_form(
                    &path,
                    &[
                        ("name", name),
                        ("unit", "南开某公司"),
                        ("consent", "yes"),
                        ("phone", &format!("1390000000{i}")),
                    ],
                )
                .await;
            statuses.push(r.status());
        }
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert!(ok <= 6, "{statuses:?}");
        assert!(
            statuses.contains(&StatusCode::TOO_MANY_REQUESTS)
                || statuses.contains(&StatusCode::CONFLICT),
            "{statuses:?}"
        );
        let (_, a) = unit.json(&format!("/api/v1/activities/{id}")).await;
        let verified = a["verified"].as_i64().expect("verified");
        assert!(verified <= 3, "one phone signed in {verified} names");
        // A traditional-character variant with the same phone is the same person.
        let mut phone = app.agent();
        phone.refresh_csrf().await;
        let _ = phone.text(&path).await;
        for name in ["刘一", "劉一"] {
            let r = phone
                .post_form(
                    &path,
                    &[
                        ("name", name),
                        ("unit", "南开某公司"),
                        ("consent", "yes"),
                        ("phone", "13911110000"),
                        ("propagandist", "yes"),
                    ],
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
        }
        let (_, a) = unit.json(&format!("/api/v1/activities/{id}")).await;
        assert_eq!(a["verified"].as_i64(), Some(verified + 1));
        // Ticking the box put them on the unit's propagandist register, once.
        let (_, register) = unit.json("/api/v1/propagandists").await;
        let joined = register
            .as_array()
            .expect("register")
            .iter()
            .filter(|p| p["name"] == "刘一")
            .count();
        assert_eq!(joined, 1, "{register}");
        // The reviewers' list: names, masked phones, the shared phone flagged.
        let (status, list) = unit.text(&format!("/activities/{id}/attendees")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            list.contains("刘一") && list.contains("139****0000"),
            "{list}"
        );
        assert!(!list.contains("13911110000"));
        if verified > 1 {
            assert!(list.contains("同一手机签到"), "{list}");
        }
        // Once the report is submitted, the code takes no more check-ins.
        let (status, body) = unit
            .send_json(
                reqwest::Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "submit"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut late = app.agent();
        late.refresh_csrf().await;
        let r = late
            .post_form(
                &path,
                &[("name", "吴十"), ("unit", "南开某公司"), ("consent", "yes")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.text().await.expect("body").contains("签到已结束"));
    })
    .await;
}

/// A conflict carries a stable reason beside the Chinese message.
#[tokio::test]
async fn conflicts_carry_a_reason_clients_can_branch_on() {
    each_backend(|app| async move {
        let district = app
            .signed_in(&app.user(Role::UnitAdmin, "和平区总工会").await)
            .await;
        let (_, created) = district
            .send_json(
                reqwest::Method::POST,
                "/api/v1/activities",
                &report_json("2020-06-20T09:00"),
            )
            .await;
        let id = created["id"].as_i64().expect("id");
        let (status, body) = district
            .send_json(
                reqwest::Method::POST,
                &format!("/api/v1/activities/{id}/transitions"),
                &json!({"step": "submit", "version": 99}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"], "conflict");
        assert_eq!(body["reason"], "stale_version", "{body}");
    })
    .await;
}

/// One account cannot open any number of uploads: the count is taken atomically, so ten
/// announcements at once leave exactly the allowed number open.
#[tokio::test]
async fn open_uploads_are_capped_per_account_under_concurrency() {
    each_backend(|app| async move {
        let worker = app.signed_in(&app.user(Role::Worker, "河西区总工会").await).await;
        let tries = (0..10).map(|i| {
            let worker = &worker;
            async move {
                worker
                    .send_json(
                        reqwest::Method::POST,
                        "/api/v1/uploads",
                        &json!({"sub_project": "micro-video", "file_name": format!("v{i}.mp4"), "size_bytes": 1_000_000}),
                    )
                    .await
            }
        });
        let answers = futures_util::future::join_all(tries).await;
        let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
        assert_eq!(created, wangju::service::works::MAX_OPEN_UPLOADS as usize, "{answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
            assert_eq!(*status, StatusCode::CONFLICT);
            assert_eq!(body["reason"], "too_many_open", "{body}");
        }
    })
    .await;
}

/// A phone on a slow line: a chunk may take longer than the request timeout as long as bytes
/// keep coming, and a chunk that stalls is ended with what arrived kept and acknowledged.
#[tokio::test]
async fn slow_upload_chunks_keep_what_arrived() {
    for backend in crate::harness::backends() {
        let day = chrono::NaiveDate::from_ymd_opt(2020, 7, 1).expect("date");
        let app = crate::harness::TestApp::spawn_with(backend, day, |s| {
            s.request_timeout_seconds = 2;
            s.upload_idle_seconds = 1;
        })
        .await;
        let worker = app
            .signed_in(&app.user(Role::Worker, "河西区总工会").await)
            .await;
        let (s, started) = worker
            .send_json(
                reqwest::Method::POST,
                "/api/v1/uploads",
                &json!({"sub_project": "micro-video", "file_name": "slow.mp4", "size_bytes": 300_000}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{started}");
        let id = started["id"].as_str().expect("id").to_string();
        let patch = |offset: u64, body: reqwest::Body| {
            worker
                .client
                .patch(format!("{}/api/v1/uploads/{id}", worker.base))
                .header("x-csrf-token", &worker.csrf)
                .header("upload-offset", offset.to_string())
                .header("content-type", "application/offset+octet-stream")
                .body(body)
                .send()
        };
        // 100 KB over about 3 s: longer than the 2 s request timeout, never idle for 1 s.
        let trickle = futures_util::stream::unfold(0, |i| async move {
            if i == 10 {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            Some((Ok::<_, std::io::Error>(vec![7u8; 10_000]), i + 1))
        });
        let r = patch(0, reqwest::Body::wrap_stream(trickle))
            .await
            .expect("slow chunk");
        assert_eq!(r.status(), StatusCode::OK);
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["received"], 100_000, "{body}");
        // 50 KB, then the line goes quiet: the chunk ends there and the 50 KB are kept.
        let stall = futures_util::stream::unfold(0, |i| async move {
            match i {
                0 => Some((Ok::<_, std::io::Error>(vec![7u8; 50_000]), 1)),
                1 => {
                    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
                    Some((Ok(vec![7u8; 10]), 2))
                }
                _ => None,
            }
        });
        let _ = patch(100_000, reqwest::Body::wrap_stream(stall)).await;
        let (_, status) = worker.json(&format!("/api/v1/uploads/{id}")).await;
        assert_eq!(status["received"], 150_000, "{status}");
        app.finish().await;
    }
}

/// A stored text longer than an Excel cell holds (written before limits, or by hand) no longer
/// breaks the export for everyone above the unit: the cell is cut and marked.
#[tokio::test]
async fn over_long_stored_text_never_breaks_an_export() {
    each_backend(|app| async move {
        let district = app
            .signed_in(&app.user(Role::UnitAdmin, "和平区总工会").await)
            .await;
        let (status, _) = district
            .send_json(
                reqwest::Method::POST,
                "/api/v1/activities",
                &report_json("2020-06-20T09:00"),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        app.sql(&format!(
            "UPDATE activities SET name = '{}'",
            "长".repeat(33_000)
        ))
        .await;
        let admin = app.admin().await;
        let r = admin.get("/activities/export").await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.expect("xlsx");
        use calamine::{DataType, Reader};
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
                .expect("a workbook");
        let sheet = book
            .worksheet_range_at(0)
            .expect("a sheet")
            .expect("readable");
        let cut = sheet
            .cells()
            .filter_map(|(_, _, c)| c.as_string())
            .find(|t| t.starts_with("长长长"))
            .expect("the long name is there");
        assert!(cut.ends_with("已截断）"), "marked as cut");
        assert!(cut.chars().count() <= 32_767);
    })
    .await;
}
