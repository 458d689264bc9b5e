//! 公示 end to end: the city drafts a list of accepted works, publishes it for five working
//! days (counted on the holiday calendar), a visitor lodges a real-name objection with evidence,
//! the city rules on it and withdraws the entry, and the final list is published after the
//! window. Refusals change nothing.

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Agent, TestApp, backends, location};
use crate::works::{WORKER_PHONE, api_submission, read, register_worker};

/// Submits one video as a worker and accepts it as the city; returns the work's id.
async fn accepted_work(app: &TestApp, city: &Agent) -> i64 {
    let worker = register_worker(app, WORKER_PHONE, "河西区总工会").await;
    let upload = worker
        .upload_work("micro-video", "ok.mp4", &read("tagged.mp4"), 512 * 1024)
        .await;
    assert_eq!(upload["verdict"], "accepted", "{upload}");
    let (s, work) = worker
        .send_json(
            Method::POST,
            "/api/v1/works",
            &api_submission(upload["id"].as_str().expect("upload id")),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{work}");
    let id = work["id"].as_i64().expect("work id");
    let (s, decided) = city
        .send_json(
            Method::POST,
            &format!("/api/v1/works/{id}/decision"),
            &json!({"decision": "accept", "reason": "符合要求"}),
        )
        .await;
    assert!(s.is_success(), "{s} {decided}");
    id
}

async fn objection(
    visitor: &Agent,
    id: i64,
    entry: &str,
    reason: &str,
    evidence: Option<Vec<u8>>,
) -> (StatusCode, String) {
    let mut form = reqwest::multipart::Form::new()
        .text("entry_id", entry.to_string())
        .text("name", "李四")
        .text("phone", "13800001111")
        .text("reason", reason.to_string());
    if let Some(bytes) = evidence {
        form = form.part(
            "evidence",
            reqwest::multipart::Part::bytes(bytes).file_name("证明.pdf"),
        );
    }
    let r = visitor
        .client
        .post(format!(
            "{}/gongshi/{id}/objections?_csrf={}",
            visitor.base, visitor.csrf
        ))
        .multipart(form)
        .send()
        .await
        .expect("objection");
    let status = r.status();
    (status, r.text().await.expect("page"))
}

/// The entry id the public page's objection form offers first.
fn first_entry(page: &str) -> String {
    let at = page
        .find("<option value=\"")
        .expect("an entry to object to")
        + 15;
    page[at..].split('"').next().expect("value").to_string()
}

#[tokio::test]
async fn a_publicity_runs_five_working_days_and_objections_are_ruled_on() {
    for backend in backends() {
        // Works come in during the call (to 15 September)…
        let app =
            TestApp::spawn_on(backend, NaiveDate::from_ymd_opt(2020, 9, 10).expect("date")).await;
        let city = app.admin().await;
        let work = accepted_work(&app, &city).await;
        // …and the list is published on Friday 25 September: five working days end on
        // Wednesday 30 September, because Sunday 27 September is worked (National Day 调休).
        assert!(
            app.state
                .clock
                .set_today(NaiveDate::from_ymd_opt(2020, 9, 25).expect("date"))
        );

        // A draft with a bad phone and an unknown work: refused, nothing kept.
        let r = city
            .post_form(
                "/publicity",
                &[
                    ("title", "优秀作品推荐名单公示"),
                    ("notice", "现予以公示。"),
                    ("contact", "12345"),
                    ("workdays", "5"),
                    ("works", "999999"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.expect("page");
        assert!(page.contains("受理异议的联系电话"), "{page}");
        assert!(
            page.contains("999999"),
            "names the work that cannot be listed"
        );
        assert_eq!(app.count("publicities").await, 0);

        let work_id = work.to_string();
        let r = city
            .post_form(
                "/publicity",
                &[
                    ("title", "优秀作品推荐名单公示"),
                    ("notice", "现予以公示。"),
                    ("contact", "022-23456789"),
                    ("workdays", "5"),
                    ("works", work_id.as_str()),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let manage = location(&r);
        let id: i64 = manage
            .trim_start_matches("/publicity/")
            .parse()
            .expect("id");

        // A draft is not public.
        let visitor_probe = app.agent();
        assert_eq!(
            visitor_probe.get(&format!("/gongshi/{id}")).await.status(),
            StatusCode::NOT_FOUND
        );

        let r = city
            .post_form(&format!("/publicity/{id}/publish"), &[("version", "0")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        // Publishing twice (a second admin on a stale page) is refused.
        let r = city
            .post_form(&format!("/publicity/{id}/publish"), &[("version", "0")])
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);

        let mut visitor = app.agent();
        let (s, page) = visitor.text(&format!("/gongshi/{id}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("2020-09-25 至 2020-09-30"),
            "the window on the 2020 calendar"
        );
        assert!(page.contains("车间里的好网民"));
        assert!(
            !page.contains(WORKER_PHONE),
            "no author's phone on the public page"
        );
        visitor.refresh_csrf().await;
        let entry = first_entry(&page);

        // Too short a reason, a file that is not a photo or PDF: refused, nothing written.
        let (s, page) = objection(&visitor, id, &entry, "不好", None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("至少 10 个字"), "{page}");
        let (s, page) = objection(
            &visitor,
            id,
            &entry,
            "该作品并非作者原创，网上早有相同视频。",
            Some(b"MZ\x90\x00 not a pdf".to_vec()),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("JPG、PNG 图片或 PDF"), "{page}");
        assert_eq!(app.count("objections").await, 0);
        assert!(
            app.state
                .store
                .list("objections/")
                .await
                .expect("list")
                .is_empty()
        );

        // A real objection with a PDF: the visitor gets a receipt link.
        let (s, page) = objection(
            &visitor,
            id,
            &entry,
            "该作品并非作者原创，网上早有相同视频。",
            Some(b"%PDF-1.4\n%test\n".to_vec()),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let at = page.find("/gongshi/receipts/").expect("receipt link");
        let receipt = page[at..].split('"').next().expect("link").to_string();
        let (s, mine) = visitor.text(&receipt).await;
        assert_eq!(s, StatusCode::OK);
        assert!(mine.contains("待处理"), "{mine}");
        // A made-up receipt shows nothing.
        let forged = format!("/gongshi/receipts/{}", "0".repeat(64));
        assert_eq!(visitor.get(&forged).await.status(), StatusCode::NOT_FOUND);

        // Closing before the window has passed is refused; so is closing with a pending objection.
        let r = city
            .post_form(&format!("/publicity/{id}/close"), &[("version", "1")])
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);

        // The city sees the objector's details and the evidence, and rules: upheld, withdrawn.
        let (s, page) = city.text(&manage).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("13800001111"),
            "the city may call the objector back"
        );
        let objection_id: i64 = page
            .split("id=\"objection-")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|n| n.parse().ok())
            .expect("objection on the page");
        let r = city
            .get(&format!(
                "/publicity/{id}/objections/{objection_id}/evidence"
            ))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(r.bytes().await.expect("bytes").starts_with(b"%PDF-"));
        let r = city
            .post_form(
                &format!("/publicity/{id}/objections/{objection_id}/ruling"),
                &[("outcome", "dismissed"), ("reason", ""), ("withdraw", "1")],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a ruling needs a reason"
        );
        let r = city
            .post_form(
                &format!("/publicity/{id}/objections/{objection_id}/ruling"),
                &[
                    ("outcome", "upheld"),
                    ("reason", "经核实，该视频与他人作品雷同，撤销推荐。"),
                    ("withdraw", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = city
            .post_form(
                &format!("/publicity/{id}/objections/{objection_id}/ruling"),
                &[("outcome", "dismissed"), ("reason", "再次处理")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT, "ruled on once");
        let (_, mine) = visitor.text(&receipt).await;
        assert!(
            mine.contains("异议成立") && mine.contains("撤销推荐"),
            "{mine}"
        );

        // After the window (Thursday 1 October is a holiday; the window ended on the 30th), a
        // new objection is refused and the city closes it; the final list leaves the work out.
        assert!(
            app.state
                .clock
                .set_today(NaiveDate::from_ymd_opt(2020, 10, 9).expect("date"))
        );
        let (s, page) = objection(
            &visitor,
            id,
            &entry,
            "再提一条异议，理由同上，请核实。",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{page}");
        let r = city
            .post_form(&format!("/publicity/{id}/close"), &[("version", "1")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (s, page) = app.agent().text(&format!("/gongshi/{id}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("公示已结束"));
        assert!(
            !page.contains("车间里的好网民"),
            "the withdrawn work is not on the final list"
        );

        let audited: i64 = wangju::db::testing::scalar(
            &app.state.db,
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('publicity.create', 'publicity.publish', 'objection.lodge', 'objection.rule', 'publicity.close')",
        )
        .await
        .expect("count");
        assert_eq!(audited, 5);
        app.finish().await;
    }
}

/// A campaign holds at most 100 公示; drafts sent at the same moment cannot get past the count.
#[tokio::test]
async fn concurrent_drafts_cannot_pass_the_per_campaign_limit() {
    for backend in backends() {
        let app =
            TestApp::spawn_on(backend, NaiveDate::from_ymd_opt(2020, 9, 10).expect("date")).await;
        let city = app.admin().await;
        let work = accepted_work(&app, &city).await.to_string();
        // 98 earlier drafts (rows as the draft step writes them).
        for i in 0..98 {
            app.sql(&format!(
                "INSERT INTO publicities (campaign_id, kind, title, notice, contact, workdays, created_at) \
                 SELECT id, 'works', '旧公示{i}', '', '022-23456789', 5, 0 FROM campaigns WHERE is_current = TRUE"
            ))
            .await;
        }
        let fields = [
            ("title", "推荐名单公示"),
            ("notice", "现予以公示。"),
            ("contact", "022-23456789"),
            ("workdays", "5"),
            ("works", work.as_str()),
        ];
        let sends = (0..6).map(|_| city.post_form("/publicity", &fields));
        let statuses: Vec<StatusCode> = futures_util::future::join_all(sends)
            .await
            .into_iter()
            .map(|r| r.status())
            .collect();
        let made = statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((made, refused), (2, 4), "{statuses:?}");
        assert_eq!(app.count("publicities").await, 100);
        app.finish().await;
    }
}
