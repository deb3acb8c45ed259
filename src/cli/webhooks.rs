//! Webhook commands: the delivery log, manual retries, test pings, and the
//! report a deciding command prints about the event it queued.

use serde::Serialize;

use super::args::{DeliveriesArgs, DeliveriesCommand};
use super::output::{preview, print_json, print_table};
use crate::gateway::{Error, Gateway};
use crate::store::deliveries::{AttemptVerdict, DeliveryFilter, DeliveryRow};
use crate::webhook::handoff::{self, Handoff};
use crate::webhook::{Outcome, Settings};

/// What became of the webhook a command's decision queued.
#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Report {
    /// A running gateway will deliver it.
    HandedOff {
        delivery_id: String,
        dispatcher_pid: u32,
    },
    Delivered {
        delivery_id: String,
        status_code: Option<u16>,
        latency_ms: u128,
        /// The start of the receiver's answer.
        response_snippet: Option<String>,
    },
    /// The attempt failed; a running gateway will retry at `next_attempt_at`.
    Retrying {
        delivery_id: String,
        error: String,
        next_attempt_at: String,
        response_snippet: Option<String>,
    },
    Failed {
        delivery_id: String,
        error: String,
        response_snippet: Option<String>,
    },
    /// No attempt could be made here (the database was busy, say); the
    /// delivery stays queued for the next gateway that runs.
    NotAttempted { delivery_id: String, error: String },
    /// Another process is sending it right now.
    InProgress { delivery_id: String },
}

/// Hands the delivery to a live dispatcher, or attempts it once here.
pub async fn hand_off(gateway: &Gateway, settings: &Settings, delivery_id: &str) -> Report {
    let id = delivery_id.to_string();
    match handoff::deliver_or_hand_off(gateway.store(), settings, delivery_id).await {
        Ok(Handoff::Dispatcher { pid }) => Report::HandedOff {
            delivery_id: id,
            dispatcher_pid: pid,
        },
        Ok(Handoff::Attempted(outcome)) => report_outcome(&outcome),
        Ok(Handoff::Busy) => Report::InProgress { delivery_id: id },
        Err(error) => Report::NotAttempted {
            delivery_id: id,
            error: error.to_string(),
        },
    }
}

fn report_outcome(outcome: &Outcome) -> Report {
    let delivery_id = outcome.delivery.id.clone();
    let error = outcome.response.error.clone().unwrap_or_default();
    let response_snippet = outcome.response.snippet.clone();
    match &outcome.verdict {
        AttemptVerdict::Delivered => Report::Delivered {
            delivery_id,
            status_code: outcome.response.status_code,
            latency_ms: outcome.response.latency.as_millis(),
            response_snippet,
        },
        AttemptVerdict::Retry { at } => Report::Retrying {
            delivery_id,
            error,
            next_attempt_at: at.clone(),
            response_snippet,
        },
        AttemptVerdict::GiveUp => Report::Failed {
            delivery_id,
            error,
            response_snippet,
        },
    }
}

/// One line for people.
pub fn describe(report: &Report) -> String {
    match report {
        Report::HandedOff { dispatcher_pid, .. } => {
            format!("Webhook: handed to the running gateway (pid {dispatcher_pid}).")
        }
        Report::Delivered {
            status_code,
            latency_ms,
            ..
        } => {
            let code = status_code.map_or_else(|| "?".into(), |c| c.to_string());
            format!("Webhook: delivered ({code}, {latency_ms} ms).")
        }
        Report::Retrying {
            error,
            next_attempt_at,
            ..
        } => format!(
            "Webhook: attempt failed ({error}); it will be retried at {next_attempt_at} \
             by a running gateway."
        ),
        Report::Failed { error, .. } => format!("Webhook: delivery failed ({error})."),
        Report::NotAttempted { error, .. } => format!(
            "Webhook: not attempted ({error}); it stays queued for the next gateway that runs."
        ),
        Report::InProgress { .. } => "Webhook: another process is delivering it now.".into(),
    }
}

/// `gateway deliveries [retry|show]`.
pub async fn deliveries(
    gateway: &Gateway,
    settings: &Settings,
    args: DeliveriesArgs,
    json: bool,
) -> Result<(), Error> {
    match args.command {
        Some(DeliveriesCommand::Retry { delivery_id }) => {
            retry(gateway, settings, &delivery_id, json).await
        }
        Some(DeliveriesCommand::Show { delivery_id }) => show(gateway, &delivery_id, json),
        None => list(gateway, args, json),
    }
}

fn list(gateway: &Gateway, args: DeliveriesArgs, json: bool) -> Result<(), Error> {
    let key_id = args
        .key
        .as_deref()
        .map(|k| gateway.find_key(k))
        .transpose()?
        .map(|k| k.id);
    let filter = DeliveryFilter {
        failed_only: args.failed,
        key_id,
        limit: args.limit,
    };
    let rows = gateway.deliveries(&filter)?;
    if json {
        return print_json(&rows.iter().map(DeliveryView::from).collect::<Vec<_>>());
    }
    if rows.is_empty() {
        println!("No webhook deliveries match.");
        return Ok(());
    }
    let table: Vec<Vec<String>> = rows.iter().map(delivery_cells).collect();
    print_table(
        &[
            "ID", "CREATED", "KEY", "EVENT", "HOST", "ATTEMPTS", "OUTCOME",
        ],
        &table,
    );
    Ok(())
}

fn delivery_cells(row: &DeliveryRow) -> Vec<String> {
    vec![
        row.id.clone(),
        row.created_at.clone(),
        row.key_name.clone(),
        row.event_type.clone(),
        host(&row.url),
        row.attempts.to_string(),
        outcome_text(row),
    ]
}

/// "delivered 200 in 12 ms", "retrying at ... (error)", "failed: error".
pub fn outcome_text(row: &DeliveryRow) -> String {
    let error = preview(row.last_error.as_deref().unwrap_or("no answer"), 60);
    match row.status.as_str() {
        "delivered" => format!(
            "delivered {} in {} ms",
            row.last_status_code
                .map_or_else(|| "?".into(), |c| c.to_string()),
            row.last_latency_ms.unwrap_or(0)
        ),
        "pending" if row.attempts == 0 => "queued".into(),
        "pending" => format!("retrying at {} ({error})", row.next_attempt_at),
        _ => format!("failed: {error}"),
    }
}

fn show(gateway: &Gateway, query: &str, json: bool) -> Result<(), Error> {
    let (delivery, attempts) = gateway.delivery(query)?;
    if json {
        return print_json(&serde_json::json!({
            "delivery": DeliveryView::from(&delivery),
            "payload": serde_json::from_str::<serde_json::Value>(&delivery.payload).ok(),
            "attempts": attempts.iter().map(|a| serde_json::json!({
                "attempt": a.attempt, "attempted_at": a.attempted_at, "status_code": a.status_code,
                "latency_ms": a.latency_ms, "error": a.error,
                "response_snippet": a.response_snippet,
            })).collect::<Vec<_>>(),
        }));
    }
    println!(
        "Delivery {} ({}) for key {}",
        delivery.id, delivery.event_type, delivery.key_name
    );
    println!("URL:      {}", delivery.url);
    println!("Outcome:  {}", outcome_text(&delivery));
    println!("Payload:  {}", delivery.payload);
    for a in &attempts {
        let code = a.status_code.map_or_else(|| "-".into(), |c| c.to_string());
        let detail = a
            .error
            .as_deref()
            .or(a.response_snippet.as_deref())
            .unwrap_or("");
        println!(
            "  #{} {} {code} {} ms {}",
            a.attempt,
            a.attempted_at,
            a.latency_ms,
            preview(detail, 80)
        );
    }
    Ok(())
}

async fn retry(
    gateway: &Gateway,
    settings: &Settings,
    query: &str,
    json: bool,
) -> Result<(), Error> {
    let delivery = gateway.retry_delivery(query).await?;
    let report = hand_off(gateway, settings, &delivery.id).await;
    if json {
        return print_json(&report);
    }
    println!("Retrying delivery {}.", delivery.id);
    println!("{}", describe(&report));
    Ok(())
}

/// `gateway webhook test <key>`: a signed ping, one attempt, its answer.
pub async fn test(
    gateway: &Gateway,
    settings: &Settings,
    query: &str,
    json: bool,
) -> Result<bool, Error> {
    let (key, delivery_id) = gateway.queue_ping(query, settings.lease()).await?;
    let report = match handoff::attempt_now(gateway.store(), settings, &delivery_id).await? {
        Handoff::Attempted(outcome) => report_outcome(&outcome),
        _ => Report::InProgress {
            delivery_id: delivery_id.clone(),
        },
    };
    let delivered = matches!(report, Report::Delivered { .. });
    if json {
        print_json(&report)?;
        return Ok(delivered);
    }
    println!(
        "Sent a signed ping to {} for key {} ({}).",
        key.webhook_url.unwrap_or_default(),
        key.display_prefix,
        key.name
    );
    println!("{}", describe(&report).replace("Webhook: ", "Answer: "));
    if let Some(snippet) = response_snippet(&report) {
        println!("Receiver said: {}", preview(snippet, 200));
    }
    Ok(delivered)
}

fn response_snippet(report: &Report) -> Option<&str> {
    match report {
        Report::Delivered {
            response_snippet, ..
        }
        | Report::Retrying {
            response_snippet, ..
        }
        | Report::Failed {
            response_snippet, ..
        } => response_snippet.as_deref(),
        _ => None,
    }
}

/// A delivery as listed in JSON.
#[derive(Serialize)]
struct DeliveryView<'a> {
    id: &'a str,
    key_id: &'a str,
    key_name: &'a str,
    action_id: Option<&'a str>,
    event_type: &'a str,
    url: &'a str,
    status: &'a str,
    attempts: u32,
    next_attempt_at: Option<&'a str>,
    created_at: &'a str,
    finished_at: Option<&'a str>,
    last_status_code: Option<u16>,
    last_error: Option<&'a str>,
    last_latency_ms: Option<u64>,
}

impl<'a> From<&'a DeliveryRow> for DeliveryView<'a> {
    fn from(row: &'a DeliveryRow) -> Self {
        DeliveryView {
            id: &row.id,
            key_id: &row.key_id,
            key_name: &row.key_name,
            action_id: row.action_id.as_deref(),
            event_type: &row.event_type,
            url: &row.url,
            status: &row.status,
            attempts: row.attempts,
            next_attempt_at: (row.status == "pending").then_some(row.next_attempt_at.as_str()),
            created_at: &row.created_at,
            finished_at: row.finished_at.as_deref(),
            last_status_code: row.last_status_code,
            last_error: row.last_error.as_deref(),
            last_latency_ms: row.last_latency_ms,
        }
    }
}

fn host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}
