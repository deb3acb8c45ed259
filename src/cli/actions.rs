//! `contactcmd gateway queue | approve | deny | history`: deciding on
//! messages from a script or shell.

use serde::Serialize;

use super::output::{preview, print_json, print_table};
use super::webhooks;
use crate::api::views::QueuedAction;
use crate::clock;
use crate::gateway::decide::Decided;
use crate::gateway::{Error, Gateway, Status};
use crate::store::{ActionRow, HistoryFilter};
use crate::webhook::Settings;

const PREVIEW_CHARS: usize = 40;

pub fn queue(gateway: &Gateway, limit: u32, json: bool) -> Result<(), Error> {
    let actions = gateway.queue(limit)?;
    if json {
        return print_actions_json(&actions);
    }
    if actions.is_empty() {
        println!("No messages waiting for a decision.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = actions.iter().map(queue_row).collect();
    print_table(
        &["ID", "AGE", "PRIORITY", "AGENT", "CHANNEL", "TO", "MESSAGE"],
        &rows,
    );
    Ok(())
}

fn queue_row(action: &ActionRow) -> Vec<String> {
    let flag = if action.status == Status::Flagged {
        "FLAGGED "
    } else {
        ""
    };
    vec![
        action.id.clone(),
        clock::age(&action.created_at),
        action.priority.to_string(),
        action.key_name.clone(),
        action.channel.to_string(),
        action.recipient_address.clone(),
        format!("{flag}{}", preview(message_text(action), PREVIEW_CHARS)),
    ]
}

/// Approves and sends; returns whether the message went out.
pub async fn approve(
    gateway: &Gateway,
    settings: &Settings,
    query: &str,
    json: bool,
) -> Result<bool, Error> {
    let id = gateway.resolve_action(query)?;
    let decided = gateway.approve(&id).await?;
    report_decision(gateway, settings, &decided, json).await?;
    Ok(decided.action.status == Status::Sent)
}

pub async fn deny(
    gateway: &Gateway,
    settings: &Settings,
    query: &str,
    reason: Option<String>,
    json: bool,
) -> Result<(), Error> {
    let id = gateway.resolve_action(query)?;
    let decided = gateway.deny(&id, reason).await?;
    report_decision(gateway, settings, &decided, json).await
}

/// Prints the committed decision first, then what became of its webhook.
async fn report_decision(
    gateway: &Gateway,
    settings: &Settings,
    decided: &Decided,
    json: bool,
) -> Result<(), Error> {
    if !json {
        print_decision(&decided.action);
    }
    let webhook = match &decided.delivery_id {
        Some(id) => Some(webhooks::hand_off(gateway, settings, id).await),
        None => None,
    };
    if json {
        #[derive(Serialize)]
        struct WithWebhook<'a> {
            #[serde(flatten)]
            action: QueuedAction<'a>,
            webhook: Option<webhooks::Report>,
        }
        return print_json(&WithWebhook {
            action: QueuedAction::from(&decided.action),
            webhook,
        });
    }
    if let Some(report) = &webhook {
        println!("{}", webhooks::describe(report));
    }
    Ok(())
}

fn print_decision(action: &ActionRow) {
    match (action.status, &action.error_message) {
        (Status::Sent, _) => println!("Sent {} to {}.", action.id, action.recipient_address),
        (Status::Failed, Some(error)) => println!("Send of {} failed: {error}", action.id),
        (Status::Denied, Some(reason)) => println!("Denied {} ({reason}).", action.id),
        (status, _) => println!("Action {} is now {status}.", action.id),
    }
}

pub fn history(gateway: &Gateway, filter: &HistoryFilter, json: bool) -> Result<(), Error> {
    let actions = gateway.history(filter)?;
    if json {
        return print_actions_json(&actions);
    }
    if actions.is_empty() {
        println!("No decided messages match.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = actions
        .iter()
        .map(|a| {
            vec![
                a.id.clone(),
                a.status.to_string(),
                a.reviewed_at.clone().unwrap_or_default(),
                a.key_name.clone(),
                a.channel.to_string(),
                a.recipient_address.clone(),
                preview(
                    a.error_message.as_deref().unwrap_or(message_text(a)),
                    PREVIEW_CHARS,
                ),
            ]
        })
        .collect();
    print_table(
        &[
            "ID",
            "STATUS",
            "DECIDED",
            "AGENT",
            "CHANNEL",
            "TO",
            "MESSAGE / REASON",
        ],
        &rows,
    );
    Ok(())
}

fn print_actions_json(actions: &[ActionRow]) -> Result<(), Error> {
    print_json(&actions.iter().map(QueuedAction::from).collect::<Vec<_>>())
}

fn message_text(action: &ActionRow) -> &str {
    action.subject.as_deref().unwrap_or(&action.body)
}
