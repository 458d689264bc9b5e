//! What every request passes first: its id (kept from the balancer's `X-Request-Id` when it is
//! a sane token, made otherwise, and returned in the response), its client address (the socket
//! peer, or `X-Forwarded-For` when the peer is a trusted proxy), and its metrics, labelled by
//! the route template of the route table, never by the raw path. Also `/metrics` itself.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::app::AppState;

/// The request id header, shared with nginx (`proxy_set_header X-Request-Id $request_id`).
pub const REQUEST_ID: &str = "x-request-id";

/// Makes request ids: 16 random hex digits.
#[derive(Clone, Copy, Default)]
pub struct RandomId;

impl MakeRequestId for RandomId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = hex::encode(rand::random::<[u8; 8]>());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Drops an incoming request id that is not a short token, so what a client sends cannot
/// forge or flood log lines; a fresh one is made instead.
pub async fn sanitise_request_id(mut request: Request, next: Next) -> Response {
    let sane = request.headers().get(REQUEST_ID).is_none_or(|v| {
        v.len() <= 64
            && v.as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if !sane {
        request.headers_mut().remove(REQUEST_ID);
    }
    next.run(request).await
}

/// The span every log line of a request is written in: its method and id.
pub fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %request.method(), request_id = %id)
}

/// The request's client address, put in the request extensions by [`observe`].
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

/// Where the matched route writes its template, for [`observe`] to label the metrics with.
#[derive(Clone, Default)]
pub struct RouteSlot(Arc<OnceLock<&'static str>>);

impl RouteSlot {
    /// Called by the route's own layer once the router matched it.
    pub fn set(request: &Request, template: &'static str) {
        if let Some(slot) = request.extensions().get::<RouteSlot>() {
            let _ = slot.0.set(template);
        }
    }
}

/// Resolves the client address, then counts and times the request by route and status.
pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        let ip = crate::net::client_address(peer.ip(), forwarded, &state.settings.trusted_proxies);
        request.extensions_mut().insert(ClientIp(ip));
    }
    let slot = RouteSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    let response = next.run(request).await;
    let route = slot.0.get().copied().unwrap_or("(unmatched)");
    crate::telemetry::http_request(
        method.as_str(),
        route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// `/metrics` in Prometheus' text format: to clients in `metrics_allow` (loopback by default),
/// or to any that shows `metrics_token`. Everyone else finds nothing here (404). Behind a proxy
/// the client is the one the proxy names, so the proxy's own loopback address opens nothing.
pub async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    let client = request.extensions().get::<ClientIp>().map(|c| c.0);
    let allowed =
        client.is_some_and(|ip| crate::net::any_contains(&state.settings.metrics_allow, ip));
    let token = &state.settings.metrics_token;
    let shown = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let by_token = !token.is_empty() && shown.is_some_and(|t| same(t.as_bytes(), token.as_bytes()));
    if !(allowed || by_token) {
        return crate::error::AppError::NotFound.into_response();
    }
    let waiting = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        crate::db::reminders::mail_waiting(&state.db),
    )
    .await
    .ok()
    .and_then(Result::ok);
    crate::telemetry::scrape_gauges(&state.db.pool_stats(), waiting);
    let body = crate::telemetry::prometheus().render();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// Compares secrets without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
