//! The JSON shapes the API returns, kept apart from the stored rows so the
//! wire format changes only on purpose.

use serde::Serialize;
use serde_json::Value;

use crate::gateway::{Channel, Priority, Status};
use crate::store::ActionRow;

/// `{"success": true, "data": ...}`.
#[derive(Serialize)]
pub struct Success<T> {
    pub success: bool,
    pub data: T,
}

pub fn success<T>(data: T) -> axum::Json<Success<T>> {
    axum::Json(Success {
        success: true,
        data,
    })
}

/// Answer to a send: the new action's id and status.
#[derive(Serialize)]
pub struct Accepted<'a> {
    pub action_id: &'a str,
    pub status: Status,
}

/// What an agent may see of its own action.
#[derive(Serialize)]
pub struct ActionStatus<'a> {
    pub action_id: &'a str,
    pub status: Status,
    pub channel: Channel,
    pub recipient_address: &'a str,
    pub created_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<&'a str>,
}

impl<'a> From<&'a ActionRow> for ActionStatus<'a> {
    fn from(action: &'a ActionRow) -> Self {
        ActionStatus {
            action_id: &action.id,
            status: action.status,
            channel: action.channel,
            recipient_address: &action.recipient_address,
            created_at: &action.created_at,
            reviewed_at: action.reviewed_at.as_deref(),
            sent_at: action.sent_at.as_deref(),
            error_message: action.error_message.as_deref(),
        }
    }
}

/// Everything an operator needs to decide on an action.
#[derive(Serialize)]
pub struct QueuedAction<'a> {
    pub action_id: &'a str,
    pub agent: &'a str,
    pub key_id: &'a str,
    pub channel: Channel,
    pub recipient_address: &'a str,
    pub recipient_name: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub body: &'a str,
    pub priority: Priority,
    pub status: Status,
    pub flag_reason: Option<&'a str>,
    pub context: Option<Value>,
    pub created_at: &'a str,
    pub reviewed_at: Option<&'a str>,
    pub sent_at: Option<&'a str>,
    pub error_message: Option<&'a str>,
}

impl<'a> From<&'a ActionRow> for QueuedAction<'a> {
    fn from(action: &'a ActionRow) -> Self {
        QueuedAction {
            action_id: &action.id,
            agent: &action.key_name,
            key_id: &action.key_id,
            channel: action.channel,
            recipient_address: &action.recipient_address,
            recipient_name: action.recipient_name.as_deref(),
            subject: action.subject.as_deref(),
            body: &action.body,
            priority: action.priority,
            status: action.status,
            flag_reason: action.flag_reason.as_deref(),
            context: action
                .agent_context
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
            created_at: &action.created_at,
            reviewed_at: action.reviewed_at.as_deref(),
            sent_at: action.sent_at.as_deref(),
            error_message: action.error_message.as_deref(),
        }
    }
}
