//! Making one attempt at a claimed delivery and recording its outcome: the
//! step shared by the dispatcher and by one-shot commands.

use crate::clock;
use crate::store::deliveries::{self, AttemptRow, AttemptVerdict, DeliveryRow};
use rusqlite::Connection;

use crate::store::{keys, KeyRow, Store, StoreError};

use super::schedule::RetryPolicy;
use super::sender::{Request, Response, Sender};

/// What an attempt did, for logs and command output.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub delivery: DeliveryRow,
    pub attempt: u32,
    pub response: Response,
    pub verdict: AttemptVerdict,
}

/// A claimed delivery with the key whose secret signs it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub delivery: DeliveryRow,
    pub key: KeyRow,
}

/// Delivery `id` with its key, if it is still pending. Called in the write
/// that claims it, so sending one never needs a read of its own.
pub fn load_claimed(conn: &Connection, id: &str) -> rusqlite::Result<Option<Claimed>> {
    let Some(delivery) = deliveries::get(conn, id)? else {
        return Ok(None);
    };
    if delivery.status != "pending" {
        return Ok(None);
    }
    Ok(keys::get(conn, &delivery.key_id)?.map(|key| Claimed { delivery, key }))
}

/// Attempts a delivery claimed by `holder`, and records what happened.
pub async fn attempt(
    store: &Store,
    sender: &Sender,
    policy: &RetryPolicy,
    holder: &str,
    claimed: Claimed,
) -> Result<Outcome, StoreError> {
    let Claimed { delivery, key } = claimed;
    let attempt = delivery.attempts + 1;

    let response = sender.attempt(&request(&delivery, &key)).await;
    let max_attempts = delivery
        .max_attempts
        .unwrap_or_else(|| policy.max_attempts());
    let verdict = verdict(&response, attempt, max_attempts, policy);
    let row = attempt_row(&delivery.id, attempt, &response);

    let (recorded, holder) = (verdict.clone(), holder.to_string());
    store
        .write(move |conn| deliveries::record_attempt(conn, &holder, &row, &recorded))
        .await?;
    let outcome = Outcome {
        delivery,
        attempt,
        response,
        verdict,
    };
    log(&outcome);
    Ok(outcome)
}

fn request(delivery: &DeliveryRow, key: &KeyRow) -> Request {
    Request {
        delivery_id: delivery.id.clone(),
        url: delivery.url.clone(),
        payload: delivery.payload.clone(),
        secrets: signing_secrets(key),
    }
}

/// The current secret, plus the previous one while its grace period lasts.
fn signing_secrets(key: &KeyRow) -> Vec<String> {
    let now = clock::now_text();
    let previous_live = key
        .previous_secret_expires_at
        .as_deref()
        .is_some_and(|until| until > now.as_str());
    let previous = key
        .previous_webhook_secret
        .clone()
        .filter(|_| previous_live);
    key.webhook_secret
        .clone()
        .into_iter()
        .chain(previous)
        .collect()
}

fn verdict(response: &Response, attempt: u32, max: u32, policy: &RetryPolicy) -> AttemptVerdict {
    if response.delivered() {
        return AttemptVerdict::Delivered;
    }
    if response.gone() {
        return AttemptVerdict::GiveUp;
    }
    match policy.delay_after(attempt, max, response.retry_after) {
        Some(delay) => {
            let at = chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            AttemptVerdict::Retry {
                at: clock::format_time(at),
            }
        }
        None => AttemptVerdict::GiveUp,
    }
}

fn attempt_row(delivery_id: &str, attempt: u32, response: &Response) -> AttemptRow {
    AttemptRow {
        delivery_id: delivery_id.to_string(),
        attempt,
        attempted_at: clock::now_text(),
        status_code: response.status_code,
        latency_ms: u64::try_from(response.latency.as_millis()).unwrap_or(u64::MAX),
        error: response.error.clone(),
        response_snippet: response.snippet.clone(),
    }
}

fn log(outcome: &Outcome) {
    let delivery = &outcome.delivery;
    let host = url::Url::parse(&delivery.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let action_id = delivery.action_id.as_deref().unwrap_or("none");
    let status = outcome
        .response
        .status_code
        .map_or_else(|| "none".to_string(), |code| code.to_string());
    let latency_ms = outcome.response.latency.as_millis();
    match (&outcome.verdict, &outcome.response.error) {
        (AttemptVerdict::Delivered, _) => tracing::info!(
            delivery_id = %delivery.id, action_id, key = %delivery.key_name, host,
            attempt = outcome.attempt, status, latency_ms, "webhook delivered"
        ),
        (verdict, error) => tracing::warn!(
            delivery_id = %delivery.id, action_id, key = %delivery.key_name, host,
            attempt = outcome.attempt, status, error = error.as_deref().unwrap_or("unknown"),
            next = ?verdict, "webhook attempt failed"
        ),
    }
}
