//! The JSON API under `/api/v1/`: what the pages show, for a WeChat mini-program or scripts.
//! Same sessions and scope rules as the pages; writes carry the `X-CSRF-Token` header.

pub mod activities;
pub mod audit;
pub mod auth;
pub mod campaign;
pub mod orgs;
pub mod propagandists;
pub mod reminders;
pub mod users;
pub mod works;

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "网聚 Wangju API", version = "1", description = "工会网上主题活动平台的 JSON 接口。登录后以会话 Cookie 认证；所有写操作须带 X-CSRF-Token 请求头（登录前从 GET /api/v1/csrf 取得）。"),
    paths(
        auth::csrf, auth::login, auth::logout, auth::me,
        campaign::current,
        orgs::list, orgs::show, orgs::create, orgs::update,
        users::list, users::show, users::create, users::set_email, users::set_profile, users::import,
        audit::list,
        activities::list, activities::create, activities::show, activities::update, activities::transition, activities::bulk_transition,
        activities::progress, activities::charts, activities::export, activities::set_quota, activities::photos, activities::add_photo,
        propagandists::list, propagandists::register, propagandists::page, propagandists::edit,
        propagandists::remove, propagandists::import,
        works::register, works::start_upload, works::upload_status, works::upload_chunk,
        works::list, works::submit, works::show, works::resubmit, works::decide,
        works::participations, works::record_participation,
        reminders::list, reminders::mark_read, reminders::send,
        crate::http::pages::reach::api,
        crate::http::pages::summary::api_get, crate::http::pages::summary::api_save,
        crate::http::pages::summary::api_district,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::FieldError)),
    tags((name = "auth", description = "登录与会话"), (name = "campaign", description = "活动概况"),
         (name = "orgs", description = "组织架构"), (name = "users", description = "账号"),
         (name = "audit", description = "审计日志"), (name = "activities", description = "线下活动与任务完成情况"),
         (name = "works", description = "作品征集、可续传上传、审核与参与登记"),
         (name = "reminders", description = "催报提醒"),
         (name = "summary", description = "活动总结：各节段落及其版本、各单位总结报送")),
)]
pub struct ApiDoc;

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
