//! The console's state machine driven as the terminal would drive it: key and
//! mouse events in, state and worker commands out. No terminal, no database:
//! the worker's answers are fed back by hand as `Loaded` windows.

mod console_fixtures;

use console_fixtures::*;
use contactcmd::gateway::Status;
use contactcmd::tui::action::{Action, Command};
use contactcmd::tui::app::{App, DecisionState, Dialog, InputPurpose};
use contactcmd::tui::layout;
use contactcmd::tui::model::Tab;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

fn ctrl_c(app: &mut App) -> Vec<Command> {
    let key = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    app.update(Action::Key(key))
}

fn mouse(app: &mut App, kind: MouseEventKind, column: u16, row: u16) -> Vec<Command> {
    app.update(Action::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }))
}

/// The error shown inside the open input dialog, if any.
fn input_error(app: &App) -> Option<String> {
    match &app.dialog {
        Some(Dialog::Input { error, .. }) => error.clone(),
        _ => None,
    }
}

/// A console on the Keys tab listing `entries`.
fn on_keys_tab(entries: Vec<contactcmd::tui::model::KeyEntry>) -> App {
    let mut app = with_queue(Vec::new());
    let commands = press_char(&mut app, '2');
    load_keys(&mut app, &commands, entries);
    app
}

fn decision_states(app: &App) -> Vec<(String, DecisionState)> {
    let states = app.decisions.iter();
    states
        .map(|d| (d.action.id.clone(), d.state.clone()))
        .collect()
}

// Selection.

#[test]
fn j_k_and_arrows_move_the_selection_and_stop_at_the_ends() {
    let mut app = with_queue(actions(5));

    press_char(&mut app, 'j');
    press(&mut app, KeyCode::Down);
    assert_eq!(app.queue.selected, 2);

    press_char(&mut app, 'k');
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Up);
    assert_eq!(app.queue.selected, 0, "k at the top stays at the top");

    for _ in 0..10 {
        press_char(&mut app, 'j');
    }
    assert_eq!(app.queue.selected, 4, "j at the bottom stays at the bottom");
}

#[test]
fn g_and_shift_g_jump_to_the_first_and_last_rows() {
    let mut app = with_queue(actions(30));

    press_char(&mut app, 'G');
    assert_eq!(app.queue.selected, 29);
    press_char(&mut app, 'g');
    assert_eq!(app.queue.selected, 0);
    press(&mut app, KeyCode::End);
    assert_eq!(app.queue.selected, 29);
    press(&mut app, KeyCode::Home);
    assert_eq!(app.queue.selected, 0);
}

#[test]
fn page_keys_move_a_screenful_and_clamp() {
    let mut app = with_queue(actions(50));
    let page = app.page_rows();

    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.queue.selected, page);
    for _ in 0..10 {
        press(&mut app, KeyCode::PageDown);
    }
    assert_eq!(app.queue.selected, 49);

    press(&mut app, KeyCode::PageUp);
    assert_eq!(app.queue.selected, 49 - page);
    for _ in 0..10 {
        press(&mut app, KeyCode::PageUp);
    }
    assert_eq!(app.queue.selected, 0);
}

#[test]
fn page_down_shows_the_next_page_whatever_shrinks_the_list() {
    let mut app = with_queue(actions(100));
    press(&mut app, KeyCode::Enter);
    let visible = layout::visible_rows(layout::areas(&app).list);

    press(&mut app, KeyCode::PageDown);

    // Lists scroll a page at a time, so one page down must land on the first
    // row of the next page: nothing skipped, nothing shown twice.
    assert_eq!(app.queue.selected, visible);
}

#[test]
fn moving_past_the_loaded_window_fetches_rows_around_the_selection() {
    let (mut app, commands) = started((80, 24));
    load_queue(&mut app, &commands, 100_000, actions(200));

    assert!(
        press_char(&mut app, 'j').is_empty(),
        "row 1 is loaded already"
    );

    let commands = press_char(&mut app, 'G');
    let (_, offset) = queue_fetch(&commands).expect("jumping to the end fetches");
    assert!(
        offset <= 99_999 && offset > 99_000,
        "fetches near the end, not from 0"
    );
    assert_eq!(app.queue.selected, 99_999);
}

// Tabs.

#[test]
fn tab_and_shift_tab_cycle_through_the_tabs_and_fetch_each() {
    let mut app = with_queue(Vec::new());
    let order = [Tab::Keys, Tab::Deliveries, Tab::History, Tab::Queue];
    for tab in order {
        let commands = press(&mut app, KeyCode::Tab);
        assert_eq!(app.tab, tab);
        assert_eq!(commands.len(), 1, "switching to {tab:?} fetches its rows");
    }

    let back_tab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
    app.update(Action::Key(back_tab));
    assert_eq!(app.tab, Tab::History);
    app.update(Action::Key(back_tab));
    assert_eq!(app.tab, Tab::Deliveries);
}

#[test]
fn digits_pick_a_tab_and_its_fetch() {
    let mut app = with_queue(Vec::new());

    assert!(matches!(
        press_char(&mut app, '2')[..],
        [Command::FetchKeys { .. }]
    ));
    assert_eq!(app.tab, Tab::Keys);
    assert!(matches!(
        press_char(&mut app, '3')[..],
        [Command::FetchDeliveries { .. }]
    ));
    assert_eq!(app.tab, Tab::Deliveries);
    assert!(matches!(
        press_char(&mut app, '4')[..],
        [Command::FetchHistory { .. }]
    ));
    assert_eq!(app.tab, Tab::History);
    assert!(matches!(
        press_char(&mut app, '1')[..],
        [Command::FetchQueue { .. }]
    ));
    assert_eq!(app.tab, Tab::Queue);
}

// Filtering.

#[test]
fn typing_a_filter_fetches_the_queue_with_it_at_each_key() {
    let mut app = with_queue(actions(5));
    press_char(&mut app, 'j');

    assert!(press_char(&mut app, '/').is_empty());
    let filters: Vec<_> = "bob"
        .chars()
        .map(|c| queue_filter(&press_char(&mut app, c)))
        .collect();

    let expected = ["b", "bo", "bob"].map(|f| Some(f.to_string()));
    assert_eq!(filters, expected);
    assert_eq!(app.filter.value(), "bob");
    assert_eq!(app.queue.selected, 0, "a new filter starts at the top");
}

#[test]
fn keys_typed_in_the_filter_are_text_not_commands() {
    let mut app = with_queue(actions(5));
    press_char(&mut app, '/');

    let commands = type_text(&mut app, "qa2");

    assert!(!app.quit);
    assert_eq!(app.tab, Tab::Queue);
    assert!(app.decisions.is_empty());
    assert_eq!(queue_filter(&commands).as_deref(), Some("qa2"));
}

#[test]
fn esc_in_the_filter_clears_it_and_refetches_everything() {
    let mut app = with_queue(actions(5));
    press_char(&mut app, '/');
    type_text(&mut app, "bob");

    let commands = press(&mut app, KeyCode::Esc);

    assert_eq!(queue_filter(&commands).as_deref(), Some(""));
    assert_eq!(app.filter.value(), "");
    assert!(!app.filtering);
    assert!(!app.quit, "Esc leaves the filter, not the console");
}

#[test]
fn enter_keeps_the_filter_and_gives_the_keys_back() {
    let mut app = with_queue(actions(5));
    press_char(&mut app, '/');
    type_text(&mut app, "bob");

    assert!(press(&mut app, KeyCode::Enter).is_empty());
    press_char(&mut app, 'j');

    assert_eq!(app.filter.value(), "bob");
    assert!(!app.filtering);
    assert_eq!(
        app.queue.selected, 1,
        "j moves again once the filter is kept"
    );
}

#[test]
fn an_answer_to_an_older_fetch_is_ignored() {
    let (mut app, start) = started((80, 24));
    press_char(&mut app, '/');
    let filtered = press_char(&mut app, 'x');

    load_queue(&mut app, &filtered, 1, vec![action(7)]);
    load_queue(&mut app, &start, 5, actions(5));

    assert_eq!(app.queue.total, 1, "the unfiltered answer came too late");
    assert_eq!(app.queue.rows[0].id, action_id(7));
}

// Marking, approving and denying.

#[test]
fn space_marks_and_moves_down_and_a_second_space_unmarks() {
    let mut app = with_queue(actions(4));

    press_char(&mut app, ' ');
    press_char(&mut app, ' ');
    assert_eq!(app.queue.selected, 2);
    assert_eq!(app.marked.len(), 2);

    press_char(&mut app, 'k');
    press_char(&mut app, ' ');
    let marked: Vec<_> = app.marked.iter().cloned().collect();
    assert_eq!(marked, [action_id(0)]);
}

#[test]
fn a_approves_every_marked_row_and_pins_them_as_sending() {
    let mut app = with_queue(actions(5));
    press_char(&mut app, ' ');
    press_char(&mut app, 'j');
    press_char(&mut app, ' ');
    press_char(&mut app, ' ');

    let commands = press_char(&mut app, 'a');

    let ids = [0, 2, 3].map(action_id);
    assert_eq!(commands, ids.clone().map(Command::Approve));
    assert!(app.marked.is_empty(), "marks are used up");
    let sending = ids.map(|id| (id, DecisionState::Sending));
    assert_eq!(decision_states(&app), sending);
}

#[test]
fn a_uses_up_marks_on_rows_scrolled_out_of_the_loaded_window() {
    let (mut app, commands) = started((80, 24));
    load_queue(&mut app, &commands, 10_000, actions(200));
    press_char(&mut app, ' ');
    // Jumping to the end loads a window that no longer holds the marked row.
    let commands = press_char(&mut app, 'G');
    let (_, offset) = queue_fetch(&commands).expect("a fetch near the end");
    let window = (offset..10_000).map(action).collect();
    load_queue(&mut app, &commands, 10_000, window);

    let commands = press_char(&mut app, 'a');

    assert_eq!(commands, [Command::Approve(action_id(0))]);
    assert!(app.marked.is_empty(), "approved marks must not stay marked");
}

#[test]
fn a_without_marks_approves_the_selected_row() {
    let mut app = with_queue(actions(3));
    press_char(&mut app, 'j');

    let commands = press_char(&mut app, 'a');

    assert_eq!(commands, [Command::Approve(action_id(1))]);
}

#[test]
fn a_on_an_empty_queue_does_nothing_and_says_so() {
    let mut app = with_queue(Vec::new());

    assert!(press_char(&mut app, 'a').is_empty());
    let flash = app.flash.expect("a message in the status bar");
    assert!(flash.error && flash.text.contains("Nothing to approve"));
}

#[test]
fn an_approval_outcome_replaces_sending_and_refreshes() {
    let mut app = with_queue(actions(2));
    press_char(&mut app, 'a');

    let commands = app.update(Action::Decided {
        id: action_id(0),
        outcome: Ok(Status::Sent),
        detail: None,
    });

    let [(_, DecisionState::Finished { text, ok, .. })] = &decision_states(&app)[..] else {
        panic!("one finished decision expected: {:?}", app.decisions);
    };
    assert_eq!((text.as_str(), *ok), ("sent", true));
    assert!(queue_fetch(&commands).is_some());
    assert!(commands.contains(&Command::FetchCounts));
}

#[test]
fn d_asks_for_a_reason_and_enter_denies_every_marked_row_with_it() {
    let mut app = with_queue(actions(3));
    press_char(&mut app, ' ');
    press_char(&mut app, ' ');

    assert!(press_char(&mut app, 'd').is_empty());
    let ids = vec![action_id(0), action_id(1)];
    assert!(matches!(
        &app.dialog,
        Some(Dialog::Input { purpose: InputPurpose::DenyReason { ids: asked }, .. })
            if *asked == ids
    ));
    type_text(&mut app, "not today");
    let commands = press(&mut app, KeyCode::Enter);

    let reason = Some("not today".to_string());
    let denials = ids.iter().map(|id| Command::Deny {
        id: id.clone(),
        reason: reason.clone(),
    });
    assert_eq!(commands, denials.collect::<Vec<_>>());
    assert!(app.dialog.is_none());
    assert!(app.marked.is_empty());
    assert!(decision_states(&app)
        .iter()
        .all(|(_, state)| *state == DecisionState::Denying));
}

#[test]
fn an_empty_deny_reason_means_none() {
    let mut app = with_queue(actions(1));
    press_char(&mut app, 'd');

    let commands = press(&mut app, KeyCode::Enter);

    let deny = Command::Deny {
        id: action_id(0),
        reason: None,
    };
    assert_eq!(commands, [deny]);
}

#[test]
fn esc_in_the_deny_input_cancels_without_quitting() {
    let mut app = with_queue(actions(1));
    press_char(&mut app, 'd');
    type_text(&mut app, "why");

    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert!(app.dialog.is_none());
    assert!(!app.quit);
    assert!(app.decisions.is_empty());
}

#[test]
fn enter_toggles_the_detail_and_esc_closes_it_before_quitting() {
    let mut app = with_queue(actions(1));

    press(&mut app, KeyCode::Enter);
    assert!(app.detail_open);
    press(&mut app, KeyCode::Enter);
    assert!(!app.detail_open);

    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Esc);
    assert!(!app.detail_open);
    assert!(!app.quit);
    press(&mut app, KeyCode::Esc);
    assert!(app.quit);
}

// The Keys tab.

#[test]
fn w_opens_the_webhook_input_prefilled_with_the_current_url() {
    let mut app = on_keys_tab(vec![key("mail-bot", Some("https://bot.example/hooks"))]);

    assert!(press_char(&mut app, 'w').is_empty());

    let Some(Dialog::Input { purpose, input, .. }) = &app.dialog else {
        panic!("an input dialog expected, got {:?}", app.dialog);
    };
    assert_eq!(input.value(), "https://bot.example/hooks");
    let expected = InputPurpose::Webhook {
        key_id: "key-mail-bot".into(),
        key_name: "mail-bot".into(),
    };
    assert_eq!(*purpose, expected);
}

#[test]
fn an_invalid_webhook_url_is_refused_in_place_with_the_reason() {
    let mut app = on_keys_tab(vec![key("mail-bot", None)]);
    press_char(&mut app, 'w');
    type_text(&mut app, "ftp://bot.example/hooks");

    let commands = press(&mut app, KeyCode::Enter);

    assert!(commands.is_empty(), "nothing is saved: {commands:?}");
    let error = input_error(&app).expect("the dialog stays open with an error");
    assert!(error.contains("only http and https"), "{error}");
}

#[test]
fn a_link_local_webhook_url_is_refused() {
    let mut app = on_keys_tab(vec![key("mail-bot", None)]);
    press_char(&mut app, 'w');
    type_text(&mut app, "http://169.254.169.254/latest");

    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert!(input_error(&app).is_some_and(|e| e.contains("refused")));
}

#[test]
fn a_corrected_webhook_url_is_saved() {
    let mut app = on_keys_tab(vec![key("mail-bot", None)]);
    press_char(&mut app, 'w');
    type_text(&mut app, "not a url");
    press(&mut app, KeyCode::Enter);

    let clear = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
    app.update(Action::Key(clear));
    type_text(&mut app, "http://127.0.0.1:9000/hook");
    let commands = press(&mut app, KeyCode::Enter);

    let set = Command::SetWebhook {
        key_id: "key-mail-bot".into(),
        url: "http://127.0.0.1:9000/hook".into(),
    };
    assert_eq!(commands, [set]);
    assert!(app.dialog.is_none());
}

#[test]
fn destructive_keys_ask_first_and_n_or_esc_cancel() {
    for code in ['x', 'R', 'r'] {
        for cancel in [KeyCode::Char('n'), KeyCode::Esc] {
            let mut app = on_keys_tab(vec![key("mail-bot", Some("http://127.0.0.1:1/"))]);

            assert!(press_char(&mut app, code).is_empty(), "{code} acts at once");
            assert!(matches!(app.dialog, Some(Dialog::Confirm { .. })));
            assert!(press(&mut app, cancel).is_empty());
            assert!(app.dialog.is_none());
            assert!(!app.quit, "{cancel:?} cancels, it does not quit");
        }
    }
}

#[test]
fn y_confirms_the_destructive_command() {
    let cases = [
        ('x', Command::RemoveWebhook("key-mail-bot".into())),
        ('R', Command::RotateSecret("key-mail-bot".into())),
        ('r', Command::RevokeKey("key-mail-bot".into())),
    ];
    for (code, expected) in cases {
        let mut app = on_keys_tab(vec![key("mail-bot", Some("http://127.0.0.1:1/"))]);
        press_char(&mut app, code);

        assert_eq!(press_char(&mut app, 'y'), [expected]);
        assert!(app.dialog.is_none());
    }
}

#[test]
fn other_keys_leave_a_confirmation_open() {
    let mut app = on_keys_tab(vec![key("mail-bot", Some("http://127.0.0.1:1/"))]);
    press_char(&mut app, 'r');

    assert!(type_text(&mut app, "jq2").is_empty());
    assert!(matches!(app.dialog, Some(Dialog::Confirm { .. })));
    assert_eq!(app.tab, Tab::Keys);
}

#[test]
fn x_without_a_webhook_says_so_instead_of_asking() {
    let mut app = on_keys_tab(vec![key("mail-bot", None)]);

    assert!(press_char(&mut app, 'x').is_empty());
    assert!(app.dialog.is_none());
    assert!(app.flash.is_some_and(|f| f.text.contains("no webhook")));
}

#[test]
fn n_refuses_an_empty_name_and_adds_a_named_key() {
    let mut app = on_keys_tab(Vec::new());
    press_char(&mut app, 'n');

    assert!(press(&mut app, KeyCode::Enter).is_empty());
    assert!(input_error(&app).is_some_and(|e| e.contains("name")));

    type_text(&mut app, "ops-bot");
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        [Command::AddKey("ops-bot".into())]
    );
}

#[test]
fn a_new_key_is_shown_until_dismissed() {
    let mut app = on_keys_tab(Vec::new());
    app.update(Action::KeyCreated {
        name: "ops-bot".into(),
        plaintext: "gw_secret".into(),
    });
    assert!(matches!(app.dialog, Some(Dialog::NewKey { .. })));

    press_char(&mut app, 'j');
    assert!(
        app.dialog.is_some(),
        "an unrelated key keeps the key on screen"
    );
    press(&mut app, KeyCode::Enter);
    assert!(app.dialog.is_none());
}

#[test]
fn t_and_s_ask_the_worker_about_the_selected_key() {
    let mut app = on_keys_tab(vec![key("a-bot", None), key("mail-bot", None)]);
    press_char(&mut app, 'j');

    assert_eq!(
        press_char(&mut app, 't'),
        [Command::TestPing("key-mail-bot".into())]
    );
    assert_eq!(
        press_char(&mut app, 's'),
        [Command::ShowSecret("key-mail-bot".into())]
    );
}

// Deliveries and History.

#[test]
fn f_on_deliveries_toggles_failed_only_and_refetches() {
    let mut app = with_queue(Vec::new());
    press_char(&mut app, '3');

    let commands = press_char(&mut app, 'f');
    assert!(matches!(
        commands[..],
        [Command::FetchDeliveries {
            failed_only: true,
            ..
        }]
    ));
    let commands = press_char(&mut app, 'f');
    assert!(matches!(
        commands[..],
        [Command::FetchDeliveries {
            failed_only: false,
            ..
        }]
    ));
}

#[test]
fn r_retries_only_a_failed_delivery_and_enter_loads_its_attempts() {
    let mut app = with_queue(Vec::new());
    let commands = press_char(&mut app, '3');
    load_deliveries(
        &mut app,
        &commands,
        vec![delivery(1, "delivered"), delivery(2, "failed")],
    );

    assert!(
        press_char(&mut app, 'r').is_empty(),
        "a delivered one is not retried"
    );
    assert!(app.flash.as_ref().is_some_and(|f| f.error));
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        [Command::LoadAttempts("dlv-0001".into())]
    );

    press_char(&mut app, 'j');
    assert_eq!(
        press_char(&mut app, 'r'),
        [Command::RetryDelivery("dlv-0002".into())]
    );
}

#[test]
fn f_on_history_cycles_through_the_decided_statuses() {
    let mut app = with_queue(Vec::new());
    press_char(&mut app, '4');

    let mut seen = Vec::new();
    for _ in 0..4 {
        match press_char(&mut app, 'f')[..] {
            [Command::FetchHistory { status, .. }] => seen.push(status),
            ref other => panic!("a history fetch expected, got {other:?}"),
        }
    }
    let expected = [
        Some(Status::Sent),
        Some(Status::Denied),
        Some(Status::Failed),
        None,
    ];
    assert_eq!(seen, expected);
}

// Help, dialogs and quitting.

#[test]
fn question_mark_opens_help_and_esc_closes_it_before_quitting() {
    let mut app = with_queue(actions(1));

    press_char(&mut app, '?');
    assert!(matches!(app.dialog, Some(Dialog::Help)));
    press(&mut app, KeyCode::Esc);
    assert!(app.dialog.is_none());
    assert!(!app.quit, "the first Esc only closes help");

    press(&mut app, KeyCode::Esc);
    assert!(app.quit);
}

#[test]
fn q_quits() {
    let mut app = with_queue(actions(1));

    assert!(press_char(&mut app, 'q').is_empty());
    assert!(app.quit);
}

#[test]
fn q_typed_in_an_input_is_text() {
    let mut app = on_keys_tab(Vec::new());
    press_char(&mut app, 'n');

    press_char(&mut app, 'q');

    assert!(!app.quit);
    assert!(matches!(&app.dialog, Some(Dialog::Input { input, .. }) if input.value() == "q"));
}

#[test]
fn ctrl_c_quits_even_from_a_dialog_or_the_filter() {
    let mut in_dialog = on_keys_tab(Vec::new());
    press_char(&mut in_dialog, 'n');
    assert!(ctrl_c(&mut in_dialog).is_empty());
    assert!(in_dialog.quit);

    let mut in_filter = with_queue(actions(1));
    press_char(&mut in_filter, '/');
    ctrl_c(&mut in_filter);
    assert!(in_filter.quit);
}

// Engine events.

#[test]
fn a_commit_elsewhere_refetches_the_tab_on_screen_and_the_counts() {
    let mut app = with_queue(actions(1));
    press_char(&mut app, '3');

    let commands = app.update(Action::DataChanged);

    assert!(matches!(commands[0], Command::FetchDeliveries { .. }));
    assert!(commands.contains(&Command::FetchCounts));
}

#[test]
fn a_row_decided_elsewhere_leaves_the_list_and_the_selection_stays_inside() {
    let mut app = with_queue(actions(3));
    press_char(&mut app, 'G');

    let commands = app.update(Action::DataChanged);
    load_queue(&mut app, &commands, 2, actions(2));

    assert_eq!(app.queue.total, 2);
    assert_eq!(app.queue.selected, 1);
}

#[test]
fn rows_missing_after_many_leave_elsewhere_are_fetched_without_a_keypress() {
    let (mut app, commands) = started((80, 24));
    load_queue(&mut app, &commands, 1_000, actions(200));
    let commands = press_char(&mut app, 'G');
    let (_, offset) = queue_fetch(&commands).expect("a fetch near the end");
    load_queue(
        &mut app,
        &commands,
        1_000,
        (offset..1_000).map(action).collect(),
    );

    // Another process decides all but ten: the window the app asked for
    // starts past the new end and comes back empty.
    let commands = app.update(Action::DataChanged);
    let next = load_queue(&mut app, &commands, 10, Vec::new());

    assert_eq!(app.queue.selected, 9);
    let (_, offset) = queue_fetch(&next).expect("the rows now selected are fetched");
    assert_eq!(offset, 0);
    load_queue(&mut app, &next, 10, actions(10));
    assert!(app.queue.selected_row().is_some());
}

// Mouse.

#[test]
fn the_wheel_scrolls_the_selection() {
    let mut app = with_queue(actions(10));

    mouse(&mut app, MouseEventKind::ScrollDown, 10, 5);
    mouse(&mut app, MouseEventKind::ScrollDown, 10, 5);
    assert_eq!(app.queue.selected, 6);
    mouse(&mut app, MouseEventKind::ScrollUp, 10, 5);
    assert_eq!(app.queue.selected, 3);
}

#[test]
fn a_click_on_a_row_selects_it() {
    let mut app = with_queue(actions(10));
    let list = layout::areas(&app).list;
    // Rows start under the top border and the header line.
    let fourth_row = list.y + 2 + 3;

    mouse(&mut app, left_click(), list.x + 5, fourth_row);

    assert_eq!(app.queue.selected, 3);
}

#[test]
fn a_click_on_the_header_or_border_selects_nothing() {
    let mut app = with_queue(actions(10));
    press_char(&mut app, 'j');
    let list = layout::areas(&app).list;

    mouse(&mut app, left_click(), list.x + 5, list.y + 1);
    mouse(&mut app, left_click(), list.x, list.y + 4);
    mouse(&mut app, left_click(), list.x + 5, list.y + 15);

    assert_eq!(app.queue.selected, 1);
}

#[test]
fn a_click_on_a_row_with_the_detail_open_selects_it() {
    let mut app = with_queue(actions(10));
    press(&mut app, KeyCode::Enter);
    let list = layout::areas(&app).list;

    mouse(&mut app, left_click(), list.x + 5, list.y + 2 + 2);

    assert_eq!(app.queue.selected, 2);
}

#[test]
fn a_click_on_a_tab_title_switches_to_it() {
    let mut app = with_queue(Vec::new());
    let tabs = layout::areas(&app).tabs;
    let queue_width = layout::tab_title(Tab::Queue).chars().count() as u16;

    let commands = mouse(&mut app, left_click(), tabs.x + queue_width + 2, tabs.y);

    assert_eq!(app.tab, Tab::Keys);
    assert!(matches!(commands[..], [Command::FetchKeys { .. }]));
}

#[test]
fn clicking_another_tab_while_filtering_gives_the_keys_to_that_tab() {
    let mut app = with_queue(actions(3));
    press_char(&mut app, '/');
    type_text(&mut app, "lunch");
    let tabs = layout::areas(&app).tabs;
    let queue_width = layout::tab_title(Tab::Queue).chars().count() as u16;
    mouse(&mut app, left_click(), tabs.x + queue_width + 2, tabs.y);

    press_char(&mut app, 'n');

    assert!(matches!(
        &app.dialog,
        Some(Dialog::Input {
            purpose: InputPurpose::KeyName,
            ..
        })
    ));
    assert_eq!(app.filter.value(), "lunch", "the queue keeps its filter");
}

#[test]
fn the_mouse_does_nothing_while_a_dialog_is_open() {
    let mut app = with_queue(actions(10));
    press_char(&mut app, '?');

    mouse(&mut app, MouseEventKind::ScrollDown, 10, 5);

    assert_eq!(app.queue.selected, 0);
}

fn left_click() -> MouseEventKind {
    MouseEventKind::Down(crossterm::event::MouseButton::Left)
}
