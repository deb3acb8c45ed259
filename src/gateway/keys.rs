//! API keys: issuing them, hashing them, and finding one from what an
//! operator typed.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Error;
use crate::clock;
use crate::store::{keys, KeyRow, Store};

/// Every key starts with this, so a leaked one is recognisable.
pub const KEY_PREFIX: &str = "gw_";

/// Random bytes in a key; 256 bits cannot be guessed.
const KEY_BYTES: usize = 32;

/// Hex digits after `gw_` shown to operators to tell keys apart.
const DISPLAY_DIGITS: usize = 8;

/// Length of a display prefix: `gw_` and its digits.
const DISPLAY_PREFIX_CHARS: usize = KEY_PREFIX.len() + DISPLAY_DIGITS;

const MAX_NAME_CHARS: usize = 100;

/// A freshly issued key: the plaintext exists only here, to be shown once.
pub struct IssuedKey {
    pub plaintext: String,
    pub row: KeyRow,
}

/// Creates a key named `name`; the caller stores `row` and shows `plaintext`.
pub fn issue(name: &str) -> Result<IssuedKey, Error> {
    let name = validate_name(name)?;
    let mut secret = [0u8; KEY_BYTES];
    getrandom::fill(&mut secret).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;

    let plaintext = format!("{KEY_PREFIX}{}", hex::encode(secret));
    let row = KeyRow {
        id: clock::new_id(),
        name,
        key_hash: hash(&plaintext).to_vec(),
        display_prefix: plaintext[..DISPLAY_PREFIX_CHARS].to_string(),
        created_at: clock::now_text(),
        last_used_at: None,
        revoked_at: None,
        webhook_url: None,
        webhook_secret: None,
        previous_webhook_secret: None,
        previous_secret_expires_at: None,
    };
    Ok(IssuedKey { plaintext, row })
}

/// The SHA-256 of a plaintext key, as stored.
pub fn hash(plaintext: &str) -> [u8; 32] {
    Sha256::digest(plaintext.as_bytes()).into()
}

/// The display prefix of a presented key, if it looks like one of ours.
pub fn display_prefix(presented: &str) -> Option<&str> {
    let prefix = presented.get(..DISPLAY_PREFIX_CHARS)?;
    prefix.starts_with(KEY_PREFIX).then_some(prefix)
}

/// Compares two key hashes without leaking where they differ.
pub fn hashes_match(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

fn validate_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid(
            "key name is empty: give the agent a name, e.g. `mail-bot`",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(format!(
            "key name is longer than {MAX_NAME_CHARS} characters: choose a shorter name"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "key name contains control characters: use plain text",
        ));
    }
    Ok(name.to_string())
}

/// Finds the one key `query` names: its full id, a unique id prefix, or its
/// display prefix (`gw_1a2b3c4d`).
pub fn resolve(store: &Store, query: &str) -> Result<KeyRow, Error> {
    let query = query.trim();
    if query.is_empty() {
        return Err(Error::invalid(
            "key id is empty: pass a key id or prefix from `keys list`",
        ));
    }
    let found = store.read(|conn| keys::matching(conn, query))?;
    if let Some(exact) = found.iter().find(|k| k.id == query) {
        return Ok(exact.clone());
    }
    // Display prefixes are only 32 bits of the key, so two keys issued by
    // versions that did not keep them apart may share one.
    let by_prefix: Vec<KeyRow> = found
        .iter()
        .filter(|k| k.display_prefix == query)
        .cloned()
        .collect();
    let found = if by_prefix.is_empty() {
        found
    } else {
        by_prefix
    };
    match found.as_slice() {
        [] => Err(Error::NotFound(format!(
            "no API key matches {query:?}: run `contactcmd gateway keys list` to see key ids"
        ))),
        [only] => Ok(only.clone()),
        several => Err(Error::invalid(format!(
            "key id {query:?} is ambiguous; it matches {}: type more of the id",
            candidates(several)
        ))),
    }
}

fn candidates(keys: &[KeyRow]) -> String {
    keys.iter()
        .map(|k| format!("{} ({}, {})", k.id, k.display_prefix, k.name))
        .collect::<Vec<_>>()
        .join(", ")
}
