//! The gateway's vocabulary: channels, priorities and statuses, each with the
//! exact spelling the API and the database use.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Generates `as_str`, `Display`, `FromStr` and `ALL` for a fieldless enum
/// whose variants are spelled in lower case on the wire and in the database.
macro_rules! wire_enum {
    ($name:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling used in JSON, SQL and on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The accepted spellings, for error messages.
            pub fn choices() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} {:?}: use one of {}", $what, other, Self::choices()
                    )),
                }
            }
        }
    };
}

/// How a message reaches its recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
    Imessage,
}

wire_enum!(Channel, "channel", { Email => "email", Sms => "sms", Imessage => "imessage" });

/// How soon the agent would like the operator to look at a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

wire_enum!(Priority, "priority", {
    Urgent => "urgent", High => "high", Normal => "normal", Low => "low",
});

/// Where an action is in its life.
///
/// `pending`/`flagged` → `approved` → `sent` | `failed`, or
/// `pending`/`flagged` → `denied`. The last three are terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Flagged,
    Approved,
    Sent,
    Denied,
    Failed,
}

wire_enum!(Status, "status", {
    Pending => "pending", Flagged => "flagged", Approved => "approved",
    Sent => "sent", Denied => "denied", Failed => "failed",
});

impl Status {
    /// Statuses still waiting for an operator's decision.
    pub const UNDECIDED: &'static [Status] = &[Status::Pending, Status::Flagged];

    /// True once nothing more can happen to the action.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Sent | Status::Denied | Status::Failed)
    }
}

macro_rules! sql_text {
    ($($name:ident),+) => {$(
        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                value.as_str()?.parse().map_err(|e: String| {
                    rusqlite::types::FromSqlError::Other(e.into())
                })
            }
        }
    )+};
}

sql_text!(Channel, Priority, Status);
