//! The list tabs (Keys, Deliveries, History) and the table drawing they and
//! the queue share: only the rows on screen are laid out.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Text;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::Theme;
use crate::clock;
use crate::gateway::Status;
use crate::store::deliveries::DeliveryRow;
use crate::store::ActionRow;
use crate::tui::app::App;
use crate::tui::layout::{first_visible, visible_rows};
use crate::tui::model::{KeyEntry, Window};

/// A table over one window of a long list.
pub struct TableSpec<'a> {
    pub title: String,
    /// A line on the bottom border, about the selected row.
    pub footer: Option<String>,
    pub headers: &'a [&'a str],
    pub widths: &'a [Constraint],
    pub empty: &'a str,
}

/// Draws the rows of `window` that fit in `area`, selection highlighted.
pub fn draw_table<T>(
    frame: &mut Frame<'_>,
    area: Rect,
    theme: &Theme,
    spec: TableSpec<'_>,
    window: &Window<T>,
    cells: impl Fn(&T) -> (Vec<Cell<'static>>, Style),
) {
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(spec.title);
    if let Some(footer) = spec.footer {
        block = block.title_bottom(footer);
    }
    if window.loaded && window.total == 0 {
        let text = Paragraph::new(Text::styled(spec.empty.to_string(), theme.dim())).block(block);
        frame.render_widget(text, area);
        return;
    }

    let rows = visible_table_rows(window, visible_rows(area), theme, cells);
    let header = Row::new(spec.headers.iter().map(|h| Cell::from(*h))).style(theme.header());
    let table = Table::new(rows, spec.widths.to_vec())
        .header(header)
        .block(block)
        .column_spacing(1);
    frame.render_widget(table, area);
}

/// The page of `window` holding the selection, `visible` rows of it; rows
/// not loaded yet say so.
fn visible_table_rows<T>(
    window: &Window<T>,
    visible: usize,
    theme: &Theme,
    cells: impl Fn(&T) -> (Vec<Cell<'static>>, Style),
) -> Vec<Row<'static>> {
    let first = first_visible(window.selected, visible);
    let last = (first + visible).min(window.total);
    let row = |index| {
        let (cells, style) = match window.row(index) {
            Some(item) => cells(item),
            None => (vec![Cell::from("loading…")], theme.dim()),
        };
        let style = if index == window.selected {
            theme.selected_row()
        } else {
            style
        };
        Row::new(cells).style(style)
    };
    (first..last).map(row).collect()
}

/// " Title (12) ": a list's title with how many rows it has in all.
pub fn counted(title: &str, total: usize) -> String {
    format!(" {title} ({total}) ")
}

/// Key columns: header, width, and whether narrow screens keep it.
const KEY_COLUMNS: [(&str, Constraint, bool); 7] = [
    ("PREFIX", Constraint::Length(11), true),
    ("NAME", Constraint::Length(14), true),
    ("CREATED", Constraint::Length(10), false),
    ("LAST USED", Constraint::Length(9), false),
    ("STATE", Constraint::Length(8), true),
    ("WEBHOOK", Constraint::Fill(2), true),
    ("LAST DELIVERY", Constraint::Fill(1), true),
];

/// Below this width the Keys tab leaves the dates out of the table, so the
/// webhook URL and the last delivery's result stay readable; the selected
/// key's dates go on the bottom border instead.
const KEYS_WIDE: u16 = 110;

pub fn keys(app: &App, theme: &Theme, area: Rect, frame: &mut Frame<'_>) {
    let wide = area.width >= KEYS_WIDE;
    let shown: Vec<usize> = (0..KEY_COLUMNS.len())
        .filter(|&i| wide || KEY_COLUMNS[i].2)
        .collect();
    let headers: Vec<&str> = shown.iter().map(|&i| KEY_COLUMNS[i].0).collect();
    let widths: Vec<Constraint> = shown.iter().map(|&i| KEY_COLUMNS[i].1).collect();
    let spec = TableSpec {
        title: format!(
            "{} n new · w webhook · x remove · t test · s secret · R rotate · r revoke ",
            counted("Keys", app.keys.total)
        ),
        footer: (!wide).then(|| key_dates(app)).flatten(),
        headers: &headers,
        widths: &widths,
        empty: "No API keys yet. Press n to create one for an agent.",
    };
    draw_table(frame, area, theme, spec, &app.keys, |entry| {
        let (cells, style) = key_cells(entry, theme, app.now);
        let cells = cells
            .into_iter()
            .enumerate()
            .filter(|(i, _)| shown.contains(i));
        (cells.map(|(_, cell)| cell).collect(), style)
    });
}

/// " gw_ma000000 created 1d ago · last used 2m ago " for the selected key.
fn key_dates(app: &App) -> Option<String> {
    let key = &app.keys.selected_row()?.key;
    let used = key.last_used_at.as_deref().map_or_else(
        || "never used".into(),
        |at| format!("last used {} ago", clock::age_at(at, app.now)),
    );
    let created = clock::age_at(&key.created_at, app.now);
    Some(format!(
        " {} created {created} ago · {used} ",
        key.display_prefix
    ))
}

fn key_cells(entry: &KeyEntry, theme: &Theme, now: DateTime<Utc>) -> (Vec<Cell<'static>>, Style) {
    let key = &entry.key;
    let last = entry
        .last_delivery
        .as_ref()
        .map_or_else(|| "-".into(), |d| delivery_outcome(d, now));
    let state = if key.revoked_at.is_some() {
        "REVOKED"
    } else {
        "active"
    };
    let style = if key.revoked_at.is_some() {
        theme.dim()
    } else {
        Style::default()
    };
    let cells = vec![
        Cell::from(key.display_prefix.clone()),
        Cell::from(key.name.clone()),
        Cell::from(clock::age_at(&key.created_at, now) + " ago"),
        Cell::from(
            key.last_used_at
                .as_deref()
                .map_or_else(|| "never".into(), |at| clock::age_at(at, now)),
        ),
        Cell::from(state),
        Cell::from(key.webhook_url.clone().unwrap_or_else(|| "-".into())),
        Cell::from(last),
    ];
    (cells, style)
}

/// "✓ 200 12 ms", "✗ retry 3 in 2m: refused", "✗ failed: 410".
pub fn delivery_outcome(row: &DeliveryRow, now: DateTime<Utc>) -> String {
    let error = row.last_error.as_deref().unwrap_or("no answer");
    match row.status.as_str() {
        "delivered" => format!(
            "✓ {} {} ms",
            row.last_status_code
                .map_or_else(|| "?".into(), |c| c.to_string()),
            row.last_latency_ms.unwrap_or(0)
        ),
        "pending" if row.attempts == 0 => "queued".into(),
        "pending" => format!(
            "✗ retry {} {}: {error}",
            row.attempts + 1,
            clock::until_at(&row.next_attempt_at, now)
        ),
        _ => format!("✗ failed: {error}"),
    }
}

pub fn deliveries(app: &App, theme: &Theme, area: Rect, frame: &mut Frame<'_>) {
    let which = if app.failed_only {
        "Deliveries: failed only"
    } else {
        "Deliveries"
    };
    let spec = TableSpec {
        title: format!(
            "{} Enter attempts · f failed only · r retry ",
            counted(which, app.deliveries.total)
        ),
        footer: None,
        headers: &["TIME", "KEY", "EVENT", "HOST", "TRIES", "OUTCOME"],
        widths: &[
            Constraint::Length(8),
            Constraint::Length(12),
            Constraint::Length(14),
            Constraint::Length(16),
            Constraint::Length(5),
            Constraint::Fill(1),
        ],
        empty: "No webhook deliveries yet.",
    };
    draw_table(frame, area, theme, spec, &app.deliveries, |row| {
        let style = match row.status.as_str() {
            "delivered" => Style::default(),
            "failed" => theme.bad(),
            _ => theme.flagged(),
        };
        let cells = vec![
            Cell::from(clock::time_of_day(&row.created_at)),
            Cell::from(row.key_name.clone()),
            Cell::from(row.event_type.clone()),
            Cell::from(host(&row.url)),
            Cell::from(row.attempts.to_string()),
            Cell::from(delivery_outcome(row, app.now)),
        ];
        (cells, style)
    });
}

pub fn host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn history(app: &App, theme: &Theme, area: Rect, frame: &mut Frame<'_>) {
    let which = match app.history_status {
        None => "History".to_string(),
        Some(status) => format!("History: {status}"),
    };
    let spec = TableSpec {
        title: format!("{} f filter by status ", counted(&which, app.history.total)),
        footer: None,
        headers: &[
            "DECIDED",
            "STATUS",
            "AGENT",
            "CHANNEL",
            "TO",
            "MESSAGE / REASON",
        ],
        widths: &[
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(12),
            Constraint::Length(8),
            Constraint::Length(22),
            Constraint::Fill(1),
        ],
        empty: "No decided messages yet.",
    };
    draw_table(frame, area, theme, spec, &app.history, |action| {
        history_cells(action, theme)
    });
}

fn history_cells(action: &ActionRow, theme: &Theme) -> (Vec<Cell<'static>>, Style) {
    let style = match action.status {
        Status::Failed => theme.bad(),
        Status::Denied => theme.dim(),
        _ => Style::default(),
    };
    let text = action
        .error_message
        .clone()
        .unwrap_or_else(|| message_text(action));
    let cells = vec![
        Cell::from(
            action
                .reviewed_at
                .as_deref()
                .map_or_else(|| "-".into(), clock::time_of_day),
        ),
        Cell::from(action.status.to_string()),
        Cell::from(action.key_name.clone()),
        Cell::from(action.channel.to_string()),
        Cell::from(action.recipient_address.clone()),
        Cell::from(one_line(&text)),
    ];
    (cells, style)
}

/// Subject for email, else the body, on one line.
pub fn message_text(action: &ActionRow) -> String {
    one_line(action.subject.as_deref().unwrap_or(&action.body))
}

pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
