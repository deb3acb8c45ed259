//! The console's state and how each action changes it. No I/O here: work
//! that needs the database goes out as `Command`s, results come back as
//! `Action`s.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tui_input::Input;

use super::action::{Action, Command, Loaded, Now};
use super::model::{window_start, Counts, KeyEntry, Keyed, StatusInfo, Tab, Window};
use crate::gateway::Status;
use crate::store::deliveries::{AttemptRow, DeliveryRow};
use crate::store::ActionRow;

/// Rows fetched per window; several screens' worth, so scrolling rarely waits.
pub const WINDOW_ROWS: usize = 200;

/// Rows kept loaded either side of the selection before fetching more.
const WINDOW_MARGIN: usize = 40;

/// How long a status-bar message stays.
const FLASH_FOR: Duration = Duration::from_secs(5);

/// How long a decided row stays pinned in the queue after its outcome.
const OUTCOME_FOR: Duration = Duration::from_secs(6);

/// A dialog over the current tab; it takes the keyboard while open.
#[derive(Debug)]
pub enum Dialog {
    Help,
    Confirm {
        prompt: String,
        on_yes: Command,
    },
    Input {
        purpose: InputPurpose,
        input: Input,
        error: Option<String>,
    },
    NewKey {
        name: String,
        plaintext: String,
    },
    Secret {
        key_name: String,
        secret: String,
        rotated: bool,
    },
    Attempts {
        delivery: Box<DeliveryRow>,
        attempts: Vec<AttemptRow>,
    },
}

/// What a one-line input is for.
#[derive(Clone, Debug, PartialEq)]
pub enum InputPurpose {
    DenyReason { ids: Vec<String> },
    KeyName,
    Webhook { key_id: String, key_name: String },
}

/// A decision in progress or just made, pinned at the top of the queue.
#[derive(Clone, Debug)]
pub struct Decision {
    pub action: ActionRow,
    pub state: DecisionState,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DecisionState {
    Sending,
    Denying,
    Finished { text: String, ok: bool, at: Instant },
}

/// A transient status-bar message.
#[derive(Clone, Debug)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub until: Instant,
}

/// The whole console state.
#[derive(Debug)]
pub struct App {
    pub tab: Tab,
    pub queue: Window<ActionRow>,
    pub keys: Window<KeyEntry>,
    pub deliveries: Window<DeliveryRow>,
    pub history: Window<ActionRow>,
    pub filter: Input,
    pub filtering: bool,
    pub detail_open: bool,
    /// Lines the detail pane is scrolled down by.
    pub detail_scroll: u16,
    pub marked: BTreeSet<String>,
    pub decisions: Vec<Decision>,
    pub failed_only: bool,
    pub history_status: Option<Status>,
    pub dialog: Option<Dialog>,
    pub status: StatusInfo,
    pub flash: Option<Flash>,
    pub size: (u16, u16),
    /// The clock ages are shown against; moved on by ticks.
    pub now: DateTime<Utc>,
    /// The monotonic clock messages fade by; moved on by ticks.
    pub instant: Instant,
    pub monochrome: bool,
    pub quit: bool,
    generation: u64,
}

impl App {
    /// A console of `size` whose clocks stand at `now` until the first tick.
    pub fn new(size: (u16, u16), monochrome: bool, now: Now) -> App {
        App {
            tab: Tab::Queue,
            queue: Window::default(),
            keys: Window::default(),
            deliveries: Window::default(),
            history: Window::default(),
            filter: Input::default(),
            filtering: false,
            detail_open: false,
            detail_scroll: 0,
            marked: BTreeSet::new(),
            decisions: Vec::new(),
            failed_only: false,
            history_status: None,
            dialog: None,
            status: StatusInfo::default(),
            flash: None,
            size,
            now: now.wall,
            instant: now.instant,
            monochrome,
            quit: false,
            generation: 0,
        }
    }

    /// What to fetch when the console starts.
    pub fn start(&mut self) -> Vec<Command> {
        let mut commands = self.refresh_all();
        commands.push(Command::FetchCounts);
        commands
    }

    /// Applies one action; returns the work it calls for.
    pub fn update(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Key(key) => super::input::key(self, key),
            Action::Mouse(mouse) => super::input::mouse(self, mouse),
            Action::Resize(width, height) => {
                self.size = (width, height);
                Vec::new()
            }
            Action::Tick(now) => self.tick(now),
            Action::DataChanged => self.refresh_with_counts(),
            Action::Api(state) => {
                self.status.api = state;
                Vec::new()
            }
            Action::QueueLoaded {
                window,
                decided_marks,
            } => self.queue_loaded(window, decided_marks),
            Action::KeysLoaded(loaded) => self.take(|app| &mut app.keys, loaded),
            Action::DeliveriesLoaded(loaded) => self.take(|app| &mut app.deliveries, loaded),
            Action::HistoryLoaded(loaded) => self.take(|app| &mut app.history, loaded),
            Action::CountsLoaded(counts) => self.counts_loaded(counts),
            answer => self.answered(answer),
        }
    }

    /// Applies what a command of the operator's came back with.
    fn answered(&mut self, answer: Action) -> Vec<Command> {
        match answer {
            Action::Decided {
                id,
                outcome,
                detail,
            } => self.decided(&id, outcome, detail),
            Action::KeyCreated { name, plaintext } => {
                self.dialog = Some(Dialog::NewKey { name, plaintext });
                self.refresh(Tab::Keys)
            }
            Action::SecretShown {
                key_name,
                secret,
                rotated,
            } => self.show(Dialog::Secret {
                key_name,
                secret,
                rotated,
            }),
            Action::Attempts { delivery, attempts } => {
                self.show(Dialog::Attempts { delivery, attempts })
            }
            Action::Done(text) => {
                self.say(text, false);
                self.refresh_with_counts()
            }
            Action::Failed(text) => {
                self.say(text, true);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn show(&mut self, dialog: Dialog) -> Vec<Command> {
        self.dialog = Some(dialog);
        Vec::new()
    }

    fn counts_loaded(&mut self, counts: Counts) -> Vec<Command> {
        self.status.pending = counts.pending;
        self.status.recent = counts.recent;
        self.status.retrying = counts.retrying;
        self.status.failed = counts.failed;
        Vec::new()
    }

    /// Refetches the tab on screen and the status bar's counts.
    fn refresh_with_counts(&mut self) -> Vec<Command> {
        let mut commands = self.refresh_current();
        commands.push(Command::FetchCounts);
        commands
    }

    /// Shows a transient message in the status bar.
    pub fn say(&mut self, text: impl Into<String>, error: bool) {
        self.flash = Some(Flash {
            text: text.into(),
            error,
            until: self.instant + FLASH_FOR,
        });
    }

    fn tick(&mut self, now: Now) -> Vec<Command> {
        self.now = now.wall;
        self.instant = now.instant;
        let now = now.instant;
        if self.flash.as_ref().is_some_and(|f| f.until <= now) {
            self.flash = None;
        }
        self.decisions.retain(|d| match &d.state {
            DecisionState::Finished { at, .. } => now.duration_since(*at) < OUTCOME_FOR,
            _ => true,
        });
        Vec::new()
    }

    /// Pins `action` at the top of the queue while it is being decided.
    pub fn begin_decision(&mut self, action: ActionRow, state: DecisionState) {
        self.marked.remove(&action.id);
        self.decisions.retain(|d| d.action.id != action.id);
        self.decisions.push(Decision { action, state });
    }

    fn decided(
        &mut self,
        id: &str,
        outcome: Result<Status, String>,
        detail: Option<String>,
    ) -> Vec<Command> {
        let (text, ok) = match &outcome {
            Ok(Status::Sent) => ("sent".to_string(), true),
            Ok(Status::Denied) => ("denied".to_string(), true),
            Ok(status) => (
                format!("{status}: {}", detail.clone().unwrap_or_default()),
                false,
            ),
            Err(error) => {
                // Most likely decided elsewhere: a mark left on it would
                // keep `a` and `d` aiming at it.
                self.marked.remove(id);
                (error.clone(), false)
            }
        };
        if let Some(decision) = self.decisions.iter_mut().find(|d| d.action.id == id) {
            decision.state = DecisionState::Finished {
                text: text.clone(),
                ok,
                at: self.instant,
            };
        }
        if ok {
            // The pinned row shows the outcome; let the status bar show webhooks.
            self.flash = None;
        } else {
            self.say(format!("{}: {text}", short_id(id)), true);
        }
        let mut commands = self.refresh(Tab::Queue);
        commands.push(Command::FetchCounts);
        commands
    }

    /// Refetches every tab.
    pub fn refresh_all(&mut self) -> Vec<Command> {
        Tab::ALL.iter().flat_map(|&tab| self.refresh(tab)).collect()
    }

    /// Refetches the tab on screen.
    pub fn refresh_current(&mut self) -> Vec<Command> {
        self.refresh(self.tab)
    }

    /// Fetches the window around the selection of `tab`.
    pub fn refresh(&mut self, tab: Tab) -> Vec<Command> {
        self.generation += 1;
        let generation = self.generation;
        let command = match tab {
            Tab::Queue => self.queue_fetch(generation),
            Tab::Keys => {
                self.keys.generation = generation;
                Command::FetchKeys { generation }
            }
            Tab::Deliveries => self.deliveries_fetch(generation),
            Tab::History => self.history_fetch(generation),
        };
        vec![command]
    }

    fn queue_fetch(&mut self, generation: u64) -> Command {
        self.queue.generation = generation;
        Command::FetchQueue {
            generation,
            filter: self.filter.value().trim().to_string(),
            offset: window_start(self.queue.selected, WINDOW_ROWS),
            limit: WINDOW_ROWS,
            around: self.queue.selected_id.clone(),
            marked: self.marked.iter().cloned().collect(),
        }
    }

    fn deliveries_fetch(&mut self, generation: u64) -> Command {
        self.deliveries.generation = generation;
        Command::FetchDeliveries {
            generation,
            failed_only: self.failed_only,
            offset: window_start(self.deliveries.selected, WINDOW_ROWS),
            limit: WINDOW_ROWS,
        }
    }

    fn history_fetch(&mut self, generation: u64) -> Command {
        self.history.generation = generation;
        Command::FetchHistory {
            generation,
            status: self.history_status,
            offset: window_start(self.history.selected, WINDOW_ROWS),
            limit: WINDOW_ROWS,
        }
    }

    /// Takes a queue window, first unmarking what was decided elsewhere so
    /// `a` and `d` never act on a message no longer listed.
    fn queue_loaded(&mut self, window: Loaded<ActionRow>, decided: Vec<String>) -> Vec<Command> {
        for id in &decided {
            self.marked.remove(id);
        }
        self.take(|app| &mut app.queue, window)
    }

    /// Takes a fetched window into the list `pick` chooses. A shorter list
    /// (rows decided elsewhere) may leave the selection outside the rows
    /// fetched, so those are asked for at once rather than at the next key.
    fn take<T: Keyed>(
        &mut self,
        pick: fn(&mut App) -> &mut Window<T>,
        loaded: Loaded<T>,
    ) -> Vec<Command> {
        if pick(self).accept(loaded) {
            self.fetch_if_needed()
        } else {
            Vec::new()
        }
    }

    /// Fetches more rows if the selection of the current tab left the window.
    pub fn fetch_if_needed(&mut self) -> Vec<Command> {
        let needed = match self.tab {
            Tab::Queue => self.queue.needs_rows_around_selection(WINDOW_MARGIN),
            Tab::Keys => false,
            Tab::Deliveries => self.deliveries.needs_rows_around_selection(WINDOW_MARGIN),
            Tab::History => self.history.needs_rows_around_selection(WINDOW_MARGIN),
        };
        if needed {
            self.refresh_current()
        } else {
            Vec::new()
        }
    }

    /// Rows of the list that fit on screen, for paging: the drawn list's
    /// own rows, which the detail pane and pinned decisions make fewer.
    pub fn page_rows(&self) -> usize {
        super::layout::visible_rows(super::layout::areas(self).list).max(1)
    }
}

/// The end of an id: its random part, enough to tell actions apart on screen
/// (the start of a time-ordered id is the same for ids made together).
pub fn short_id(id: &str) -> &str {
    id.get(id.len().saturating_sub(12)..).unwrap_or(id)
}
