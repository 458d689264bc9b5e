//! QR codes of Wangju links, for posters, WeChat groups and slides: the check-in code of an
//! activity and a union's registration link. Callers put an absolute URL inside
//! (`super::absolute_url`), built from the Host the admin is using, so phones can open it.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::{AppResult, Doing};

fn code(url: &str) -> AppResult<qrcode::QrCode> {
    qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .doing("drawing a QR code")
}

/// The code as an SVG document, shown inline (posters) under `file_name`.
pub fn svg(url: &str, file_name: &str) -> AppResult<Response> {
    let svg = code(url)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(320, 320)
        .quiet_zone(true)
        .build();
    let mut response = svg.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    // An SVG is a document: never let it run script or be framed.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("inline; filename=\"{file_name}\""))
            .unwrap_or(HeaderValue::from_static("inline")),
    );
    Ok(response)
}

/// The code as a PNG download (WeChat groups and slides take no SVG).
pub fn png(url: &str, file_name: &str) -> AppResult<Response> {
    let code = code(url)?;
    // 10 pixels per module and a 4-module quiet zone, black on white.
    let (modules, scale, quiet) = (code.width() as u32, 10u32, 4u32);
    let side = (modules + 2 * quiet) * scale;
    let colors = code.to_colors();
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let dark = mx >= quiet
            && my >= quiet
            && mx < modules + quiet
            && my < modules + quiet
            && colors[((my - quiet) * modules + (mx - quiet)) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .doing("encoding a QR code as PNG")?;
    let mut response = png.into_inner().into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
            .unwrap_or(HeaderValue::from_static("attachment")),
    );
    Ok(response)
}
