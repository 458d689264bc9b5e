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
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(|r| ApiError(json_problem(r)))?;
        check_json_strings(&value, &mut String::new())?;
        serde_json::from_value::<T>(value).map(Json).map_err(|e| {
            ApiError(AppError::Invalid(vec![FieldError::new(
                "请求内容",
                format!("字段缺失或类型不对，请按接口文档填写（{e}）"),
            )]))
        })
    }
}

/// Checks every key and value of an urlencoded form or query string before it is decoded into
/// a type: each must be valid UTF-8 (a browser never sends anything else; invalid bytes are not
/// silently replaced) and free of NUL and control characters but tab and line breaks.
pub fn check_urlencoded(raw: &[u8], what: &str) -> Result<(), AppError> {
    for pair in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut halves = pair.splitn(2, |b| *b == b'=');
        let key = decode_component(halves.next().unwrap_or_default());
        let value = decode_component(halves.next().unwrap_or_default());
        let field = key
            .as_deref()
            .unwrap_or(what)
            .chars()
            .take(40)
            .collect::<String>();
        let (Ok(key), Ok(value)) = (&key, &value) else {
            return Err(AppError::invalid(
                field,
                format!("{what}中有不是 UTF-8 编码的文字，请刷新页面后用浏览器重新提交"),
            ));
        };
        if let Some(c) = crate::domain::text::first_forbidden_char(key)
            .or_else(|| crate::domain::text::first_forbidden_char(value))
        {
            return Err(AppError::invalid(
                field,
                format!("不能包含控制字符（U+{:04X}），请删去后重新提交", c as u32),
            ));
        }
    }
    Ok(())
}

/// One urlencoded component: `+` is a space, `%XX` a byte; the bytes must be UTF-8.
fn decode_component(raw: &[u8]) -> Result<String, ()> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| ())
}

/// Every string (and key) of a JSON document, checked like form values.
fn check_json_strings(value: &serde_json::Value, path: &mut String) -> Result<(), AppError> {
    use serde_json::Value;
    let refuse = |path: &str, c: char| {
        AppError::invalid(
            if path.is_empty() {
                "请求内容".to_string()
            } else {
                path.to_string()
            },
            format!("不能包含控制字符（U+{:04X}），请删去后重新提交", c as u32),
        )
    };
    match value {
        Value::String(text) => match crate::domain::text::first_forbidden_char(text) {
            Some(c) => Err(refuse(path, c)),
            None => Ok(()),
        },
        Value::Array(items) => items.iter().try_for_each(|v| check_json_strings(v, path)),
        Value::Object(map) => {
            for (key, v) in map {
                if let Some(c) = crate::domain::text::first_forbidden_char(key) {
                    return Err(refuse(path, c));
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key.chars().take(40).collect::<String>());
                check_json_strings(v, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Urlencoded form body.
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let (parts, body) = req.into_parts();
        let bytes =
            axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), state)
                .await
                .map_err(|r| {
                    if too_large(r.status()) {
                        AppError::TooLarge
                    } else {
                        AppError::invalid("表单", "无法读取表单，请刷新页面后重新提交")
                    }
                })?;
        check_urlencoded(&bytes, "表单")?;
        axum::Form::<T>::from_request(
            Request::from_parts(parts, axum::body::Body::from(bytes)),
            state,
        )
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
        if path_has_control(parts) {
            return Err(AppError::NotFound);
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|_: PathRejection| AppError::NotFound)
    }
}

/// A path whose decoded segments hold control characters names nothing.
fn path_has_control(parts: &Parts) -> bool {
    decode_component(parts.uri.path().as_bytes()).map_or(true, |p| {
        crate::domain::text::first_forbidden_char(&p).is_some()
    })
}

/// Path parameters of an API call.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if path_has_control(parts) {
            return Err(ApiError(AppError::NotFound));
        }
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
        check_urlencoded(parts.uri.query().unwrap_or_default().as_bytes(), "网址参数")?;
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
        check_urlencoded(parts.uri.query().unwrap_or_default().as_bytes(), "网址参数")?;
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|r| ApiError(query_problem(r)))
    }
}

/// A multipart form body (file uploads). A malformed body (no boundary, a broken part) is
/// refused in Chinese, like every other bad input.
pub struct Multipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for Multipart {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(Multipart)
            .map_err(|r| {
                if too_large(r.status()) {
                    AppError::TooLarge
                } else {
                    AppError::invalid(
                        "上传",
                        "上传的内容格式不对（须为 multipart/form-data 表单）。请在页面上选择文件后重新提交",
                    )
                }
            })
    }
}

/// A multipart part's text, checked like form values.
pub async fn multipart_text(
    field: axum::extract::multipart::Field<'_>,
    name: &str,
) -> Result<String, AppError> {
    let bytes = field
        .bytes()
        .await
        .map_err(|_| AppError::invalid(name, "上传的内容没有收全，请重新提交"))?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| AppError::invalid(name, "不是 UTF-8 编码的文字，请刷新页面后重新提交"))?;
    if let Some(c) = crate::domain::text::first_forbidden_char(&text) {
        return Err(AppError::invalid(
            name,
            format!("不能包含控制字符（U+{:04X}），请删去后重新提交", c as u32),
        ));
    }
    Ok(text)
}
