//! Sending an approved message: the transport configured for its channel
//! delivers it, and says whether it went out.

mod command;
mod message;
mod outbox;

use std::path::Path;
use std::time::Duration;

use crate::config::{TransportConfig, TransportsConfig};
use crate::gateway::Channel;
use crate::store::ActionRow;

pub use command::CommandTransport;
pub use message::OutgoingMessage;
pub use outbox::Outbox;

/// Why a message did not go out, in words stored with the action and sent to
/// the agent as its `error_message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    reason: String,
}

impl SendError {
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl From<String> for SendError {
    fn from(reason: String) -> Self {
        SendError { reason }
    }
}

impl From<&str> for SendError {
    fn from(reason: &str) -> Self {
        SendError::from(reason.to_string())
    }
}

/// One way of delivering messages.
#[derive(Debug)]
pub enum Transport {
    Outbox(Outbox),
    Command(CommandTransport),
}

impl Transport {
    fn from_config(config: &TransportConfig, outbox_dir: &Path) -> Transport {
        match config {
            TransportConfig::Outbox { from } => {
                Transport::Outbox(Outbox::new(outbox_dir.to_path_buf(), from.clone()))
            }
            TransportConfig::Command {
                command,
                timeout_secs,
            } => Transport::Command(CommandTransport::new(
                command.clone(),
                Duration::from_secs(*timeout_secs),
            )),
        }
    }

    /// Delivers `message`; the error says why it did not go out.
    pub async fn send(&self, message: &OutgoingMessage) -> Result<(), SendError> {
        match self {
            Transport::Outbox(outbox) => outbox.send(message).await,
            Transport::Command(command) => command.send(message).await,
        }
    }

    /// Short name for logs and listings.
    pub fn kind(&self) -> &'static str {
        match self {
            Transport::Outbox(_) => "outbox",
            Transport::Command(_) => "command",
        }
    }
}

/// The transport for each channel.
#[derive(Debug)]
pub struct Transports {
    email: Transport,
    sms: Transport,
    imessage: Transport,
}

impl Transports {
    /// Builds the configured transports; outboxes write under `outbox_dir`.
    pub fn from_config(config: &TransportsConfig, outbox_dir: &Path) -> Transports {
        Transports {
            email: Transport::from_config(&config.email, outbox_dir),
            sms: Transport::from_config(&config.sms, outbox_dir),
            imessage: Transport::from_config(&config.imessage, outbox_dir),
        }
    }

    /// The transport that carries `channel`.
    pub fn for_channel(&self, channel: Channel) -> &Transport {
        match channel {
            Channel::Email => &self.email,
            Channel::Sms => &self.sms,
            Channel::Imessage => &self.imessage,
        }
    }

    /// Sends an approved action through its channel's transport.
    pub async fn send(&self, action: &ActionRow) -> Result<(), SendError> {
        let transport = self.for_channel(action.channel);
        transport.send(&OutgoingMessage::from(action)).await
    }
}
