//! Photos in activity reports: metadata never kept, hostile files refused with a reason, and a
//! photo reused in another unit's report flagged to the approving admin.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use reqwest::{Method, StatusCode};
use serde_json::json;
use wangju::domain::role::Role;

use crate::harness::{Agent, TestApp, each_backend};

/// A photo-like picture with an EXIF segment naming a place and a phone.
fn photo_with_exif(w: u32, h: u32) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        let b = if (x / 50 + y / 50) % 2 == 0 { 210 } else { 30 };
        Rgb([((x * 255) / w) as u8, ((y * 255) / h) as u8, b])
    }));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).expect("encode");
    let jpeg = out.into_inner();
    let payload = b"Exif\0\0MM\0*\0\0\0\x08GPS 39.0842N 117.2009E Huawei P40 SecretOwner";
    let mut with = jpeg[..2].to_vec();
    with.extend_from_slice(&[0xFF, 0xE1]);
    with.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    with.extend_from_slice(payload);
    with.extend_from_slice(&jpeg[2..]);
    with
}

fn resized(bytes: &[u8], w: u32, h: u32) -> Vec<u8> {
    let img = image::load_from_memory(bytes)
        .expect("decode")
        .resize_exact(w, h, image::imageops::FilterType::Lanczos3);
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).expect("encode");
    out.into_inner()
}

async fn plan(agent: &Agent, name: &str) -> i64 {
    let (s, body) = agent
        .send_json(
            Method::POST,
            "/api/v1/activities",
            &json!({"name": name, "starts_at": "2020-06-20T09:00", "place": "职工之家", "format": "知识竞赛", "categories": ["网民素养教育"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    body["id"].as_i64().expect("id")
}

#[tokio::test]
async fn photos_are_checked_cleaned_and_reuse_is_flagged() {
    each_backend(|app: TestApp| async move {
        let admin = app.admin().await;
        let hexi = wangju::db::orgs::find_by_name(&app.state.db, "河西区总工会")
            .await
            .expect("q")
            .expect("org")
            .id;
        for name in ["河西甲公司工会", "河西乙公司工会"] {
            let (s, _) = admin
                .send_json(
                    Method::POST,
                    "/api/v1/orgs",
                    &json!({"name": name, "kind": "grassroots", "parent_id": hexi}),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED);
        }
        let a = app
            .signed_in(&app.user(Role::GrassrootsAdmin, "河西甲公司工会").await)
            .await;
        let b = app
            .signed_in(&app.user(Role::GrassrootsAdmin, "河西乙公司工会").await)
            .await;
        let first = plan(&a, "甲公司网络安全知识竞赛").await;
        let second = plan(&b, "乙公司网络安全知识竞赛").await;

        // Two photos at once; the kept copies have no EXIF, the thumbnails are small.
        let original = photo_with_exif(1600, 1200);
        let r = a
            .upload_files(
                &format!("/activities/{first}/photos"),
                "photos",
                vec![
                    ("IMG_1.jpg", original.clone()),
                    ("IMG_2.jpg", photo_with_exif(800, 600)),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, page) = a.text(&format!("/activities/{first}?done=view")).await;
        let ids: Vec<i64> = page
            .match_indices(&format!("/activities/{first}/photos/"))
            .filter_map(|(i, m)| {
                page[i + m.len()..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        assert!(ids.len() >= 2, "both photos on the page");
        let r = a
            .get(&format!("/activities/{first}/photos/{}", ids[0]))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let kept = r.bytes().await.expect("body");
        let text = String::from_utf8_lossy(&kept);
        assert!(
            !text.contains("SecretOwner") && !text.contains("39.0842") && !text.contains("Exif")
        );
        let thumb = a
            .get(&format!("/activities/{first}/photos/{}?thumb=1", ids[0]))
            .await
            .bytes()
            .await
            .expect("thumb");
        let thumb = image::load_from_memory(&thumb).expect("a JPEG thumbnail");
        assert!(thumb.width() <= 480 && thumb.height() <= 480);

        // Not images, and a pixel flood: refused with a reason, nothing kept.
        let before = app.count("activity_photos").await;
        let mut flood = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        flood.extend_from_slice(&80_000u32.to_be_bytes());
        flood.extend_from_slice(&80_000u32.to_be_bytes());
        flood.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        let r = a
            .upload_files(
                &format!("/activities/{first}/photos"),
                "photos",
                vec![
                    (
                        "page.jpg",
                        b"<html><script>alert(1)</script></html>".to_vec(),
                    ),
                    ("huge.png", flood),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let page = r.text().await.unwrap_or_default();
        assert!(
            page.contains("page.jpg：不是 JPEG、PNG 或 WebP 图片"),
            "{page}"
        );
        assert!(page.contains("huge.png：图片尺寸 80000×80000 过大"));
        assert_eq!(app.count("activity_photos").await, before);

        // Another unit reuses the first photo, resized and as PNG: its approver is told.
        let r = b
            .upload_files(
                &format!("/activities/{second}/photos"),
                "photos",
                vec![("same.png", resized(&original, 640, 480))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let district = app
            .signed_in(&app.user(Role::UnitAdmin, "河西区总工会").await)
            .await;
        let (_, page) = district.text(&format!("/activities/{second}")).await;
        assert!(
            page.contains("相同或相近") && page.contains("甲公司网络安全知识竞赛"),
            "the approver sees the reuse"
        );
        // The other unit is not named to someone who cannot see it.
        let (_, page) = b.text(&format!("/activities/{second}?done=view")).await;
        assert!(
            page.contains("管理范围以外单位的活动报告") && !page.contains("甲公司网络安全知识竞赛")
        );

        // The API: list with the reuse flag, and add a photo as the request body.
        let (s, list) = district
            .json(&format!("/api/v1/activities/{second}/photos"))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            list[0]["reused_in"].as_array().map(Vec::len),
            Some(1),
            "{list}"
        );
        let r = a
            .client
            .post(format!("{}/api/v1/activities/{first}/photos", a.base))
            .header("x-csrf-token", &a.csrf)
            .header("content-type", "image/jpeg")
            .body(photo_with_exif(640, 480))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = a
            .client
            .post(format!("{}/api/v1/activities/{first}/photos", a.base))
            .header("x-csrf-token", &a.csrf)
            .body("<svg onload=alert(1)>")
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // Unit B cannot reach unit A's photos.
        assert_eq!(
            b.get(&format!("/activities/{first}/photos/{}", ids[0]))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let r = b
            .upload_files(
                &format!("/activities/{first}/photos"),
                "photos",
                vec![("x.jpg", photo_with_exif(100, 100))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    })
    .await;
}
