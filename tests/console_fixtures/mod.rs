//! Fixed rows and helpers shared by the console's state and rendering tests:
//! every timestamp is relative to one fixed instant so ages on screen never
//! change between runs.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use contactcmd::clock::format_time;
use contactcmd::gateway::{Channel, Priority, Status};
use contactcmd::store::deliveries::{AttemptRow, DeliveryRow, RecentAttempt};
use contactcmd::store::{ActionRow, KeyRow};
use contactcmd::tui::action::{Action, Anchor, Command, Loaded, Now};
use contactcmd::tui::app::{App, DecisionState, Dialog};
use contactcmd::tui::model::{ApiState, Counts, KeyEntry};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

/// The instant the tests' clock stands at.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// `now` minus `seconds`, in the stored form.
pub fn ago(seconds: i64) -> String {
    format_time(now() - Duration::seconds(seconds))
}

/// `now` plus `seconds`, in the stored form.
pub fn later(seconds: i64) -> String {
    format_time(now() + Duration::seconds(seconds))
}

/// A UUIDv7-shaped id whose end (what the console shows) is `n`.
pub fn action_id(n: usize) -> String {
    format!("019a0000-0000-7000-8000-{n:012}")
}

/// A pending SMS from mail-bot, queued `n` minutes before now.
pub fn action(n: usize) -> ActionRow {
    ActionRow {
        id: action_id(n),
        key_id: "key-mail".into(),
        key_name: "mail-bot".into(),
        channel: Channel::Sms,
        recipient_address: format!("+1555010{n:04}"),
        recipient_name: None,
        subject: None,
        body: format!("Message number {n}"),
        priority: Priority::Normal,
        status: Status::Pending,
        flag_reason: None,
        agent_context: None,
        created_at: ago(60 * n as i64),
        reviewed_at: None,
        sent_at: None,
        error_message: None,
    }
}

/// `n` pending actions, numbered from 0.
pub fn actions(n: usize) -> Vec<ActionRow> {
    (0..n).map(action).collect()
}

/// An urgent email the gateway flagged, with context for the detail pane.
pub fn flagged_email(n: usize) -> ActionRow {
    ActionRow {
        channel: Channel::Email,
        recipient_address: "ceo@example.com".into(),
        recipient_name: Some("Dana Chief".into()),
        subject: Some("Wire transfer today".into()),
        body: "Please wire $40,000 to the account below.\nThanks.".into(),
        priority: Priority::Urgent,
        status: Status::Flagged,
        flag_reason: Some("mentions a money transfer".into()),
        agent_context: Some(r#"{"task":"pay invoice","invoice":1042}"#.into()),
        ..action(n)
    }
}

/// A decided action for the History tab.
pub fn decided(n: usize, status: Status) -> ActionRow {
    let error = (status == Status::Failed).then(|| "transport exited with 1".to_string());
    ActionRow {
        status,
        reviewed_at: Some(ago(30 * n as i64)),
        error_message: error,
        ..action(n)
    }
}

/// A key named `name`, created a day ago, with an optional webhook.
pub fn key(name: &str, webhook: Option<&str>) -> KeyEntry {
    let key = KeyRow {
        id: format!("key-{name}"),
        name: name.into(),
        key_hash: Vec::new(),
        display_prefix: format!("gw_{:0<8}", &name[..2]),
        created_at: ago(86_400),
        last_used_at: Some(ago(90)),
        revoked_at: None,
        webhook_url: webhook.map(str::to_string),
        webhook_secret: webhook.map(|_| "whsec_dGVzdA==".to_string()),
        previous_webhook_secret: None,
        previous_secret_expires_at: None,
    };
    KeyEntry {
        key,
        last_delivery: None,
    }
}

/// A delivery of `action.sent` to mail-bot's receiver, in `status`.
pub fn delivery(n: usize, status: &str) -> DeliveryRow {
    let (code, error, attempts) = match status {
        "delivered" => (Some(200), None, 1),
        "pending" => (None, Some("connection refused".to_string()), 2),
        _ => (Some(500), Some("HTTP 500".to_string()), 8),
    };
    DeliveryRow {
        id: format!("dlv-{n:04}"),
        key_id: "key-mail".into(),
        key_name: "mail-bot".into(),
        action_id: Some(action_id(n)),
        event_type: "action.sent".into(),
        url: "http://127.0.0.1:8080/hooks".into(),
        payload: "{}".into(),
        status: status.into(),
        attempts,
        max_attempts: None,
        next_attempt_at: later(120),
        created_at: ago(45),
        finished_at: None,
        last_status_code: code,
        last_error: error,
        last_latency_ms: code.map(|_| 12),
    }
}

/// One attempt of delivery `n`, as the status bar and attempt list show it.
pub fn attempt(n: usize, code: Option<u16>, error: Option<&str>) -> AttemptRow {
    AttemptRow {
        delivery_id: format!("dlv-{n:04}"),
        attempt: 2,
        attempted_at: ago(40),
        status_code: code,
        latency_ms: 12,
        error: error.map(str::to_string),
        response_snippet: code.map(|_| "ok".to_string()),
    }
}

/// A delivered webhook attempt for the status bar.
pub fn delivered_recently() -> RecentAttempt {
    RecentAttempt {
        key_name: "mail-bot".into(),
        attempt: attempt(1, Some(200), None),
        delivery_status: "delivered".into(),
        next_attempt_at: ago(40),
    }
}

/// A refused attempt that will be retried in two minutes.
pub fn refused_recently() -> RecentAttempt {
    RecentAttempt {
        key_name: "ops-bot".into(),
        attempt: attempt(2, None, Some("connection refused")),
        delivery_status: "pending".into(),
        next_attempt_at: later(120),
    }
}

/// The moment the tests start at: `now()` on the wall clock.
pub fn start_moment() -> Now {
    Now {
        instant: Instant::now(),
        wall: now(),
    }
}

/// `seconds` after `start`, on both clocks.
pub fn after(start: Now, seconds: f64) -> Now {
    let passed = std::time::Duration::from_secs_f64(seconds);
    Now {
        instant: start.instant + passed,
        wall: start.wall + Duration::from_std(passed).unwrap_or_default(),
    }
}

/// A fresh console of `size`, its clock at `now()`, and the fetches it asked for.
pub fn started(size: (u16, u16)) -> (App, Vec<Command>) {
    let mut app = App::new(size, false, start_moment());
    let commands = app.start();
    (app, commands)
}

/// A console at 80×24 showing `rows` as the whole queue.
pub fn with_queue(rows: Vec<ActionRow>) -> App {
    let (mut app, commands) = started((80, 24));
    let total = rows.len();
    load_queue(&mut app, &commands, total, rows);
    app
}

/// Answers the queue fetch in `commands` with `rows` out of `total`; returns
/// what the app asks for next.
pub fn load_queue(
    app: &mut App,
    commands: &[Command],
    total: usize,
    rows: Vec<ActionRow>,
) -> Vec<Command> {
    let (generation, offset) = queue_fetch(commands).expect("a queue fetch was asked for");
    let window = Loaded {
        generation,
        total,
        offset,
        rows,
        anchor: None,
    };
    app.update(Action::QueueLoaded {
        window,
        decided_marks: Vec::new(),
    })
}

/// Answers the queue fetch in `commands` as the worker would from a
/// database holding `waiting` (newest, that is highest id, first): the
/// window around the action the fetch names, and which marks were decided.
pub fn answer_queue(app: &mut App, commands: &[Command], waiting: &[ActionRow]) -> Vec<Command> {
    let Some(Command::FetchQueue {
        generation,
        offset,
        limit,
        around,
        marked,
        ..
    }) = commands
        .iter()
        .find(|c| matches!(c, Command::FetchQueue { .. }))
    else {
        panic!("a queue fetch was asked for: {commands:?}");
    };
    let anchor = around.as_ref().map(|id| Anchor {
        id: id.clone(),
        index: waiting.iter().filter(|a| a.id > *id).count(),
    });
    let offset = anchor
        .as_ref()
        .map_or(*offset, |a| a.index.saturating_sub(limit / 4));
    let rows = waiting.iter().skip(offset).take(*limit).cloned().collect();
    let decided_marks = marked
        .iter()
        .filter(|id| !waiting.iter().any(|a| a.id == **id))
        .cloned()
        .collect();
    let window = Loaded {
        generation: *generation,
        total: waiting.len(),
        offset,
        rows,
        anchor,
    };
    app.update(Action::QueueLoaded {
        window,
        decided_marks,
    })
}

/// Generation and offset of the queue fetch among `commands`.
pub fn queue_fetch(commands: &[Command]) -> Option<(u64, usize)> {
    commands.iter().find_map(|command| match command {
        Command::FetchQueue {
            generation, offset, ..
        } => Some((*generation, *offset)),
        _ => None,
    })
}

/// The filter of the last queue fetch among `commands`.
pub fn queue_filter(commands: &[Command]) -> Option<String> {
    commands.iter().rev().find_map(|command| match command {
        Command::FetchQueue { filter, .. } => Some(filter.clone()),
        _ => None,
    })
}

/// Answers the keys fetch in `commands` with `entries`.
pub fn load_keys(app: &mut App, commands: &[Command], entries: Vec<KeyEntry>) {
    let generation = commands
        .iter()
        .find_map(|command| match command {
            Command::FetchKeys { generation } => Some(*generation),
            _ => None,
        })
        .expect("a keys fetch was asked for");
    app.update(Action::KeysLoaded(Loaded {
        generation,
        total: entries.len(),
        offset: 0,
        rows: entries,
        anchor: None,
    }));
}

/// Answers the deliveries fetch in `commands` with `rows`.
pub fn load_deliveries(app: &mut App, commands: &[Command], rows: Vec<DeliveryRow>) {
    let generation = commands
        .iter()
        .find_map(|command| match command {
            Command::FetchDeliveries { generation, .. } => Some(*generation),
            _ => None,
        })
        .expect("a deliveries fetch was asked for");
    app.update(Action::DeliveriesLoaded(Loaded {
        generation,
        total: rows.len(),
        offset: 0,
        rows,
        anchor: None,
    }));
}

/// Answers the history fetch in `commands` with `rows`.
pub fn load_history(app: &mut App, commands: &[Command], rows: Vec<ActionRow>) {
    let generation = commands
        .iter()
        .find_map(|command| match command {
            Command::FetchHistory { generation, .. } => Some(*generation),
            _ => None,
        })
        .expect("a history fetch was asked for");
    app.update(Action::HistoryLoaded(Loaded {
        generation,
        total: rows.len(),
        offset: 0,
        rows,
        anchor: None,
    }));
}

/// Tells the app it serves the API on `address` and what the database counts.
pub fn set_status(app: &mut App, address: &str, pending: u64, counts: Counts) {
    let address: SocketAddr = address.parse().expect("a socket address");
    app.update(Action::Api(ApiState::Serving(address)));
    app.update(Action::CountsLoaded(Counts { pending, ..counts }));
}

/// Presses `code` with no modifier.
pub fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// Presses a character key, with Shift when it is upper case as terminals report it.
pub fn press_char(app: &mut App, c: char) -> Vec<Command> {
    let modifiers = if c.is_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    app.update(Action::Key(KeyEvent::new(KeyCode::Char(c), modifiers)))
}

/// Types `text` a key at a time; returns every command it caused.
pub fn type_text(app: &mut App, text: &str) -> Vec<Command> {
    text.chars().flat_map(|c| press_char(app, c)).collect()
}

/// Presses Ctrl-C.
pub fn ctrl_c(app: &mut App) -> Vec<Command> {
    let key = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    app.update(Action::Key(key))
}

/// A mouse event of `kind` at a cell.
pub fn mouse(app: &mut App, kind: MouseEventKind, column: u16, row: u16) -> Vec<Command> {
    app.update(Action::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }))
}

/// The error shown inside the open input dialog, if any.
pub fn input_error(app: &App) -> Option<String> {
    match &app.dialog {
        Some(Dialog::Input { error, .. }) => error.clone(),
        _ => None,
    }
}

/// A console on the Keys tab listing `entries`.
pub fn on_keys_tab(entries: Vec<KeyEntry>) -> App {
    let mut app = with_queue(Vec::new());
    let commands = press_char(&mut app, '2');
    load_keys(&mut app, &commands, entries);
    app
}

/// Each pinned decision's action id and state, oldest first.
pub fn decision_states(app: &App) -> Vec<(String, DecisionState)> {
    let states = app.decisions.iter();
    states
        .map(|d| (d.action.id.clone(), d.state.clone()))
        .collect()
}

pub fn left_click() -> MouseEventKind {
    MouseEventKind::Down(crossterm::event::MouseButton::Left)
}
