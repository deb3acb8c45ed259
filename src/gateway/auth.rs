//! Authenticating agents by API key, with a cache so the hot path does not
//! hit the database on every request.
//!
//! A key is found by the SHA-256 of what the client presented, in the cache
//! and then in the database, and never compared with anything secret: how
//! long a lookup takes can depend only on that hash, and learning about a
//! hash says nothing about a key that would produce it. So no comparison
//! here needs to be constant-time; the lookup by hash is what protects the
//! keys from timing.
//!
//! The cache only ever says "this hash belonged to a live key". Every write
//! an agent makes re-checks revocation inside its own SQL, and reads check it
//! too, so a key revoked by another process stops working at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use super::keys::{hash, KEY_PREFIX};
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

/// Live keys seen recently, by hash.
#[derive(Default)]
pub struct KeyCache {
    by_hash: RwLock<HashMap<[u8; 32], Arc<AgentKey>>>,
}

impl KeyCache {
    /// The live key whose plaintext is `presented`.
    pub fn authenticate(
        &self,
        store: &Store,
        presented: Option<&str>,
    ) -> Result<Arc<AgentKey>, Error> {
        let presented = presented
            .map(str::trim)
            .filter(|k| k.starts_with(KEY_PREFIX));
        let digest = hash(presented.ok_or(Error::Unauthorized)?);
        if let Some(key) = self.read().get(&digest) {
            return Ok(key.clone());
        }

        let row = store.read(|conn| keys::find_by_hash(conn, &digest))?;
        let row = row.filter(|row| row.revoked_at.is_none());
        let row = row.ok_or(Error::Unauthorized)?;
        let key = Arc::new(AgentKey {
            id: row.id,
            name: row.name,
            last_touched_ms: AtomicI64::new(0),
        });
        self.write().insert(digest, key.clone());
        Ok(key)
    }

    /// Drops a key found revoked, so the next request re-checks it.
    pub fn forget(&self, key_id: &str) {
        self.write().retain(|_, key| key.id != key_id);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<[u8; 32], Arc<AgentKey>>> {
        self.by_hash
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<[u8; 32], Arc<AgentKey>>> {
        self.by_hash
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
