//! The message handed to a transport: what the recipient gets, never the
//! agent's private context.

use serde::Serialize;

use crate::gateway::Channel;
use crate::store::ActionRow;

/// An approved message as transports see it (and as `command` programs read
/// it on standard input).
#[derive(Clone, Debug, Serialize)]
pub struct OutgoingMessage {
    pub action_id: String,
    pub channel: Channel,
    pub recipient_address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub body: String,
    /// Name of the API key (agent) that wrote the message.
    pub agent: String,
    pub created_at: String,
}

impl From<&ActionRow> for OutgoingMessage {
    fn from(action: &ActionRow) -> Self {
        OutgoingMessage {
            action_id: action.id.clone(),
            channel: action.channel,
            recipient_address: action.recipient_address.clone(),
            recipient_name: action.recipient_name.clone(),
            subject: action.subject.clone(),
            body: action.body.clone(),
            agent: action.key_name.clone(),
            created_at: action.created_at.clone(),
        }
    }
}
