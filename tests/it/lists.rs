//! Daily work at campaign scale (issue 12): bulk approval and confirmation with a result per
//! report, and activity lists that page by keyset with a total, filters, search and an export
//! of what the filter shows.

use std::collections::HashSet;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wangju::domain::role::Role;

use crate::harness::{Agent, TestApp, each_backend};

/// Inserts a report of `org` directly (as a seed would), returning its id.
async fn insert_activity(
    app: &TestApp,
    org: &str,
    name: &str,
    place: &str,
    starts_at: &str,
    status: &str,
) -> i64 {
    let document = json!({"name": name, "starts_at": starts_at, "place": place, "format": "知识竞赛",
        "categories": ["网络安全知识技能"], "participants": 30});
    app.sql(&format!(
        "INSERT INTO activities (campaign_id, org_id, status, document, name, starts_at, participants, created_at, updated_at)
         VALUES ((SELECT MAX(id) FROM campaigns), (SELECT id FROM orgs WHERE name = '{org}'), '{status}', '{document}',
                 '{name}', '{starts_at}', 30, 1593561600, 1593561600)"
    ))
    .await;
    wangju::db::testing::scalar::<i64>(
        &app.state.db,
        &format!("SELECT MAX(id) FROM activities WHERE name = '{name}'"),
    )
    .await
    .expect("inserted")
}

async fn status_of(app: &TestApp, id: i64) -> (String, i64) {
    let status = wangju::db::testing::scalar::<String>(
        &app.state.db,
        &format!("SELECT status FROM activities WHERE id = {id}"),
    )
    .await
    .expect("status");
    let version = wangju::db::testing::scalar::<i64>(
        &app.state.db,
        &format!("SELECT version FROM activities WHERE id = {id}"),
    )
    .await
    .expect("version");
    (status, version)
}

async fn confirms(app: &TestApp) -> i64 {
    wangju::db::testing::scalar::<i64>(
        &app.state.db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'activity.confirm'",
    )
    .await
    .expect("count")
}

fn outcome(body: &Value, id: i64) -> &Value {
    body["results"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == id))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn bulk_confirm_refuses_what_changed_meanwhile_and_does_the_rest() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let mut ids = Vec::new();
        for n in 0..5 {
            ids.push(
                insert_activity(
                    &app,
                    "和平区总工会",
                    &format!("网络安全宣讲{n}"),
                    "和平区职工之家",
                    &format!("2020-06-1{n}T09:00"),
                    "approved",
                )
                .await,
            );
        }
        let draft = insert_activity(
            &app,
            "河西区总工会",
            "草稿活动",
            "河西",
            "2020-06-20T09:00",
            "draft",
        )
        .await;
        // What the admin saw: every report at version 1. Meanwhile one was edited and sent
        // again (a new version) and one was returned.
        let (stale, returned) = (ids[1], ids[3]);
        app.sql(&format!(
            "UPDATE activities SET version = 2 WHERE id = {stale}"
        ))
        .await;
        app.sql(&format!(
            "UPDATE activities SET status = 'returned', return_reason = '请补充照片' WHERE id = {returned}"
        ))
        .await;
        let mut items: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "version": 1}))
            .collect();
        items.push(json!({"id": draft, "version": 1}));
        items.push(json!({"id": 999_999, "version": 1}));
        let request = json!({"step": "confirm", "items": items});
        let (s, body) = admin
            .send_json(Method::POST, "/api/v1/activities/bulk-transitions", &request)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["tally"], json!({"done": 3, "already": 0, "refused": 4}));
        assert_eq!(outcome(&body, stale)["reason"], "stale_version");
        assert!(
            outcome(&body, stale)["message"]
                .as_str()
                .unwrap_or_default()
                .contains("第 1 版"),
            "{body}"
        );
        assert_eq!(outcome(&body, returned)["reason"], "wrong_state");
        assert_eq!(outcome(&body, draft)["reason"], "wrong_state");
        assert_eq!(outcome(&body, 999_999)["reason"], "not_found");
        // The refused ones are as they were; the others are confirmed, one audit entry each.
        assert_eq!(status_of(&app, stale).await, ("approved".into(), 2));
        assert_eq!(status_of(&app, returned).await, ("returned".into(), 1));
        assert_eq!(status_of(&app, draft).await, ("draft".into(), 1));
        for id in [ids[0], ids[2], ids[4]] {
            assert_eq!(outcome(&body, id)["outcome"], "done");
            assert_eq!(status_of(&app, id).await, ("confirmed".into(), 1));
        }
        assert_eq!(
            confirms(&app).await,
            3
        );
        // A retry of the same request changes nothing and says the three were done before.
        let (s, body) = admin
            .send_json(Method::POST, "/api/v1/activities/bulk-transitions", &request)
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["tally"], json!({"done": 0, "already": 3, "refused": 4}));
        assert_eq!(
            confirms(&app).await,
            3
        );
        // Return is one at a time, with its reason.
        let (s, body) = admin
            .send_json(
                Method::POST,
                "/api/v1/activities/bulk-transitions",
                &json!({"step": "return", "items": [{"id": stale}]}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains("逐条"), "{body}");

        // A district approves from its page: its own subtree only; another district's report
        // reads as missing.
        let heping_unit = insert_activity(
            &app,
            "和平区总工会",
            "和平区下级报送",
            "和平",
            "2020-06-21T09:00",
            "submitted",
        )
        .await;
        let hexi = insert_activity(
            &app,
            "河西区总工会",
            "河西区报送",
            "河西",
            "2020-06-22T09:00",
            "submitted",
        )
        .await;
        // A unit admin does not approve its own unit's report: move it to a unit below.
        let heping_id = wangju::db::testing::scalar::<i64>(
            &app.state.db,
            "SELECT id FROM orgs WHERE name = '和平区总工会'",
        )
        .await
        .expect("org");
        let (s, created) = admin
            .send_json(
                Method::POST,
                "/api/v1/orgs",
                &json!({"name": "和平区某公司工会", "kind": "grassroots", "parent_id": heping_id}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        app.sql(&format!(
            "UPDATE activities SET org_id = (SELECT id FROM orgs WHERE name = '和平区某公司工会') WHERE id = {heping_unit}"
        ))
        .await;
        let district = app
            .signed_in(&app.user(Role::UnitAdmin, "和平区总工会").await)
            .await;
        let (s, html) = district.text("/activities?status=submitted").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(&format!("value=\"{heping_unit}:1\"")), "{html}");
        assert!(!html.contains("河西区报送"));
        let picked = format!("{heping_unit}:1");
        let hexi_pick = format!("{hexi}:1");
        let r = district
            .post_form(
                "/activities/bulk",
                &[
                    ("step", "approve"),
                    ("what", "picked"),
                    ("status", "submitted"),
                    ("pick", &picked),
                    ("pick", &hexi_pick),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap_or_default();
        assert!(html.contains("完成 1 个") && html.contains("未处理 1 个"), "{html}");
        assert!(html.contains("不在您的管理范围内"), "{html}");
        assert_eq!(status_of(&app, heping_unit).await.0, "approved");
        assert_eq!(status_of(&app, hexi).await.0, "submitted");

        // "All matching the filter": what changed after the list was shown is refused.
        let later = insert_activity(
            &app,
            "河西区总工会",
            "河西区报送二",
            "河西",
            "2020-06-23T09:00",
            "submitted",
        )
        .await;
        app.sql(&format!(
            "UPDATE activities SET updated_at = 1593561700 WHERE id = {later}"
        ))
        .await;
        let r = admin
            .post_form(
                "/activities/bulk",
                &[
                    ("step", "confirm"),
                    ("what", "all"),
                    ("status", "submitted"),
                    ("seen_at", "1593561650"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap_or_default();
        assert!(html.contains("完成 1 个") && html.contains("未处理 1 个"), "{html}");
        assert!(html.contains("您打开列表之后"), "{html}");
        assert_eq!(status_of(&app, hexi).await.0, "confirmed");
        assert_eq!(status_of(&app, later).await.0, "submitted");
    })
    .await;
}

/// The ids a list page links to, and its next page's address.
fn page_of(html: &str) -> (Vec<i64>, Option<String>) {
    let ids = html
        .split("data-label=\"活动名称\"><a href=\"/activities/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect();
    let next = html.split("\" id=\"next-page\"").next().and_then(|before| {
        if before.len() == html.len() {
            return None;
        }
        before
            .rsplit("href=\"")
            .next()
            // Askama writes `&` in an attribute as `&#38;`; a browser reads it back as `&`.
            .map(|h| {
                h.replace("&amp;", "&")
                    .replace("&#38;", "&")
                    .replace("&#x2f;", "/")
            })
    });
    (ids, next)
}

async fn walk(agent: &Agent, first: &str) -> Vec<i64> {
    let mut all = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(path) = next {
        let (s, html) = agent.text(&path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {html}");
        let (ids, n) = page_of(&html);
        all.extend(ids);
        next = n;
        pages += 1;
        assert!(pages < 100, "the pages end");
    }
    all
}

#[tokio::test]
async fn lists_page_by_keyset_filter_search_and_export_what_they_show() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        // 130 reports, many sharing a start time (the id breaks ties), in two districts.
        let mut expected = HashSet::new();
        let mut dongli = HashSet::new();
        for n in 0..130 {
            let (org, place) = if n % 3 == 0 {
                ("东丽区总工会", "东丽湖_会展中心")
            } else {
                ("南开区总工会", "南开区职工之家")
            };
            let id = insert_activity(
                &app,
                org,
                &format!("知识竞赛第{n}场"),
                place,
                &format!("2020-06-{:02}T09:00", 1 + n % 7),
                "submitted",
            )
            .await;
            expected.insert(id);
            if n % 3 == 0 {
                dongli.insert(id);
            }
        }
        let (s, html) = admin.text("/activities").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("共 130 条"), "{html}");
        let seen = walk(&admin, "/activities").await;
        assert_eq!(seen.len(), 130, "every row once");
        assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), expected);

        // Search by place, literally (the `_` is not a wildcard).
        let seen = walk(&admin, "/activities?q=%E4%B8%9C%E4%B8%BD%E6%B9%96_").await;
        assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), dongli);
        assert_eq!(seen.len(), dongli.len());
        let (_, html) = admin.text("/activities?q=%E6%B9%96x").await;
        assert!(html.contains("共 0 条"), "{html}");
        // By unit (its subtree), with a date range.
        let dongli_id = wangju::db::testing::scalar::<i64>(
            &app.state.db,
            "SELECT id FROM orgs WHERE name = '东丽区总工会'",
        )
        .await
        .expect("org");
        let seen = walk(
            &admin,
            &format!("/activities?org={dongli_id}&from=2020-06-01&to=2020-06-03"),
        )
        .await;
        assert!(!seen.is_empty());
        assert!(seen.iter().all(|id| dongli.contains(id)));

        // A tampered cursor, or one from another filter, is refused in Chinese.
        let (_, html) = admin.text("/activities").await;
        let (_, next) = page_of(&html);
        let next = next.expect("a second page");
        let cursor = next.split("cursor=").nth(1).unwrap_or_default().to_string();
        let mut tampered = cursor.clone();
        let last = tampered
            .pop()
            .map_or('0', |c| if c == '0' { '1' } else { '0' });
        tampered.push(last);
        let (s, html) = admin.text(&format!("/activities?cursor={tampered}")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("翻页参数无效"), "{html}");
        let (s, _) = admin
            .text(&format!("/activities?status=draft&cursor={cursor}"))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = admin.text("/activities?cursor=not-a-cursor").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // The export holds what the filter shows, with the district of each unit.
        let r = admin
            .get(&format!("/activities/export?org={dongli_id}"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.expect("body");
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("a workbook");
        let range = book.worksheet_range("线下活动").expect("sheet");
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        let header = rows.first().cloned().unwrap_or_default();
        let district = header.iter().position(|h| h == "所属区").expect("所属区");
        assert_eq!(rows.len() - 1, dongli.len());
        assert!(rows.iter().skip(1).all(|r| r[district] == "东丽区总工会"));
    })
    .await;
}

/// Inserts `n` works of `org` (each with its own checked upload), titled `{title}{i}`, by the
/// author `author`, all submitted at the same second `at` (the id breaks ties).
async fn insert_works(
    app: &TestApp,
    org: &str,
    title: &str,
    author: &str,
    n: usize,
    at: i64,
) -> Vec<i64> {
    let owner = app.user(Role::Worker, org).await;
    let mut ids = Vec::new();
    for i in 0..n {
        let upload = format!("{title}-{i}-{at}").replace(|c: char| !c.is_ascii_alphanumeric(), "x");
        app.sql(&format!(
            "INSERT INTO uploads (id, owner_id, campaign_id, sub_project, file_name, size_bytes, received, state, created_at, updated_at)
             VALUES ('{upload}', (SELECT id FROM users WHERE login = '{owner}'), (SELECT MAX(id) FROM campaigns), 'micro-video',
                     'v.mp4', 10, 10, 'checked', {at}, {at})"
        ))
        .await;
        app.sql(&format!(
            "INSERT INTO works (campaign_id, sub_project, org_id, owner_id, filed_by, title, authors, contact_phone, description,
                 status, upload_id, originality_version, originality_at, portrait_version, portrait_at, subtitles_declared,
                 submitted_at, created_at, updated_at)
             VALUES ((SELECT MAX(id) FROM campaigns), 'micro-video', (SELECT id FROM orgs WHERE name = '{org}'),
                 (SELECT id FROM users WHERE login = '{owner}'), (SELECT id FROM users WHERE login = '{owner}'),
                 '{title}{i}', '[\"{author}\"]', '13800001111', '说明', 'submitted', '{upload}', 'v1', {at}, 'v1', {at}, 0,
                 {at}, {at}, {at})"
        ))
        .await;
        ids.push(
            wangju::db::testing::scalar::<i64>(
                &app.state.db,
                &format!("SELECT id FROM works WHERE upload_id = '{upload}'"),
            )
            .await
            .expect("inserted"),
        );
    }
    ids
}

/// The work ids a works page links to, and its next page's address.
fn works_page_of(html: &str) -> (Vec<i64>, Option<String>) {
    let ids = html
        .split("data-label=\"作品\"><a href=\"/works/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect();
    (ids, page_of(html).1)
}

async fn walk_works(agent: &Agent, first: &str) -> Vec<i64> {
    let mut all = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(path) = next {
        let (s, html) = agent.text(&path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {html}");
        let (ids, n) = works_page_of(&html);
        assert!(ids.len() <= 100, "a page holds at most 100");
        all.extend(ids);
        pages += 1;
        assert!(
            pages < 10,
            "the pages end: {path} → {n:?}, {} seen",
            all.len()
        );
        next = n;
    }
    all
}

#[tokio::test]
async fn the_works_list_pages_searches_narrows_to_a_unit_and_exports_what_it_shows() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        // 150 works in 南开 and 60 in 东丽, most sharing one submission second.
        let nankai = insert_works(
            &app,
            "南开区总工会",
            "南开微视频",
            "李南开",
            150,
            1_593_561_600,
        )
        .await;
        let dongli = insert_works(
            &app,
            "东丽区总工会",
            "东丽_专题片",
            "王东丽",
            60,
            1_593_561_600,
        )
        .await;
        let (s, html) = admin.text("/works").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("共 210 件"), "{html}");
        let seen = walk_works(&admin, "/works").await;
        assert_eq!(seen.len(), 210, "every work once");
        let all: HashSet<i64> = nankai.iter().chain(&dongli).copied().collect();
        assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), all);

        // Search by title (literally: `_` is no wildcard), by author, and none.
        let seen = walk_works(&admin, "/works?q=%E4%B8%9C%E4%B8%BD_").await;
        assert_eq!(
            seen.iter().copied().collect::<HashSet<_>>(),
            dongli.iter().copied().collect()
        );
        let seen = walk_works(&admin, "/works?q=%E6%9D%8E%E5%8D%97%E5%BC%80").await;
        assert_eq!(seen.len(), 150, "by the author's name");
        let (_, html) = admin.text("/works?q=%E4%B8%9C%E4%B8%BDx").await;
        assert!(html.contains("共 0 件"), "{html}");

        // By unit: its subtree only.
        let dongli_id = wangju::db::testing::scalar::<i64>(
            &app.state.db,
            "SELECT id FROM orgs WHERE name = '东丽区总工会'",
        )
        .await
        .expect("org");
        let seen = walk_works(&admin, &format!("/works?org={dongli_id}")).await;
        assert_eq!(seen.len(), 60);

        // A unit admin sees its own units' works, whatever it asks for.
        let heping = app
            .signed_in(&app.user(Role::UnitAdmin, "东丽区总工会").await)
            .await;
        let seen = walk_works(&heping, "/works").await;
        assert_eq!(
            seen.iter().copied().collect::<HashSet<_>>(),
            dongli.iter().copied().collect()
        );

        // A tampered cursor, or one carried to another filter, is refused in Chinese.
        let (_, html) = admin.text("/works").await;
        let next = works_page_of(&html).1.expect("a second page");
        let cursor = next.split("cursor=").nth(1).unwrap_or_default().to_string();
        let mut tampered = cursor.clone();
        let last = tampered
            .pop()
            .map_or('0', |c| if c == '0' { '1' } else { '0' });
        tampered.push(last);
        let (s, html) = admin.text(&format!("/works?cursor={tampered}")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("翻页参数无效"), "{html}");
        let (s, _) = admin.text(&format!("/works?q=x&cursor={cursor}")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        // The export: the filtered works, titled, numbered, with each unit's district.
        let r = admin.get(&format!("/works/export?org={dongli_id}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let disposition = r.headers()[reqwest::header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap_or_default()
            .to_string();
        assert!(disposition.contains("wangju-2020-works-"), "{disposition}");
        let bytes = r.bytes().await.expect("body");
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("a workbook");
        let range = book.worksheet_range("作品清单").expect("sheet");
        let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
        let header_at = rows
            .iter()
            .position(|r| {
                r.iter()
                    .any(|c| matches!(c, Data::String(t) if t == "所属区"))
            })
            .expect("a header row");
        assert!(header_at > 0, "a title above the header");
        let header: Vec<String> = rows[header_at].iter().map(|c| c.to_string()).collect();
        let district = header.iter().position(|h| h == "所属区").expect("所属区");
        let data: Vec<&Vec<Data>> = rows[header_at + 1..]
            .iter()
            .filter(|r| matches!(r.first(), Some(Data::Float(_) | Data::Int(_))))
            .collect();
        assert_eq!(data.len(), 60, "one numbered row per work");
        assert!(
            data.iter()
                .all(|r| matches!(&r[district], Data::String(t) if t == "东丽区总工会"))
        );
        assert!(
            data.iter()
                .all(|r| r[1].to_string().starts_with("东丽_专题片"))
        );

        // A worker (the author of 东丽's works) lists their own works but exports nothing.
        let worker = app.signed_in(&format!("worker-{dongli_id}")).await;
        let r = worker.get("/works/export").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    })
    .await;
}
