//! Errors as responses, in one place: [`AppError`] as a page (an error page, or a redirect to
//! sign in or to change the one-time password) and [`ApiError`] as the JSON API's error body.
//! Internal causes are logged here, once per request, and never shown.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::{ApiError, AppError, ErrorBody};

/// Counts the error by its code and logs an internal error's cause; the user sees only the
/// generic message.
fn log(e: &AppError) {
    crate::telemetry::error(e.code());
    if let AppError::Internal(cause) = e {
        tracing::error!(error = ?cause, "request failed");
    }
}

/// The JSON API: the status, and `{"error": code, "message": …, "fields": […]}`.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        log(&e);
        let body = ErrorBody {
            error: e.code(),
            reason: e.reason(),
            message: e.message_zh(),
            fields: e.fields().to_vec(),
        };
        (e.status(), Json(body)).into_response()
    }
}

/// Pages: unauthenticated visitors go to the login page; other errors get an error page.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        log(&self);
        match self {
            AppError::Unauthenticated => Redirect::to("/login?expired=1").into_response(),
            AppError::PasswordChangeRequired => Redirect::to("/account/password").into_response(),
            e => {
                let page = crate::http::pages::error_page(e.status(), &e.message_zh(), e.fields());
                let mut response = (e.status(), page).into_response();
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
        }
    }
}
