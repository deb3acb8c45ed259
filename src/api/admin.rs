//! Endpoints for the operator's own machine: list the queue, approve, deny.
//! They answer only loopback clients, whatever address the server is bound to.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::body;
use super::error::ApiError;
use super::views::{success, QueuedAction};
use crate::gateway::intake::looks_like_array;
use crate::gateway::{Error, Gateway};

const DEFAULT_QUEUE_LIMIT: u32 = 100;
const MAX_QUEUE_LIMIT: u32 = 1_000;

#[derive(Deserialize)]
pub struct QueueParams {
    limit: Option<u32>,
}

/// `GET /gateway/queue`: pending and flagged actions, newest first.
pub async fn queue(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    params: Result<Query<QueueParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    require_loopback(peer)?;
    let Query(params) = params?;
    let limit = params
        .limit
        .unwrap_or(DEFAULT_QUEUE_LIMIT)
        .clamp(1, MAX_QUEUE_LIMIT);
    let actions = gateway.queue(limit)?;
    let views: Vec<QueuedAction<'_>> = actions.iter().map(QueuedAction::from).collect();
    Ok(success(views).into_response())
}

/// `POST /gateway/queue/{id}/approve`: approves and sends; answers with the
/// action as sent or failed.
pub async fn approve(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    require_loopback(peer)?;
    let Path(id) = id?;
    // The send runs in a task of its own: a client that hangs up drops this
    // handler, and must not cut the transport short halfway through a send.
    let sending = tokio::spawn(async move { gateway.approve(&id).await });
    let decided = sending
        .await
        .map_err(|e| Error::Internal(format!("the approve task failed: {e}")))??;
    Ok(success(QueuedAction::from(&decided.action)).into_response())
}

#[derive(Deserialize, Default)]
struct DenyRequest {
    reason: Option<String>,
}

/// `POST /gateway/queue/{id}/deny`, with an optional `{"reason": "..."}`.
pub async fn deny(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    require_loopback(peer)?;
    let Path(id) = id?;
    let request = parse_deny(&body::read(body).await?)?;
    let decided = gateway.deny(&id, request.reason).await?;
    Ok(success(QueuedAction::from(&decided.action)).into_response())
}

fn parse_deny(body: &[u8]) -> Result<DenyRequest, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DenyRequest::default());
    }
    let refuse = |detail: String| {
        ApiError::from(Error::invalid(format!(
            "deny body must be empty or a JSON object like {{\"reason\": \"...\"}} ({detail})"
        )))
    };
    if looks_like_array(body) {
        return Err(refuse("got an array".into()));
    }
    serde_json::from_slice(body).map_err(|e| refuse(e.to_string()))
}

fn require_loopback(peer: SocketAddr) -> Result<(), ApiError> {
    let ip = peer.ip().to_canonical();
    if ip.is_loopback() {
        return Ok(());
    }
    tracing::warn!(%peer, "refused admin request from a non-loopback client");
    Err(ApiError::not_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deny_body_that_is_an_array_is_refused() {
        let error = parse_deny(br#"["spam"]"#).map(|r| r.reason).unwrap_err();
        assert_eq!(error.status(), axum::http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_deny_body_may_be_empty_or_an_object() {
        assert_eq!(parse_deny(b" \n").unwrap().reason, None);
        let reason = parse_deny(br#"{"reason": "spam"}"#).unwrap().reason;
        assert_eq!(reason.as_deref(), Some("spam"));
    }
}
