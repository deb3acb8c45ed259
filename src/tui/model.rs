//! What the console shows: windows of rows fetched from the database, and
//! the status bar's facts. Plain data, filled by the worker.

use std::net::SocketAddr;

use crate::store::deliveries::{DeliveryRow, RecentAttempt};
use crate::store::KeyRow;

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

    /// Moves the selection by `delta`, staying inside the list.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.total.saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn select(&mut self, index: usize) {
        self.selected = index.min(self.total.saturating_sub(1));
    }

    /// Whether rows around the selection (`margin` either side) are missing.
    pub fn needs_rows_around_selection(&self, margin: usize) -> bool {
        let wanted_start = self.selected.saturating_sub(margin);
        let wanted_end = (self.selected + margin).min(self.total);
        let loaded_end = self.offset + self.rows.len();
        self.total > 0 && (wanted_start < self.offset || wanted_end > loaded_end)
    }

    /// Takes a fetched window unless a newer fetch was asked for since.
    pub fn accept(&mut self, generation: u64, total: usize, offset: usize, rows: Vec<T>) -> bool {
        if generation < self.generation {
            return false;
        }
        self.total = total;
        self.offset = offset;
        self.rows = rows;
        self.loaded = true;
        self.select(self.selected);
        true
    }
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
    NotServing(String),
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
