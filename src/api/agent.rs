//! Endpoints for agents: queue a message, poll it, check health.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::body;
use super::error::ApiError;
use super::views::{success, Accepted, ActionStatus};
use crate::gateway::{AgentKey, Gateway};

/// The header agents put their API key in.
pub const KEY_HEADER: &str = "x-gateway-key";

/// `POST /gateway/send`.
pub async fn send(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let key = match authenticate(&gateway, &headers) {
        Ok(key) => key,
        Err(refused) => {
            // The body may still be on its way; refusing before it arrives
            // would leave it to be taken as the connection's next request.
            body::drain(body).await;
            return Err(refused);
        }
    };
    let body = body::read(body).await?;
    let action = gateway.submit(&key, &body).await?;
    if key.claim_touch() {
        touch_later(gateway.clone(), key.id.clone());
    }
    Ok(success(Accepted {
        action_id: &action.id,
        status: action.status,
    })
    .into_response())
}

/// `GET /gateway/actions/{id}`: only the key that sent an action may see it.
pub async fn action(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let key = authenticate(&gateway, &headers)?;
    let Path(id) = id?;
    let action = gateway.action_for_key(&key, &id)?;
    if key.claim_touch() {
        touch_later(gateway.clone(), key.id.clone());
    }
    Ok(success(ActionStatus::from(&action)).into_response())
}

/// `GET /gateway/health`: no key needed.
pub async fn health(State(gateway): State<Arc<Gateway>>) -> Result<Response, ApiError> {
    Ok(success(gateway.health()?).into_response())
}

fn authenticate(gateway: &Gateway, headers: &HeaderMap) -> Result<Arc<AgentKey>, ApiError> {
    let presented = headers
        .get(KEY_HEADER)
        .and_then(|value| value.to_str().ok());
    gateway.authenticate(presented).map_err(|error| {
        tracing::debug!(present = presented.is_some(), "rejected API key");
        ApiError::from(error)
    })
}

/// Records the key's use without holding up the request that used it.
fn touch_later(gateway: Arc<Gateway>, key_id: String) {
    tokio::spawn(async move {
        if let Err(error) = gateway.touch_key(&key_id).await {
            tracing::warn!(%key_id, %error, "could not record key use");
        }
    });
}
