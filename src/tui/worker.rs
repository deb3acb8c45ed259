//! The console's background worker: runs each command against the engine
//! off the render loop and reports back with an `Action`.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::action::{Action, Command};
use crate::gateway::{Error, Gateway};
use crate::webhook::handoff::{self, Handoff};
use crate::webhook::Settings;

/// Runs commands for the console.
#[derive(Clone)]
pub struct Worker {
    gateway: Arc<Gateway>,
    settings: Settings,
    results: UnboundedSender<Action>,
}

impl Worker {
    pub fn new(
        gateway: Arc<Gateway>,
        settings: Settings,
        results: UnboundedSender<Action>,
    ) -> Self {
        Worker {
            gateway,
            settings,
            results,
        }
    }

    /// Starts `command` in the background; its result arrives as an action.
    pub fn run(&self, command: Command) {
        let worker = self.clone();
        tokio::spawn(async move {
            let action = worker.execute(command).await;
            let _ = worker.results.send(action);
        });
    }

    async fn execute(&self, command: Command) -> Action {
        match command {
            Command::Approve(id) => self.approve(id).await,
            Command::Deny { id, reason } => self.deny(id, reason).await,
            Command::TestPing(key) => self.ping(&key).await,
            other => self
                .other(other)
                .await
                .unwrap_or_else(|e| Action::Failed(e.to_string())),
        }
    }

    async fn approve(&self, id: String) -> Action {
        match self.gateway.approve(&id).await {
            Ok(decided) => Action::Decided {
                id,
                outcome: Ok(decided.action.status),
                detail: decided.action.error_message,
            },
            Err(error) => Action::Decided {
                id,
                outcome: Err(error.to_string()),
                detail: None,
            },
        }
    }

    async fn deny(&self, id: String, reason: Option<String>) -> Action {
        match self.gateway.deny(&id, reason).await {
            Ok(decided) => Action::Decided {
                id,
                outcome: Ok(decided.action.status),
                detail: None,
            },
            Err(error) => Action::Decided {
                id,
                outcome: Err(error.to_string()),
                detail: None,
            },
        }
    }

    async fn ping(&self, key: &str) -> Action {
        let result = async {
            let (key, delivery) = self.gateway.queue_ping(key).await?;
            let handoff =
                handoff::attempt_now(self.gateway.store(), &self.settings, &delivery).await?;
            Ok::<_, Error>((key, handoff))
        }
        .await;
        match result {
            Ok((key, Handoff::Attempted(outcome))) if outcome.response.delivered() => {
                Action::Done(format!(
                    "Test ping to {}: {} in {} ms",
                    key.name,
                    outcome.response.status_code.unwrap_or_default(),
                    outcome.response.latency.as_millis()
                ))
            }
            Ok((key, Handoff::Attempted(outcome))) => Action::Failed(format!(
                "Test ping to {} failed: {}",
                key.name,
                outcome.response.error.unwrap_or_else(|| "no answer".into())
            )),
            Ok((key, _)) => {
                Action::Failed(format!("Test ping to {} is already in progress", key.name))
            }
            Err(error) => Action::Failed(error.to_string()),
        }
    }

    /// Fetches and key or delivery operations, run off the async threads
    /// where they read the database.
    async fn other(&self, command: Command) -> Result<Action, Error> {
        let gateway = self.gateway.clone();
        match command {
            Command::AddKey(name) => {
                let issued = gateway.add_key(&name).await?;
                Ok(Action::KeyCreated {
                    name: issued.row.name,
                    plaintext: issued.plaintext,
                })
            }
            Command::RevokeKey(id) => {
                let (key, _) = gateway.revoke_key(&id).await?;
                Ok(Action::Done(format!(
                    "Revoked {} ({}).",
                    key.display_prefix, key.name
                )))
            }
            Command::SetWebhook { key_id, url } => {
                let change = gateway.set_webhook(&key_id, &url).await?;
                let extra = if change.new_secret.is_some() {
                    " A signing secret was created (s shows it)."
                } else {
                    ""
                };
                Ok(Action::Done(format!(
                    "Webhook of {} set to {url}.{extra}",
                    change.key.name
                )))
            }
            Command::RemoveWebhook(id) => {
                let key = gateway.remove_webhook(&id).await?;
                Ok(Action::Done(format!("Webhook of {} removed.", key.name)))
            }
            Command::ShowSecret(id) => {
                let key = gateway.find_key(&id)?;
                match key.webhook_secret {
                    Some(secret) => Ok(Action::SecretShown {
                        key_name: key.name,
                        secret,
                        rotated: false,
                    }),
                    None => Ok(Action::Failed(format!(
                        "{} has no secret yet: set a webhook first (w).",
                        key.name
                    ))),
                }
            }
            Command::RotateSecret(id) => {
                let (key, secret) = gateway.rotate_secret(&id).await?;
                Ok(Action::SecretShown {
                    key_name: key.name,
                    secret,
                    rotated: true,
                })
            }
            Command::RetryDelivery(id) => {
                let delivery = gateway.retry_delivery(&id).await?;
                Ok(Action::Done(format!(
                    "Retrying delivery {} now.",
                    delivery.id
                )))
            }
            fetch => blocking(gateway, fetch).await,
        }
    }
}

/// Runs a read on the blocking pool so a slow query never stalls the loop.
async fn blocking(gateway: Arc<Gateway>, command: Command) -> Result<Action, Error> {
    tokio::task::spawn_blocking(move || super::fetch::answer(&gateway, command))
        .await
        .map_err(|e| Error::Internal(format!("console worker failed: {e}")))?
}
