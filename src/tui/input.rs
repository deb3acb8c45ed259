//! Keyboard and mouse: what each key does in each tab and dialog.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use super::action::Command;
use super::app::{App, DecisionState, Dialog, InputPurpose};
use super::layout;
use super::model::Tab;
use crate::gateway::webhook_url;
use crate::gateway::Status;

/// Rows the mouse wheel moves.
const WHEEL_ROWS: isize = 3;

pub fn key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        app.quit = true;
        return Vec::new();
    }
    if app.dialog.is_some() {
        return dialog_key(app, key);
    }
    if app.filtering {
        return filter_key(app, key);
    }
    if let Some(commands) = global_key(app, key) {
        return commands;
    }
    match app.tab {
        Tab::Queue => queue_key(app, key),
        Tab::Keys => keys_key(app, key),
        Tab::Deliveries => deliveries_key(app, key),
        Tab::History => history_key(app, key),
    }
}

/// Keys that mean the same on every tab; `None` if `key` is not one.
fn global_key(app: &mut App, key: KeyEvent) -> Option<Vec<Command>> {
    let commands = match key.code {
        KeyCode::Char('q') => quit(app),
        KeyCode::Esc if app.detail_open && app.tab == Tab::Queue => {
            app.detail_open = false;
            Vec::new()
        }
        KeyCode::Esc => quit(app),
        KeyCode::Tab => switch(app, app.tab.next()),
        KeyCode::BackTab => switch(app, app.tab.previous()),
        KeyCode::Char(digit @ '1'..='4') => {
            let index = usize::from(digit as u8 - b'1');
            switch(app, Tab::ALL[index])
        }
        KeyCode::Char('?') => {
            app.dialog = Some(Dialog::Help);
            Vec::new()
        }
        KeyCode::Down | KeyCode::Char('j') => move_selection(app, 1),
        KeyCode::Up | KeyCode::Char('k') => move_selection(app, -1),
        KeyCode::PageDown => move_selection(app, page(app)),
        KeyCode::PageUp => move_selection(app, -page(app)),
        KeyCode::Home | KeyCode::Char('g') => move_selection(app, isize::MIN / 2),
        KeyCode::End | KeyCode::Char('G') => move_selection(app, isize::MAX / 2),
        _ => return None,
    };
    Some(commands)
}

fn quit(app: &mut App) -> Vec<Command> {
    app.quit = true;
    Vec::new()
}

pub fn switch(app: &mut App, tab: Tab) -> Vec<Command> {
    // A click can switch tabs while the queue filter has the keyboard; the
    // filter stays applied but the keys belong to the new tab.
    app.filtering = false;
    app.tab = tab;
    app.refresh(tab)
}

fn page(app: &App) -> isize {
    isize::try_from(app.page_rows()).unwrap_or(1)
}

pub fn move_selection(app: &mut App, delta: isize) -> Vec<Command> {
    match app.tab {
        Tab::Queue => {
            app.queue.move_by(delta);
            app.detail_scroll = 0;
        }
        Tab::Keys => app.keys.move_by(delta),
        Tab::Deliveries => app.deliveries.move_by(delta),
        Tab::History => app.history.move_by(delta),
    }
    app.fetch_if_needed()
}

fn queue_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Char('a') => approve(app),
        KeyCode::Char('d') => ask_deny_reason(app),
        KeyCode::Char(' ') => {
            toggle_mark(app);
            move_selection(app, 1)
        }
        KeyCode::Char('/') => {
            app.filtering = true;
            Vec::new()
        }
        KeyCode::Enter => {
            app.detail_open = !app.detail_open;
            app.detail_scroll = 0;
            Vec::new()
        }
        KeyCode::Char('J') if app.detail_open => {
            app.detail_scroll = app.detail_scroll.saturating_add(1);
            Vec::new()
        }
        KeyCode::Char('K') if app.detail_open => {
            app.detail_scroll = app.detail_scroll.saturating_sub(1);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// The marked actions if any are marked, else the selected one.
fn targets(app: &App) -> Vec<String> {
    if !app.marked.is_empty() {
        return app.marked.iter().cloned().collect();
    }
    app.queue
        .selected_row()
        .map(|a| vec![a.id.clone()])
        .unwrap_or_default()
}

fn approve(app: &mut App) -> Vec<Command> {
    let ids = targets(app);
    if ids.is_empty() {
        app.say("Nothing to approve.", true);
        return Vec::new();
    }
    for id in &ids {
        pin(app, id, DecisionState::Sending);
    }
    app.say(format!("Approving {} message(s)…", ids.len()), false);
    ids.into_iter().map(Command::Approve).collect()
}

fn pin(app: &mut App, id: &str, state: DecisionState) {
    // Unmarked even when the row is outside the loaded window and so is not pinned.
    app.marked.remove(id);
    let row = app.queue.rows.iter().find(|a| a.id == id).cloned();
    if let Some(row) = row {
        app.begin_decision(row, state);
    }
}

fn ask_deny_reason(app: &mut App) -> Vec<Command> {
    let ids = targets(app);
    if ids.is_empty() {
        app.say("Nothing to deny.", true);
        return Vec::new();
    }
    open_input(app, InputPurpose::DenyReason { ids }, Input::default());
    Vec::new()
}

fn toggle_mark(app: &mut App) {
    let Some(id) = app.queue.selected_row().map(|a| a.id.clone()) else {
        return;
    };
    if !app.marked.remove(&id) {
        app.marked.insert(id);
    }
}

fn filter_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Enter => {
            app.filtering = false;
            Vec::new()
        }
        KeyCode::Esc => {
            app.filtering = false;
            app.filter = Input::default();
            app.queue.to_top();
            app.refresh(Tab::Queue)
        }
        _ => {
            let before = app.filter.value().to_string();
            app.filter.handle_event(&Event::Key(key));
            if app.filter.value() == before {
                return Vec::new();
            }
            app.queue.to_top();
            app.refresh(Tab::Queue)
        }
    }
}

fn keys_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    if key.code == KeyCode::Char('n') {
        open_input(app, InputPurpose::KeyName, Input::default());
        return Vec::new();
    }
    let Some(entry) = app.keys.selected_row() else {
        return Vec::new();
    };
    let key_id = entry.key.id.clone();
    let label = format!("{} ({})", entry.key.display_prefix, entry.key.name);
    match key.code {
        KeyCode::Char('w') => {
            let input = Input::new(entry.key.webhook_url.clone().unwrap_or_default());
            let key_name = entry.key.name.clone();
            open_input(app, InputPurpose::Webhook { key_id, key_name }, input);
            Vec::new()
        }
        KeyCode::Char('x') if entry.key.webhook_url.is_none() => {
            app.say(format!("{label} has no webhook to remove."), true);
            Vec::new()
        }
        KeyCode::Char('t') => {
            app.say(format!("Sending a test ping for {label}…"), false);
            vec![Command::TestPing(key_id)]
        }
        KeyCode::Char('s') => vec![Command::ShowSecret(key_id)],
        KeyCode::Char(code @ ('x' | 'R' | 'r')) => confirm_key_change(app, code, key_id, &label),
        _ => Vec::new(),
    }
}

/// Asks before `x` (remove the webhook), `R` (rotate) or `r` (revoke).
fn confirm_key_change(app: &mut App, code: char, key_id: String, label: &str) -> Vec<Command> {
    let (prompt, on_yes) = match code {
        'x' => (
            format!("Remove the webhook of {label}?"),
            Command::RemoveWebhook(key_id),
        ),
        'R' => (
            format!("Rotate the signing secret of {label}? The old one keeps signing for 24 h."),
            Command::RotateSecret(key_id),
        ),
        _ => (
            format!("Revoke {label}? Its agent's requests will fail at once."),
            Command::RevokeKey(key_id),
        ),
    };
    confirm(app, prompt, on_yes)
}

fn open_input(app: &mut App, purpose: InputPurpose, input: Input) {
    app.dialog = Some(Dialog::Input {
        purpose,
        input,
        error: None,
    });
}

fn confirm(app: &mut App, prompt: String, on_yes: Command) -> Vec<Command> {
    app.dialog = Some(Dialog::Confirm { prompt, on_yes });
    Vec::new()
}

fn deliveries_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Char('f') => {
            app.failed_only = !app.failed_only;
            app.deliveries.to_top();
            let shown = if app.failed_only {
                "failed deliveries only"
            } else {
                "all deliveries"
            };
            app.say(format!("Showing {shown}."), false);
            app.refresh(Tab::Deliveries)
        }
        KeyCode::Enter => match app.deliveries.selected_row() {
            Some(delivery) => vec![Command::LoadAttempts(delivery.id.clone())],
            None => Vec::new(),
        },
        KeyCode::Char('r') => match app.deliveries.selected_row() {
            Some(delivery) if delivery.status == "failed" => {
                vec![Command::RetryDelivery(delivery.id.clone())]
            }
            Some(_) => {
                app.say("Only failed deliveries can be retried by hand.", true);
                Vec::new()
            }
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn history_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    if key.code != KeyCode::Char('f') {
        return Vec::new();
    }
    app.history_status = match app.history_status {
        None => Some(Status::Sent),
        Some(Status::Sent) => Some(Status::Denied),
        Some(Status::Denied) => Some(Status::Failed),
        Some(_) => None,
    };
    app.history.to_top();
    app.refresh(Tab::History)
}

fn dialog_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    let Some(dialog) = app.dialog.take() else {
        return Vec::new();
    };
    match dialog {
        Dialog::Confirm { prompt, on_yes } => match key.code {
            KeyCode::Char('y') | KeyCode::Enter => vec![on_yes],
            KeyCode::Char('n') | KeyCode::Esc => Vec::new(),
            _ => confirm(app, prompt, on_yes),
        },
        Dialog::Input {
            purpose,
            input,
            error,
        } => input_key(app, key, purpose, input, error),
        other => {
            let closes = matches!(
                key.code,
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q' | '?')
            );
            if !closes {
                app.dialog = Some(other);
            }
            Vec::new()
        }
    }
}

fn input_key(
    app: &mut App,
    key: KeyEvent,
    purpose: InputPurpose,
    mut input: Input,
    error: Option<String>,
) -> Vec<Command> {
    match key.code {
        KeyCode::Esc => Vec::new(),
        KeyCode::Enter => submit_input(app, purpose, input),
        _ => {
            let before = input.value().to_string();
            input.handle_event(&Event::Key(key));
            // A refusal is about the text refused: once it is edited, the
            // reason no longer applies.
            let error = error.filter(|_| input.value() == before);
            app.dialog = Some(Dialog::Input {
                purpose,
                input,
                error,
            });
            Vec::new()
        }
    }
}

fn submit_input(app: &mut App, purpose: InputPurpose, input: Input) -> Vec<Command> {
    let text = input.value().trim().to_string();
    match purpose {
        InputPurpose::DenyReason { ids } => {
            let reason = (!text.is_empty()).then_some(text);
            for id in &ids {
                pin(app, id, DecisionState::Denying);
            }
            ids.into_iter()
                .map(|id| Command::Deny {
                    id,
                    reason: reason.clone(),
                })
                .collect()
        }
        InputPurpose::KeyName if text.is_empty() => {
            let error = Some("Type a name for the agent, e.g. mail-bot.".into());
            app.dialog = Some(Dialog::Input {
                purpose: InputPurpose::KeyName,
                input,
                error,
            });
            Vec::new()
        }
        InputPurpose::KeyName => vec![Command::AddKey(text)],
        InputPurpose::Webhook { key_id, key_name } => match webhook_url::validate(&text) {
            Ok(url) => vec![Command::SetWebhook { key_id, url }],
            Err(refusal) => {
                let purpose = InputPurpose::Webhook { key_id, key_name };
                let error = Some(refusal.to_string());
                app.dialog = Some(Dialog::Input {
                    purpose,
                    input,
                    error,
                });
                Vec::new()
            }
        },
    }
}

pub fn mouse(app: &mut App, mouse: MouseEvent) -> Vec<Command> {
    if app.dialog.is_some() {
        return Vec::new();
    }
    match mouse.kind {
        MouseEventKind::ScrollDown => move_selection(app, WHEEL_ROWS),
        MouseEventKind::ScrollUp => move_selection(app, -WHEEL_ROWS),
        MouseEventKind::Down(MouseButton::Left) => click(app, mouse.column, mouse.row),
        _ => Vec::new(),
    }
}

fn click(app: &mut App, column: u16, row: u16) -> Vec<Command> {
    let areas = layout::areas(app);
    if let Some(tab) = layout::tab_at(areas.tabs, column, row) {
        return switch(app, tab);
    }
    let Some(index) = layout::list_row_at(app, &areas, column, row) else {
        return Vec::new();
    };
    match app.tab {
        Tab::Queue => app.queue.select(index),
        Tab::Keys => app.keys.select(index),
        Tab::Deliveries => app.deliveries.select(index),
        Tab::History => app.history.select(index),
    }
    app.fetch_if_needed()
}
