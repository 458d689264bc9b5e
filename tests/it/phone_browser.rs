//! Phones first (issue 12, item 5): on the city demo data, every list a union clerk works from
//! fits a phone at 360×640 and 390×844 — no page scrolls sideways, every table is a card per
//! row whose cells all lie inside the screen — and on a narrow desktop window the progress
//! table's unit names are not squeezed to a character per line. Screenshots of each page go to
//! the test output. Headless Chromium, on SQLite and on PostgreSQL.

use fantoccini::Client;
use wangju::db::Backend;

use crate::browser::{shot, start_browser, start_wangju};
use crate::bulk_browser::{sign_in, sign_in_again};
use crate::harness::{Storage, backends};

const PAGES: [&str; 8] = [
    "/progress",
    "/activities",
    "/activities?status=approved",
    "/users",
    "/works",
    "/propagandists",
    "/reminders",
    "/audit",
];

/// How far the page scrolls sideways, and the cells of card tables that reach past the screen.
async fn overflow(c: &Client) -> (i64, Vec<String>) {
    let sideways = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .expect("scroll width")
        .as_i64()
        .unwrap_or(i64::MAX);
    let outside = c
        .execute(
            "const w = window.innerWidth; const out = [];
             document.querySelectorAll('table.cards td').forEach(td => {
               const r = td.getBoundingClientRect();
               if (r.width > 0 && (r.right > w + 0.5 || r.left < -0.5)) out.push(td.dataset.label + ': ' + td.textContent.trim().slice(0, 30));
             });
             return out;",
            vec![],
        )
        .await
        .expect("cells")
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    (sideways, outside)
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
    for (i, (w, h)) in [(360, 640), (390, 844)].into_iter().enumerate() {
        let (_driver, c) = start_browser(w, h).await;
        if i == 0 {
            sign_in(&c, &base, &one_time).await;
        } else {
            sign_in_again(&c, &base).await;
        }
        let inner = c
            .execute("return window.innerWidth;", vec![])
            .await
            .expect("width");
        assert_eq!(
            inner,
            serde_json::json!(w),
            "the page is laid out at the phone's width"
        );
        for page in PAGES {
            c.goto(&format!("{base}{page}")).await.expect(page);
            let (sideways, outside) = overflow(&c).await;
            assert!(
                sideways <= 0,
                "{page} at {w}×{h} scrolls sideways by {sideways}px"
            );
            assert!(
                outside.is_empty(),
                "{page} at {w}×{h}: cells off the screen: {outside:?}"
            );
            // The header row is not shown on a phone: each card says what its lines are.
            let header_shown = c
                .execute(
                    "const t = document.querySelector('table.cards thead');
                     return t ? t.getBoundingClientRect().height > 2 : false;",
                    vec![],
                )
                .await
                .expect("thead");
            assert_eq!(header_shown, serde_json::json!(false), "{page} at {w}×{h}");
            let name = page.trim_start_matches('/').replace(['?', '=', '&'], "-");
            shot(&c, &format!("phone-{w}-{name}-{label}")).await;
        }
        c.close().await.expect("close browser");
    }
    // The progress table on a narrow desktop window: the unit column keeps room for a name.
    let (_driver, c) = start_browser(760, 900).await;
    sign_in_again(&c, &base).await;
    c.goto(&format!("{base}/progress")).await.expect("progress");
    let narrowest = c
        .execute(
            "let min = Infinity; document.querySelectorAll('table.progress td.lead').forEach(td => {
               const w = td.getBoundingClientRect().width; if (w > 0) min = Math.min(min, w); });
             return Math.round(min);",
            vec![],
        )
        .await
        .expect("unit column")
        .as_f64()
        .unwrap_or(0.0);
    assert!(
        narrowest >= 110.0,
        "unit names squeezed into {narrowest}px at 760 px wide"
    );
    shot(&c, &format!("progress-760-{label}")).await;
    c.close().await.expect("close browser");
    storage.finish().await;
}

#[tokio::test]
async fn every_list_fits_a_phone_as_cards() {
    for backend in backends() {
        flow(backend).await;
    }
}
