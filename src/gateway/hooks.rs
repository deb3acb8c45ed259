//! Managing webhooks: each key's URL and signing secret, the delivery log,
//! manual retries and test pings.

use super::{Error, Gateway};
use crate::clock;
use crate::store::deliveries::{self, AttemptRow, DeliveryFilter, DeliveryRow, NewDelivery};
use crate::store::{keys as key_rows, KeyRow};
use crate::webhook::{handoff, outbox, payload, secret};

/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_GRACE: chrono::Duration = chrono::Duration::hours(24);

/// A key after its webhook changed, with a secret created along the way.
pub struct WebhookChange {
    pub key: KeyRow,
    /// Set when this change created the key's first signing secret.
    pub new_secret: Option<String>,
}

impl Gateway {
    /// Sets the webhook URL of the key `query` names, creating its signing
    /// secret if it has none.
    pub async fn set_webhook(&self, query: &str, url: &str) -> Result<WebhookChange, Error> {
        let url = super::webhook_url::validate(url)?;
        let key = self.find_key(query)?;
        let fresh =
            secret::generate().map_err(|e| Error::Internal(format!("no randomness: {e}")))?;

        let (id, stored_url, candidate) = (key.id.clone(), url.clone(), fresh.clone());
        let created = self
            .store()
            .write(move |conn| {
                key_rows::set_webhook_url(conn, &id, Some(&stored_url))?;
                key_rows::set_secret_if_missing(conn, &id, &candidate)
            })
            .await?;
        tracing::info!(key_id = %key.id, secret_created = created, "webhook URL set");

        let new_secret = created.then_some(fresh);
        let secret = new_secret.clone().or(key.webhook_secret.clone());
        let key = KeyRow {
            webhook_url: Some(url),
            webhook_secret: secret,
            ..key
        };
        Ok(WebhookChange { key, new_secret })
    }

    /// Clears the webhook URL of the key `query` names; no more deliveries
    /// are queued for it (ones already queued still go to the old URL).
    pub async fn remove_webhook(&self, query: &str) -> Result<KeyRow, Error> {
        let key = self.find_key(query)?;
        let id = key.id.clone();
        self.store()
            .write(move |conn| key_rows::set_webhook_url(conn, &id, None))
            .await?;
        tracing::info!(key_id = %key.id, "webhook URL removed");
        Ok(KeyRow {
            webhook_url: None,
            ..key
        })
    }

    /// Replaces the signing secret; the old one keeps signing for 24 hours.
    pub async fn rotate_secret(&self, query: &str) -> Result<(KeyRow, String), Error> {
        let key = self.find_key(query)?;
        let fresh =
            secret::generate().map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
        let until = clock::format_time(chrono::Utc::now() + ROTATION_GRACE);

        let (id, stored) = (key.id.clone(), fresh.clone());
        self.store()
            .write(move |conn| key_rows::rotate_secret(conn, &id, &stored, &until))
            .await?;
        tracing::info!(key_id = %key.id, "webhook secret rotated");
        Ok((self.find_key(&key.id)?, fresh))
    }

    /// Deliveries, newest first.
    pub fn deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<DeliveryRow>, Error> {
        Ok(self.store().read(|conn| deliveries::list(conn, filter))?)
    }

    /// The newest delivery of each key.
    pub fn latest_deliveries(&self) -> Result<Vec<DeliveryRow>, Error> {
        Ok(self.store().read(deliveries::latest_per_key)?)
    }

    /// One delivery and every attempt at it.
    pub fn delivery(&self, query: &str) -> Result<(DeliveryRow, Vec<AttemptRow>), Error> {
        let id = self.resolve_delivery(query)?;
        let found = self.store().read(|conn| {
            let Some(delivery) = deliveries::get(conn, &id)? else {
                return Ok(None);
            };
            Ok(Some((delivery, deliveries::attempts(conn, &id)?)))
        })?;
        found.ok_or_else(|| no_delivery(query))
    }

    /// Puts a failed delivery back for one more attempt now.
    pub async fn retry_delivery(&self, query: &str) -> Result<DeliveryRow, Error> {
        let (delivery, _) = self.delivery(query)?;
        if delivery.status != "failed" {
            return Err(Error::invalid(format!(
                "delivery {} is {}, not failed: only failed deliveries can be retried by hand",
                delivery.id, delivery.status
            )));
        }
        let (id, now) = (delivery.id.clone(), clock::now_text());
        self.store()
            .write(move |conn| deliveries::retry(conn, &id, &now))
            .await?;
        self.wake_dispatcher();
        tracing::info!(delivery_id = %delivery.id, "delivery retried by hand");
        Ok(delivery)
    }

    /// Queues a signed `ping` to the webhook of the key `query` names, held
    /// by this process for `lease` (longer than the attempt may take).
    pub async fn queue_ping(
        &self,
        query: &str,
        lease: chrono::Duration,
    ) -> Result<(KeyRow, String), Error> {
        let key = self.find_key(query)?;
        let Some(url) = key.webhook_url.clone() else {
            return Err(Error::invalid(format!(
                "key {} has no webhook: set one with `contactcmd gateway keys webhook {} <url>`",
                key.display_prefix, key.display_prefix
            )));
        };
        let now = clock::now_text();
        let delivery = NewDelivery {
            id: outbox::new_delivery_id(),
            key_id: key.id.clone(),
            action_id: None,
            event_type: payload::PING.to_string(),
            url,
            payload: payload::ping(&key.id, &now),
            created_at: now,
        };
        let id = delivery.id.clone();
        // A ping gets exactly one attempt: it tests the receiver now, and a
        // retry hours later would test nothing. It is written already held
        // by this command, so a running dispatcher cannot take it first.
        let holder = handoff::command_holder();
        let lease_until = clock::format_time(chrono::Utc::now() + lease);
        self.store()
            .write(move |conn| {
                deliveries::insert(conn, &delivery)?;
                deliveries::limit_attempts(conn, &delivery.id, 1)?;
                let (id, now) = (&delivery.id, &delivery.created_at);
                deliveries::claim_one(conn, id, &holder, now, &lease_until).map(|_| ())
            })
            .await?;
        Ok((key, id))
    }

    fn resolve_delivery(&self, query: &str) -> Result<String, Error> {
        let query = query.trim();
        let ids = self
            .store()
            .read(|conn| deliveries::ids_with_prefix(conn, query))?;
        match ids.as_slice() {
            _ if query.is_empty() => Err(no_delivery(query)),
            [] => Err(no_delivery(query)),
            [only] => Ok(only.clone()),
            several if several.iter().any(|id| id == query) => Ok(query.to_string()),
            several => Err(Error::invalid(format!(
                "delivery id {query:?} is ambiguous; it matches {}: type more of the id",
                several.join(", ")
            ))),
        }
    }
}

fn no_delivery(query: &str) -> Error {
    Error::NotFound(format!(
        "no webhook delivery with id {query:?}: run `contactcmd gateway deliveries` to list them"
    ))
}
