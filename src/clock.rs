//! Timestamps and ids as the gateway stores them.

use chrono::{DateTime, SecondsFormat, Utc};

/// Now, as stored: RFC 3339 in UTC with milliseconds, so text order is time order.
pub fn now_text() -> String {
    format_time(Utc::now())
}

/// `time` in the stored form.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses a stored timestamp.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A new unique id that sorts by creation time (UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
