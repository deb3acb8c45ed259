//! Authenticating agents by API key, with a cache so the hot path does not
//! hit the database on every request.
//!
//! A key is found by its display prefix (`gw_` and 8 hex digits, shown to
//! operators, so not secret), then the SHA-256 of what the client presented
//! is compared in constant time with each stored hash under that prefix: how
//! long the check takes says nothing about the rest of any key.
//!
//! The cache only ever says "this hash belonged to a live key". Every write
//! an agent makes re-checks revocation inside its own SQL, and reads check it
//! too, so a key revoked by another process stops working at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use super::keys::{display_prefix, hash, hashes_match};
use super::Error;
use crate::store::{keys, Store};

/// Refresh `last_used_at` at most this often per key, to keep it off the
/// hot path.
const TOUCH_INTERVAL_MS: i64 = 1_000;

/// An authenticated agent's key.
#[derive(Debug)]
pub struct AgentKey {
    pub id: String,
    pub name: String,
    last_touched_ms: AtomicI64,
}

impl AgentKey {
    /// True (once per interval) when `last_used_at` should be refreshed.
    pub fn claim_touch(&self) -> bool {
        let now = chrono::Utc::now().timestamp_millis();
        let last = self.last_touched_ms.load(Ordering::Relaxed);
        now - last >= TOUCH_INTERVAL_MS
            && self
                .last_touched_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// A live key seen recently, with its stored hash.
struct Cached {
    hash: [u8; 32],
    key: Arc<AgentKey>,
}

/// Live keys seen recently, by display prefix.
#[derive(Default)]
pub struct KeyCache {
    by_prefix: RwLock<HashMap<String, Vec<Cached>>>,
}

impl KeyCache {
    /// The live key whose plaintext is `presented`.
    pub fn authenticate(
        &self,
        store: &Store,
        presented: Option<&str>,
    ) -> Result<Arc<AgentKey>, Error> {
        let presented = presented.map(str::trim).ok_or(Error::Unauthorized)?;
        let prefix = display_prefix(presented).ok_or(Error::Unauthorized)?;
        let digest = hash(presented);
        if let Some(key) = self.cached(prefix, &digest) {
            return Ok(key);
        }

        let rows = store.read_in_task(|conn| keys::with_display_prefix(conn, prefix))?;
        let row = rows
            .into_iter()
            .filter(|row| row.revoked_at.is_none())
            .find(|row| hashes_match(&row.key_hash, &digest))
            .ok_or(Error::Unauthorized)?;
        let key = Arc::new(AgentKey {
            id: row.id,
            name: row.name,
            last_touched_ms: AtomicI64::new(0),
        });
        let cached = Cached {
            hash: digest,
            key: key.clone(),
        };
        self.write()
            .entry(prefix.to_string())
            .or_default()
            .push(cached);
        Ok(key)
    }

    fn cached(&self, prefix: &str, digest: &[u8; 32]) -> Option<Arc<AgentKey>> {
        let cache = self.read();
        let candidates = cache.get(prefix)?;
        candidates
            .iter()
            .find(|cached| hashes_match(&cached.hash, digest))
            .map(|cached| cached.key.clone())
    }

    /// Drops a key found revoked, so the next request re-checks it.
    pub fn forget(&self, key_id: &str) {
        let mut cache = self.write();
        for candidates in cache.values_mut() {
            candidates.retain(|cached| cached.key.id != key_id);
        }
        cache.retain(|_, candidates| !candidates.is_empty());
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Vec<Cached>>> {
        self.by_prefix
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Vec<Cached>>> {
        self.by_prefix
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
