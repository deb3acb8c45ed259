//! The Queue tab: decisions in progress, the waiting messages, and the
//! detail of the selected one.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Wrap};
use ratatui::Frame;

use super::lists::{counted, draw_table, message_text, TableSpec};
use super::Theme;
use crate::clock;
use crate::gateway::{Priority, Status};
use crate::store::ActionRow;
use crate::tui::app::{short_id, App, Decision, DecisionState};
use crate::tui::layout::{Areas, MAX_PINNED};

pub fn render(app: &App, theme: &Theme, areas: &Areas, frame: &mut Frame<'_>) {
    pinned(app, theme, areas.pinned, frame);
    list(app, theme, areas.list, frame);
    if let Some(area) = areas.detail {
        detail(app, theme, area, frame);
    }
}

/// The newest decisions, one a line; when there are more than fit, the
/// last line counts the rest, so a bulk approval never hides its sends.
fn pinned(app: &App, theme: &Theme, area: Rect, frame: &mut Frame<'_>) {
    let total = app.decisions.len();
    let shown = if total > MAX_PINNED {
        MAX_PINNED - 1
    } else {
        total
    };
    let newest = app.decisions.iter().rev();
    let mut lines: Vec<Line<'_>> = newest
        .clone()
        .take(shown)
        .map(|decision| decision_line(decision, theme))
        .collect();
    if total > shown {
        lines.push(more_line(newest.skip(shown), theme));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn decision_line(decision: &Decision, theme: &Theme) -> Line<'static> {
    let (state, style) = match &decision.state {
        DecisionState::Sending => ("sending…".to_string(), theme.flagged()),
        DecisionState::Denying => ("denying…".to_string(), theme.flagged()),
        DecisionState::Finished { text, ok: true, .. } => (format!("✓ {text}"), theme.good()),
        DecisionState::Finished {
            text, ok: false, ..
        } => (format!("✗ {text}"), theme.bad()),
    };
    let action = &decision.action;
    Line::from(vec![
        Span::styled(format!(" {state:<12} "), style),
        Span::raw(format!(
            "{} {} → {}: {}",
            short_id(&action.id),
            action.channel,
            action.recipient_address,
            message_text(action)
        )),
    ])
}

/// " +5 more: 4 sending, 1 done".
fn more_line<'a>(rest: impl Iterator<Item = &'a Decision>, theme: &Theme) -> Line<'static> {
    let (mut sending, mut denying, mut done) = (0, 0, 0);
    for decision in rest {
        match decision.state {
            DecisionState::Sending => sending += 1,
            DecisionState::Denying => denying += 1,
            DecisionState::Finished { .. } => done += 1,
        }
    }
    let counts = [(sending, "sending"), (denying, "denying"), (done, "done")];
    let parts: Vec<String> = counts
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
    let total = sending + denying + done;
    Line::styled(
        format!(" +{total} more: {}", parts.join(", ")),
        theme.flagged(),
    )
}

fn list(app: &App, theme: &Theme, area: Rect, frame: &mut Frame<'_>) {
    let mut title = counted("Queue", app.queue.total);
    if app.filtering || !app.filter.value().is_empty() {
        title = format!("{title}filter: {} ", filter_text(app));
    }
    if !app.marked.is_empty() {
        title = format!("{title}· {} marked ", app.marked.len());
    }
    let spec = TableSpec {
        title,
        footer: None,
        headers: &[" ", "PRI", "AGE", "AGENT", "CHAN", "TO", "MESSAGE"],
        widths: &[
            Constraint::Length(2),
            Constraint::Length(4),
            Constraint::Length(4),
            Constraint::Length(12),
            Constraint::Length(5),
            Constraint::Length(20),
            Constraint::Fill(1),
        ],
        empty: if app.filter.value().is_empty() {
            "No messages waiting. New ones appear here as agents send them."
        } else {
            "No waiting message matches the filter (Esc in the filter clears it)."
        },
    };
    draw_table(frame, area, theme, spec, &app.queue, |action| {
        row_cells(app, action, theme)
    });
}

/// The filter's text, with a bar where the cursor is while it is typed.
fn filter_text(app: &App) -> String {
    let value = app.filter.value();
    if !app.filtering {
        return value.to_string();
    }
    let at = value
        .char_indices()
        .nth(app.filter.cursor())
        .map_or(value.len(), |(byte, _)| byte);
    format!("{}▏{}", &value[..at], &value[at..])
}

fn row_cells(app: &App, action: &ActionRow, theme: &Theme) -> (Vec<Cell<'static>>, Style) {
    let marked = app.marked.contains(&action.id);
    let flagged = action.status == Status::Flagged;
    let mark = match (marked, flagged) {
        (true, _) => "*",
        (false, true) => "!",
        (false, false) => " ",
    };
    let style = match (marked, flagged) {
        (true, _) => theme.marked(),
        (false, true) => theme.flagged(),
        _ => Style::default(),
    };
    let message = if flagged {
        format!("FLAGGED {}", message_text(action))
    } else {
        message_text(action)
    };
    let cells = vec![
        Cell::from(mark),
        Cell::from(priority_text(action.priority)),
        Cell::from(clock::age_at(&action.created_at, app.now)),
        Cell::from(action.key_name.clone()),
        Cell::from(action.channel.to_string()),
        Cell::from(action.recipient_address.clone()),
        Cell::from(message),
    ];
    (cells, style)
}

fn priority_text(priority: Priority) -> &'static str {
    match priority {
        Priority::Urgent => "URG",
        Priority::High => "high",
        Priority::Normal => "norm",
        Priority::Low => "low",
    }
}

fn detail(app: &App, theme: &Theme, area: Rect, frame: &mut Frame<'_>) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(" Detail · J/K scroll · a approve · d deny · Esc close ");
    let text = match app.queue.selected_row() {
        Some(action) => detail_text(action, theme, app.now),
        None => Text::styled("Select a message to see it whole.", theme.dim()),
    };
    let paragraph = Paragraph::new(text)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((app.detail_scroll, 0));
    frame.render_widget(paragraph, area);
}

/// The whole message: who from and to, its priority and age, any flag,
/// then subject, body and the agent's context.
fn detail_text(action: &ActionRow, theme: &Theme, now: DateTime<Utc>) -> Text<'static> {
    let mut lines = header_lines(action, theme, now);
    lines.push(Line::raw(""));
    lines.extend(action.body.lines().map(|line| Line::raw(line.to_string())));
    if let Some(context) = &action.agent_context {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Agent context", theme.header()));
        let pretty = pretty_json(context);
        lines.extend(pretty.lines().map(|line| Line::raw(line.to_string())));
    }
    Text::from(lines)
}

fn header_lines(action: &ActionRow, theme: &Theme, now: DateTime<Utc>) -> Vec<Line<'static>> {
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<10}"), theme.header()),
            Span::raw(value),
        ])
    };
    let to = match &action.recipient_name {
        Some(name) => format!("{name} <{}>", action.recipient_address),
        None => action.recipient_address.clone(),
    };
    let age = clock::age_at(&action.created_at, now);
    let mut lines = vec![
        field("Id", action.id.clone()),
        field("From", format!("{} (agent)", action.key_name)),
        field("To", format!("{to} via {}", action.channel)),
        field("Priority", action.priority.to_string()),
        field("Queued", format!("{} ({age} ago)", action.created_at)),
    ];
    if let Some(reason) = &action.flag_reason {
        let flag = Span::styled(format!("FLAGGED   {reason}"), theme.flagged());
        lines.push(Line::from(flag));
    }
    if let Some(subject) = &action.subject {
        lines.push(field("Subject", subject.clone()));
    }
    lines
}

fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| text.to_string())
}
