//! Extractors that turn malformed input into Wangju's own errors (Chinese, with the right
//! status), instead of axum's plain-text English rejections. Pages use `Form`, `Path` and
//! `Query`; the JSON API uses `Json`, `ApiPath` and `ApiQuery`.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, AppError, FieldError};

fn too_large(status: StatusCode) -> bool {
    status == StatusCode::PAYLOAD_TOO_LARGE
}

/// serde's own words name the field and what it expected; keep them after ours.
fn detail(text: &str) -> String {
    text.rsplit(": ").next().unwrap_or(text).to_string()
}

pub fn json_problem(rejection: JsonRejection) -> AppError {
    if too_large(rejection.status()) {
        return AppError::TooLarge;
    }
    match rejection {
        JsonRejection::JsonDataError(e) => AppError::Invalid(vec![FieldError::new(
            "请求内容",
            format!(
                "字段缺失或类型不对，请按接口文档填写（{}）",
                detail(&e.body_text())
            ),
        )]),
        JsonRejection::JsonSyntaxError(_) => {
            AppError::invalid("请求内容", "不是合法的 JSON，请检查括号、引号和逗号")
        }
        JsonRejection::MissingJsonContentType(_) => {
            AppError::invalid("Content-Type", "请求须带 Content-Type: application/json")
        }
        _ => AppError::invalid("请求内容", "无法读取请求内容，请重试"),
    }
}

pub fn form_problem(rejection: FormRejection) -> AppError {
    if too_large(rejection.status()) {
        return AppError::TooLarge;
    }
    match rejection {
        FormRejection::FailedToDeserializeForm(e) => AppError::invalid(
            "表单",
            format!("表单内容有误（{}）", detail(&e.body_text())),
        ),
        FormRejection::FailedToDeserializeFormBody(e) => AppError::invalid(
            "表单",
            format!("表单内容有误（{}）", detail(&e.body_text())),
        ),
        _ => AppError::invalid("表单", "无法读取表单，请刷新页面后重新提交"),
    }
}

/// JSON request body.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(v)| Json(v))
            .map_err(|r| ApiError(json_problem(r)))
    }
}

/// Urlencoded form body.
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(v)| Form(v))
            .map_err(form_problem)
    }
}

/// Path parameters of a page. A malformed id names nothing: 404.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|_: PathRejection| AppError::NotFound)
    }
}

/// Path parameters of an API call.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|_: PathRejection| ApiError(AppError::NotFound))
    }
}

fn query_problem(rejection: QueryRejection) -> AppError {
    AppError::invalid(
        "查询参数",
        format!("网址中的参数有误（{}）", detail(&rejection.body_text())),
    )
}

/// Query string of a page.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(query_problem)
    }
}

/// Query string of an API call.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|r| ApiError(query_problem(r)))
    }
}
