//! Event bodies. A body is fixed when its delivery row is written, so every
//! retry sends the same bytes under the same `webhook-id`.

use serde::Serialize;

use crate::gateway::{Channel, Status};
use crate::store::ActionRow;

/// Event type of a ping sent by `webhook test`.
pub const PING: &str = "ping";

/// The body sent when an action reaches `sent`, `denied` or `failed`.
#[derive(Serialize)]
struct ActionEvent<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: &'a str,
    action_id: &'a str,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    sent_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    recipient: &'a str,
    channel: Channel,
}

/// `action.sent`, `action.denied` or `action.failed`.
pub fn event_type(status: Status) -> Option<&'static str> {
    match status {
        Status::Sent => Some("action.sent"),
        Status::Denied => Some("action.denied"),
        Status::Failed => Some("action.failed"),
        Status::Pending | Status::Flagged | Status::Approved => None,
    }
}

/// The event for `action`'s terminal status, timestamped `at`; `None` for a
/// status that is not reported.
pub fn action_event(action: &ActionRow, at: &str) -> Option<(&'static str, String)> {
    let event_type = event_type(action.status)?;
    let body = ActionEvent {
        event_type,
        timestamp: at,
        action_id: &action.id,
        status: action.status,
        sent_at: action
            .sent_at
            .as_deref()
            .filter(|_| action.status == Status::Sent),
        error_message: action
            .error_message
            .as_deref()
            .filter(|_| action.status != Status::Sent),
        recipient: &action.recipient_address,
        channel: action.channel,
    };
    serde_json::to_string(&body)
        .ok()
        .map(|json| (event_type, json))
}

#[derive(Serialize)]
struct PingEvent<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: &'a str,
    key_id: &'a str,
    message: &'a str,
}

/// A test event proving the URL and signature work.
pub fn ping(key_id: &str, at: &str) -> String {
    let body = PingEvent {
        event_type: PING,
        timestamp: at,
        key_id,
        message: "test event from contactcmd gateway",
    };
    serde_json::to_string(&body).unwrap_or_default()
}
