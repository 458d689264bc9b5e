//! The showcase (public, phone-first: works and activities shown by choice), share links
//! (`/s/{code}`, `POST /share`, `/reach/links`) and the show/hide choices on the owners' pages.
//!
//! Pages are plain HTML with no script needed, so WeChat's in-app browser shows them as they
//! are: `<video controls playsinline>` for works, real `<a>` links for news. Each page carries
//! Open Graph tags with absolute URLs on the configured `public_url`.
//!
//! A page opened with `?via=CODE` counts a visit through that share link (`service::reach`)
//! and, when the visitor is counted, redirects (302) to the same page carrying the visitor's
//! own child code, so that what they share onward is attributed one level deeper.

use askama::Template;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, absolute_url, render};
use crate::app::AppState;
use crate::domain::ids::{ActivityId, WorkId};
use crate::domain::reach::Target;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Form, Path, Query};
use crate::http::session::{CurrentUser, MaybeSession, Session};
use crate::service::reach::{Outcome, Visitor};
use crate::service::showcase::{self, ActivityCard, District, Filter, WorkCard};

/// The share metadata of a page (`og:*`), with absolute URLs.
pub struct Share {
    pub title: String,
    pub description: String,
    pub image: String,
    pub url: String,
}

/// Longest description put in `og:description`.
const OG_DESCRIPTION_CHARS: usize = 120;

fn clip(text: &str, chars: usize) -> String {
    let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() <= chars {
        t
    } else {
        format!("{}…", t.chars().take(chars).collect::<String>())
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    pub via: Option<String>,
    #[serde(default)]
    pub sub_project: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub theme: String,
}

impl PageQuery {
    fn filter(&self) -> Result<Filter, AppError> {
        for v in [&self.sub_project, &self.district, &self.theme] {
            if v.len() > showcase::MAX_FILTER {
                return Err(AppError::invalid("筛选", "筛选条件太长，请从列表中选择"));
            }
        }
        Ok(Filter {
            sub_project: self.sub_project.trim().to_string(),
            district: self.district.trim().to_string(),
            theme: self.theme.trim().to_string(),
        })
    }
}

fn user_agent(parts: &Parts) -> &str {
    parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn found(location: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn visit(
    state: &AppState,
    parts: &Parts,
    session: Option<&Session>,
    code: &str,
) -> AppResult<Outcome> {
    let ip = crate::http::session::client_ip(parts);
    state
        .reach
        .visit(
            &state.db,
            &state.clock,
            code,
            &Visitor {
                ip: &ip,
                user_agent: user_agent(parts),
                account: session.map(|s| s.user.id),
            },
        )
        .await
}

/// A page opened through `?via=`: the redirect to the visitor's own child link, when they get
/// one; `None` to render the page as it is (a bot, the link's owner, an unknown code).
async fn through(
    state: &AppState,
    parts: &Parts,
    session: Option<&Session>,
    via: Option<&str>,
) -> AppResult<Option<Response>> {
    let Some(code) = via.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let outcome = visit(state, parts, session, code).await?;
    Ok(match &outcome {
        Outcome::Counted { child: Some(c), .. } | Outcome::Repeat { child: Some(c), .. }
            if c != code =>
        {
            Some(found(&outcome.location()))
        }
        _ => None,
    })
}

/// `GET /s/{code}`: counts the visit and sends the visitor to the page (302). An unknown code
/// goes to the campaign home, counting nothing.
pub async fn short(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(code): Path<String>,
    parts: Parts,
) -> AppResult<Response> {
    let outcome = visit(&state, &parts, session.as_ref(), &code).await?;
    Ok(found(&outcome.location()))
}

fn nav(session: &Option<Session>) -> Nav {
    match session {
        Some(s) => Nav::for_session(s),
        None => Nav::anonymous(),
    }
}

#[derive(Template)]
#[template(path = "showcase_list.html")]
struct ListPage {
    nav: Nav,
    share: Share,
    works: Vec<WorkCard>,
    activities: Vec<ActivityCard>,
    sub_projects: Vec<(String, String)>,
    districts: Vec<District>,
    themes: Vec<String>,
    filter: Filter,
    signed_in: bool,
    csrf: String,
    target: String,
    here: String,
}

pub async fn list(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(q): Query<PageQuery>,
    parts: Parts,
) -> AppResult<Response> {
    if let Some(r) = through(&state, &parts, session.as_ref(), q.via.as_deref()).await? {
        return Ok(r);
    }
    let filter = q.filter()?;
    let campaign = state.campaign.get(&state.db).await?;
    let (works, activities) = showcase::list(&state.db, &campaign, &filter).await?;
    let c = &campaign.campaign;
    let page = ListPage {
        share: Share {
            title: format!("{} · 作品与活动展示", c.title),
            description: clip(
                "职工的优秀网络作品和各级工会的线下活动，欢迎观看、转发。",
                OG_DESCRIPTION_CHARS,
            ),
            image: absolute_url(&state, &parts.headers, "/static/share.png"),
            url: absolute_url(&state, &parts.headers, "/showcase"),
        },
        nav: nav(&session),
        works,
        activities,
        sub_projects: c
            .sub_projects
            .iter()
            .map(|s| (s.code.clone(), s.name.clone()))
            .collect(),
        districts: showcase::districts(&state.db).await?,
        themes: c.content_categories.clone(),
        filter,
        signed_in: session.is_some(),
        csrf: session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default(),
        target: Target::Showcase.path(),
        here: absolute_url(
            &state,
            &parts.headers,
            &here(&Target::Showcase.path(), q.via.as_deref()),
        ),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "showcase_work.html")]
struct WorkPage {
    nav: Nav,
    share: Share,
    w: WorkCard,
    signed_in: bool,
    csrf: String,
    target: String,
    here: String,
}

pub async fn work(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
    parts: Parts,
) -> AppResult<Response> {
    let campaign = state.campaign.get(&state.db).await?;
    let w = showcase::work(&state.db, &state.shown_works, &campaign, id).await?;
    if let Some(r) = through(&state, &parts, session.as_ref(), q.via.as_deref()).await? {
        return Ok(r);
    }
    let target = Target::Work(id).path();
    let image = if w.is_image {
        format!("/showcase/works/{id}/file")
    } else if w.has_poster {
        format!("/showcase/works/{id}/poster.jpg")
    } else {
        "/static/share.png".into()
    };
    let page = WorkPage {
        share: Share {
            title: format!("{}（{}）", w.title, w.unit),
            description: clip(
                &format!("{} · {}", w.sub_project_name, w.description),
                OG_DESCRIPTION_CHARS,
            ),
            image: absolute_url(&state, &parts.headers, &image),
            url: absolute_url(&state, &parts.headers, &target),
        },
        nav: nav(&session),
        here: absolute_url(&state, &parts.headers, &here(&target, q.via.as_deref())),
        w,
        signed_in: session.is_some(),
        csrf: session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default(),
        target,
    };
    Ok(render(&page)?.into_response())
}

/// The page's own address with the code the visitor shares onward.
fn here(target: &str, via: Option<&str>) -> String {
    match via.filter(|c| crate::domain::reach::plausible_code(c)) {
        Some(c) => format!("{target}?via={c}"),
        None => target.to_string(),
    }
}

#[derive(Template)]
#[template(path = "showcase_activity.html")]
struct ActivityPage {
    nav: Nav,
    share: Share,
    a: ActivityCard,
    signed_in: bool,
    csrf: String,
    target: String,
    here: String,
}

pub async fn activity(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
    parts: Parts,
) -> AppResult<Response> {
    let a = showcase::activity(&state.db, id).await?;
    if let Some(r) = through(&state, &parts, session.as_ref(), q.via.as_deref()).await? {
        return Ok(r);
    }
    let target = Target::Activity(id).path();
    let image = match a.photo_ids.first() {
        Some(p) => format!("/showcase/activities/{id}/photos/{p}"),
        None => "/static/share.png".into(),
    };
    let page = ActivityPage {
        share: Share {
            title: format!("{}（{}）", a.name, a.unit),
            description: clip(&a.summary, OG_DESCRIPTION_CHARS),
            image: absolute_url(&state, &parts.headers, &image),
            url: absolute_url(&state, &parts.headers, &target),
        },
        nav: nav(&session),
        here: absolute_url(&state, &parts.headers, &here(&target, q.via.as_deref())),
        a,
        signed_in: session.is_some(),
        csrf: session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default(),
        target,
    };
    Ok(render(&page)?.into_response())
}

/// A shown work's metadata-free copy, with ranges for seeking.
pub async fn work_file(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    let served = showcase::work_file(&state.db, &state.shown_works, &state.store, id).await?;
    public_file(crate::http::range::serve_range(&state, &served, headers.get(header::RANGE)).await?)
}

/// A shown video's poster image (its first picture).
pub async fn work_poster(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    let served = showcase::work_poster(&state.db, &state.shown_works, &state.store, id).await?;
    public_file(crate::http::range::serve_range(&state, &served, headers.get(header::RANGE)).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct PhotoQuery {
    #[serde(default)]
    pub thumb: Option<u8>,
}

/// A photo of a shown activity (`?thumb=1` for its thumbnail).
pub async fn photo(
    State(state): State<AppState>,
    Path((id, photo_id)): Path<(i64, i64)>,
    Query(q): Query<PhotoQuery>,
) -> AppResult<Response> {
    let served = showcase::photo(&state.db, &state.store, id, photo_id, q.thumb == Some(1)).await?;
    public_file(crate::http::range::serve_range(&state, &served, None).await?)
}

/// Public files may be cached by the browser (they are public), unlike the works pages' files.
fn public_file(mut r: Response) -> AppResult<Response> {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=600"),
    );
    Ok(r)
}

#[derive(Debug, Deserialize)]
pub struct ShareForm {
    pub target: String,
}

/// `POST /share`: the account's link to a public page (made on first ask).
pub async fn share(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<ShareForm>,
) -> AppResult<Response> {
    if form.target.len() > 64 {
        return Err(AppError::NotFound);
    }
    let link = crate::service::reach::share(&state.db, &session.acting(), &form.target).await?;
    Ok(Redirect::to(&format!("/reach/links#l-{}", link.code)).into_response())
}

pub struct LinkView {
    pub code: String,
    pub url: String,
    pub target: String,
    pub direct: i64,
    pub created: String,
}

#[derive(Template)]
#[template(path = "share_links.html")]
struct LinksPage {
    nav: Nav,
    links: Vec<LinkView>,
    depths: Vec<crate::db::reach::DepthCount>,
    total: i64,
}

/// `GET /reach/links`: the account's own links and what spread from them.
pub async fn my_links(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    headers: axum::http::HeaderMap,
) -> AppResult<Html<String>> {
    let rows = crate::db::reach::my_links(&state.db, session.user.id).await?;
    let depths = crate::db::reach::account_depths(&state.db, session.user.id).await?;
    let links = rows
        .into_iter()
        .map(|l| LinkView {
            url: absolute_url(&state, &headers, &format!("/s/{}", l.code)),
            code: l.code,
            target: l.target,
            direct: l.direct,
            created: super::format_time(l.created_at),
        })
        .collect();
    render(&LinksPage {
        nav: Nav::for_session(&session),
        total: depths.iter().map(|d| d.visits).sum(),
        links,
        depths,
    })
}

#[derive(Debug, Deserialize)]
pub struct ShowForm {
    /// "1" to show, anything else to hide.
    #[serde(default)]
    pub show: String,
}

/// `POST /works/{id}/showcase`: the author or a unit admin shows or hides a work.
pub async fn set_work(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ShowForm>,
) -> AppResult<Response> {
    showcase::set_work_shown(&state.db, &session.acting(), WorkId(id), form.show == "1").await?;
    state.shown_works.forget(id);
    Ok(Redirect::to(&format!("/works/{id}")).into_response())
}

/// `POST /activities/{id}/showcase`: a unit admin shows or hides a confirmed activity.
pub async fn set_activity(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ShowForm>,
) -> AppResult<Response> {
    showcase::set_activity_shown(
        &state.db,
        &session.acting(),
        ActivityId(id),
        form.show == "1",
    )
    .await?;
    Ok(Redirect::to(&format!("/activities/{id}?done=view")).into_response())
}
