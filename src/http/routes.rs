//! The route table: every route of Wangju with the access it needs. The router (`super::router`)
//! is built from it and the access-matrix test walks it, so a new route is covered the moment
//! it is listed here.

use super::*;

const VIEW_ORGS: Access = Access::Role("may_view_orgs", Role::may_view_orgs);
const EDIT_ORGS: Access = Access::Role("may_edit_orgs", Role::may_edit_orgs);
const MANAGE_USERS: Access = Access::Role("may_manage_users", Role::may_manage_users);
const READ_ACTIVITIES: Access = Access::Role("may_read_activities", Role::may_read_activities);
const REPORT_ACTIVITIES: Access =
    Access::Role("may_report_activities", Role::may_report_activities);
const ALLOCATE_QUOTAS: Access = Access::Role("may_allocate_quotas", Role::may_allocate_quotas);
const CITY_ADMIN: Access = Access::Role("city_admin", |r| r == Role::CityAdmin);
const READ_AUDIT: Access = Access::Role("may_read_audit", Role::may_read_audit);
const SUBMIT_WORKS: Access = Access::Role("may_submit_works", Role::may_submit_works);
const READ_WORKS: Access = Access::Role("may_read_works", Role::may_read_works);
const MODERATE: Access = Access::Role("may_moderate", Role::may_moderate);
const PUBLICISE: Access = Access::Role("may_publicise", Role::may_publicise);
const REVIEW: Access = Access::Role("may_review", Role::may_review);
const RUN_SELECTION: Access = Access::Role("may_run_selection", Role::may_run_selection);
/// The lecture team's staff side: the city, the 网信办 liaisons, the unit admins who nominate.
const LECTURE_TEAM: Access = Access::Role("lecture_team", |r| {
    matches!(
        r,
        Role::CityAdmin | Role::CoOrganiserLiaison | Role::UnitAdmin
    )
});
const NOMINATE: Access = Access::Role("nominate_models", |r| r == Role::UnitAdmin);
/// One side each of the joint selection.
const CO_SELECT: Access = Access::Role("co_select_models", |r| {
    matches!(r, Role::CityAdmin | Role::CoOrganiserLiaison)
});

/// The city's summary page: the city and the 网信办 liaison.
const SUMMARY_READ: Access = Access::Role("summary_read", |r| {
    matches!(r, Role::CityAdmin | Role::CoOrganiserLiaison)
});
/// A district's own summary (the handler checks the unit is a district or bureau union).
const DISTRICT_SUMMARY: Access = Access::Role("district_summary", |r| r == Role::UnitAdmin);
/// A district's file: the city, the liaison, the district's own admin.
const SUMMARY_FILE: Access = Access::Role("summary_file", |r| {
    matches!(
        r,
        Role::CityAdmin | Role::CoOrganiserLiaison | Role::UnitAdmin
    )
});

/// Every route of Wangju.
pub fn route_table() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Method as M;
    use pages::{
        activities, audit, auth, checkin, exports, home, orgs, photos, progress, propagandists,
        publicity, quotas, recommendation, reminders, review, selection, users, works,
    };
    use pages::{lecture_team, lectures};
    vec![
        // Public pages and plumbing.
        r(M::GET, "/", Access::Public, get(home::overview)),
        r(M::GET, "/healthz", Access::Public, get(health)),
        r(M::GET, "/livez", Access::Public, get(live)),
        // Loopback (or `metrics_allow`, or the token) only; 404 to everyone else.
        r(M::GET, "/metrics", Access::Public, get(observe::metrics)),
        r(M::GET, "/static/{file}", Access::Public, get(assets::serve)),
        // Signing in and out.
        r(M::GET, "/login", Access::Public, get(auth::login_form)),
        r(M::POST, "/login", Access::Public, post(auth::login)),
        r(M::POST, "/logout", Access::AnySession, post(auth::logout)),
        r(
            M::GET,
            "/account/password",
            Access::AnySession,
            get(auth::password_form),
        ),
        r(
            M::POST,
            "/account/password",
            Access::AnySession,
            post(auth::change_password),
        ),
        r(M::GET, "/dashboard", Access::SignedIn, get(home::dashboard)),
        // 公示: the public lists and objections, and the city's side.
        r(
            M::GET,
            "/gongshi",
            Access::Public,
            get(publicity::public_list),
        ),
        r(
            M::GET,
            "/gongshi/{publicity_id}",
            Access::Public,
            get(publicity::public_show),
        ),
        r(
            M::POST,
            "/gongshi/{publicity_id}/objections",
            Access::Public,
            post(publicity::lodge).layer(DefaultBodyLimit::max(publicity::BODY_LIMIT)),
        ),
        r(
            M::GET,
            "/gongshi/receipts/{code}",
            Access::Public,
            get(publicity::receipt),
        ),
        r(M::GET, "/publicity", PUBLICISE, get(publicity::list)),
        r(M::POST, "/publicity", PUBLICISE, post(publicity::create)),
        r(
            M::GET,
            "/publicity/{publicity_id}",
            PUBLICISE,
            get(publicity::show),
        ),
        r(
            M::POST,
            "/publicity/{publicity_id}/publish",
            PUBLICISE,
            post(publicity::publish),
        ),
        r(
            M::POST,
            "/publicity/{publicity_id}/close",
            PUBLICISE,
            post(publicity::close),
        ),
        r(
            M::POST,
            "/publicity/{publicity_id}/objections/{objection_id}/ruling",
            PUBLICISE,
            post(publicity::rule),
        ),
        r(
            M::GET,
            "/publicity/{publicity_id}/objections/{objection_id}/evidence",
            PUBLICISE,
            get(publicity::evidence),
        ),
        // Org tree.
        r(M::GET, "/orgs", VIEW_ORGS, get(orgs::list)),
        r(M::POST, "/orgs", EDIT_ORGS, post(orgs::create)),
        r(M::GET, "/orgs/export", VIEW_ORGS, get(orgs::export)),
        r(
            M::POST,
            "/orgs/import",
            EDIT_ORGS,
            post(orgs::import).layer(DefaultBodyLimit::max(
                crate::office::tabular::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        ),
        r(M::GET, "/orgs/{org_id}", VIEW_ORGS, get(orgs::show)),
        r(M::POST, "/orgs/{org_id}", EDIT_ORGS, post(orgs::update)),
        r(
            M::POST,
            "/orgs/{org_id}/invite",
            MANAGE_USERS,
            post(orgs::make_invite),
        ),
        r(
            M::GET,
            "/orgs/{org_id}/invite.png",
            MANAGE_USERS,
            get(orgs::invite_png),
        ),
        // Accounts.
        r(M::GET, "/users", MANAGE_USERS, get(users::list)),
        r(M::POST, "/users", MANAGE_USERS, post(users::create)),
        r(M::POST, "/users/import", MANAGE_USERS, post(users::import)),
        r(M::GET, "/users/{user_id}", MANAGE_USERS, get(users::show)),
        r(
            M::POST,
            "/users/{user_id}/sub-projects",
            MANAGE_USERS,
            post(users::set_sub_projects),
        ),
        r(
            M::POST,
            "/users/{user_id}/reset-password",
            MANAGE_USERS,
            post(users::reset_password),
        ),
        r(
            M::POST,
            "/users/{user_id}/status",
            MANAGE_USERS,
            post(users::set_status),
        ),
        r(
            M::POST,
            "/users/{user_id}/email",
            MANAGE_USERS,
            post(users::set_email),
        ),
        r(
            M::POST,
            "/users/{user_id}/profile",
            MANAGE_USERS,
            post(users::set_profile),
        ),
        // Offline activities and quotas.
        r(
            M::GET,
            "/activities",
            READ_ACTIVITIES,
            get(activities::list),
        ),
        r(
            M::POST,
            "/activities",
            REPORT_ACTIVITIES,
            post(activities::create),
        ),
        r(
            M::GET,
            "/activities/export",
            READ_ACTIVITIES,
            get(exports::export_list),
        ),
        r(
            M::POST,
            "/activities/bulk",
            REPORT_ACTIVITIES,
            post(activities::bulk),
        ),
        r(
            M::GET,
            "/activities/new",
            REPORT_ACTIVITIES,
            get(activities::new_form),
        ),
        r(
            M::GET,
            "/activities/{activity_id}",
            READ_ACTIVITIES,
            get(activities::show),
        ),
        r(
            M::POST,
            "/activities/{activity_id}",
            REPORT_ACTIVITIES,
            post(activities::update),
        ),
        r(
            M::POST,
            "/activities/{activity_id}/photos",
            REPORT_ACTIVITIES,
            post(photos::add).layer(DefaultBodyLimit::max(photos::BODY_LIMIT)),
        ),
        r(
            M::GET,
            "/activities/{activity_id}/photos/{photo_id}",
            READ_ACTIVITIES,
            get(photos::file),
        ),
        r(
            M::POST,
            "/activities/{activity_id}/photos/{photo_id}/delete",
            REPORT_ACTIVITIES,
            post(photos::remove),
        ),
        r(
            M::POST,
            "/activities/{activity_id}/transition",
            REPORT_ACTIVITIES,
            post(activities::transition),
        ),
        r(
            M::GET,
            "/progress",
            READ_ACTIVITIES,
            get(progress::progress_page),
        ),
        r(
            M::GET,
            "/progress/export",
            READ_ACTIVITIES,
            get(exports::export),
        ),
        r(
            M::GET,
            "/progress/circular.docx",
            READ_ACTIVITIES,
            get(exports::circular_docx),
        ),
        r(
            M::POST,
            "/progress/circular",
            CITY_ADMIN,
            post(progress::set_circular),
        ),
        r(
            M::POST,
            "/progress/{org_id}/remind",
            ALLOCATE_QUOTAS,
            post(reminders::send),
        ),
        r(
            M::GET,
            "/reminders",
            REPORT_ACTIVITIES,
            get(reminders::list),
        ),
        r(
            M::POST,
            "/reminders/{reminder_id}/read",
            REPORT_ACTIVITIES,
            post(reminders::mark_read),
        ),
        r(
            M::POST,
            "/quotas/import",
            ALLOCATE_QUOTAS,
            post(quotas::import_allocation).layer(DefaultBodyLimit::max(
                crate::office::tabular::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        ),
        r(
            M::POST,
            "/quotas/{org_id}",
            ALLOCATE_QUOTAS,
            post(quotas::set_quota),
        ),
        r(
            M::GET,
            "/propagandists",
            READ_ACTIVITIES,
            get(propagandists::list),
        ),
        r(
            M::POST,
            "/propagandists",
            REPORT_ACTIVITIES,
            post(propagandists::register),
        ),
        r(
            M::GET,
            "/propagandists/export",
            READ_ACTIVITIES,
            get(propagandists::export),
        ),
        r(
            M::POST,
            "/propagandists/import",
            REPORT_ACTIVITIES,
            post(propagandists::import).layer(DefaultBodyLimit::max(
                crate::office::tabular::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        ),
        r(
            M::POST,
            "/propagandists/{propagandist_id}/remove",
            REPORT_ACTIVITIES,
            post(propagandists::remove),
        ),
        r(
            M::GET,
            "/activities/{activity_id}/checkin",
            READ_ACTIVITIES,
            get(checkin::poster),
        ),
        r(
            M::POST,
            "/activities/{activity_id}/checkin",
            READ_ACTIVITIES,
            post(checkin::make_code),
        ),
        r(
            M::GET,
            "/activities/{activity_id}/attendees",
            READ_ACTIVITIES,
            get(checkin::attendees),
        ),
        r(
            M::GET,
            "/activities/{activity_id}/qr.svg",
            READ_ACTIVITIES,
            get(checkin::qr_svg),
        ),
        r(
            M::GET,
            "/activities/{activity_id}/qr.png",
            READ_ACTIVITIES,
            get(checkin::qr_png),
        ),
        // QR check-in, public: the code in the URL is the key.
        r(M::GET, "/c/{token}", Access::Public, get(checkin::form)),
        r(M::POST, "/c/{token}", Access::Public, post(checkin::submit)),
        // Sub-projects (public), worker registration, works and moderation.
        r(M::GET, "/projects", Access::Public, get(works::projects)),
        r(
            M::GET,
            "/projects/{code}",
            Access::Public,
            get(works::project),
        ),
        r(
            M::GET,
            "/register",
            Access::Public,
            get(works::register_form),
        ),
        r(M::POST, "/register", Access::Public, post(works::register)),
        r(
            M::GET,
            "/projects/{code}/submit",
            SUBMIT_WORKS,
            get(works::submit_form),
        ),
        r(
            M::POST,
            "/projects/{code}/submit",
            SUBMIT_WORKS,
            post(works::submit),
        ),
        r(M::GET, "/works", READ_WORKS, get(works::list)),
        r(M::GET, "/works/export", READ_WORKS, get(works::export)),
        r(M::GET, "/works/{work_id}", READ_WORKS, get(works::show)),
        r(
            M::GET,
            "/works/{work_id}/file",
            READ_WORKS,
            get(works::file),
        ),
        r(
            M::POST,
            "/works/{work_id}/decision",
            MODERATE,
            post(works::decide),
        ),
        r(
            M::GET,
            "/works/{work_id}/fix",
            SUBMIT_WORKS,
            get(works::fix_form),
        ),
        r(
            M::POST,
            "/works/{work_id}/fix",
            SUBMIT_WORKS,
            post(works::resubmit),
        ),
        r(
            M::GET,
            "/participations",
            READ_ACTIVITIES,
            get(works::participations),
        ),
        r(
            M::POST,
            "/participations",
            REPORT_ACTIVITIES,
            post(works::record_participation),
        ),
        // Selection: the reviewer's blind score sheets and the city's rounds.
        r(M::GET, "/review", REVIEW, get(review::list)),
        r(M::GET, "/review/{assignment_id}", REVIEW, get(review::show)),
        r(
            M::POST,
            "/review/{assignment_id}",
            REVIEW,
            post(review::save),
        ),
        r(
            M::GET,
            "/review/{assignment_id}/file",
            REVIEW,
            get(review::file),
        ),
        r(
            M::GET,
            "/selection",
            RUN_SELECTION,
            get(selection::overview),
        ),
        r(
            M::POST,
            "/selection/reviewers/import",
            RUN_SELECTION,
            post(selection::import_reviewers).layer(DefaultBodyLimit::max(
                crate::office::tabular::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        ),
        r(
            M::POST,
            "/selection/conflicts",
            RUN_SELECTION,
            post(selection::declare_conflict),
        ),
        r(
            M::POST,
            "/selection/{code}/pool",
            RUN_SELECTION,
            post(selection::pool_add),
        ),
        r(
            M::POST,
            "/selection/{code}/pool/{user_id}/withdraw",
            RUN_SELECTION,
            post(selection::withdraw),
        ),
        r(
            M::POST,
            "/selection/{code}/start",
            RUN_SELECTION,
            post(selection::start),
        ),
        r(
            M::GET,
            "/selection/rounds/{round_id}",
            RUN_SELECTION,
            get(selection::round),
        ),
        r(
            M::GET,
            "/selection/rounds/{round_id}/assignments",
            RUN_SELECTION,
            get(selection::assignments),
        ),
        r(
            M::POST,
            "/selection/rounds/{round_id}/assign",
            RUN_SELECTION,
            post(selection::assign),
        ),
        r(
            M::POST,
            "/selection/rounds/{round_id}/close",
            RUN_SELECTION,
            post(selection::close),
        ),
        r(
            M::POST,
            "/selection/assignments/{assignment_id}/move",
            RUN_SELECTION,
            post(selection::move_assignment),
        ),
        // Recommendation: the list, its 公示, the package and the national results.
        r(
            M::GET,
            "/recommendation",
            RUN_SELECTION,
            get(recommendation::page),
        ),
        r(
            M::POST,
            "/recommendation/{code}/pick",
            RUN_SELECTION,
            post(recommendation::pick),
        ),
        r(
            M::POST,
            "/recommendation/{code}/fill",
            RUN_SELECTION,
            post(recommendation::fill),
        ),
        r(
            M::POST,
            "/recommendation/works/{work_id}/remove",
            RUN_SELECTION,
            post(recommendation::remove),
        ),
        r(
            M::POST,
            "/recommendation/{code}/publicity",
            RUN_SELECTION,
            post(recommendation::publicise),
        ),
        r(
            M::GET,
            "/recommendation/package",
            RUN_SELECTION,
            get(recommendation::download),
        ),
        r(
            M::POST,
            "/recommendation/results/import",
            RUN_SELECTION,
            post(recommendation::import_results).layer(DefaultBodyLimit::max(
                crate::office::tabular::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        ),
        // Audit log.
        r(M::GET, "/audit", READ_AUDIT, get(audit::list)),
        r(M::GET, "/audit/export", READ_AUDIT, get(audit::export)),
        // The campaign's archive and closing it (结束活动).
        r(
            M::GET,
            "/campaign/archive",
            CITY_ADMIN,
            get(pages::archive::show),
        ),
        r(
            M::POST,
            "/campaign/close",
            CITY_ADMIN,
            post(pages::archive::close),
        ),
        // JSON API.
        r(
            M::GET,
            "/api/v1/openapi.json",
            Access::Public,
            get(api::openapi_json),
        ),
        r(M::GET, "/api/v1/csrf", Access::Public, get(api::auth::csrf)),
        r(
            M::POST,
            "/api/v1/session",
            Access::Public,
            post(api::auth::login),
        ),
        r(
            M::DELETE,
            "/api/v1/session",
            Access::AnySession,
            delete(api::auth::logout),
        ),
        r(M::GET, "/api/v1/me", Access::AnySession, get(api::auth::me)),
        r(
            M::GET,
            "/api/v1/campaign",
            Access::Public,
            get(api::campaign::current),
        ),
        r(M::GET, "/api/v1/orgs", VIEW_ORGS, get(api::orgs::list)),
        r(M::POST, "/api/v1/orgs", EDIT_ORGS, post(api::orgs::create)),
        r(
            M::GET,
            "/api/v1/orgs/{org_id}",
            VIEW_ORGS,
            get(api::orgs::show),
        ),
        r(
            M::PUT,
            "/api/v1/orgs/{org_id}",
            EDIT_ORGS,
            put(api::orgs::update),
        ),
        r(M::GET, "/api/v1/users", MANAGE_USERS, get(api::users::list)),
        r(
            M::POST,
            "/api/v1/users",
            MANAGE_USERS,
            post(api::users::create),
        ),
        r(
            M::GET,
            "/api/v1/users/{user_id}",
            MANAGE_USERS,
            get(api::users::show),
        ),
        r(
            M::PUT,
            "/api/v1/users/{user_id}/email",
            MANAGE_USERS,
            put(api::users::set_email),
        ),
        r(
            M::PUT,
            "/api/v1/users/{user_id}/profile",
            MANAGE_USERS,
            put(api::users::set_profile),
        ),
        r(
            M::POST,
            "/api/v1/users/import",
            MANAGE_USERS,
            post(api::users::import),
        ),
        r(M::GET, "/api/v1/audit", READ_AUDIT, get(api::audit::list)),
        r(
            M::GET,
            "/api/v1/reminders",
            REPORT_ACTIVITIES,
            get(api::reminders::list),
        ),
        r(
            M::POST,
            "/api/v1/reminders/{reminder_id}/read",
            REPORT_ACTIVITIES,
            post(api::reminders::mark_read),
        ),
        r(
            M::POST,
            "/api/v1/orgs/{org_id}/reminders",
            ALLOCATE_QUOTAS,
            post(api::reminders::send),
        ),
        r(
            M::GET,
            "/api/v1/propagandists",
            READ_ACTIVITIES,
            get(api::propagandists::list),
        ),
        r(
            M::GET,
            "/api/v1/propagandists/page",
            READ_ACTIVITIES,
            get(api::propagandists::page),
        ),
        r(
            M::PUT,
            "/api/v1/propagandists/{propagandist_id}",
            REPORT_ACTIVITIES,
            put(api::propagandists::edit),
        ),
        r(
            M::POST,
            "/api/v1/propagandists/{propagandist_id}/removal",
            REPORT_ACTIVITIES,
            post(api::propagandists::remove),
        ),
        r(
            M::POST,
            "/api/v1/propagandists/import",
            REPORT_ACTIVITIES,
            post(api::propagandists::import).layer(DefaultBodyLimit::max(
                crate::office::tabular::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        ),
        r(
            M::POST,
            "/api/v1/propagandists",
            REPORT_ACTIVITIES,
            post(api::propagandists::register),
        ),
        r(
            M::GET,
            "/api/v1/activities",
            READ_ACTIVITIES,
            get(api::activities::list),
        ),
        r(
            M::POST,
            "/api/v1/activities",
            REPORT_ACTIVITIES,
            post(api::activities::create),
        ),
        r(
            M::GET,
            "/api/v1/activities/{activity_id}",
            READ_ACTIVITIES,
            get(api::activities::show),
        ),
        r(
            M::PUT,
            "/api/v1/activities/{activity_id}",
            REPORT_ACTIVITIES,
            put(api::activities::update),
        ),
        r(
            M::GET,
            "/api/v1/activities/{activity_id}/photos",
            READ_ACTIVITIES,
            get(api::activities::photos),
        ),
        r(
            M::POST,
            "/api/v1/activities/{activity_id}/photos",
            REPORT_ACTIVITIES,
            post(api::activities::add_photo)
                .layer(DefaultBodyLimit::max(crate::media::photo::MAX_BYTES + 1024)),
        ),
        r(
            M::POST,
            "/api/v1/activities/bulk-transitions",
            REPORT_ACTIVITIES,
            post(api::activities::bulk_transition),
        ),
        r(
            M::POST,
            "/api/v1/activities/{activity_id}/transitions",
            REPORT_ACTIVITIES,
            post(api::activities::transition),
        ),
        r(
            M::GET,
            "/api/v1/progress",
            READ_ACTIVITIES,
            get(api::activities::progress),
        ),
        r(
            M::GET,
            "/api/v1/progress/export",
            READ_ACTIVITIES,
            get(api::activities::export),
        ),
        r(
            M::GET,
            "/api/v1/progress/charts",
            READ_ACTIVITIES,
            get(api::activities::charts),
        ),
        r(
            M::PUT,
            "/api/v1/quotas/{org_id}",
            ALLOCATE_QUOTAS,
            put(api::activities::set_quota),
        ),
        r(
            M::POST,
            "/api/v1/register",
            Access::Public,
            post(api::works::register),
        ),
        r(
            M::POST,
            "/api/v1/uploads",
            SUBMIT_WORKS,
            post(api::works::start_upload),
        ),
        r(
            M::GET,
            "/api/v1/uploads/{upload_id}",
            SUBMIT_WORKS,
            get(api::works::upload_status),
        ),
        // The body is streamed to the store with the upload's own size limit.
        r(
            M::PATCH,
            "/api/v1/uploads/{upload_id}",
            SUBMIT_WORKS,
            patch(api::works::upload_chunk).layer(DefaultBodyLimit::disable()),
        ),
        r(M::GET, "/api/v1/works", READ_WORKS, get(api::works::list)),
        r(
            M::POST,
            "/api/v1/works",
            SUBMIT_WORKS,
            post(api::works::submit),
        ),
        r(
            M::GET,
            "/api/v1/works/{work_id}",
            READ_WORKS,
            get(api::works::show),
        ),
        r(
            M::PUT,
            "/api/v1/works/{work_id}",
            SUBMIT_WORKS,
            put(api::works::resubmit),
        ),
        r(
            M::POST,
            "/api/v1/works/{work_id}/decision",
            MODERATE,
            post(api::works::decide),
        ),
        r(
            M::GET,
            "/api/v1/participations",
            READ_ACTIVITIES,
            get(api::works::participations),
        ),
        r(
            M::POST,
            "/api/v1/participations",
            REPORT_ACTIVITIES,
            post(api::works::record_participation),
        ),
        // 天津市好网民宣讲团: the public team page, nominations, joint selection, roster.
        r(
            M::GET,
            "/lecture-team",
            Access::Public,
            get(lecture_team::team),
        ),
        r(
            M::GET,
            "/lecture-team/members/{member_id}/photo",
            Access::Public,
            get(lecture_team::member_photo),
        ),
        r(
            M::GET,
            "/lecture-team/manage",
            LECTURE_TEAM,
            get(lecture_team::manage),
        ),
        r(
            M::POST,
            "/lecture-team/nominations",
            NOMINATE,
            post(lecture_team::nominate),
        ),
        r(
            M::GET,
            "/lecture-team/nominations/{nomination_id}",
            LECTURE_TEAM,
            get(lecture_team::nomination),
        ),
        r(
            M::POST,
            "/lecture-team/nominations/{nomination_id}",
            NOMINATE,
            post(lecture_team::edit),
        ),
        r(
            M::POST,
            "/lecture-team/nominations/{nomination_id}/vet",
            CITY_ADMIN,
            post(lecture_team::vet),
        ),
        r(
            M::POST,
            "/lecture-team/nominations/{nomination_id}/decision",
            CO_SELECT,
            post(lecture_team::decide),
        ),
        r(
            M::GET,
            "/lecture-team/nominations/{nomination_id}/photo",
            LECTURE_TEAM,
            get(lecture_team::nomination_photo),
        ),
        r(
            M::POST,
            "/lecture-team/nominations/{nomination_id}/photo",
            NOMINATE,
            post(lecture_team::upload_photo)
                .layer(DefaultBodyLimit::max(lecture_team::PHOTO_BODY_LIMIT)),
        ),
        r(
            M::POST,
            "/lecture-team/publicity",
            CITY_ADMIN,
            post(lecture_team::draft_publicity),
        ),
        r(
            M::POST,
            "/lecture-team/publicity/{publicity_id}/apply",
            CITY_ADMIN,
            post(lecture_team::apply_publicity),
        ),
        r(
            M::POST,
            "/lecture-team/members",
            CO_SELECT,
            post(lecture_team::add_member),
        ),
        r(
            M::POST,
            "/lecture-team/members/{member_id}/retire",
            CO_SELECT,
            post(lecture_team::retire),
        ),
        // 五进 lectures: requests, assignment (one or more lecturers), each lecturer's
        // confirmation or decline, the team's record.
        r(
            M::GET,
            "/lecture-team/lectures",
            READ_ACTIVITIES,
            get(lectures::list),
        ),
        r(
            M::POST,
            "/lecture-team/lectures",
            REPORT_ACTIVITIES,
            post(lectures::request),
        ),
        r(
            M::POST,
            "/lecture-team/lectures/{lecture_id}/assign",
            CO_SELECT,
            post(lectures::assign),
        ),
        r(
            M::GET,
            "/lecture-team/confirm/{token}",
            Access::Public,
            get(lectures::confirm_form),
        ),
        r(
            M::POST,
            "/lecture-team/confirm/{token}",
            Access::Public,
            post(lectures::confirm),
        ),
        r(
            M::POST,
            "/lecture-team/confirm/{token}/decline",
            Access::Public,
            post(lectures::decline),
        ),
        // 网络公开课: the views claimed with a screenshot, and the screenshot.
        r(
            M::POST,
            "/lecture-team/lectures/{lecture_id}/views",
            REPORT_ACTIVITIES,
            post(lectures::report_views).layer(DefaultBodyLimit::max(lectures::VIEWS_BODY_LIMIT)),
        ),
        r(
            M::GET,
            "/lecture-team/lectures/{lecture_id}/screenshot",
            READ_ACTIVITIES,
            get(lectures::screenshot),
        ),
        // The showcase (public), share links and the reach dashboard (issue 15).
        r(
            M::GET,
            "/showcase",
            Access::Public,
            get(pages::showcase::list),
        ),
        r(
            M::GET,
            "/showcase/works/{work_id}",
            Access::Public,
            get(pages::showcase::work),
        ),
        r(
            M::GET,
            "/showcase/works/{work_id}/file",
            Access::Public,
            get(pages::showcase::work_file),
        ),
        r(
            M::GET,
            "/showcase/works/{work_id}/poster.jpg",
            Access::Public,
            get(pages::showcase::work_poster),
        ),
        r(
            M::GET,
            "/showcase/activities/{activity_id}",
            Access::Public,
            get(pages::showcase::activity),
        ),
        r(
            M::GET,
            "/showcase/activities/{activity_id}/photos/{photo_id}",
            Access::Public,
            get(pages::showcase::photo),
        ),
        r(
            M::GET,
            "/s/{code}",
            Access::Public,
            get(pages::showcase::short),
        ),
        r(
            M::POST,
            "/share",
            Access::SignedIn,
            post(pages::showcase::share),
        ),
        r(
            M::GET,
            "/reach/links",
            Access::SignedIn,
            get(pages::showcase::my_links),
        ),
        // The campaign summary (活动总结): the city writes and exports it, the 网信办 liaison
        // reads it, each district submits its own.
        r(M::GET, "/summary", SUMMARY_READ, get(pages::summary::page)),
        r(
            M::POST,
            "/summary/sections/{section}",
            CITY_ADMIN,
            post(pages::summary::save),
        ),
        r(
            M::POST,
            "/summary/sections/{section}/restore",
            CITY_ADMIN,
            post(pages::summary::restore),
        ),
        r(
            M::GET,
            "/summary/summary.docx",
            CITY_ADMIN,
            get(pages::summary::docx),
        ),
        r(
            M::GET,
            "/summary/summary.xlsx",
            CITY_ADMIN,
            get(pages::summary::xlsx),
        ),
        r(
            M::GET,
            "/summary/district",
            DISTRICT_SUMMARY,
            get(pages::summary::district_page),
        ),
        r(
            M::POST,
            "/summary/district",
            DISTRICT_SUMMARY,
            post(pages::summary::district_submit)
                .layer(DefaultBodyLimit::max(pages::summary::BODY_LIMIT)),
        ),
        r(
            M::GET,
            "/summary/district/{org_id}/file",
            SUMMARY_FILE,
            get(pages::summary::district_file),
        ),
        r(
            M::GET,
            "/api/v1/summary",
            SUMMARY_READ,
            get(pages::summary::api_get),
        ),
        r(
            M::PUT,
            "/api/v1/summary/sections/{section}",
            CITY_ADMIN,
            put(pages::summary::api_save),
        ),
        r(
            M::GET,
            "/api/v1/summary/district",
            DISTRICT_SUMMARY,
            get(pages::summary::api_district),
        ),
        r(M::GET, "/reach", READ_ACTIVITIES, get(pages::reach::page)),
        r(
            M::GET,
            "/api/v1/reach",
            READ_ACTIVITIES,
            get(pages::reach::api),
        ),
        r(
            M::POST,
            "/works/{work_id}/showcase",
            Access::SignedIn,
            post(pages::showcase::set_work),
        ),
        r(
            M::POST,
            "/activities/{activity_id}/showcase",
            REPORT_ACTIVITIES,
            post(pages::showcase::set_activity),
        ),
    ]
}

/// The route table without handlers, for docs and tests.
pub fn routes() -> Vec<RouteSpec> {
    route_table().into_iter().map(|(spec, _)| spec).collect()
}
