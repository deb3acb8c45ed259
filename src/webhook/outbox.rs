//! Writing a webhook event into the durable outbox, inside the transaction
//! that changes the action's status: a crash after the commit cannot lose
//! the event, and a rollback cannot send one.

use rusqlite::Connection;

use super::payload;
use crate::store::deliveries::{self, NewDelivery};
use crate::store::{keys, ActionRow};

/// A new delivery id, used as `webhook-id`; ids sort by creation time.
pub fn new_delivery_id() -> String {
    format!("msg_{}", uuid::Uuid::now_v7().simple())
}

/// Queues the event for `action`'s new status if its key has a webhook URL;
/// returns the delivery id. The URL is fixed now, as it is at this moment.
pub fn enqueue(
    conn: &Connection,
    action: &ActionRow,
    at: &str,
) -> rusqlite::Result<Option<String>> {
    let Some((event_type, body)) = payload::action_event(action, at) else {
        return Ok(None);
    };
    let Some(url) = keys::get(conn, &action.key_id)?.and_then(|key| key.webhook_url) else {
        return Ok(None);
    };
    let delivery = NewDelivery {
        id: new_delivery_id(),
        key_id: action.key_id.clone(),
        action_id: Some(action.id.clone()),
        event_type: event_type.to_string(),
        url,
        payload: body,
        created_at: at.to_string(),
    };
    deliveries::insert(conn, &delivery)?;
    Ok(Some(delivery.id))
}
