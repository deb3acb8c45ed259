//! `contactcmd gateway keys ...`: create, list and revoke API keys, and set
//! their webhook URLs.

use std::collections::HashMap;

use serde::Serialize;

use super::args::KeysCommand;
use super::output::{print_json, print_table};
use super::webhooks::outcome_text;
use crate::gateway::{Error, Gateway};
use crate::store::deliveries::DeliveryRow;
use crate::store::KeyRow;

/// A key as listed: everything but the hash.
#[derive(Serialize)]
struct KeyView<'a> {
    id: &'a str,
    name: &'a str,
    display_prefix: &'a str,
    created_at: &'a str,
    last_used_at: Option<&'a str>,
    revoked_at: Option<&'a str>,
    webhook_url: Option<&'a str>,
}

impl<'a> From<&'a KeyRow> for KeyView<'a> {
    fn from(key: &'a KeyRow) -> Self {
        KeyView {
            id: &key.id,
            name: &key.name,
            display_prefix: &key.display_prefix,
            created_at: &key.created_at,
            last_used_at: key.last_used_at.as_deref(),
            revoked_at: key.revoked_at.as_deref(),
            webhook_url: key.webhook_url.as_deref(),
        }
    }
}

pub async fn run(gateway: &Gateway, command: KeysCommand, json: bool) -> Result<(), Error> {
    match command {
        KeysCommand::Add { name } => add(gateway, &name, json).await,
        KeysCommand::List => list(gateway, json),
        KeysCommand::Revoke { key_id } => revoke(gateway, &key_id, json).await,
        KeysCommand::Webhook {
            key_id,
            url,
            remove,
            rotate_secret,
            secret,
        } => {
            let request = WebhookRequest {
                url: url.as_deref(),
                remove,
                rotate_secret,
                show_secret: secret,
            };
            webhook(gateway, &key_id, request, json).await
        }
    }
}

async fn add(gateway: &Gateway, name: &str, json: bool) -> Result<(), Error> {
    let issued = gateway.add_key(name).await?;
    if json {
        #[derive(Serialize)]
        struct Added<'a> {
            #[serde(flatten)]
            key: KeyView<'a>,
            key_plaintext: &'a str,
        }
        return print_json(&Added {
            key: KeyView::from(&issued.row),
            key_plaintext: &issued.plaintext,
        });
    }
    println!("{}", issued.plaintext);
    eprintln!(
        "Created key {} ({}) for {:?}. Copy it now: it is shown only this once.",
        issued.row.display_prefix, issued.row.id, issued.row.name
    );
    Ok(())
}

fn list(gateway: &Gateway, json: bool) -> Result<(), Error> {
    let keys = gateway.list_keys()?;
    let latest: HashMap<String, DeliveryRow> = gateway
        .latest_deliveries()?
        .into_iter()
        .map(|d| (d.key_id.clone(), d))
        .collect();
    if json {
        let views: Vec<_> = keys
            .iter()
            .map(|k| ListedKey {
                key: KeyView::from(k),
                last_delivery: latest.get(&k.id).map(LastDelivery::from),
            })
            .collect();
        return print_json(&views);
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| key_cells(k, latest.get(&k.id)))
        .collect();
    let headers = [
        "ID",
        "PREFIX",
        "NAME",
        "CREATED",
        "LAST USED",
        "STATE",
        "WEBHOOK",
        "LAST DELIVERY",
    ];
    print_table(&headers, &rows);
    Ok(())
}

fn key_cells(key: &KeyRow, latest: Option<&DeliveryRow>) -> Vec<String> {
    vec![
        key.id.clone(),
        key.display_prefix.clone(),
        key.name.clone(),
        key.created_at.clone(),
        key.last_used_at.clone().unwrap_or_else(|| "never".into()),
        key.revoked_at
            .clone()
            .map_or_else(|| "active".into(), |at| format!("revoked {at}")),
        key.webhook_url.clone().unwrap_or_else(|| "-".into()),
        latest.map_or_else(|| "-".into(), outcome_text),
    ]
}

#[derive(Serialize)]
struct ListedKey<'a> {
    #[serde(flatten)]
    key: KeyView<'a>,
    last_delivery: Option<LastDelivery<'a>>,
}

/// The latest delivery's result, as `keys list --json` shows it.
#[derive(Serialize)]
struct LastDelivery<'a> {
    id: &'a str,
    event_type: &'a str,
    status: &'a str,
    attempts: u32,
    status_code: Option<u16>,
    error: Option<&'a str>,
    latency_ms: Option<u64>,
}

impl<'a> From<&'a DeliveryRow> for LastDelivery<'a> {
    fn from(row: &'a DeliveryRow) -> Self {
        LastDelivery {
            id: &row.id,
            event_type: &row.event_type,
            status: &row.status,
            attempts: row.attempts,
            status_code: row.last_status_code,
            error: row.last_error.as_deref(),
            latency_ms: row.last_latency_ms,
        }
    }
}

async fn revoke(gateway: &Gateway, query: &str, json: bool) -> Result<(), Error> {
    let (key, changed) = gateway.revoke_key(query).await?;
    if json {
        return print_json(&serde_json::json!({
            "id": key.id, "name": key.name, "revoked": true, "already_revoked": !changed,
        }));
    }
    if changed {
        println!(
            "Revoked key {} ({}). Requests using it now fail.",
            key.display_prefix, key.name
        );
    } else {
        println!(
            "Key {} ({}) was already revoked.",
            key.display_prefix, key.name
        );
    }
    Ok(())
}

/// What `keys webhook` was asked to do.
pub struct WebhookRequest<'a> {
    pub url: Option<&'a str>,
    pub remove: bool,
    pub rotate_secret: bool,
    pub show_secret: bool,
}

async fn webhook(
    gateway: &Gateway,
    query: &str,
    request: WebhookRequest<'_>,
    json: bool,
) -> Result<(), Error> {
    let (key, new_secret) = change_webhook(gateway, query, &request).await?;
    let shown_secret = new_secret.clone().or_else(|| {
        request
            .show_secret
            .then(|| key.webhook_secret.clone())
            .flatten()
    });

    if json {
        return print_json(&serde_json::json!({
            "id": key.id, "name": key.name, "webhook_url": key.webhook_url,
            "signing_secret": shown_secret,
            "previous_secret_expires_at": key.previous_secret_expires_at,
        }));
    }
    print_webhook_state(&key, &request);
    match &shown_secret {
        Some(secret) => print_secret(
            secret,
            new_secret.is_some() && !request.rotate_secret,
            request.rotate_secret,
        ),
        None if request.show_secret => println!(
            "Key {} has no signing secret yet: set a webhook URL first.",
            key.display_prefix
        ),
        None => {}
    }
    Ok(())
}

/// Makes the changes `request` asks for; returns the key as it now is, and
/// the secret if one was created or rotated in.
async fn change_webhook(
    gateway: &Gateway,
    query: &str,
    request: &WebhookRequest<'_>,
) -> Result<(KeyRow, Option<String>), Error> {
    let (key, created) = match request.url {
        _ if request.remove => (gateway.remove_webhook(query).await?, None),
        Some(url) => {
            let change = gateway.set_webhook(query, url).await?;
            (change.key, change.new_secret)
        }
        None => (gateway.find_key(query)?, None),
    };
    if !request.rotate_secret {
        return Ok((key, created));
    }
    let (key, secret) = gateway.rotate_secret(&key.id).await?;
    Ok((key, Some(secret)))
}

fn print_webhook_state(key: &KeyRow, request: &WebhookRequest<'_>) {
    let who = format!("{} ({})", key.display_prefix, key.name);
    match (&key.webhook_url, request.url.is_some() || request.remove) {
        (Some(url), true) => println!("Webhook for {who} set to {url}"),
        (None, true) => println!("Webhook for {who} removed; nothing more will be sent to it."),
        (Some(url), false) if !request.rotate_secret && !request.show_secret => println!("{url}"),
        (None, false) if !request.rotate_secret && !request.show_secret => {
            println!("Key {who} has no webhook.")
        }
        _ => {}
    }
}

fn print_secret(secret: &str, created: bool, rotated: bool) {
    if created {
        println!("Signing secret (created now; shown again with --secret): {secret}");
    } else if rotated {
        println!("New signing secret: {secret}");
        println!("For 24 hours deliveries carry signatures from both the old and the new secret.");
    } else {
        println!("{secret}");
        return;
    }
    println!(
        "Verify each delivery: HMAC-SHA256 with the base64-decoded part after `whsec_` over \
         \"{{webhook-id}}.{{webhook-timestamp}}.{{body}}\", base64-encoded, must equal one of the \
         `v1,` signatures in the webhook-signature header."
    );
}
