//! Messages in the console's one loop: what arrives (`Action`: input and the
//! worker's results) and what the app asks the worker to do (`Command`).

use std::time::Instant;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyEvent, MouseEvent};

use super::model::{ApiState, Counts, KeyEntry};
use crate::gateway::Status;
use crate::store::deliveries::{AttemptRow, DeliveryRow};
use crate::store::ActionRow;

/// Everything the app reacts to.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Time passed (it is now `Now`): transient messages may fade.
    Tick(Now),
    /// Another connection committed something; visible data may be stale.
    DataChanged,
    Api(ApiState),
    QueueLoaded {
        window: Loaded<ActionRow>,
        /// Marked actions the fetch found decided (elsewhere): unmarked.
        decided_marks: Vec<String>,
    },
    KeysLoaded(Loaded<KeyEntry>),
    DeliveriesLoaded(Loaded<DeliveryRow>),
    HistoryLoaded(Loaded<ActionRow>),
    CountsLoaded(Counts),
    /// An approved action's transport finished (or a denial committed).
    Decided {
        id: String,
        outcome: Result<Status, String>,
        detail: Option<String>,
    },
    /// A new key: its plaintext is shown once.
    KeyCreated {
        name: String,
        plaintext: String,
    },
    SecretShown {
        key_name: String,
        secret: String,
        rotated: bool,
    },
    Attempts {
        delivery: Box<DeliveryRow>,
        attempts: Vec<AttemptRow>,
    },
    /// What a command did, for the status bar.
    Done(String),
    Failed(String),
}

/// A moment on both clocks: the monotonic one says how long messages and
/// outcomes stay, the wall clock what ages read. The loop reads the system
/// clocks; tests make their own, so nothing in the app reads a clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Now {
    pub instant: Instant,
    pub wall: DateTime<Utc>,
}

impl Now {
    pub fn system() -> Now {
        Now {
            instant: Instant::now(),
            wall: Utc::now(),
        }
    }
}

/// A fetched window of rows.
#[derive(Debug)]
pub struct Loaded<T> {
    pub generation: u64,
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<T>,
    /// Where the row the fetch was asked around stands now, for lists whose
    /// fetch looks it up (the queue).
    pub anchor: Option<Anchor>,
}

/// A row's place in its list as a fetch found it: its index if it is still
/// listed, else the index of the row that took its place.
#[derive(Clone, Debug, PartialEq)]
pub struct Anchor {
    pub id: String,
    pub index: usize,
}

/// Work for the background worker; the app never touches the database.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    FetchQueue {
        generation: u64,
        filter: String,
        /// Where the window starts if `around` is not given.
        offset: usize,
        limit: usize,
        /// The selected action: the window is fetched around wherever it is now.
        around: Option<String>,
        /// Marked actions, to learn which were decided elsewhere.
        marked: Vec<String>,
    },
    FetchKeys {
        generation: u64,
    },
    FetchDeliveries {
        generation: u64,
        failed_only: bool,
        offset: usize,
        limit: usize,
    },
    FetchHistory {
        generation: u64,
        status: Option<Status>,
        offset: usize,
        limit: usize,
    },
    FetchCounts,
    Approve(String),
    Deny {
        id: String,
        reason: Option<String>,
    },
    AddKey(String),
    RevokeKey(String),
    SetWebhook {
        key_id: String,
        url: String,
    },
    RemoveWebhook(String),
    TestPing(String),
    ShowSecret(String),
    RotateSecret(String),
    RetryDelivery(String),
    LoadAttempts(String),
}
