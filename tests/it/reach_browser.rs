//! Issue 15's strand at phone size, in Chromium: a worker's accepted work appears in the
//! showcase once shown; a propagandist opens it and makes a share link on the page; one visitor
//! opens the link in WeChat's in-app browser (a phone browser saying it is WeChat), a second
//! opens the address the first one is on (what WeChat forwards) from another phone; the reach
//! pages then show both visitors, one direct and one secondary.

use std::time::Duration;

use fantoccini::Locator;
use wangju::domain::role::Role;

use crate::browser::{shot, start_browser, start_browser_as, tap};
use crate::harness::backends;
use crate::lecture_browser::sign_in;
use crate::showcase::{PHONE_UA, accepted_work, behind_proxy, open, phone, via};

/// The text of the element `css` once the page shows it.
async fn text_of(c: &fantoccini::Client, css: &str) -> String {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .expect(css)
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn a_shared_work_reaches_two_visitors_and_the_reach_pages_count_their_depths() {
    for backend in backends() {
        let app = behind_proxy(backend).await;
        let base = app.base.clone();
        let label = format!("{backend:?}").to_lowercase();
        let city = app.admin().await;
        let (worker, id) = accepted_work(&app, &city).await;
        let page = format!("/showcase/works/{id}");
        let r = worker
            .post_form(&format!("/works/{id}/showcase"), &[("show", "1")])
            .await;
        assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "shown");

        // The propagandist finds it in the showcase on a phone and makes a share link.
        let login = app.user(Role::UnitAdmin, "和平区总工会").await;
        let (_driver, c) = start_browser(390, 844).await;
        sign_in(&c, &base, &login).await;
        c.goto(&format!("{base}/showcase")).await.expect("showcase");
        // Listed, and a tap opens it.
        tap(&c, &format!("a[href='{page}']")).await;
        c.wait()
            .for_element(Locator::Css("video"))
            .await
            .expect("the clean copy plays");
        shot(&c, &format!("reach-work-phone-{label}")).await;
        c.find(Locator::Css("form[action='/share'] button"))
            .await
            .expect("share button")
            .click()
            .await
            .expect("share");
        let mut code = String::new();
        for _ in 0..100 {
            let url = c.current_url().await.expect("url");
            if let Some(f) = url.fragment().and_then(|f| f.strip_prefix("l-")) {
                code = f.to_string();
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!code.is_empty(), "the share link is shown");
        let links = c.source().await.expect("links page");
        assert!(
            links.contains(&format!("/s/{code}")),
            "the short link is on the page"
        );
        shot(&c, &format!("reach-link-phone-{label}")).await;

        // Visitor 1: WeChat's browser on a phone opens the short link and lands on the work
        // with a link of their own.
        let (_driver1, v) = start_browser_as(390, 844, Some(PHONE_UA)).await;
        v.goto(&format!("{base}/s/{code}"))
            .await
            .expect("short link");
        v.wait()
            .for_element(Locator::Css("video"))
            .await
            .expect("the work");
        let landed = v.current_url().await.expect("url");
        assert_eq!(landed.path(), page);
        let here = format!("{}?{}", landed.path(), landed.query().unwrap_or_default());
        let child = via(&here);
        assert!(!child.is_empty() && child != code, "{here}");
        let shown = text_of(&v, "#share-here").await;
        assert!(
            shown.contains(&child),
            "the page says the address to forward: {shown}"
        );
        shot(&v, &format!("reach-visitor-phone-{label}")).await;

        // Visitor 2: another phone opens the address visitor 1 forwards.
        let second = phone("203.0.113.2", PHONE_UA);
        let onward = open(&second, &base, &here).await;
        assert!(!via(&onward).is_empty(), "a child of the child: {onward}");

        // The propagandist's own links and the unit's reach page: one direct, one secondary.
        let mut counted = String::new();
        for _ in 0..100 {
            c.goto(&format!("{base}/reach/links")).await.expect("links");
            counted = text_of(&c, "#my-total").await;
            if counted == "2" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(counted, "2", "both visitors counted");
        assert_eq!(text_of(&c, "span[data-depth='1']").await, "1");
        assert_eq!(text_of(&c, "span[data-depth='2']").await, "1");
        c.goto(&format!("{base}/reach")).await.expect("reach");
        assert_eq!(text_of(&c, "#measured-visits").await, "2");
        assert_eq!(text_of(&c, "#measured-visitors").await, "2");
        assert_eq!(text_of(&c, "tr[data-depth='1'] td:last-child").await, "1");
        assert_eq!(text_of(&c, "tr[data-depth='2'] td:last-child").await, "1");
        let sideways = c
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await
            .expect("width");
        assert!(
            sideways.as_i64().unwrap_or(1) <= 0,
            "/reach scrolls sideways"
        );
        shot(&c, &format!("reach-dashboard-phone-{label}")).await;
        c.close().await.expect("close");
        v.close().await.expect("close");
        app.finish().await;
    }
}
