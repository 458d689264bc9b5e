//! Single-range HTTP `Range` requests over stored files, for video seeking: the works file
//! route and activity photos both serve through [`serve_range`]. Files are sent with their
//! probed type only, `nosniff`, a sandboxing CSP and an inline disposition with a generated
//! name, so a hostile upload can never run as a page. Multiple ranges are not served.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::{AppResult, Doing};
use crate::service::works::ServedFile;

/// Serves `served` whole (200) or the one range asked for (206); 416 for a range outside it.
pub async fn serve_range(
    state: &AppState,
    served: &ServedFile,
    range: Option<&HeaderValue>,
) -> AppResult<Response> {
    let size = served.size;
    let (status, start, end) = match range.and_then(|r| r.to_str().ok()) {
        None => (StatusCode::OK, 0, size),
        Some(text) => match parse_range(text, size) {
            Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end),
            None => {
                let status = StatusCode::RANGE_NOT_SATISFIABLE;
                let page = crate::http::pages::error_page(
                    status,
                    "请求的范围超出了文件大小，请刷新页面后重新播放。",
                    &[],
                );
                let mut response = (status, page).into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return Ok(response);
            }
        },
    };
    let stream = state
        .store
        .read_range(&served.key, start..end)
        .await
        .doing("reading a stored file for a range request")?;
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    set(h, header::CONTENT_TYPE, served.media_type.clone());
    set(h, header::CONTENT_LENGTH, (end - start).to_string());
    set(h, header::ACCEPT_RANGES, "bytes".into());
    if status == StatusCode::PARTIAL_CONTENT {
        set(
            h,
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", end.saturating_sub(1)),
        );
    }
    set(
        h,
        header::CONTENT_DISPOSITION,
        format!("inline; filename=\"{}\"", served.download_name),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; media-src 'self'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range within `size`; the end is exclusive.
/// Multiple ranges are not served (players never ask for them).
pub fn parse_range(text: &str, size: u64) -> Option<(u64, u64)> {
    let spec = text.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        return Some((size.saturating_sub(n), size));
    }
    let start: u64 = a.parse().ok()?;
    if start >= size {
        return None;
    }
    let end = if b.is_empty() {
        size
    } else {
        let last: u64 = b.parse().ok()?;
        if last < start {
            return None;
        }
        // A last byte past the end (even u64::MAX) means "to the end" (RFC 9110 14.1.2).
        last.saturating_add(1).min(size)
    };
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_players_send() {
        assert_eq!(parse_range("bytes=0-", 100), Some((0, 100)));
        assert_eq!(parse_range("bytes=0-1", 100), Some((0, 2)));
        assert_eq!(parse_range("bytes=90-200", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=-1000", 100), Some((0, 100)));
    }

    #[test]
    fn ends_past_the_file_are_clamped_without_overflow() {
        assert_eq!(
            parse_range("bytes=0-18446744073709551615", 100),
            Some((0, 100))
        );
        assert_eq!(
            parse_range("bytes=5-18446744073709551615", 100),
            Some((5, 100))
        );
        assert_eq!(
            parse_range("bytes=99-18446744073709551614", 100),
            Some((99, 100))
        );
        assert_eq!(
            parse_range("bytes=-18446744073709551615", 100),
            Some((0, 100))
        );
        assert_eq!(parse_range("bytes=0-99999999999999999999", 100), None);
    }

    #[test]
    fn hostile_ranges_are_refused() {
        for bad in [
            "bytes=100-",
            "bytes=5-1",
            "bytes=0-1,5-9",
            "items=0-1",
            "bytes=-0",
            "bytes=x-",
            "bytes=18446744073709551615-",
        ] {
            assert_eq!(parse_range(bad, 100), None, "{bad}");
        }
    }
}
