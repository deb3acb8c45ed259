//! `contactcmd gateway keys ...`: create, list and revoke API keys, and set
//! their webhook URLs.

use serde::Serialize;

use super::args::KeysCommand;
use super::output::{print_json, print_table};
use crate::gateway::{Error, Gateway};
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
        } => webhook(gateway, &key_id, url.as_deref(), remove, json).await,
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
    if json {
        return print_json(&keys.iter().map(KeyView::from).collect::<Vec<_>>());
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.id.clone(),
                k.display_prefix.clone(),
                k.name.clone(),
                k.created_at.clone(),
                k.last_used_at.clone().unwrap_or_else(|| "never".into()),
                k.revoked_at
                    .clone()
                    .map_or_else(|| "active".into(), |at| format!("revoked {at}")),
                k.webhook_url.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_table(
        &[
            "ID",
            "PREFIX",
            "NAME",
            "CREATED",
            "LAST USED",
            "STATE",
            "WEBHOOK",
        ],
        &rows,
    );
    Ok(())
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

async fn webhook(
    gateway: &Gateway,
    query: &str,
    url: Option<&str>,
    remove: bool,
    json: bool,
) -> Result<(), Error> {
    let key = match (url, remove) {
        (Some(url), _) => gateway.set_webhook(query, Some(url)).await?,
        (None, true) => gateway.set_webhook(query, None).await?,
        (None, false) => gateway.find_key(query)?,
    };
    if json {
        return print_json(&serde_json::json!({
            "id": key.id, "name": key.name, "webhook_url": key.webhook_url,
        }));
    }
    match (&key.webhook_url, url.is_some() || remove) {
        (Some(url), true) => println!(
            "Webhook for {} ({}) set to {url}",
            key.display_prefix, key.name
        ),
        (None, true) => println!("Webhook for {} ({}) removed.", key.display_prefix, key.name),
        (Some(url), false) => println!("{url}"),
        (None, false) => println!("Key {} ({}) has no webhook.", key.display_prefix, key.name),
    }
    Ok(())
}
