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

/// How long ago `stored` was, shortly: "5s", "3m", "2h", "4d".
pub fn age(stored: &str) -> String {
    age_at(stored, Utc::now())
}

/// How long before `now` `stored` was.
pub fn age_at(stored: &str, now: DateTime<Utc>) -> String {
    let Some(then) = parse_time(stored) else {
        return "?".into();
    };
    let secs = now.signed_duration_since(then).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3_600 => format!("{}m", secs / 60),
        3_600..86_400 => format!("{}h", secs / 3_600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// How long after `now` `stored` is, shortly: "in 5s", "in 3m"; "now" if past.
pub fn until_at(stored: &str, now: DateTime<Utc>) -> String {
    let Some(then) = parse_time(stored) else {
        return "?".into();
    };
    let secs = then.signed_duration_since(now).num_seconds();
    match secs {
        ..=0 => "now".into(),
        1..60 => format!("in {secs}s"),
        60..3_600 => format!("in {}m", secs / 60),
        _ => format!("in {}h", secs / 3_600),
    }
}

/// The time of day of a stored timestamp, "HH:MM:SS" (UTC).
pub fn time_of_day(stored: &str) -> String {
    parse_time(stored).map_or_else(|| "?".into(), |t| t.format("%H:%M:%S").to_string())
}
