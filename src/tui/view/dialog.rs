//! Dialogs drawn over the current tab: help, confirmations, one-line
//! inputs, a new key shown once, the signing secret, a delivery's attempts.

use std::cmp::Ordering;

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use tui_input::Input;

use super::lists::host;
use super::Theme;
use crate::store::deliveries::{AttemptRow, DeliveryRow};
use crate::tui::app::{App, Dialog, InputPurpose};
use crate::tui::model::{ApiState, Tab};

/// Dialogs are this wide, or the screen's width if narrower.
const DIALOG_WIDTH: u16 = 76;

pub fn render(app: &App, dialog: &Dialog, theme: &Theme, frame: &mut Frame<'_>) {
    let width = DIALOG_WIDTH.min(frame.area().width.saturating_sub(2));
    let inner = width.saturating_sub(2);
    let (title, text, cursor) = content(app, dialog, theme, inner);

    let height = wrapped_height(&text, inner) + 2;
    let area = centered(frame.area(), width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(title);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
        area,
    );

    if let Some((column, row)) = cursor {
        let (x, y) = (area.x + 1 + column, area.y + 1 + row);
        if x < area.right().saturating_sub(1) && y < area.bottom().saturating_sub(1) {
            frame.set_cursor_position((x, y));
        }
    }
}

/// A dialog's title and text for an inside `inner` columns wide, and where
/// in it the terminal cursor goes (column, row), if anywhere.
fn content(
    app: &App,
    dialog: &Dialog,
    theme: &Theme,
    inner: u16,
) -> (String, Text<'static>, Option<(u16, u16)>) {
    let (title, text) = match dialog {
        Dialog::Help => (" Keys ".to_string(), help(app, theme)),
        Dialog::Confirm { prompt, .. } => (" Confirm ".into(), confirm(prompt, theme)),
        Dialog::Input {
            purpose,
            input,
            error,
        } => {
            let (text, cursor) = input_text(purpose, input, error.as_deref(), theme, inner);
            return (input_title(purpose), text, Some(cursor));
        }
        Dialog::NewKey { name, plaintext } => {
            (" New API key ".into(), new_key(name, plaintext, theme))
        }
        Dialog::Secret {
            key_name,
            secret,
            rotated,
        } => (
            " Signing secret ".into(),
            secret_text(key_name, secret, *rotated, theme),
        ),
        Dialog::Attempts { delivery, attempts } => (
            format!(" Delivery {} ", delivery.id),
            attempts_text(delivery, attempts, theme),
        ),
    };
    (title, text, None)
}

fn attempts_text(delivery: &DeliveryRow, attempts: &[AttemptRow], theme: &Theme) -> Text<'static> {
    let mut lines = vec![
        Line::raw(format!(
            "{} to {} ({})",
            delivery.event_type,
            delivery.url,
            host(&delivery.url)
        )),
        Line::raw(format!(
            "status {} after {} attempt(s)",
            delivery.status, delivery.attempts
        )),
        Line::raw(""),
    ];
    if attempts.is_empty() {
        lines.push(Line::styled("No attempts yet.", theme.dim()));
    }
    lines.extend(attempts.iter().map(attempt_line));
    lines.push(Line::raw(""));
    lines.push(Line::styled("Esc closes", theme.dim()));
    Text::from(lines)
}

/// "#2 2026-03-02T09:59:20Z 500 12 ms  the receiver's answer".
fn attempt_line(attempt: &AttemptRow) -> Line<'static> {
    let code = attempt
        .status_code
        .map_or_else(|| "---".into(), |c| c.to_string());
    let detail = attempt
        .error
        .clone()
        .or(attempt.response_snippet.clone())
        .unwrap_or_default();
    Line::raw(format!(
        "#{} {} {code} {} ms  {}",
        attempt.attempt,
        attempt.attempted_at,
        attempt.latency_ms,
        detail.trim()
    ))
}

/// Lines `text` takes when wrapped to `width` columns.
fn wrapped_height(text: &Text<'_>, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let lines: usize = text
        .lines
        .iter()
        .map(|line| line.width().max(1).div_ceil(width))
        .sum();
    u16::try_from(lines).unwrap_or(u16::MAX)
}

fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(screen.width.saturating_sub(2));
    let height = height.min(screen.height.saturating_sub(2));
    let [row] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(screen);
    let [area] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(row);
    area
}

fn confirm(prompt: &str, theme: &Theme) -> Text<'static> {
    Text::from(vec![
        Line::raw(prompt.to_string()),
        Line::raw(""),
        Line::styled("y / Enter: yes    n / Esc: no", theme.dim()),
    ])
}

fn input_title(purpose: &InputPurpose) -> String {
    match purpose {
        InputPurpose::DenyReason { ids } if ids.len() == 1 => " Deny ".into(),
        InputPurpose::DenyReason { ids } => format!(" Deny {} messages ", ids.len()),
        InputPurpose::KeyName => " New API key ".into(),
        InputPurpose::Webhook { key_name, .. } => format!(" Webhook for {key_name} "),
    }
}

/// The input's prompt, value, refusal and keys, and the cursor's place in
/// that text (column, row) when it is `inner` columns wide.
fn input_text(
    purpose: &InputPurpose,
    input: &Input,
    error: Option<&str>,
    theme: &Theme,
    inner: u16,
) -> (Text<'static>, (u16, u16)) {
    let prompt = Line::raw(match purpose {
        InputPurpose::DenyReason { .. } => "Reason, for the agent (optional):",
        InputPurpose::KeyName => "Name of the agent that will use the key:",
        InputPurpose::Webhook { .. } => "Webhook URL (http:// or https://):",
    });
    let row = wrapped_height(&Text::from(prompt.clone()), inner);
    let (value, column) = input_line(input, usize::from(inner), theme);

    let mut lines = vec![prompt, value];
    if let Some(error) = error {
        lines.push(Line::styled(error.to_string(), theme.bad()));
    }
    lines.push(Line::styled("Enter: save    Esc: cancel", theme.dim()));
    (Text::from(lines), (column, row))
}

/// "> " and as much of the value as fits in `width` columns, scrolled so
/// the cursor shows, the character under the cursor drawn reversed (a cell
/// past the end when the cursor is there); and the cursor's column.
fn input_line(input: &Input, width: usize, theme: &Theme) -> (Line<'static>, u16) {
    const PROMPT: &str = "> ";
    let room = width.saturating_sub(PROMPT.len() + 1).max(1);
    let scroll = input.visual_scroll(room);
    let (mut before, mut under, mut after) = (String::new(), None, String::new());
    let mut column = 0;
    for (index, c) in input.value().chars().enumerate() {
        let start = column;
        column += Span::raw(c.to_string()).width();
        if start < scroll || column > scroll + room + 1 {
            continue;
        }
        match index.cmp(&input.cursor()) {
            Ordering::Less => before.push(c),
            Ordering::Equal => under = Some(c.to_string()),
            Ordering::Greater => after.push(c),
        }
    }
    let style = theme.header();
    let line = Line::from(vec![
        Span::styled(PROMPT, style),
        Span::styled(before, style),
        Span::styled(under.unwrap_or_else(|| " ".into()), theme.selected_row()),
        Span::styled(after, style),
    ]);
    let cursor = PROMPT.len() + input.visual_cursor().saturating_sub(scroll);
    (line, u16::try_from(cursor).unwrap_or(u16::MAX))
}

fn new_key(name: &str, plaintext: &str, theme: &Theme) -> Text<'static> {
    Text::from(vec![
        Line::raw(format!("Key for {name}:")),
        Line::raw(""),
        Line::styled(plaintext.to_string(), theme.header()),
        Line::raw(""),
        Line::raw("Copy it now: it is shown only this once, and only its hash is stored."),
        Line::styled("Esc / Enter closes", theme.dim()),
    ])
}

fn secret_text(key_name: &str, secret: &str, rotated: bool, theme: &Theme) -> Text<'static> {
    let mut lines = vec![
        Line::raw(format!("Webhook signing secret of {key_name}:")),
        Line::raw(""),
        Line::styled(secret.to_string(), theme.header()),
        Line::raw(""),
    ];
    if rotated {
        lines.push(Line::raw(
            "New secret. For 24 hours deliveries carry signatures from both.",
        ));
    }
    lines.push(Line::raw(
        "Receivers verify webhook-signature: v1,base64(HMAC-SHA256(secret, id.timestamp.body)).",
    ));
    lines.push(Line::styled("Esc / Enter closes", theme.dim()));
    Text::from(lines)
}

/// Keys that do the same on every tab, and what they do.
const EVERYWHERE: &[(&str, &str)] = &[
    ("Tab / Shift-Tab, 1-4", "switch tab"),
    ("↑ ↓ / j k", "move"),
    ("PgUp PgDn / g G", "a page / first and last"),
    ("mouse wheel / click", "scroll / select"),
    ("?", "this help"),
    ("q / Esc", "quit (Esc closes a dialog first)"),
    ("Ctrl-C", "quit"),
];

/// The keys of `tab`, and what they do.
fn tab_keys(tab: Tab) -> &'static [(&'static str, &'static str)] {
    match tab {
        Tab::Queue => &[
            ("a", "approve and send (the marked, or the selected)"),
            ("d", "deny, with an optional reason"),
            ("space", "mark / unmark"),
            ("/", "filter as you type (Enter keeps, Esc clears)"),
            ("Enter", "open / close the detail"),
            ("J / K", "scroll the detail"),
        ],
        Tab::Keys => &[
            ("n", "new key (shown once)"),
            ("w", "set or edit the webhook URL"),
            ("x", "remove the webhook"),
            ("t", "send a test ping"),
            ("s", "show the signing secret"),
            ("R", "rotate the signing secret"),
            ("r", "revoke the key"),
        ],
        Tab::Deliveries => &[
            ("Enter", "every attempt and the receiver's answers"),
            ("f", "failed only / all"),
            ("r", "retry a failed delivery now"),
        ],
        Tab::History => &[("f", "filter: all → sent → denied → failed")],
    }
}

fn help(app: &App, theme: &Theme) -> Text<'static> {
    let row = |(keys, what): &(&str, &str)| Line::raw(format!("  {keys:<21} {what}"));
    let mut lines = vec![Line::styled("Everywhere", theme.header())];
    lines.extend(EVERYWHERE.iter().map(row));
    lines.push(Line::styled(app.tab.title().to_string(), theme.header()));
    lines.extend(tab_keys(app.tab).iter().map(row));
    // The status bar has room for a few words only when the API is not
    // served from here; this is where the whole story is told.
    if !matches!(app.status.api, ApiState::Serving(_) | ApiState::Starting) {
        let why = super::status::api_explained(&app.status.api);
        lines.push(Line::styled(format!("API: {why}"), theme.bad()));
    }
    Text::from(lines)
}
