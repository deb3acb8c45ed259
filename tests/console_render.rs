//! What the console draws, on ratatui's `TestBackend`: every tab at 80×24 and
//! 120×40, the queue's detail pane, dialogs, the status bar and NO_COLOR.
//! Each test asserts the text that must be on screen, then snapshots the
//! whole screen (`tests/snapshots/`) so any other change shows up in review.
//! The clock and every timestamp are fixed, so the snapshots never drift.

mod console_fixtures;

use console_fixtures::*;
use contactcmd::gateway::{Priority, Status};
use contactcmd::tui::action::Action;
use contactcmd::tui::app::App;
use contactcmd::tui::model::{ApiState, Counts, PortHolder};
use contactcmd::tui::view;
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;

const SMALL: (u16, u16) = (80, 24);
const LARGE: (u16, u16) = (120, 40);

/// Draws `app` once at its size.
fn draw(app: &App) -> Buffer {
    draw_with_cursor(app).0
}

/// Draws `app` once; returns the screen and where the terminal cursor is
/// shown, if it is.
fn draw_with_cursor(app: &App) -> (Buffer, Option<(u16, u16)>) {
    let (width, height) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal
        .draw(|frame| view::render(app, frame))
        .expect("drawing never fails on a test backend");
    let backend = terminal.backend();
    let cursor = backend.cursor_position();
    let shown = backend.cursor_visible().then_some((cursor.x, cursor.y));
    (backend.buffer().clone(), shown)
}

/// The screen as text, one line per row, trailing blanks dropped.
fn text_of(buffer: &Buffer) -> String {
    let area = buffer.area;
    let line = |y| {
        let cells = (0..area.width).map(|x| buffer[(x, y)].symbol());
        cells.collect::<String>().trim_end().to_string()
    };
    (0..area.height).map(line).collect::<Vec<_>>().join("\n")
}

fn screen(app: &App) -> String {
    text_of(&draw(app))
}

fn assert_shows(screen: &str, expected: &[&str]) {
    for text in expected {
        assert!(
            screen.contains(text),
            "{text:?} is not on screen:\n{screen}"
        );
    }
}

/// The status bar's facts: serving, three waiting, one webhook delivered and
/// another being retried.
fn serving(app: &mut App) {
    let counts = Counts {
        recent: vec![delivered_recently(), refused_recently()],
        retrying: 1,
        failed: 0,
        ..Counts::default()
    };
    set_status(app, "127.0.0.1:9810", 3, counts);
}

/// A queue of an SMS, a flagged urgent email and a high-priority SMS.
fn queue_rows() -> Vec<contactcmd::store::ActionRow> {
    let mut high = action(3);
    high.priority = Priority::High;
    high.recipient_name = Some("Ann Lee".into());
    vec![action(1), flagged_email(2), high]
}

fn queue_app(size: (u16, u16)) -> App {
    let (mut app, commands) = started(size);
    load_queue(&mut app, &commands, 3, queue_rows());
    serving(&mut app);
    app
}

fn keys_app(size: (u16, u16)) -> App {
    let mut app = queue_app(size);
    let commands = press_char(&mut app, '2');
    let mut mail = key("mail-bot", Some("http://127.0.0.1:8080/hooks"));
    mail.last_delivery = Some(delivery(1, "delivered"));
    let mut ops = key("ops-bot", Some("https://ops.example/hook"));
    ops.last_delivery = Some(delivery(2, "pending"));
    let mut old = key("old-bot", None);
    old.key.revoked_at = Some(ago(3_600));
    load_keys(&mut app, &commands, vec![mail, ops, old]);
    app
}

fn deliveries_app(size: (u16, u16)) -> App {
    let mut app = queue_app(size);
    let commands = press_char(&mut app, '3');
    let rows = vec![
        delivery(1, "delivered"),
        delivery(2, "pending"),
        delivery(3, "failed"),
    ];
    load_deliveries(&mut app, &commands, rows);
    app
}

fn history_app(size: (u16, u16)) -> App {
    let mut app = queue_app(size);
    let commands = press_char(&mut app, '4');
    let rows = vec![
        decided(1, Status::Sent),
        decided(2, Status::Denied),
        decided(3, Status::Failed),
    ];
    load_history(&mut app, &commands, rows);
    app
}

// The Queue tab.

const QUEUE_TEXT: &[&str] = &[
    " 1 Queue ",
    "Queue (3)",
    "+15550100001",
    "mail-bot",
    "Message number 1",
    // The message column is narrow at 80 columns; the marker must survive.
    "FLAGGED Wire transfer",
    "URG",
    "API http://127.0.0.1:9810",
    "3 pending",
    "1 retrying, 0 failed",
    "✓ mail-bot 200 12 ms",
    "✗ ops-bot connection refused, retry 3 in 2m",
];

#[test]
fn queue_at_80x24() {
    let screen = screen(&queue_app(SMALL));
    assert_shows(&screen, QUEUE_TEXT);
    assert_shows(&screen, &["! ", "1m ", "3m "]);
    insta::assert_snapshot!("queue_80x24", screen);
}

#[test]
fn queue_at_120x40() {
    let screen = screen(&queue_app(LARGE));
    assert_shows(&screen, QUEUE_TEXT);
    insta::assert_snapshot!("queue_120x40", screen);
}

/// The flagged email selected with its detail open.
fn detail_app(size: (u16, u16)) -> App {
    let mut app = queue_app(size);
    press_char(&mut app, 'j');
    press(&mut app, KeyCode::Enter);
    app
}

/// What the detail pane shows first, at any size.
const DETAIL_HEAD: &[&str] = &[
    "Detail",
    "Dana Chief <ceo@example.com> via email",
    "mail-bot (agent)",
    "Priority  urgent",
    "FLAGGED   mentions a money transfer",
    "Subject   Wire transfer today",
];

/// The rest of the detail, which needs a taller pane.
const DETAIL_TAIL: &[&str] = &[
    "Please wire $40,000 to the account below.",
    "Thanks.",
    "Agent context",
    "\"invoice\": 1042",
    "\"task\": \"pay invoice\"",
];

#[test]
fn queue_detail_below_the_list_at_80x24() {
    let screen = screen(&detail_app(SMALL));
    assert_shows(&screen, DETAIL_HEAD);
    assert_shows(&screen, &["3 pending", "J/K scroll"]);
    insta::assert_snapshot!("queue_detail_80x24", screen);
}

#[test]
fn queue_detail_scrolls_to_the_rest_of_the_message_at_80x24() {
    let mut app = detail_app(SMALL);
    for _ in 0..8 {
        press_char(&mut app, 'J');
    }
    let scrolled = screen(&app);
    assert_shows(&scrolled, DETAIL_TAIL);

    press_char(&mut app, 'j');
    assert_eq!(
        app.detail_scroll, 0,
        "moving to another message scrolls back to its top"
    );
}

#[test]
fn queue_detail_beside_the_list_at_120x40() {
    let screen = screen(&detail_app(LARGE));
    assert_shows(&screen, DETAIL_HEAD);
    assert_shows(&screen, DETAIL_TAIL);
    insta::assert_snapshot!("queue_detail_120x40", screen);
}

#[test]
fn queue_pins_decisions_in_progress_and_their_outcomes() {
    let mut app = queue_app(SMALL);
    press_char(&mut app, 'a');
    app.update(Action::Decided {
        id: action_id(1),
        outcome: Ok(Status::Sent),
        detail: None,
    });
    press_char(&mut app, 'j');
    press_char(&mut app, 'a');

    let screen = screen(&app);
    assert_shows(
        &screen,
        &["✓ sent", "sending…", "000000000001 sms → +15550100001"],
    );
    insta::assert_snapshot!("queue_pinned_80x24", screen);
}

#[test]
fn a_failed_send_shows_why_on_its_row_and_in_the_status_bar() {
    let mut app = queue_app(SMALL);
    press_char(&mut app, 'a');
    app.update(Action::Decided {
        id: action_id(1),
        outcome: Ok(Status::Failed),
        detail: Some("transport exited with 1".into()),
    });

    let screen = screen(&app);
    assert_shows(
        &screen,
        &["✗ failed: transport exited with 1", "000000000001 sms"],
    );
    assert_shows(&screen, &["000000000001: failed: transport exited with 1"]);
    insta::assert_snapshot!("queue_failed_send_80x24", screen);
}

#[test]
fn a_bulk_approval_counts_the_sends_it_has_no_room_to_pin() {
    let (mut app, commands) = started(SMALL);
    load_queue(&mut app, &commands, 6, actions(6));
    for _ in 0..6 {
        press_char(&mut app, ' ');
    }
    press_char(&mut app, 'a');

    let screen = screen(&app);
    assert_shows(&screen, &["sending…", "+4 more: 4 sending"]);
    insta::assert_snapshot!("queue_bulk_approve_80x24", screen);
}

#[test]
fn queue_title_shows_the_filter_and_the_marks() {
    let mut app = queue_app(SMALL);
    press_char(&mut app, ' ');
    press_char(&mut app, ' ');
    press_char(&mut app, '/');
    type_text(&mut app, "mail");

    let screen = screen(&app);
    assert_shows(&screen, &["filter: mail▏", "· 2 marked", "* "]);
    insta::assert_snapshot!("queue_filter_marks_80x24", screen);
}

#[test]
fn the_filter_shows_its_cursor_where_the_next_character_goes() {
    let mut app = queue_app(SMALL);
    press_char(&mut app, '/');
    type_text(&mut app, "mail");
    press(&mut app, KeyCode::Left);
    press(&mut app, KeyCode::Left);

    assert_shows(&screen(&app), &["filter: ma▏il"]);
    press(&mut app, KeyCode::Enter);
    assert_shows(&screen(&app), &["filter: mail "]);
}

#[test]
fn an_empty_queue_says_what_will_happen() {
    let (mut app, commands) = started(SMALL);
    load_queue(&mut app, &commands, 0, Vec::new());

    let screen = screen(&app);
    assert_shows(
        &screen,
        &["Queue (0)", "No messages waiting", "API starting"],
    );
    assert_shows(&screen, &["No webhook deliveries yet."]);
    insta::assert_snapshot!("queue_empty_80x24", screen);
}

#[test]
fn the_status_bar_says_why_the_api_is_not_serving() {
    let mut app = queue_app(SMALL);
    let bind = "127.0.0.1:9810".parse().expect("an address");
    let holder = PortHolder::OtherProgram;
    app.update(Action::Api(ApiState::Taken { bind, holder }));

    let screen = screen(&app);
    // The counts come first, so the reason can never push them off screen.
    assert_shows(&screen, &["3 pending", "1 retrying, 0 failed"]);
    assert_shows(&screen, &["API OFF: port used by other app"]);
    insta::assert_snapshot!("api_taken_80x24", screen);

    app.update(Action::Resize(LARGE.0, LARGE.1));
    let wide = self::screen(&app);
    assert_shows(
        &wide,
        &["3 pending", "127.0.0.1:9810 is taken by another program"],
    );
}

#[test]
fn the_status_bar_names_the_process_serving_this_database() {
    let mut app = queue_app(SMALL);
    let bind = "127.0.0.1:9810".parse().expect("an address");
    let holder = PortHolder::SameDatabase { pid: 4242 };
    app.update(Action::Api(ApiState::Taken { bind, holder }));

    assert_shows(
        &screen(&app),
        &["3 pending", "API served by pid 4242, same db"],
    );
}

#[test]
fn help_explains_in_full_why_the_api_is_not_served_here() {
    let mut app = queue_app(SMALL);
    let bind = "127.0.0.1:9810".parse().expect("an address");
    let holder = PortHolder::OtherDatabase;
    app.update(Action::Api(ApiState::Taken { bind, holder }));
    press_char(&mut app, '?');

    let screen = screen(&app);
    assert_shows(&screen, &["a contactcmd on another database", "--bind"]);
}

#[test]
fn a_long_message_takes_the_webhook_line_while_it_shows() {
    let mut app = queue_app(SMALL);
    let url = "https://hooks.example.com/agents/mail-bot/deliveries";
    let text =
        format!("Webhook of mail-bot set to {url}. A signing secret was created (s shows it).");
    app.update(Action::Done(text));

    let screen = screen(&app);
    assert_shows(&screen, &["3 pending", url, "(s shows it)."]);
    assert!(!screen.contains("✓ mail-bot 200"), "{screen}");
}

#[test]
fn a_short_message_leaves_the_webhook_results_on_screen() {
    let mut app = queue_app(SMALL);
    press_char(&mut app, 'a');

    let screen = screen(&app);
    assert_shows(
        &screen,
        &["Approving 1 message(s)…", "✓ mail-bot 200 12 ms"],
    );
}

// The other tabs.

const KEYS_TEXT: &[&str] = &[
    "Keys (3)",
    "gw_ma000000",
    "mail-bot",
    "REVOKED",
    "active",
    "API http://127.0.0.1:9810",
];

#[test]
fn keys_at_80x24() {
    let screen = screen(&keys_app(SMALL));
    assert_shows(&screen, KEYS_TEXT);
    // Narrow screens leave out the dates so the URL and outcome fit.
    assert_shows(&screen, &["http://127.0.0.1:8080/hooks", "✓ 200 12 ms"]);
    assert!(
        !screen.contains("CREATED"),
        "dates shown at 80 columns:\n{screen}"
    );
    // They are on the bottom border, for the selected key.
    assert_shows(&screen, &["gw_ma000000 created 1d ago · last used 1m ago"]);
    insta::assert_snapshot!("keys_80x24", screen);
}

#[test]
fn keys_at_120x40() {
    let screen = screen(&keys_app(LARGE));
    assert_shows(&screen, KEYS_TEXT);
    assert_shows(&screen, &["1d ago", "CREATED", "LAST USED"]);
    assert_shows(
        &screen,
        &["http://127.0.0.1:8080/hooks", "https://ops.example/hook"],
    );
    assert_shows(&screen, &["✓ 200 12 ms", "✗ retry 3 in 2m"]);
    insta::assert_snapshot!("keys_120x40", screen);
}

const DELIVERIES_TEXT: &[&str] = &[
    "Deliveries (3)",
    "09:59:15",
    "action.sent",
    "127.0.0.1",
    "✓ 200 12 ms",
    "✗ retry 3 in 2m",
    "✗ failed: HTTP 500",
];

#[test]
fn deliveries_at_80x24() {
    let screen = screen(&deliveries_app(SMALL));
    assert_shows(&screen, DELIVERIES_TEXT);
    insta::assert_snapshot!("deliveries_80x24", screen);
}

#[test]
fn deliveries_at_120x40() {
    let screen = screen(&deliveries_app(LARGE));
    assert_shows(&screen, DELIVERIES_TEXT);
    assert_shows(&screen, &["✗ retry 3 in 2m: connection refused"]);
    insta::assert_snapshot!("deliveries_120x40", screen);
}

const HISTORY_TEXT: &[&str] = &[
    "History (3)",
    "sent",
    "denied",
    "failed",
    "+15550100002",
    "Message number 1",
    "transport exited",
];

#[test]
fn history_at_80x24() {
    let screen = screen(&history_app(SMALL));
    assert_shows(&screen, HISTORY_TEXT);
    insta::assert_snapshot!("history_80x24", screen);
}

#[test]
fn history_at_120x40() {
    let screen = screen(&history_app(LARGE));
    assert_shows(&screen, HISTORY_TEXT);
    assert_shows(&screen, &["transport exited with 1"]);
    insta::assert_snapshot!("history_120x40", screen);
}

#[test]
fn the_history_title_names_the_status_shown() {
    let mut app = history_app(SMALL);
    let commands = press_char(&mut app, 'f');
    load_history(&mut app, &commands, vec![decided(1, Status::Sent)]);

    let screen = screen(&app);
    assert_shows(&screen, &["History: sent (1)", "f filter by status"]);
    insta::assert_snapshot!("history_sent_80x24", screen);
}

// Dialogs.

#[test]
fn the_signing_secret_is_shown_with_how_to_check_it() {
    let mut app = keys_app(SMALL);
    app.update(Action::SecretShown {
        key_name: "mail-bot".into(),
        secret: "whsec_c2VjcmV0c2VjcmV0".into(),
        rotated: false,
    });

    let screen = screen(&app);
    assert_shows(
        &screen,
        &[
            "Signing secret",
            "Webhook signing secret of mail-bot:",
            "whsec_c2VjcmV0c2VjcmV0",
        ],
    );
    assert_shows(&screen, &["webhook-signature: v1,base64(HMAC-SHA256"]);
    assert!(!screen.contains("New secret"), "{screen}");
    insta::assert_snapshot!("secret_80x24", screen);
}

#[test]
fn a_rotated_secret_says_the_old_one_still_signs_for_a_day() {
    let mut app = keys_app(SMALL);
    app.update(Action::SecretShown {
        key_name: "mail-bot".into(),
        secret: "whsec_bmV3bmV3bmV3".into(),
        rotated: true,
    });

    let screen = screen(&app);
    assert_shows(&screen, &["whsec_bmV3bmV3bmV3", "New secret. For 24 hours"]);
}

#[test]
fn rotating_asks_first_and_says_the_old_secret_keeps_signing() {
    let mut app = keys_app(SMALL);
    press_char(&mut app, 'R');

    let screen = screen(&app);
    assert_shows(
        &screen,
        &["Rotate the signing secret of gw_ma000000 (mail-bot)?"],
    );
    assert_shows(
        &screen,
        &["The old one keeps", "signing for 24 h.", "y / Enter: yes"],
    );
}

#[test]
fn help_lists_the_keys_of_the_tab_on_screen() {
    let mut app = queue_app(SMALL);
    press_char(&mut app, '?');

    let screen = screen(&app);
    assert_shows(
        &screen,
        &["approve and send", "deny, with an optional reason"],
    );
    assert_shows(&screen, &["Ctrl-C", "quit (Esc closes a dialog first)"]);
    insta::assert_snapshot!("help_queue_80x24", screen);
}

#[test]
fn a_refused_webhook_url_shows_the_reason_under_the_input() {
    let mut app = keys_app(SMALL);
    press_char(&mut app, 'j');
    press_char(&mut app, 'j');
    press_char(&mut app, 'w');
    type_text(&mut app, "ftp://old.example/");
    press(&mut app, KeyCode::Enter);

    let screen = screen(&app);
    assert_shows(&screen, &["Webhook for old-bot", "> ftp://old.example/"]);
    // The reason wraps inside the dialog at 80 columns.
    assert_shows(&screen, &["uses scheme \"ftp\": only http and https"]);
    insta::assert_snapshot!("webhook_refused_80x24", screen);
}

/// The Keys tab with the webhook input open on mail-bot's URL.
fn editing_webhook(size: (u16, u16)) -> App {
    let mut app = keys_app(size);
    press_char(&mut app, 'w');
    app
}

/// The cell the terminal cursor is on, and its text.
fn under_cursor(app: &App) -> ((u16, u16), String) {
    let (buffer, cursor) = draw_with_cursor(app);
    let cursor = cursor.expect("the terminal cursor is shown in an input");
    (cursor, buffer[cursor].symbol().to_string())
}

#[test]
fn the_cursor_of_an_input_is_where_the_edit_happens() {
    let mut app = editing_webhook(SMALL);
    let ((x_end, y), under) = under_cursor(&app);
    assert_eq!(
        under, " ",
        "at the end, the cursor is past the last character"
    );

    for _ in 0.."hooks".len() {
        press(&mut app, KeyCode::Left);
    }
    let ((x, row), under) = under_cursor(&app);
    assert_eq!((x, row, under.as_str()), (x_end - 5, y, "h"));
    let (buffer, _) = draw_with_cursor(&app);
    assert!(
        buffer[(x, row)].modifier.contains(Modifier::REVERSED),
        "the cell under the cursor is drawn reversed too, for any terminal"
    );

    type_text(&mut app, "v2/");
    let screen = screen(&app);
    assert_shows(&screen, &["> http://127.0.0.1:8080/v2/hooks"]);
    insta::assert_snapshot!("webhook_cursor_inside_80x24", screen);
}

#[test]
fn a_value_wider_than_the_input_scrolls_to_keep_the_cursor_in_view() {
    let mut app = editing_webhook(SMALL);
    let path = "/very/long/path".repeat(8);
    type_text(&mut app, &path);

    let screen = screen(&app);
    assert_shows(&screen, &["/very/long/path/very/long/path"]);
    assert!(
        !screen.contains("> http://127.0.0.1"),
        "the start scrolled out:\n{screen}"
    );
    let ((x, _), _) = under_cursor(&app);
    assert!(x < 80 - 2, "the cursor stays inside the dialog");

    press(&mut app, KeyCode::Home);
    assert_shows(&self::screen(&app), &["> http://127.0.0.1:8080/hooks/very"]);
}

#[test]
fn removing_a_webhook_asks_first() {
    let mut app = keys_app(SMALL);
    press_char(&mut app, 'x');

    let screen = screen(&app);
    assert_shows(
        &screen,
        &["Confirm", "Remove the webhook of gw_ma000000 (mail-bot)?"],
    );
    assert_shows(&screen, &["y / Enter: yes    n / Esc: no"]);
    insta::assert_snapshot!("confirm_remove_80x24", screen);
}

#[test]
fn a_new_key_is_shown_once_in_full() {
    let mut app = keys_app(SMALL);
    let plaintext = format!("gw_{}", "ab12".repeat(16));
    app.update(Action::KeyCreated {
        name: "ops-bot".into(),
        plaintext: plaintext.clone(),
    });

    let screen = screen(&app);
    assert_shows(&screen, &["New API key", "Key for ops-bot:", &plaintext]);
    insta::assert_snapshot!("new_key_80x24", screen);
}

#[test]
fn a_delivery_shows_every_attempt_with_the_answer() {
    let mut app = deliveries_app(LARGE);
    let mut first = attempt(3, None, Some("connection refused"));
    first.attempt = 1;
    let attempts = vec![first, attempt(3, Some(500), None)];
    app.update(Action::Attempts {
        delivery: Box::new(delivery(3, "failed")),
        attempts,
    });

    let screen = screen(&app);
    assert_shows(
        &screen,
        &["Delivery dlv-0003", "connection refused", "500 12 ms  ok"],
    );
    insta::assert_snapshot!("attempts_120x40", screen);
}

// NO_COLOR.

#[test]
fn monochrome_uses_no_colour_and_still_marks_flags_and_selection() {
    let mut app = detail_app(SMALL);
    app.monochrome = true;
    let buffer = draw(&app);

    let coloured = buffer
        .content
        .iter()
        .filter(|cell| cell.fg != Color::Reset || cell.bg != Color::Reset)
        .count();
    assert_eq!(coloured, 0, "NO_COLOR screen has coloured cells");

    let screen = text_of(&buffer);
    assert_shows(&screen, &["!  URG", "FLAGGED Wire"]);
    let flagged_row = screen
        .lines()
        .position(|l| l.contains("FLAGGED Wire"))
        .expect("row");
    let priority = buffer[(4, u16::try_from(flagged_row).expect("a row"))].modifier;
    assert!(
        priority.contains(Modifier::REVERSED),
        "the selected row is reversed, not coloured"
    );
    insta::assert_snapshot!("monochrome_detail_80x24", screen);
}

#[test]
fn no_color_turns_colour_off_only_when_it_has_a_value() {
    use contactcmd::tui::wants_monochrome;
    use std::ffi::OsStr;

    assert!(!wants_monochrome(None));
    assert!(
        !wants_monochrome(Some(OsStr::new(""))),
        "set but empty keeps colour"
    );
    assert!(wants_monochrome(Some(OsStr::new("1"))));
}

// Any size.

#[test]
fn every_tab_and_dialog_draws_at_tiny_and_odd_sizes() {
    let sizes = [(1, 1), (10, 3), (20, 6), (40, 10), (79, 23), (200, 60)];
    for size in sizes {
        for app in [
            detail_app(size),
            keys_app(size),
            deliveries_app(size),
            history_app(size),
        ] {
            draw(&app);
        }
        let mut help = queue_app(size);
        press_char(&mut help, '?');
        draw(&help);
        let mut confirm = keys_app(size);
        press_char(&mut confirm, 'r');
        draw(&confirm);
    }
}
