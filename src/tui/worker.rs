//! The console's background worker: runs each command against the engine
//! off the render loop and reports back with an `Action`.
//!
//! Reads of a list run one at a time, the newest request replacing any
//! still waiting (`jobs::Latest`), so typing a filter never piles up scans.
//! Every command runs in a task of its own, so one that panics comes back
//! as a failure on the status bar instead of a slot or a row stuck forever.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::action::{Action, Command};
use super::jobs::Latest;
use crate::gateway::{Error, Gateway};
use crate::webhook::handoff::{self, Handoff};
use crate::webhook::Settings;

/// The kinds of read that each run one at a time.
const READ_KINDS: usize = 5;

/// Runs commands for the console.
#[derive(Clone)]
pub struct Worker {
    gateway: Arc<Gateway>,
    settings: Settings,
    results: UnboundedSender<Action>,
    reads: Arc<[Latest<Command>; READ_KINDS]>,
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
            reads: Arc::new(Default::default()),
        }
    }

    /// Starts `command` in the background; its result arrives as an action.
    /// A read waits while another of its kind runs, and is dropped if a
    /// newer one of that kind comes before it starts.
    pub fn run(&self, command: Command) {
        let Some(kind) = read_kind(&command) else {
            let worker = self.clone();
            tokio::spawn(async move { worker.report(command).await });
            return;
        };
        if let Some(first) = self.reads[kind].offer(command) {
            let worker = self.clone();
            tokio::spawn(async move { worker.read_in_turn(kind, first).await });
        }
    }

    /// Runs `first`, then each read of its kind that waited meanwhile.
    async fn read_in_turn(&self, kind: usize, first: Command) {
        let mut next = Some(first);
        while let Some(command) = next {
            self.report(command).await;
            next = self.reads[kind].next();
        }
    }

    /// Runs `command` and sends its result, or a failure if it panicked.
    async fn report(&self, command: Command) {
        let if_crashed = crashed(&command);
        let worker = self.clone();
        let action = match tokio::spawn(async move { worker.execute(command).await }).await {
            Ok(action) => action,
            Err(error) => {
                tracing::error!(%error, "a console command failed unexpectedly");
                if_crashed
            }
        };
        let _ = self.results.send(action);
    }

    async fn execute(&self, command: Command) -> Action {
        match command {
            Command::Approve(id) => self.approve(id).await,
            Command::Deny { id, reason } => self.deny(id, reason).await,
            Command::TestPing(key) => self.ping(&key).await,
            other => self
                .change_or_read(other)
                .await
                .unwrap_or_else(|e| Action::Failed(e.to_string())),
        }
    }

    async fn approve(&self, id: String) -> Action {
        let outcome = self.gateway.approve(&id).await;
        let (outcome, detail) = match outcome {
            Ok(decided) => (Ok(decided.action.status), decided.action.error_message),
            Err(error) => (Err(error.to_string()), None),
        };
        Action::Decided {
            id,
            outcome,
            detail,
        }
    }

    async fn deny(&self, id: String, reason: Option<String>) -> Action {
        let outcome = self.gateway.deny(&id, reason).await;
        Action::Decided {
            id,
            outcome: outcome
                .map(|decided| decided.action.status)
                .map_err(|error| error.to_string()),
            detail: None,
        }
    }

    async fn ping(&self, key: &str) -> Action {
        let result = async {
            let (key, delivery) = self.gateway.queue_ping(key, self.settings.lease()).await?;
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

    /// Key and delivery changes, else a read on the blocking pool so a slow
    /// query never stalls the async threads.
    async fn change_or_read(&self, command: Command) -> Result<Action, Error> {
        let gateway = &self.gateway;
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
                let text = format!("Revoked {} ({}).", key.display_prefix, key.name);
                Ok(Action::Done(text))
            }
            Command::SetWebhook { key_id, url } => self.set_webhook(&key_id, &url).await,
            Command::RemoveWebhook(id) => {
                let key = gateway.remove_webhook(&id).await?;
                Ok(Action::Done(format!("Webhook of {} removed.", key.name)))
            }
            Command::ShowSecret(id) => self.show_secret(&id),
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
            read => blocking(gateway.clone(), read).await,
        }
    }

    async fn set_webhook(&self, key_id: &str, url: &str) -> Result<Action, Error> {
        let change = self.gateway.set_webhook(key_id, url).await?;
        let extra = if change.new_secret.is_some() {
            " A signing secret was created (s shows it)."
        } else {
            ""
        };
        let name = change.key.name;
        Ok(Action::Done(format!(
            "Webhook of {name} set to {url}.{extra}"
        )))
    }

    fn show_secret(&self, key_id: &str) -> Result<Action, Error> {
        let key = self.gateway.find_key(key_id)?;
        Ok(match key.webhook_secret {
            Some(secret) => Action::SecretShown {
                key_name: key.name,
                secret,
                rotated: false,
            },
            None => Action::Failed(format!(
                "{} has no secret yet: set a webhook first (w).",
                key.name
            )),
        })
    }
}

/// Which one-at-a-time kind `command` is, if it is a list read.
fn read_kind(command: &Command) -> Option<usize> {
    match command {
        Command::FetchQueue { .. } => Some(0),
        Command::FetchKeys { .. } => Some(1),
        Command::FetchDeliveries { .. } => Some(2),
        Command::FetchHistory { .. } => Some(3),
        Command::FetchCounts => Some(4),
        _ => None,
    }
}

/// What to report if `command` panics: a decision ends as failed (its row
/// is not left sending forever), anything else says so on the status bar.
fn crashed(command: &Command) -> Action {
    let what = "failed unexpectedly; the log has the details";
    match command {
        Command::Approve(id) | Command::Deny { id, .. } => Action::Decided {
            id: id.clone(),
            outcome: Err(what.into()),
            detail: None,
        },
        _ => Action::Failed(format!("A console command {what}.")),
    }
}

/// Runs a read on the blocking pool so a slow query never stalls the loop.
async fn blocking(gateway: Arc<Gateway>, command: Command) -> Result<Action, Error> {
    tokio::task::spawn_blocking(move || super::fetch::answer(&gateway, command))
        .await
        .map_err(|e| Error::Internal(format!("console worker failed: {e}")))?
}
