//! The status bar, three lines: how much waits and where the API listens
//! (counts first, so a narrow screen never loses them), what the latest
//! webhook deliveries did, and the last keypress's message on a line of its
//! own. A message too long for its line takes the webhook line too while
//! it shows.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::Theme;
use crate::clock;
use crate::store::deliveries::RecentAttempt;
use crate::tui::app::{App, Flash};
use crate::tui::model::{ApiState, PortHolder};

/// Latest webhook outcomes shown.
const RECENT_SHOWN: usize = 2;

pub fn render(app: &App, theme: &Theme, area: Rect, frame: &mut Frame<'_>) {
    let [facts, recent, message] = Layout::vertical([Constraint::Length(1); 3]).areas(area);
    frame.render_widget(facts_line(app, theme, area.width), facts);

    let flash = app.flash.as_ref();
    let flash_width = flash.map_or(0, |f| Span::raw(f.text.as_str()).width());
    if flash_width > usize::from(area.width) {
        let both = recent.union(message);
        let text = flash.map(|f| flash_line(f, theme)).unwrap_or_default();
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), both);
        return;
    }
    let line = recent_line(&app.status.recent, theme, app.now);
    frame.render_widget(line, recent);
    if let Some(flash) = flash {
        frame.render_widget(flash_line(flash, theme), message);
    }
}

/// "3 pending │ webhooks: 1 retrying, 0 failed │ API http://127.0.0.1:9810",
/// with a shorter account of the API when the longer one does not fit.
fn facts_line(app: &App, theme: &Theme, width: u16) -> Line<'static> {
    let status = &app.status;
    let webhooks_style = if status.failed > 0 {
        theme.bad()
    } else {
        Default::default()
    };
    let mut spans = vec![
        Span::raw(format!("{} pending", status.pending)),
        Span::raw(" │ "),
        Span::styled(
            format!(
                "webhooks: {} retrying, {} failed",
                status.retrying, status.failed
            ),
            webhooks_style,
        ),
        Span::raw(" │ "),
    ];
    let used: usize = spans.iter().map(Span::width).sum();
    let room = usize::from(width).saturating_sub(used);
    let (long, short) = api_texts(&status.api);
    let api = if Span::raw(long.as_str()).width() <= room {
        long
    } else {
        short
    };
    spans.push(Span::styled(api, api_style(&status.api, theme)));
    Line::from(spans)
}

fn api_style(api: &ApiState, theme: &Theme) -> ratatui::style::Style {
    match api {
        ApiState::Serving(_) => theme.good(),
        ApiState::Taken {
            holder: PortHolder::SameDatabase { .. },
            ..
        } => theme.good(),
        ApiState::Starting
        | ApiState::Taken {
            holder: PortHolder::Asking,
            ..
        } => theme.dim(),
        ApiState::Taken { .. } | ApiState::Failed { .. } => theme.bad(),
    }
}

/// The API's state for the status bar: a long form, and a short one that
/// fits beside the counts at 80 columns.
fn api_texts(api: &ApiState) -> (String, String) {
    let (bind, holder) = match api {
        ApiState::Starting => return ("API starting".into(), "API starting".into()),
        ApiState::Serving(address) => {
            let text = format!("API http://{address}");
            return (text.clone(), text);
        }
        ApiState::Failed { bind, .. } => {
            let long = format!("API NOT SERVING: cannot listen on {bind}");
            return (long, "API OFF: cannot listen".into());
        }
        ApiState::Taken { bind, holder } => (bind, holder),
    };
    match holder {
        PortHolder::Asking => (
            format!("API: {bind} is in use, asking by whom…"),
            "API: port in use, asking who…".into(),
        ),
        PortHolder::SameDatabase { pid } => (
            format!("API {bind} served by contactcmd pid {pid} on this database"),
            format!("API served by pid {pid}, same db"),
        ),
        PortHolder::OtherDatabase => (
            format!("API NOT SERVING: {bind} is a contactcmd on another database"),
            "API OFF: port used for other db".into(),
        ),
        PortHolder::Gateway => (
            format!("API NOT SERVING: {bind} is another contactcmd's"),
            "API OFF: port used by contactcmd".into(),
        ),
        PortHolder::OtherProgram => (
            format!("API NOT SERVING: {bind} is taken by another program"),
            "API OFF: port used by other app".into(),
        ),
    }
}

/// The API's state in full, with what follows and what to do about it: for
/// the help screen and the log, where there is room.
pub fn api_explained(api: &ApiState) -> String {
    let use_bind = "Quit and start the console with --bind 127.0.0.1:PORT (a free port) to \
                    serve this database.";
    match api {
        ApiState::Starting => "The API is starting.".into(),
        ApiState::Serving(address) => format!("Agents send to http://{address}/gateway/send."),
        ApiState::Failed { bind, error } => {
            format!("The console cannot listen on {bind}: {error}. {use_bind}")
        }
        ApiState::Taken { bind, holder } => match holder {
            PortHolder::Asking => format!("{bind} is in use; finding out by whom."),
            PortHolder::SameDatabase { pid } => format!(
                "Another contactcmd (pid {pid}) serves {bind} on this database: it takes the \
                 agents' messages and delivers the webhooks, and this console decides on the \
                 same queue."
            ),
            PortHolder::OtherDatabase => format!(
                "{bind} is served by a contactcmd on another database: agents' messages sent \
                 there will not reach this one. {use_bind}"
            ),
            PortHolder::Gateway => format!(
                "{bind} is served by another contactcmd, on which database cannot be told \
                 from here. If agents' messages do not appear here, it is another one. \
                 {use_bind}"
            ),
            PortHolder::OtherProgram => format!(
                "{bind} is taken by a program that is not a contactcmd gateway: agents' \
                 messages will not reach this database. {use_bind}"
            ),
        },
    }
}

fn flash_line(flash: &Flash, theme: &Theme) -> Line<'static> {
    let style = if flash.error {
        theme.bad()
    } else {
        theme.good()
    };
    Line::from(Span::styled(flash.text.clone(), style))
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
        let (text, delivered) = describe(attempt, now);
        let style = if delivered { theme.good() } else { theme.bad() };
        spans.push(Span::styled(text, style));
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
