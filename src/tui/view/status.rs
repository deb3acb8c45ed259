//! The status bar: where the API listens, how much waits, what the latest
//! webhook deliveries did, and the last keypress's message.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::Theme;
use crate::clock;
use crate::store::deliveries::RecentAttempt;
use crate::tui::app::App;
use crate::tui::model::ApiState;

/// Latest webhook outcomes shown.
const RECENT_SHOWN: usize = 2;

pub fn render(app: &App, theme: &Theme, area: Rect, frame: &mut Frame<'_>) {
    let status = &app.status;
    let api_style = match status.api {
        ApiState::Serving(_) => theme.good(),
        ApiState::Starting => theme.dim(),
        ApiState::NotServing(_) => theme.bad(),
    };
    let mut first = vec![
        Span::styled(app.api_text(), api_style),
        Span::raw(format!(" │ {} pending", status.pending)),
        Span::raw(format!(
            " │ webhooks: {} retrying, {} failed",
            status.retrying, status.failed
        )),
    ];
    if status.failed > 0 {
        first[2].style = theme.bad();
    }

    let second = match &app.flash {
        Some(flash) => {
            let style = if flash.error {
                theme.bad()
            } else {
                theme.good()
            };
            Line::from(Span::styled(flash.text.clone(), style))
        }
        None => recent_line(&status.recent, theme, app.now),
    };
    frame.render_widget(Paragraph::new(vec![Line::from(first), second]), area);
}

fn recent_line(recent: &[RecentAttempt], theme: &Theme, now: DateTime<Utc>) -> Line<'static> {
    if recent.is_empty() {
        return Line::styled("No webhook deliveries yet.", theme.dim());
    }
    let mut spans = Vec::new();
    for (index, attempt) in recent.iter().take(RECENT_SHOWN).enumerate() {
        if index > 0 {
            spans.push(Span::raw("  │  "));
        }
        let (text, style) = describe(attempt, now);
        spans.push(Span::styled(
            text,
            if style { theme.good() } else { theme.bad() },
        ));
    }
    Line::from(spans)
}

/// "✓ mail-bot 200 12 ms" or "✗ mail-bot connection refused, retry 3 in 2m".
pub fn describe(recent: &RecentAttempt, now: DateTime<Utc>) -> (String, bool) {
    let attempt = &recent.attempt;
    let delivered = attempt.error.is_none()
        && attempt
            .status_code
            .is_some_and(|code| (200..300).contains(&code));
    if delivered {
        let code = attempt.status_code.unwrap_or_default();
        return (
            format!("✓ {} {code} {} ms", recent.key_name, attempt.latency_ms),
            true,
        );
    }
    let error = attempt.error.clone().unwrap_or_else(|| "no answer".into());
    let next = match recent.delivery_status.as_str() {
        "pending" => format!(
            ", retry {} {}",
            attempt.attempt + 1,
            clock::until_at(&recent.next_attempt_at, now)
        ),
        "failed" => ", gave up".into(),
        _ => String::new(),
    };
    (format!("✗ {} {error}{next}", recent.key_name), false)
}
