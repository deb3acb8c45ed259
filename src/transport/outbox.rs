//! The default transport: each sent message becomes a file under the data
//! directory, RFC 5322 `.eml` for email and JSON for SMS and iMessage, so a
//! fresh install works end to end without any account.

use std::path::{Path, PathBuf};

use lettre::message::{header::ContentType, Mailbox};

use super::{OutgoingMessage, SendError};
use crate::gateway::Channel;

/// Sender used in `.eml` files when the config names none.
const DEFAULT_FROM: &str = "contactcmd gateway <gateway@localhost>";

/// Writes messages as files into one directory.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    from: Option<String>,
}

impl Outbox {
    pub fn new(dir: PathBuf, from: Option<String>) -> Outbox {
        Outbox { dir, from }
    }

    pub async fn send(&self, message: &OutgoingMessage) -> Result<(), SendError> {
        let (extension, contents) = match message.channel {
            Channel::Email => ("eml", self.render_email(message)?),
            Channel::Sms | Channel::Imessage => ("json", render_json(message)?),
        };
        let path = self.dir.join(format!("{}.{extension}", message.action_id));
        write_atomically(&path, contents)
            .await
            .map_err(|e| format!("could not write outbox file {}: {e}", path.display()))?;
        let action_id = &message.action_id;
        tracing::info!(%action_id, path = %path.display(), "message written to outbox");
        Ok(())
    }

    fn render_email(&self, message: &OutgoingMessage) -> Result<Vec<u8>, SendError> {
        let from = self.from.as_deref().unwrap_or(DEFAULT_FROM);
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("sender address {from:?}: {e}"))?;
        let to = Mailbox::new(
            message.recipient_name.clone(),
            message
                .recipient_address
                .parse()
                .map_err(|e| format!("recipient address: {e}"))?,
        );
        let email = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(message.subject.clone().unwrap_or_default())
            .message_id(Some(format!("<{}@contactcmd.gateway>", message.action_id)))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| format!("could not build the email: {e}"))?;
        Ok(email.formatted())
    }
}

fn render_json(message: &OutgoingMessage) -> Result<Vec<u8>, SendError> {
    let mut json = serde_json::to_vec_pretty(message).map_err(|e| e.to_string())?;
    json.push(b'\n');
    Ok(json)
}

/// Writes beside the target and renames, so a reader never sees half a file.
async fn write_atomically(path: &Path, contents: Vec<u8>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let partial = path.with_extension("partial");
    tokio::fs::write(&partial, contents).await?;
    tokio::fs::rename(&partial, path).await
}
