//! What the console shows: windows of rows fetched from the database, and
//! the status bar's facts. Plain data, filled by the worker.

use std::net::SocketAddr;

use super::action::{Anchor, Loaded};
use crate::store::deliveries::{DeliveryRow, RecentAttempt};
use crate::store::{ActionRow, KeyRow};

/// The four screens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Queue,
    Keys,
    Deliveries,
    History,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Queue, Tab::Keys, Tab::Deliveries, Tab::History];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Queue => "Queue",
            Tab::Keys => "Keys",
            Tab::Deliveries => "Deliveries",
            Tab::History => "History",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|&t| t == self).unwrap_or(0)
    }

    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }

    pub fn previous(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }
}

/// A row that keeps its id from one fetch to the next, so the selection
/// can stay on it while rows arrive or leave around it.
pub trait Keyed {
    fn key(&self) -> &str;
}

impl Keyed for ActionRow {
    fn key(&self) -> &str {
        &self.id
    }
}

impl Keyed for DeliveryRow {
    fn key(&self) -> &str {
        &self.id
    }
}

impl Keyed for KeyEntry {
    fn key(&self) -> &str {
        &self.key.id
    }
}

/// Rows fetched around the selection out of a list of `total` rows, so a
/// long list is never loaded whole.
#[derive(Clone, Debug)]
pub struct Window<T> {
    pub total: usize,
    /// Index in the whole list of `rows[0]`.
    pub offset: usize,
    pub rows: Vec<T>,
    /// Index in the whole list of the selected row.
    pub selected: usize,
    /// Id of the selected row when it was last loaded: the selection
    /// follows that row, not its index, when the list changes.
    pub selected_id: Option<String>,
    /// The newest fetch asked for; older answers are dropped.
    pub generation: u64,
    pub loaded: bool,
}

impl<T> Default for Window<T> {
    fn default() -> Self {
        Window {
            total: 0,
            offset: 0,
            rows: Vec::new(),
            selected: 0,
            selected_id: None,
            generation: 0,
            loaded: false,
        }
    }
}

impl<T> Window<T> {
    pub fn selected_row(&self) -> Option<&T> {
        self.row(self.selected)
    }

    /// Row `index` of the whole list, if it is loaded.
    pub fn row(&self, index: usize) -> Option<&T> {
        index
            .checked_sub(self.offset)
            .and_then(|i| self.rows.get(i))
    }

    /// Goes back to the first row, following no row: for a list whose rows
    /// are about to change wholesale (a new filter).
    pub fn to_top(&mut self) {
        self.selected = 0;
        self.selected_id = None;
    }

    /// Whether rows around the selection (`margin` either side) are missing.
    pub fn needs_rows_around_selection(&self, margin: usize) -> bool {
        let wanted_start = self.selected.saturating_sub(margin);
        let wanted_end = (self.selected + margin).min(self.total);
        let loaded_end = self.offset + self.rows.len();
        self.total > 0 && (wanted_start < self.offset || wanted_end > loaded_end)
    }
}

impl<T: Keyed> Window<T> {
    /// Moves the selection by `delta`, staying inside the list.
    pub fn move_by(&mut self, delta: isize) {
        self.select(self.selected.saturating_add_signed(delta));
    }

    /// Selects row `index`, or the last row if the list is shorter.
    pub fn select(&mut self, index: usize) {
        self.selected = index.min(self.total.saturating_sub(1));
        self.selected_id = self.selected_row().map(|row| row.key().to_string());
    }

    /// Takes a fetched window unless a newer fetch was asked for since, and
    /// keeps the selection on the row it was on.
    pub fn accept(&mut self, loaded: Loaded<T>) -> bool {
        if loaded.generation < self.generation {
            return false;
        }
        self.total = loaded.total;
        self.offset = loaded.offset;
        self.rows = loaded.rows;
        self.loaded = true;
        let index = self.followed_index(loaded.anchor.as_ref());
        self.select(index);
        true
    }

    /// Where the selected row is in the rows just taken: found among them,
    /// or where the fetch says it went (the row after it if it is gone), or
    /// else the same index as before.
    fn followed_index(&self, anchor: Option<&Anchor>) -> usize {
        let Some(id) = &self.selected_id else {
            return self.selected;
        };
        if let Some(at) = self.rows.iter().position(|row| row.key() == id) {
            return self.offset + at;
        }
        match anchor {
            Some(anchor) if anchor.id == *id => anchor.index,
            _ => self.selected,
        }
    }
}

/// Where a window of `limit` rows around row `index` starts: a quarter of
/// it above, the rest below, as lists are mostly read downwards.
pub fn window_start(index: usize, limit: usize) -> usize {
    index.saturating_sub(limit / 4)
}

/// A key with the result of its latest delivery.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyEntry {
    pub key: KeyRow,
    pub last_delivery: Option<DeliveryRow>,
}

/// Whether this console serves the agent API.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiState {
    Starting,
    Serving(SocketAddr),
    /// Another process listens on `bind`.
    Taken {
        bind: SocketAddr,
        holder: PortHolder,
    },
    /// Listening on `bind` failed for another reason.
    Failed {
        bind: SocketAddr,
        error: String,
    },
}

/// Who listens on the address the console could not take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortHolder {
    /// Not known yet: being found out.
    Asking,
    /// A contactcmd on this database: it takes the agents' messages and
    /// delivers the webhooks, and this console decides on the same queue.
    SameDatabase { pid: u32 },
    /// A contactcmd on another database: agents' messages go there.
    OtherDatabase,
    /// A contactcmd, on which database cannot be told from here.
    Gateway,
    /// A program that does not answer as a contactcmd gateway.
    OtherProgram,
}

/// What the status bar reports.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusInfo {
    pub api: ApiState,
    pub pending: u64,
    pub recent: Vec<RecentAttempt>,
    pub retrying: u64,
    pub failed: u64,
}

impl Default for StatusInfo {
    fn default() -> Self {
        StatusInfo {
            api: ApiState::Starting,
            pending: 0,
            recent: Vec::new(),
            retrying: 0,
            failed: 0,
        }
    }
}

/// The database facts behind the status bar, apart from the API state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    pub pending: u64,
    pub recent: Vec<RecentAttempt>,
    pub retrying: u64,
    pub failed: u64,
}
