//! One error type for the whole app, with its HTTP status, a stable machine code and the
//! Chinese message users read, all in one table. It renders nothing itself:
//! `http::error_response` maps it to responses, in one place (an HTML page for the web UI,
//! `{"error": code, "message": …}` for the JSON API), where internal causes are logged once and
//! never shown.

use axum::http::StatusCode;
use serde::Serialize;

/// A problem with one field of a form, file row or request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Where: a form field, `第 3 行` of a file, or a JSON path.
    pub field: String,
    /// What is wrong and what to do, in Chinese.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a request conflicts with the state of things: a stable code API clients branch on,
/// beside the Chinese message people read. Listed in the OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Conflict {
    /// Today's campaign phase does not allow this (e.g. reporting after 9/15).
    PhaseClosed,
    /// The object is not in a state that allows this (a report left draft, a work decided).
    WrongState,
    /// Someone else changed the object meanwhile; reload and retry.
    ChangedMeanwhile,
    /// The caller acted on a version it saw that is no longer current.
    StaleVersion,
    /// A resumable upload's offset is not where the server is.
    UploadOffsetMismatch,
    /// The upload was swept as abandoned.
    UploadExpired,
    /// Another connection is sending the same upload.
    UploadBusy,
    /// The connection dropped mid-chunk; what arrived is kept.
    UploadInterrupted,
    /// Check-in for this activity is closed or this phone has signed in its share.
    CheckinClosed,
    /// The sub-project is run on its host's own platform, not in Wangju.
    HostedElsewhere,
    /// The org is not a union body (workers and activities belong to unions).
    NotAUnion,
    /// The account does not have the role the action needs.
    WrongRole,
    /// Something with that key exists already.
    AlreadyExists,
    /// The account has as many of these open as it may (e.g. uploads receiving).
    TooManyOpen,
    /// The campaign was archived and closed: it can be read, not changed.
    CampaignClosed,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("not logged in")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("csrf token missing or wrong")]
    Csrf,
    #[error("must change password first")]
    PasswordChangeRequired,
    #[error("validation failed")]
    Invalid(Vec<FieldError>),
    #[error("conflict ({0:?}): {1}")]
    Conflict(Conflict, String),
    #[error("bad login")]
    BadLogin,
    #[error("account locked")]
    Locked { minutes_left: i64 },
    #[error("too many attempts")]
    RateLimited,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body too large")]
    TooLarge,
    /// An upload passed its size limit; the message names the size and the limit.
    #[error("file too large")]
    FileTooLarge(String),
    #[error("service unavailable")]
    Unavailable,
    /// The disk (or the database's) is full: nothing of the request was kept.
    #[error("storage full")]
    StorageFull,
    /// The request took longer than the server allows.
    #[error("request timed out")]
    TimedOut,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    /// A database that cannot be reached is a temporary outage (503), not a bug (500): that
    /// includes a PostgreSQL restarting (its connections are ended with 57P01, and it refuses
    /// new ones with 57P03 while it starts). A full disk is said as such.
    fn from(e: sqlx::Error) -> AppError {
        let code = e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned());
        match (&e, code.as_deref()) {
            (
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
                _,
            ) => {
                tracing::warn!(error = %e, "database unavailable");
                AppError::Unavailable
            }
            (_, Some(code)) if database_full(code) => {
                tracing::error!(error = %e, "database disk full");
                AppError::StorageFull
            }
            (_, Some(code)) if database_unavailable(code) => {
                tracing::warn!(error = %e, "database unavailable");
                AppError::Unavailable
            }
            _ => AppError::Internal(e.into()),
        }
    }
}

/// SQLite's SQLITE_FULL (13, with any extended code) or PostgreSQL's `disk_full`.
fn database_full(code: &str) -> bool {
    code == "53100" || code.parse::<i32>().is_ok_and(|c| c & 0xff == 13)
}

/// PostgreSQL: connection exceptions (class 08), shutting down or starting up (57P01–57P03),
/// too many connections (53300). SQLite: still busy after the busy timeout (5).
fn database_unavailable(code: &str) -> bool {
    code.starts_with("08")
        || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
        || code.parse::<i32>().is_ok_and(|c| c & 0xff == 5)
}

impl AppError {
    /// A failed file operation: a full disk (ENOSPC, over quota) is said as such; anything
    /// else is an internal error.
    pub fn io(e: std::io::Error) -> AppError {
        if matches!(
            e.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        ) {
            tracing::error!(error = %e, "disk full");
            AppError::StorageFull
        } else {
            AppError::Internal(e.into())
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf | AppError::PasswordChangeRequired => {
                StatusCode::FORBIDDEN
            }
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(..) => StatusCode::CONFLICT,
            AppError::BadLogin => StatusCode::UNAUTHORIZED,
            AppError::Locked { .. } | AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge | AppError::FileTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            AppError::TimedOut => StatusCode::REQUEST_TIMEOUT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine code, the key clients translate from.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::Csrf => "csrf_failed",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::Invalid(_) => "invalid_input",
            AppError::Conflict(..) => "conflict",
            AppError::BadLogin => "bad_login",
            AppError::Locked { .. } => "account_locked",
            AppError::RateLimited => "rate_limited",
            AppError::TooLarge => "payload_too_large",
            AppError::FileTooLarge(_) => "file_too_large",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Unavailable => "unavailable",
            AppError::StorageFull => "storage_full",
            AppError::TimedOut => "timed_out",
            AppError::Internal(_) => "internal",
        }
    }

    /// What the user reads.
    pub fn message_zh(&self) -> String {
        match self {
            AppError::NotFound => "页面或对象不存在，或不在您的管理范围内。".into(),
            AppError::Unauthenticated => {
                "请先登录；如已登录，可能因 30 分钟未操作已自动退出。".into()
            }
            AppError::Forbidden => "您的账号没有这项操作的权限。".into(),
            AppError::Csrf => "表单已过期或来源不可信。请刷新页面后重新提交。".into(),
            AppError::PasswordChangeRequired => "请先修改初始密码，再继续操作。".into(),
            AppError::Invalid(errors) => {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}：{}", e.field, e.message))
                    .collect();
                format!("提交的内容有误，请修改后重试：{}", lines.join("；"))
            }
            AppError::Conflict(_, message) | AppError::FileTooLarge(message) => message.clone(),
            AppError::BadLogin => "登录名或密码不正确。连续 5 次错误，账号将锁定 15 分钟。".into(),
            AppError::Locked { minutes_left } => format!(
                "密码连续错误次数过多，账号已锁定，请 {minutes_left} 分钟后再试，或请管理员重置密码。"
            ),
            AppError::RateLimited => "登录尝试过于频繁，请 5 分钟后再试。".into(),
            AppError::TooLarge => "提交的内容太大，请缩小文件或分批提交。".into(),
            AppError::MethodNotAllowed => "这个地址不支持这种请求方式。".into(),
            AppError::Unavailable => "服务暂时不可用，请稍后再试。".into(),
            AppError::StorageFull => "服务器存储空间已满，这次提交没有保存。请稍后再试；如一直如此，请联系系统管理员清理空间。".into(),
            AppError::TimedOut => "请求处理时间过长，已中止。网络较慢时请稍后重试；上传大文件请用页面上的上传按钮（可断点续传）。".into(),
            AppError::Internal(_) => "服务器内部错误，已记录，请稍后再试。".into(),
        }
    }

    /// The per-field problems of `Invalid`; empty for every other error.
    /// Why a conflict happened (for API clients).
    pub fn reason(&self) -> Option<Conflict> {
        match self {
            AppError::Conflict(reason, _) => Some(*reason),
            _ => None,
        }
    }

    /// A conflict with its reason and message.
    pub fn conflict(reason: Conflict, message: impl Into<String>) -> AppError {
        AppError::Conflict(reason, message.into())
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Invalid(fields) => fields,
            _ => &[],
        }
    }
}

/// Error body of the JSON API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable code, e.g. `not_found`, `invalid_input`, `conflict`.
    pub error: &'static str,
    /// For `conflict`: why, a stable code to branch on (e.g. `phase_closed`,
    /// `upload_offset_mismatch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Conflict>,
    /// What went wrong and what to do, in Chinese.
    pub message: String,
    /// Per-field problems, for `invalid_input`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// Wraps [`AppError`] for the JSON API.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError(e.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Makes any failure an internal error that says what was being done, for the log (users see
/// only the generic message): `serde_json::to_string(&x).doing("encoding the report")?`.
pub trait Doing<T> {
    fn doing(self, what: &str) -> Result<T, AppError>;
}

impl<T, E: std::fmt::Display> Doing<T> for Result<T, E> {
    fn doing(self, what: &str) -> Result<T, AppError> {
        self.map_err(|e| AppError::Internal(anyhow::anyhow!("{what}: {e}")))
    }
}

impl<T> Doing<T> for Option<T> {
    fn doing(self, what: &str) -> Result<T, AppError> {
        self.ok_or_else(|| AppError::Internal(anyhow::anyhow!("{what}: nothing there")))
    }
}
pub type ApiResult<T> = Result<T, ApiError>;
