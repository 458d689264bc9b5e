//! The access matrix: every route of the route table × every role (and anonymous) × an org
//! outside the account's scope. New routes join automatically, because the table the router
//! is built from is the table walked here; a route with a path parameter the matrix does not
//! know fails the test until the matrix learns how to fill it.

use reqwest::{Method, StatusCode};
use serde_json::json;
use wangju::domain::role::Role;
use wangju::http::routes;

use crate::harness::{Agent, PASSWORD, TestApp, each_backend, location};

/// What must never reach an account outside the secret subtree.
const SECRET_ORG: &str = "南开秘密公司工会";
const SECRET_PHONE: &str = "13911112222";
const SECRET_USER_NAME: &str = "南开秘密人";
const SECRET_USER_PHONE: &str = "13933334444";
const SECRET_ACTIVITY: &str = "南开秘密知识竞赛";
const SECRET_PROPAGANDIST: &str = "南开秘密宣传员";
const SECRET_WORK: &str = "南开秘密微视频";
const SECRET_NOTE: &str = "南开秘密催报附言";
const SECRET_NOMINEE: &str = "南开秘密榜样";
const SECRET_LECTURE: &str = "南开秘密宣讲";

struct Actor {
    role: Option<Role>,
    login: Option<String>,
    agent: Agent,
    /// Whether the secret subtree is inside this account's scope.
    sees_secret: bool,
}

async fn snapshot(app: &TestApp, secret_path: &str) -> Vec<String> {
    let orgs = format!(
        "SELECT CAST(id AS TEXT) || '|' || name || '|' || path || '|' || COALESCE(contact_phone, '') FROM orgs WHERE path LIKE '{secret_path}%' ORDER BY id"
    );
    let users = format!(
        "SELECT u.login || '|' || u.display_name || '|' || COALESCE(u.phone, '') || '|' || u.password_hash || '|' || CAST(u.disabled AS TEXT) || '|' || CAST(u.failed_logins AS TEXT) || '|' || u.role \
         FROM users u JOIN orgs o ON o.id = u.org_id WHERE o.path LIKE '{secret_path}%' ORDER BY u.id"
    );
    let activities = format!(
        "SELECT CAST(a.id AS TEXT) || '|' || a.status || '|' || a.document || '|' || CAST(a.version AS TEXT) \
         FROM activities a JOIN orgs o ON o.id = a.org_id WHERE o.path LIKE '{secret_path}%' ORDER BY a.id"
    );
    let quotas = format!(
        "SELECT CAST(q.org_id AS TEXT) || '|' || CAST(q.min_activities AS TEXT) FROM quotas q JOIN orgs o ON o.id = q.org_id \
         WHERE o.path LIKE '{secret_path}%' ORDER BY q.org_id"
    );
    let propagandists = format!(
        "SELECT p.name || '|' || COALESCE(p.phone, '') || '|' || CAST(p.org_id AS TEXT) || '|' || COALESCE(CAST(p.removed_at AS TEXT), '') FROM propagandists p JOIN orgs o ON o.id = p.org_id \
         WHERE o.path LIKE '{secret_path}%' ORDER BY p.id"
    );
    let works = format!(
        "SELECT CAST(w.id AS TEXT) || '|' || w.status || '|' || w.title || '|' || w.upload_id || '|' || COALESCE(w.decision_reason, '') \
         FROM works w JOIN orgs o ON o.id = w.org_id WHERE o.path LIKE '{secret_path}%' ORDER BY w.id"
    );
    let uploads = format!(
        "SELECT up.id || '|' || CAST(up.received AS TEXT) || '|' || up.state FROM uploads up JOIN users u ON u.id = up.owner_id \
         JOIN orgs o ON o.id = u.org_id WHERE o.path LIKE '{secret_path}%' ORDER BY up.id"
    );
    let participations = format!(
        "SELECT CAST(p.id AS TEXT) || '|' || p.work_title FROM participations p JOIN orgs o ON o.id = p.org_id \
         WHERE o.path LIKE '{secret_path}%' ORDER BY p.id"
    );
    let reminders = format!(
        "SELECT CAST(r.id AS TEXT) || '|' || r.message || '|' || COALESCE(r.note, '') || '|' || \
         CAST((SELECT COUNT(*) FROM reminder_reads x WHERE x.reminder_id = r.id) AS TEXT) \
         FROM reminders r JOIN orgs o ON o.id = r.org_id WHERE o.path LIKE '{secret_path}%' ORDER BY r.id"
    );
    let photos = format!(
        "SELECT CAST(p.id AS TEXT) || '|' || p.image_key FROM activity_photos p JOIN activities a ON a.id = p.activity_id \
         JOIN orgs o ON o.id = a.org_id WHERE o.path LIKE '{secret_path}%' ORDER BY p.id"
    );
    let nominations = format!(
        "SELECT CAST(n.id AS TEXT) || '|' || n.status || '|' || n.name || '|' || CAST(n.version AS TEXT) || '|' || COALESCE(n.union_decision, '') || '|' || COALESCE(n.liaison_decision, '') \
         FROM model_nominations n JOIN orgs o ON o.id = n.org_id WHERE o.path LIKE '{secret_path}%' ORDER BY n.id"
    );
    let lectures = format!(
        "SELECT CAST(l.id AS TEXT) || '|' || l.status || '|' || l.topic || '|' || COALESCE(CAST(l.activity_id AS TEXT), '') || '|' || \
         COALESCE(CAST(l.views_claimed AS TEXT), '') || '|' || COALESCE(l.views_screenshot, '') || '|' || l.online_link || '|' || \
         CAST((SELECT COUNT(*) FROM lecture_assignments x WHERE x.lecture_id = l.id) AS TEXT) \
         FROM lectures l JOIN orgs o ON o.id = l.org_id WHERE o.path LIKE '{secret_path}%' ORDER BY l.id"
    );
    // The showcase choices (issue 15): nobody outside the subtree shows its works or activities.
    let shown = format!(
        "SELECT s.kind || '|' || CAST(s.item_id AS TEXT) FROM showcase_items s \
         LEFT JOIN works w ON s.kind = 'work' AND w.id = s.item_id LEFT JOIN activities a ON s.kind = 'activity' AND a.id = s.item_id \
         JOIN orgs o ON o.id = COALESCE(w.org_id, a.org_id) WHERE o.path LIKE '{secret_path}%' ORDER BY 1"
    );
    let mut rows = Vec::new();
    for q in [
        nominations,
        lectures,
        orgs,
        users,
        activities,
        quotas,
        propagandists,
        works,
        uploads,
        participations,
        reminders,
        photos,
        shown,
    ] {
        let part: Vec<String> = wangju::db::testing::column(&app.state.db, &q)
            .await
            .expect("snapshot");
        rows.extend(part);
    }
    rows
}

/// The secret subtree's objects the matrix aims at.
struct Targets {
    org: i64,
    user: i64,
    activity: i64,
    reminder: i64,
    photo: i64,
    work: i64,
    upload: String,
    propagandist: i64,
    nomination: i64,
    lecture: i64,
}

async fn sqlx_scalar(app: &TestApp, sql: &str) -> i64 {
    wangju::db::testing::scalar(&app.state.db, sql)
        .await
        .expect("scalar")
}

fn fill(path: &str, t: &Targets) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e);
        let value = match &rest[start + 1..end] {
            "org_id" => t.org.to_string(),
            "user_id" => t.user.to_string(),
            "activity_id" => t.activity.to_string(),
            "work_id" => t.work.to_string(),
            "upload_id" => t.upload.clone(),
            "reminder_id" => t.reminder.to_string(),
            "photo_id" => t.photo.to_string(),
            "propagandist_id" => t.propagandist.to_string(),
            "nomination_id" => t.nomination.to_string(),
            "lecture_id" => t.lecture.to_string(),
            // Team members are the city's, public by design: any id; the gate and "not found" apply.
            "member_id" => "1".to_string(),
            // Selection objects that do not exist: refused by the gate or answered 404.
            "assignment_id" | "round_id" => "999999".to_string(),
            "code" => "micro-video".to_string(),
            // Summary sections are the city's: any section; the gate applies.
            "section" => "overview".to_string(),
            // 公示 are the city's, not a subtree's: any id; the gate and "not found" apply.
            "publicity_id" | "objection_id" => "1".to_string(),
            // A forged check-in code: must be refused, never resolve to an activity.
            "token" => "0123456789abcdef0123456789abcdef".to_string(),
            "file" => "app.css".to_string(),
            other => panic!(
                "the access matrix does not know the path parameter {{{other}}} of {path}: teach fill() which out-of-scope object to use"
            ),
        };
        out.push_str(&value);
        rest = &rest[(end + 1).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

async fn send(
    agent: &Agent,
    method: &Method,
    path: &str,
    secret_org: i64,
) -> (StatusCode, String, String) {
    let url = format!("{}{path}", agent.base);
    let hostile = [
        ("name", "泄漏测试单位".to_string()),
        ("kind", "grassroots".to_string()),
        ("parent_id", secret_org.to_string()),
        ("org_id", secret_org.to_string()),
        ("role", "worker".to_string()),
        ("login", "leak-probe".to_string()),
        ("display_name", "泄漏".to_string()),
        ("disabled", "1".to_string()),
        ("contact_phone", "13800000000".to_string()),
        ("current", PASSWORD.to_string()),
        ("new", "Another-Passw0rd!".to_string()),
        ("confirm", "Another-Passw0rd!".to_string()),
        ("_csrf", agent.csrf.clone()),
    ];
    let request = agent
        .client
        .request(method.clone(), &url)
        .header("x-csrf-token", &agent.csrf);
    let request = if *method == Method::GET {
        request
    } else if path.starts_with("/api/") {
        let body: serde_json::Map<String, serde_json::Value> = hostile
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    v.parse::<i64>().map_or(json!(v), |n| json!(n)),
                )
            })
            .collect();
        request.json(&body)
    } else {
        request.form(&hostile)
    };
    let r = request.send().await.expect("request");
    let status = r.status();
    let to = location(&r);
    (status, to, r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn no_route_leaks_across_scope() {
    each_backend(|app| async move {
        let admin = app.admin().await;
        let db = &app.state.db;
        let org_id = |name: &'static str| async move {
            wangju::db::orgs::find_by_name(db, name).await.ok().flatten().map_or(-1, |o| o.id.get())
        };
        // Our side: 河西区 with a grassroots union. The secret side: 南开区 with one.
        let hexi = org_id("河西区总工会").await;
        let nankai = org_id("南开区总工会").await;
        let (s, _) = admin.send_json(Method::POST, "/api/v1/orgs", &json!({"name": "河西甲公司工会", "kind": "grassroots", "parent_id": hexi})).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, secret) = admin
            .send_json(Method::POST, "/api/v1/orgs", &json!({"name": SECRET_ORG, "kind": "grassroots", "parent_id": nankai, "contact_name": "秘书", "contact_phone": SECRET_PHONE}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let secret_org = secret["id"].as_i64().unwrap_or_default();
        let secret_path = secret["path"].as_str().unwrap_or_default().to_string();
        let (s, created) = admin
            .send_json(Method::POST, "/api/v1/users", &json!({"login": "nankai-secret", "display_name": SECRET_USER_NAME, "phone": SECRET_USER_PHONE, "role": "worker", "org_id": secret_org}))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let secret_user = created["id"].as_i64().unwrap_or_default();
        let (s, created) = admin
            .send_json(
                Method::POST,
                "/api/v1/activities",
                &json!({"org_id": secret_org, "name": SECRET_ACTIVITY, "starts_at": "2020-06-20T09:00", "place": "秘密地点",
                        "format": "知识竞赛", "categories": ["网民素养教育"]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let secret_activity = created["id"].as_i64().unwrap_or_default();
        let photo = {
            let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90])));
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Jpeg).expect("encode");
            out.into_inner()
        };
        let r = admin.upload_files(&format!("/activities/{secret_activity}/photos"), "photos", vec![("secret.jpg", photo)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let secret_photo: i64 = sqlx_scalar(&app, &format!("SELECT MAX(id) FROM activity_photos WHERE activity_id = {secret_activity}")).await;
        let (s, body) = admin
            .send_json(Method::POST, "/api/v1/propagandists", &json!({"name": SECRET_PROPAGANDIST, "phone": "13955556666", "org_id": secret_org}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let secret_propagandist = body["id"].as_i64().unwrap_or_default();
        let (s, body) = admin
            .send_json(Method::POST, &format!("/api/v1/orgs/{secret_org}/reminders"), &json!({"note": SECRET_NOTE}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let secret_reminder = body["id"].as_i64().unwrap_or_default();

        // A secret worker's upload and work (a real video, checked by the server).
        let secret_worker = app.user(Role::Worker, SECRET_ORG).await;
        let worker = app.signed_in(&secret_worker).await;
        let video = std::fs::read(crate::media::files().path("ok.mp4")).expect("video");
        let upload = worker.upload_work("micro-video", "secret.mp4", &video, 1 << 20).await;
        assert_eq!(upload["verdict"], "accepted", "{upload}");
        let secret_upload = upload["id"].as_str().unwrap_or_default().to_string();
        let (s, body) = worker
            .send_json(
                Method::POST,
                "/api/v1/works",
                &json!({"sub_project": "micro-video", "upload_id": secret_upload, "title": SECRET_WORK, "authors": ["南开作者"],
                        "contact_phone": SECRET_USER_PHONE, "originality": true, "portrait": true, "subtitles": true}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let secret_work = body["id"].as_i64().unwrap_or_default();
        // The matrix uploads its own copy for the worker below, so the secret one stays untouched.
        // A 南开 union's model nomination (a district liaison of 河西 must not see or decide it).
        let nankai_admin = app.signed_in(&app.user(Role::UnitAdmin, "南开区总工会").await).await;
        let deeds = "长期在生产一线工作，坚持在网上传播正能量，发布原创技能短视频一百余条，累计播放量超过五十万次，积极参与网络谣言辟谣和网络安全知识宣传，带动身边职工依法文明上网，多次获得先进个人称号。".repeat(2);
        let r = nankai_admin
            .post_form(
                "/lecture-team/nominations",
                &[("name", SECRET_NOMINEE), ("phone", "13977778888"), ("workplace", "南开某厂"), ("post", "技师"), ("political_status", "群众"),
                  ("accounts", ""), ("deeds", &deeds), ("summary", "秘密简介"), ("links", ""), ("consent", "1")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let secret_nomination = sqlx_scalar(&app, "SELECT MAX(id) FROM model_nominations").await;
        let r = nankai_admin
            .post_form(
                "/lecture-team/lectures",
                &[("topic", SECRET_LECTURE), ("form", "专题培训"), ("venue_type", "进社区"), ("place", "南开某社区"),
                  ("starts_at", "2020-07-10T09:00"), ("ends_at", "2020-07-10T11:00")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let secret_lecture = sqlx_scalar(&app, "SELECT MAX(id) FROM lectures").await;
        let targets = Targets { org: secret_org, user: secret_user, activity: secret_activity, reminder: secret_reminder, photo: secret_photo, work: secret_work, upload: secret_upload, propagandist: secret_propagandist, nomination: secret_nomination, lecture: secret_lecture };

        let mut actors = vec![Actor { role: None, login: None, agent: app.agent(), sees_secret: false }];
        for (role, org) in [
            (Role::CoOrganiserLiaison, "中共天津市委网信办"),
            (Role::UnitAdmin, "河西区总工会"),
            (Role::GrassrootsAdmin, "河西甲公司工会"),
            (Role::Moderator, "河西甲公司工会"),
            (Role::Reviewer, "河西甲公司工会"),
            (Role::Worker, "河西甲公司工会"),
        ] {
            let login = if role == Role::Moderator { app.moderator(org).await } else { app.user(role, org).await };
            let agent = app.signed_in(&login).await;
            actors.push(Actor { role: Some(role), login: Some(login), agent, sees_secret: role.sees_everything() });
        }
        // A district 网信办 liaison (bound to 河西): scoped to its district like a unit, never the city.
        let district_liaison = app.user(Role::CoOrganiserLiaison, "河西区总工会").await;
        let agent = app.signed_in(&district_liaison).await;
        actors.push(Actor { role: Some(Role::CoOrganiserLiaison), login: Some(district_liaison), agent, sees_secret: false });
        actors[0].agent.refresh_csrf().await;

        let table = routes();
        assert!(table.len() >= 30, "the route table lists every route");
        let before = snapshot(&app, &secret_path).await;
        let mut checked = 0;
        for actor in &mut actors {
            let who = actor.role.map_or("anonymous", |r| r.code());
            for spec in &table {
                let path = fill(spec.path, &targets);
                let has_object = ["{org_id}", "{user_id}", "{activity_id}", "{work_id}", "{upload_id}", "{reminder_id}", "{photo_id}", "{nomination_id}", "{lecture_id}"].iter().any(|p| spec.path.contains(p));
                // Moderation is campaign-wide: moderators see every work (not uploads).
                let sees = actor.sees_secret
                    || (actor.role == Some(Role::Moderator) && spec.path.contains("{work_id}"));
                let (status, to, body) = send(&actor.agent, &spec.method, &path, secret_org).await;
                let what = format!("{who} {} {path} → {status}", spec.method);
                checked += 1;

                // 1. The gate: who may call the route at all.
                if !spec.access.admits(actor.role) {
                    match actor.role {
                        None if path.starts_with("/api/") => assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}"),
                        None => assert!(status == StatusCode::SEE_OTHER && to.starts_with("/login"), "{what} {to}"),
                        Some(_) => assert_eq!(status, StatusCode::FORBIDDEN, "{what}"),
                    }
                } else if has_object && !sees {
                    // 2. Objects outside the scope do not exist.
                    assert!(
                        status == StatusCode::NOT_FOUND || (spec.method != Method::GET && status == StatusCode::UNPROCESSABLE_ENTITY),
                        "{what}"
                    );
                }
                // No route answers a server error to anyone, whatever it is sent.
                assert!(!status.is_server_error(), "{what}");
                // 3. Nothing of the secret subtree in any answer.
                let moderating = actor.role == Some(Role::Moderator) && (path.starts_with("/works") || path.starts_with("/api/v1/works"));
                if !actor.sees_secret && !moderating {
                    for marker in [SECRET_ORG, SECRET_USER_NAME, "nankai-secret", SECRET_ACTIVITY, SECRET_PROPAGANDIST, SECRET_WORK, SECRET_NOTE, SECRET_NOMINEE, SECRET_LECTURE] {
                        assert!(!body.contains(marker), "{what} leaked {marker}");
                    }
                }
                // A person's own number is whole only for the city (and a moderator, for the
                // author of a work it checks); a unit's contact number, meant to be called, is
                // whole for signed-in accounts that may see the unit, never for anonymous ones.
                let personal = [SECRET_USER_PHONE, "13955556666", "13977778888"];
                if actor.role != Some(Role::CityAdmin) && !moderating {
                    for phone in personal {
                        assert!(!body.contains(phone), "{what} leaked a whole phone number");
                    }
                }
                if actor.role.is_none() || !actor.sees_secret {
                    assert!(!body.contains(SECRET_PHONE), "{what} leaked a contact's mobile");
                }
                // A password change hands out a new session (and CSRF token).
                if spec.path == "/account/password" && spec.method == Method::POST {
                    actor.agent.refresh_csrf().await;
                }
                // Routes that end the session (logout) or change the password: sign in again.
                if let Some(login) = &actor.login
                    && actor.agent.json("/api/v1/me").await.0 != StatusCode::OK
                {
                    let mut fresh = app.agent();
                    let mut signed_in = false;
                    for password in [PASSWORD, "Another-Passw0rd!"] {
                        if fresh.login(login, password).await.status() == StatusCode::SEE_OTHER {
                            signed_in = true;
                            break;
                        }
                    }
                    assert!(signed_in, "{who} could not sign in again");
                    fresh.refresh_csrf().await;
                    actor.agent = fresh;
                }
            }
            // 4. Nothing in the secret subtree changed, whatever was posted.
            if !actor.sees_secret || actor.role == Some(Role::CoOrganiserLiaison) {
                assert_eq!(snapshot(&app, &secret_path).await, before, "{who} changed the secret subtree");
            }
        }
        assert_eq!(checked, table.len() * actors.len());
    })
    .await;
}
