//! Bulk confirmation as the city admin does it on a phone (390×844, headless Chromium): the
//! list filtered to what waits at the city, a few rows ticked and confirmed, then everything
//! matching the filter — each time a result per report. On SQLite and on PostgreSQL.

use fantoccini::{Client, Locator};
use wangju::db::Backend;

use crate::browser::{fill, shot, start_browser, start_wangju, submit, wait_for_path};
use crate::harness::{Storage, backends};

const NEW_PASSWORD: &str = "Tianjin-2020!";

pub(crate) async fn sign_in(c: &Client, base: &str, one_time: &str) {
    c.goto(&format!("{base}/login")).await.expect("login page");
    fill(c, "login", "admin").await;
    fill(c, "password", one_time).await;
    submit(c).await;
    wait_for_path(c, "/account/password").await;
    fill(c, "current", one_time).await;
    fill(c, "new", NEW_PASSWORD).await;
    fill(c, "confirm", NEW_PASSWORD).await;
    submit(c).await;
    wait_for_path(c, "/dashboard").await;
}

/// Signs the city admin in again (after `sign_in` set its password), in another browser.
pub(crate) async fn sign_in_again(c: &Client, base: &str) {
    c.goto(&format!("{base}/login")).await.expect("login page");
    fill(c, "login", "admin").await;
    fill(c, "password", NEW_PASSWORD).await;
    submit(c).await;
    wait_for_path(c, "/dashboard").await;
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .expect(css)
        .text()
        .await
        .expect("text")
}

async fn flow(backend: Backend) {
    let storage = Storage::new(backend).await;
    let (_server, base, one_time) = start_wangju(&storage.args, &[]);
    let seeded = storage.run(&["demo", "seed", "--scale", "city"]);
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let label = format!("{backend:?}").to_lowercase();
    let (_driver, c) = start_browser(390, 844).await;
    sign_in(&c, &base, &one_time).await;

    c.goto(&format!("{base}/activities?status=approved"))
        .await
        .expect("list");
    let total = text_of(&c, "#total").await;
    let waiting: usize = total
        .trim_start_matches("共 ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a total");
    assert!(waiting >= 10, "{total}");
    let boxes = c
        .find_all(Locator::Css("input[name='pick']"))
        .await
        .expect("checkboxes");
    assert!(boxes.len() >= 3);
    for b in boxes.iter().take(3) {
        b.click().await.expect("tick");
    }
    shot(&c, &format!("bulk-list-phone-{label}")).await;
    c.find(Locator::Css("#bulk-picked"))
        .await
        .expect("confirm picked")
        .click()
        .await
        .expect("click");
    wait_for_path(&c, "/activities/bulk").await;
    let tally = text_of(&c, "#bulk-tally").await;
    assert!(
        tally.contains("完成 3 个") && !tally.contains("未处理"),
        "{tally}"
    );
    shot(&c, &format!("bulk-result-phone-{label}")).await;
    // The page fits the phone: nothing off-screen but what the table scrolls inside itself.
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .expect("scroll width");
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "page scrolls sideways by {overflow}"
    );

    // Everything still matching the filter, in one request.
    c.goto(&format!("{base}/activities?status=approved"))
        .await
        .expect("list again");
    let total = text_of(&c, "#total").await;
    assert!(
        total.starts_with(&format!("共 {} 条", waiting - 3)),
        "{total}"
    );
    c.find(Locator::Css("#bulk-all"))
        .await
        .expect("confirm all")
        .click()
        .await
        .expect("click");
    wait_for_path(&c, "/activities/bulk").await;
    let tally = text_of(&c, "#bulk-tally").await;
    assert!(
        tally.contains(&format!("完成 {} 个", waiting - 3)) && !tally.contains("未处理"),
        "{tally}"
    );
    c.goto(&format!("{base}/activities?status=approved"))
        .await
        .expect("list emptied");
    assert!(text_of(&c, "#total").await.starts_with("共 0 条"));
    c.close().await.expect("close browser");
    storage.finish().await;
}

#[tokio::test]
async fn bulk_confirm_of_a_filtered_list_on_a_phone() {
    for backend in backends() {
        flow(backend).await;
    }
}
