//! Drawing the console: a pure function of the app state. Nothing here
//! changes state or touches the database.

mod dialog;
mod lists;
mod queue;
mod status;
mod theme;

use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::app::App;
use super::layout::{self, tab_title};
use super::model::Tab;
pub use theme::Theme;

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame<'_>) {
    let theme = Theme::new(app.monochrome);
    let areas = layout::areas(app);

    frame.render_widget(tab_bar(app, &theme), areas.tabs);
    match app.tab {
        Tab::Queue => queue::render(app, &theme, &areas, frame),
        Tab::Keys => lists::keys(app, &theme, areas.list, frame),
        Tab::Deliveries => lists::deliveries(app, &theme, areas.list, frame),
        Tab::History => lists::history(app, &theme, areas.list, frame),
    }
    status::render(app, &theme, areas.status, frame);
    if let Some(dialog) = &app.dialog {
        dialog::render(app, dialog, &theme, frame);
    }
}

fn tab_bar(app: &App, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for tab in Tab::ALL {
        let style = if tab == app.tab {
            theme.selected_tab()
        } else {
            theme.tab()
        };
        spans.push(Span::styled(tab_title(tab), style));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled("? help  q quit", theme.dim()));
    Line::from(spans)
}
