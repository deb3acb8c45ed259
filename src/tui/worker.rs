//! The console's background worker: runs each command against the engine
//! off the render loop and reports back with an `Action`.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::action::{Action, Command, Loaded};
use super::model::{Counts, KeyEntry};
use crate::gateway::{Error, Gateway};
use crate::store::{actions, deliveries, keys as key_rows, HistoryFilter};
use crate::webhook::handoff::{self, Handoff};
use crate::webhook::Settings;

/// Most recent webhook attempts the status bar needs.
const RECENT_ATTEMPTS: u32 = 3;

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
    tokio::task::spawn_blocking(move || fetch(&gateway, command))
        .await
        .map_err(|e| Error::Internal(format!("console worker failed: {e}")))?
}

fn fetch(gateway: &Gateway, command: Command) -> Result<Action, Error> {
    let store = gateway.store();
    let action = match command {
        Command::FetchQueue {
            generation,
            filter,
            offset,
            limit,
        } => {
            let (total, rows) = store.read(|conn| {
                let total = actions::count_open_matching(conn, &filter)?;
                let rows = actions::open_window(conn, &filter, to_u32(offset), to_u32(limit))?;
                Ok((total, rows))
            })?;
            Action::QueueLoaded(Loaded {
                generation,
                total: to_usize(total),
                offset,
                rows,
            })
        }
        Command::FetchKeys { generation } => {
            let entries = store.read(|conn| {
                let latest = deliveries::latest_per_key(conn)?;
                let keys = key_rows::list(conn)?;
                Ok(keys
                    .into_iter()
                    .map(|key| {
                        let last_delivery = latest.iter().find(|d| d.key_id == key.id).cloned();
                        KeyEntry { key, last_delivery }
                    })
                    .collect::<Vec<_>>())
            })?;
            Action::KeysLoaded(Loaded {
                generation,
                total: entries.len(),
                offset: 0,
                rows: entries,
            })
        }
        Command::FetchDeliveries {
            generation,
            failed_only,
            offset,
            limit,
        } => {
            let (total, rows) = store.read(|conn| {
                let total = deliveries::count(conn, failed_only)?;
                Ok((
                    total,
                    deliveries::window(conn, failed_only, to_u32(offset), to_u32(limit))?,
                ))
            })?;
            Action::DeliveriesLoaded(Loaded {
                generation,
                total: to_usize(total),
                offset,
                rows,
            })
        }
        Command::FetchHistory {
            generation,
            status,
            offset,
            limit,
        } => {
            let filter = HistoryFilter {
                status,
                agent: None,
                limit: to_u32(limit),
                offset: to_u32(offset),
            };
            let (total, rows) = store.read(|conn| {
                Ok((
                    actions::count_history(conn, status)?,
                    actions::list_history(conn, &filter)?,
                ))
            })?;
            Action::HistoryLoaded(Loaded {
                generation,
                total: to_usize(total),
                offset,
                rows,
            })
        }
        Command::FetchCounts => Action::CountsLoaded(store.read(|conn| {
            let (retrying, failed) = deliveries::retrying_and_failed(conn)?;
            Ok(Counts {
                pending: actions::count_open(conn)?,
                recent: deliveries::recent_attempts(conn, RECENT_ATTEMPTS)?,
                retrying,
                failed,
            })
        })?),
        Command::LoadAttempts(query) => {
            let (delivery, attempts) = gateway.delivery(&query)?;
            Action::Attempts {
                delivery: Box::new(delivery),
                attempts,
            }
        }
        other => Action::Failed(format!("unexpected console command {other:?}")),
    };
    Ok(action)
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}
