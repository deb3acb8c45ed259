//! Where everything goes on screen. Rendering and mouse handling share these
//! functions, so a click lands on the row that was drawn there.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

use super::app::App;
use super::model::Tab;

/// Lines of the status bar at the bottom.
pub const STATUS_LINES: u16 = 3;

/// Most decisions pinned above the queue at once.
pub const MAX_PINNED: usize = 3;

/// Terminals at least this wide show the queue's detail beside the list.
const SIDE_BY_SIDE_WIDTH: u16 = 110;

/// The screen's regions for the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    pub tabs: Rect,
    /// Decisions in progress, above the queue list (zero height elsewhere).
    pub pinned: Rect,
    /// The list, with its border and header row.
    pub list: Rect,
    pub detail: Option<Rect>,
    pub status: Rect,
}

pub fn areas(app: &App) -> Areas {
    let screen = Rect::new(0, 0, app.size.0, app.size.1);
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(STATUS_LINES),
    ])
    .areas(screen);

    let pinned_lines = if app.tab == Tab::Queue {
        app.decisions.len().min(MAX_PINNED)
    } else {
        0
    };
    let [pinned, rest] =
        Layout::vertical([Constraint::Length(pinned_lines as u16), Constraint::Min(3)]).areas(body);

    let (list, detail) = if app.tab == Tab::Queue && app.detail_open {
        split_detail(rest)
    } else {
        (rest, None)
    };
    Areas {
        tabs,
        pinned,
        list,
        detail,
        status,
    }
}

fn split_detail(area: Rect) -> (Rect, Option<Rect>) {
    let direction = if area.width >= SIDE_BY_SIDE_WIDTH {
        Direction::Horizontal
    } else {
        Direction::Vertical
    };
    let parts = Layout::default()
        .direction(direction)
        .constraints([Constraint::Percentage(50), Constraint::Percentage(50)])
        .split(area);
    (parts[0], Some(parts[1]))
}

/// Data rows that fit in a list area (inside the border, under the header).
pub fn visible_rows(list: Rect) -> usize {
    usize::from(list.height.saturating_sub(3))
}

/// Index of the first row drawn: lists scroll a page at a time, so the
/// drawn rows follow from the selection alone.
pub fn first_visible(selected: usize, visible: usize) -> usize {
    if visible == 0 {
        return selected;
    }
    selected / visible * visible
}

/// The list row under a click, if any.
pub fn list_row_at(app: &App, areas: &Areas, column: u16, row: u16) -> Option<usize> {
    let list = areas.list;
    let top = list.y + 2;
    let inside = column > list.x && column < list.x + list.width.saturating_sub(1);
    if !inside || row < top || row >= list.y + list.height.saturating_sub(1) {
        return None;
    }
    let (selected, total) = match app.tab {
        Tab::Queue => (app.queue.selected, app.queue.total),
        Tab::Keys => (app.keys.selected, app.keys.total),
        Tab::Deliveries => (app.deliveries.selected, app.deliveries.total),
        Tab::History => (app.history.selected, app.history.total),
    };
    let index = first_visible(selected, visible_rows(list)) + usize::from(row - top);
    (index < total).then_some(index)
}

/// Tab titles as drawn: " 1 Queue ", " 2 Keys ", ... from the left edge.
pub fn tab_title(tab: Tab) -> String {
    format!(" {} {} ", tab.index() + 1, tab.title())
}

/// The tab whose title is under a click on the tab bar.
pub fn tab_at(tabs: Rect, column: u16, row: u16) -> Option<Tab> {
    if row != tabs.y {
        return None;
    }
    let mut left = tabs.x;
    for tab in Tab::ALL {
        let width = tab_title(tab).chars().count() as u16;
        if column >= left && column < left + width {
            return Some(tab);
        }
        left += width + 1;
    }
    None
}
