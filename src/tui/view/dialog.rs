//! Dialogs drawn over the current tab: help, confirmations, one-line
//! inputs, a new key shown once, the signing secret, a delivery's attempts.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::lists::host;
use super::Theme;
use crate::tui::app::{App, Dialog, InputPurpose};
use crate::tui::model::{ApiState, Tab};

/// Dialogs are this wide, or the screen's width if narrower.
const DIALOG_WIDTH: u16 = 76;

pub fn render(app: &App, dialog: &Dialog, theme: &Theme, frame: &mut Frame<'_>) {
    let (title, text) = match dialog {
        Dialog::Help => (" Keys ".to_string(), help(app, theme)),
        Dialog::Confirm { prompt, .. } => (" Confirm ".into(), confirm(prompt, theme)),
        Dialog::Input {
            purpose,
            input,
            error,
        } => (
            input_title(purpose),
            input_text(purpose, input.value(), error.as_deref(), theme),
        ),
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
        Dialog::Attempts { delivery, attempts } => {
            let title = format!(" Delivery {} ", delivery.id);
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
            for attempt in attempts {
                let code = attempt
                    .status_code
                    .map_or_else(|| "---".into(), |c| c.to_string());
                let detail = attempt
                    .error
                    .clone()
                    .or(attempt.response_snippet.clone())
                    .unwrap_or_default();
                lines.push(Line::raw(format!(
                    "#{} {} {code} {} ms  {}",
                    attempt.attempt,
                    attempt.attempted_at,
                    attempt.latency_ms,
                    detail.trim()
                )));
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled("Esc closes", theme.dim()));
            (title, Text::from(lines))
        }
    };
    let width = DIALOG_WIDTH.min(frame.area().width.saturating_sub(2));
    let height = wrapped_height(&text, width.saturating_sub(2)) + 2;
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

fn input_text(
    purpose: &InputPurpose,
    value: &str,
    error: Option<&str>,
    theme: &Theme,
) -> Text<'static> {
    let prompt = match purpose {
        InputPurpose::DenyReason { .. } => "Reason, for the agent (optional):",
        InputPurpose::KeyName => "Name of the agent that will use the key:",
        InputPurpose::Webhook { .. } => "Webhook URL (http:// or https://):",
    };
    let mut lines = vec![
        Line::raw(prompt),
        Line::from(vec![
            Span::styled(format!("> {value}"), theme.header()),
            Span::raw("▏"),
        ]),
    ];
    if let Some(error) = error {
        lines.push(Line::styled(error.to_string(), theme.bad()));
    }
    lines.push(Line::styled("Enter: save    Esc: cancel", theme.dim()));
    Text::from(lines)
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

fn help(app: &App, theme: &Theme) -> Text<'static> {
    let tab = app.tab;
    let mut lines = vec![Line::styled("Everywhere", theme.header())];
    let everywhere = [
        ("Tab / Shift-Tab, 1-4", "switch tab"),
        ("↑ ↓ / j k", "move"),
        ("PgUp PgDn / g G", "a page / first and last"),
        ("mouse wheel / click", "scroll / select"),
        ("?", "this help"),
        ("q / Esc", "quit (Esc closes a dialog first)"),
        ("Ctrl-C", "quit"),
    ];
    let specific: &[(&str, &str)] = match tab {
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
    };
    let row = |(keys, what): &(&str, &str)| Line::raw(format!("  {keys:<21} {what}"));
    lines.extend(everywhere.iter().map(row));
    lines.push(Line::styled(tab.title().to_string(), theme.header()));
    lines.extend(specific.iter().map(row));
    // The status bar has room for a few words only when the API is not
    // served from here; this is where the whole story is told.
    if !matches!(app.status.api, ApiState::Serving(_) | ApiState::Starting) {
        let why = super::status::api_explained(&app.status.api);
        lines.push(Line::styled(format!("API: {why}"), theme.bad()));
    }
    Text::from(lines)
}
