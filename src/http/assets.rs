//! Front-end assets, embedded in the binary: nothing to install, nothing fetched at run time.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/app.js"),
    ),
    (
        "charts.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/charts.js"),
    ),
    // The showcase's share image (og:image and video poster when a page has no photo of its
    // own), drawn once with ffmpeg from the campaign's two lines in Noto Sans CJK (OFL).
    (
        "share.png",
        "image/png",
        include_bytes!("../../static/share.png"),
    ),
    // Apache ECharts 5.6.0, unmodified (static/vendor/ECHARTS-LICENSE, Apache-2.0).
    (
        "echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/echarts.min.js"),
    ),
];

/// Appended to asset URLs so a new release is fetched fresh while old ones cache for a day.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => {
            let mut response = bytes.into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            response
        }
        None => AppError::NotFound.into_response(),
    }
}
