//! Staff accounts in bulk and edited afterwards (issue 12, item 3): an Excel roster makes many
//! accounts at once, all or none, with every row's problem named; the one-time passwords come
//! back once, in the answer's sheet only; an admin changes an account's name, role and unit
//! within its own reach, audited.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Agent, each_backend, location};
use wangju::domain::role::Role;

const HEADER: [&str; 5] = ["登录名", "姓名", "角色", "所属单位", "电子邮箱"];

fn roster(rows: &[[&str; 5]]) -> Vec<u8> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    wangju::office::tabular::write_xlsx("账号", &HEADER, &rows).expect("xlsx")
}

async fn import_api(agent: &Agent, bytes: Vec<u8>) -> (StatusCode, Value, Option<String>) {
    let r = agent
        .client
        .post(format!("{}/api/v1/users/import", agent.base))
        .header("x-csrf-token", &agent.csrf)
        .body(bytes)
        .send()
        .await
        .expect("POST");
    let status = r.status();
    let cache = r
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (status, r.json().await.unwrap_or(Value::Null), cache)
}

async fn org_id(app: &crate::harness::TestApp, name: &str) -> i64 {
    wangju::db::orgs::find_by_name(&app.state.db, name)
        .await
        .expect("query")
        .expect("org exists")
        .id
        .get()
}

#[tokio::test]
async fn a_roster_makes_every_account_or_none_and_names_each_bad_row() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let before = app.count("users").await;
        let (status, body, _) = import_api(
            &admin,
            roster(&[
                ["hexi-a", "张一", "基层工会管理员", "河西区总工会", ""],
                ["hexi-a", "张二", "职工", "河西区总工会", ""],
                ["nk-b", "李三", "总指挥", "南开区总工会", ""],
                [
                    "nk-c",
                    "王四",
                    "单位管理员",
                    "不存在的工会",
                    "not-an-address",
                ],
                ["admin", "赵五", "职工", "南开区总工会", ""],
            ]),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let text = body.to_string();
        for expected in [
            "第 3 行",
            "在文件中重复",
            "第 4 行",
            "“总指挥”不认识",
            "第 5 行",
            "不存在的工会",
            "电子邮箱“not-an-address”",
            "第 6 行",
            "“admin”已被使用",
        ] {
            assert!(text.contains(expected), "missing {expected}: {text}");
        }
        assert_eq!(app.count("users").await, before, "nothing written");

        let (status, body, cache) = import_api(
            &admin,
            roster(&[
                [
                    "hexi-a",
                    "张一",
                    "基层工会管理员",
                    "河西区总工会",
                    "zhang@example.cn",
                ],
                ["nk-b", "李三", "unit_admin", "南开区总工会", ""],
            ]),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(cache.as_deref(), Some("no-store"));
        let made = body.as_array().expect("list");
        assert_eq!(made.len(), 2);
        assert_eq!(made[0]["role"], "基层工会管理员");
        assert_eq!(made[1]["org"], "南开区总工会");
        // The one-time password signs in and must be changed first.
        let otp = made[0]["password"].as_str().expect("password").to_string();
        let mut newcomer = app.agent();
        let r = newcomer.login("hexi-a", &otp).await;
        assert_eq!(location(&r), "/account/password");
        // The list finds them by login or name, and pages by id (no login in the link).
        let (_, page) = admin.text("/users?q=%E6%9D%8E%E4%B8%89").await;
        assert!(
            page.contains("nk-b") && !page.contains(">hexi-a<"),
            "{page}"
        );
        assert!(page.contains("“李三”：1 个账号"), "{page}");
        let (_, page) = admin.text("/users?q=hexi-").await;
        assert!(page.contains(">hexi-a<") && page.contains("：1 个账号"));
        let last = wangju::db::testing::scalar::<i64>(&app.state.db, "SELECT MAX(id) FROM users")
            .await
            .expect("max id");
        let (status, page) = admin.text(&format!("/users?after={last}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains(">hexi-a<") && !page.contains("id=\"next-page\""));
        let (status, _) = admin.text("/users?after=abc").await;
        assert!(status.is_client_error(), "{status}");
        // Every account made is in the audit log, saying it came from an import.
        let (_, entries) = admin.json("/api/v1/audit?action=user.create").await;
        let via_import = entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e.to_string().contains("account_import"))
            .count();
        assert_eq!(via_import, 2, "{entries}");
        // The plain password is stored nowhere.
        for table in ["users", "audit_log"] {
            let hits = wangju::db::testing::scalar::<i64>(
                &app.state.db,
                &format!(
                    "SELECT COUNT(*) FROM {table} WHERE CAST({} AS TEXT) LIKE '%{otp}%'",
                    if table == "users" {
                        "password_hash"
                    } else {
                        "after_json"
                    }
                ),
            )
            .await
            .unwrap_or(-1);
            assert_eq!(hits, 0, "{table}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_page_import_answers_with_the_password_sheet_once() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let r = admin
            .upload(
                "/users/import",
                "账号.xlsx",
                roster(&[
                    ["bd-a", "钱一", "职工", "河西区总工会", ""],
                    ["bd-b", "钱二", "职工", "河西区总工会", ""],
                    ["bd-c", "钱三", "审核员", "天津市总工会", ""],
                ]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers().clone();
        assert_eq!(h["x-wangju-created"], "3");
        assert_eq!(h["cache-control"], "no-store");
        assert!(
            h["content-disposition"]
                .to_str()
                .unwrap_or_default()
                .contains("attachment"),
        );
        let bytes = r.bytes().await.expect("body");
        let table = wangju::office::tabular::read(&bytes).expect("a workbook");
        // Under the sheet's title rows: the header, then one row per account.
        let lines: Vec<&[String]> = table.lines().map(|(_, cells)| cells).collect();
        let header = lines
            .iter()
            .position(|c| c.iter().any(|h| h == "一次性密码"))
            .expect("a header with the password column");
        let password_column = lines[header]
            .iter()
            .position(|h| h == "一次性密码")
            .expect("password column");
        let logins: Vec<&str> = lines[header + 1..]
            .iter()
            .filter_map(|cells| cells.get(1).map(String::as_str))
            .filter(|l| l.starts_with("bd-"))
            .collect();
        assert_eq!(logins, ["bd-a", "bd-b", "bd-c"], "{table:?}");
        let first = lines[header + 1..]
            .iter()
            .find(|c| c.get(1).map(String::as_str) == Some("bd-a"))
            .expect("row");
        let otp = first[password_column].clone();
        let mut newcomer = app.agent();
        let r = newcomer.login("bd-a", &otp).await;
        assert_eq!(location(&r), "/account/password");

        // A file with errors comes back as the page, naming the row.
        let r = admin
            .upload(
                "/users/import",
                "账号.xlsx",
                roster(&[["x", "钱四", "职工", "河西区总工会", ""]]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap_or_default();
        assert!(
            html.contains("第 2 行") && html.contains("登录名“x”"),
            "{html}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_unit_admin_imports_and_edits_only_within_its_reach() {
    each_backend(|app| async move {
        let unit = app.user(Role::UnitAdmin, "河西区总工会").await;
        let agent = app.signed_in(&unit).await;
        // Roles above its grant and units outside its district are refused by row.
        let (status, body, _) = import_api(
            &agent,
            roster(&[
                ["boss", "某某", "市总管理员", "河西区总工会", ""],
                ["spy", "某某", "职工", "南开区总工会", ""],
            ]),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let text = body.to_string();
        assert!(text.contains("不能建立“市总管理员”"), "{text}");
        assert!(text.contains("不在您的管理范围内"), "{text}");

        let (status, body, _) = import_api(
            &agent,
            roster(&[["hx-worker", "孙六", "职工", "河西区总工会", ""]]),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, list) = agent.json("/api/v1/users").await;
        let id = list
            .as_array()
            .into_iter()
            .flatten()
            .find(|u| u["login"] == "hx-worker")
            .map(|u| u["id"].as_i64().unwrap_or_default())
            .expect("listed");

        let hexi = org_id(&app, "河西区总工会").await;
        let nankai = org_id(&app, "南开区总工会").await;
        let path = format!("/api/v1/users/{id}/profile");
        // Renamed and made a grassroots admin: allowed only in a unit below its own.
        let (status, body) = agent
            .send_json(
                Method::PUT,
                &path,
                &json!({"display_name": "孙六六", "role": "grassroots_admin", "org_id": hexi}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains("管不到"), "{body}");
        // Moved out of the district: refused.
        let (status, _) = agent
            .send_json(
                Method::PUT,
                &path,
                &json!({"display_name": "孙六六", "role": "worker", "org_id": nankai}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        // Renamed within its reach: saved and audited with before and after.
        let (status, body) = agent
            .send_json(
                Method::PUT,
                &path,
                &json!({"display_name": "孙六六", "role": "worker", "org_id": hexi}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["display_name"], "孙六六");
        let admin = app.admin().await;
        let (_, entries) = admin.json("/api/v1/audit?action=user.profile").await;
        let entry = entries
            .as_array()
            .and_then(|e| e.first())
            .cloned()
            .unwrap_or(Value::Null);
        let text = entry.to_string();
        assert!(text.contains("孙六") && text.contains("孙六六"), "{text}");
        // One's own role is not one's own to change.
        let own = wangju::db::users::by_login(&app.state.db, &unit)
            .await
            .expect("query")
            .expect("account")
            .id
            .get();
        let (status, body) = agent
            .send_json(
                Method::PUT,
                &format!("/api/v1/users/{own}/profile"),
                &json!({"display_name": "测试", "role": "worker", "org_id": hexi}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    })
    .await;
}
