//! Styles, in colour or (with `NO_COLOR`) in plain bold, reverse and dim so
//! the screen stays readable without colour.

use ratatui::style::{Color, Modifier, Style};

/// The console's styles.
#[derive(Clone, Copy, Debug)]
pub struct Theme {
    monochrome: bool,
}

impl Theme {
    pub fn new(monochrome: bool) -> Theme {
        Theme { monochrome }
    }

    fn colour(&self, colour: Color) -> Style {
        if self.monochrome {
            Style::default()
        } else {
            Style::default().fg(colour)
        }
    }

    pub fn tab(&self) -> Style {
        Style::default()
    }

    pub fn selected_tab(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub fn header(&self) -> Style {
        self.colour(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn selected_row(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    pub fn dim(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(Color::DarkGray)
        }
    }

    /// Flagged messages: marked with text as well, never colour alone.
    pub fn flagged(&self) -> Style {
        self.colour(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn good(&self) -> Style {
        self.colour(Color::Green)
    }

    pub fn bad(&self) -> Style {
        self.colour(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn marked(&self) -> Style {
        self.colour(Color::Magenta).add_modifier(Modifier::BOLD)
    }

    pub fn border(&self) -> Style {
        self.colour(Color::Gray)
    }
}
