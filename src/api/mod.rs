//! The agent-facing HTTP server: routes, limits, and serving until told to
//! stop.

mod admin;
mod agent;
mod body;
mod error;
mod listener;
mod unread;
pub mod views;

use std::future::Future;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

pub use agent::KEY_HEADER;
pub use error::{ApiError, Code};
pub use listener::Limits;

use crate::gateway::Gateway;

/// Largest request body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The API's OpenAPI description, built into the binary so that what a
/// gateway serves always describes that gateway.
pub const OPENAPI_YAML: &str = include_str!("../../assets/openapi.yaml");

/// All routes, with their limits, over `gateway`.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/gateway/send", post(agent::send))
        .route("/gateway/actions/{id}", get(agent::action))
        .route("/gateway/health", get(agent::health))
        .route("/gateway/queue", get(admin::queue))
        .route("/gateway/queue/{id}/approve", post(admin::approve))
        .route("/gateway/queue/{id}/deny", post(admin::deny))
        .route("/gateway/openapi.yaml", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(gateway)
}

/// Serves the API on `listener` until `shutdown` completes, then lets
/// in-flight requests finish. A failure to accept one connection is logged
/// and the next one taken, so serving itself cannot fail.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    listener::serve(listener, router(gateway), Limits::default(), shutdown).await;
}

/// `GET /gateway/openapi.yaml`: no key needed, like the health check.
async fn openapi() -> ([(header::HeaderName, &'static str); 1], &'static str) {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        Code::NoSuchEndpoint,
        "no such endpoint: the API lives under /gateway (send, actions/{id}, health, queue, \
         openapi.yaml)",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        Code::MethodNotAllowed,
        "this endpoint does not accept that HTTP method",
    )
}
