//! The queue's state machine driven as the terminal would drive it: key
//! events and the worker's answers in, selection, marks, decisions and
//! fetches out. No terminal, no database: the worker's answers are fed back
//! by hand as `Loaded` windows, or by `answer_queue` from a list standing in
//! for the database.

mod console_fixtures;

use console_fixtures::*;
use contactcmd::gateway::Status;
use contactcmd::tui::action::{Action, Command};
use contactcmd::tui::app::{DecisionState, Dialog, InputPurpose};
use contactcmd::tui::layout;
use contactcmd::tui::model::Tab;
use crossterm::event::KeyCode;

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

// The selection follows the message, not its row number.

/// Actions `numbers` as the database lists them: newest (highest id) first.
fn waiting(numbers: &[usize]) -> Vec<contactcmd::store::ActionRow> {
    let mut rows: Vec<_> = numbers.iter().map(|&n| action(n)).collect();
    rows.sort_by(|a, b| b.id.cmp(&a.id));
    rows
}

fn selected_id(app: &contactcmd::tui::app::App) -> Option<String> {
    app.queue.selected_row().map(|a| a.id.clone())
}

/// A queue of actions 1 to 3, the middle one (2) selected.
fn middle_selected() -> contactcmd::tui::app::App {
    let (mut app, commands) = started((80, 24));
    answer_queue(&mut app, &commands, &waiting(&[1, 2, 3]));
    press_char(&mut app, 'j');
    assert_eq!(selected_id(&app), Some(action_id(2)));
    app
}

#[test]
fn a_new_message_on_top_leaves_the_selection_on_the_same_message() {
    let mut app = middle_selected();

    let commands = app.update(Action::DataChanged);
    answer_queue(&mut app, &commands, &waiting(&[1, 2, 3, 4]));

    assert_eq!(selected_id(&app), Some(action_id(2)));
    assert_eq!(
        app.queue.selected, 2,
        "it moved down a row with its message"
    );
    assert_eq!(press_char(&mut app, 'a'), [Command::Approve(action_id(2))]);
}

#[test]
fn a_message_above_decided_elsewhere_leaves_the_selection_on_the_same_message() {
    let mut app = middle_selected();

    let commands = app.update(Action::DataChanged);
    answer_queue(&mut app, &commands, &waiting(&[1, 2]));

    assert_eq!(selected_id(&app), Some(action_id(2)));
    assert_eq!(app.queue.selected, 0);
}

#[test]
fn when_the_selected_message_is_decided_elsewhere_the_next_one_is_selected() {
    let mut app = middle_selected();

    let commands = app.update(Action::DataChanged);
    answer_queue(&mut app, &commands, &waiting(&[1, 3, 4]));

    // 4 arrived on top and 2 went: the row after 2 in the list is 1.
    assert_eq!(selected_id(&app), Some(action_id(1)));
}

#[test]
fn the_selection_follows_its_message_out_of_the_loaded_window() {
    let (mut app, commands) = started((80, 24));
    let mut numbers: Vec<usize> = (0..1_000).collect();
    answer_queue(&mut app, &commands, &waiting(&numbers));
    press_char(&mut app, 'j');
    let followed = selected_id(&app);

    // Far more arrive than one window holds, all above the selection.
    numbers.extend(5_000..5_500);
    let commands = app.update(Action::DataChanged);
    answer_queue(&mut app, &commands, &waiting(&numbers));

    assert_eq!(selected_id(&app), followed);
    assert_eq!(app.queue.selected, 501);
}

#[test]
fn a_new_filter_starts_at_the_top_whatever_was_selected() {
    let mut app = middle_selected();
    press_char(&mut app, '/');

    let commands = press_char(&mut app, '1');

    assert!(matches!(
        &commands[..],
        [Command::FetchQueue { around: None, .. }]
    ));
    assert_eq!(app.queue.selected, 0);
}

// Marks on messages decided elsewhere.

#[test]
fn a_mark_on_a_message_decided_elsewhere_goes_and_a_acts_on_the_selection() {
    let mut app = middle_selected();
    press_char(&mut app, ' ');
    assert_eq!(app.marked.len(), 1);

    let commands = app.update(Action::DataChanged);
    answer_queue(&mut app, &commands, &waiting(&[1, 3]));

    assert!(
        app.marked.is_empty(),
        "the mark on 2 stayed: {:?}",
        app.marked
    );
    assert_eq!(press_char(&mut app, 'a'), [Command::Approve(action_id(1))]);
}

#[test]
fn marks_are_asked_about_and_stay_while_a_filter_hides_their_messages() {
    let mut app = middle_selected();
    press_char(&mut app, ' ');
    press_char(&mut app, '/');

    let commands = press_char(&mut app, 'z');
    let Some(Command::FetchQueue { marked, .. }) = commands.first() else {
        panic!("a queue fetch expected: {commands:?}");
    };
    assert_eq!(*marked, [action_id(2)], "the fetch asks about the mark");
    load_queue(&mut app, &commands, 0, Vec::new());

    assert_eq!(app.marked.len(), 1, "not listed is not decided");
}

#[test]
fn a_failed_decision_drops_the_mark_it_left() {
    let mut app = middle_selected();
    press_char(&mut app, 'a');
    // The row is still listed until the refresh, so it can be marked again.
    press_char(&mut app, ' ');
    assert!(app.marked.contains(&action_id(2)));

    app.update(Action::Decided {
        id: action_id(2),
        outcome: Err("action is already denied".into()),
        detail: None,
    });

    assert!(app.marked.is_empty());
}

// Time: messages fade, outcomes unpin.

#[test]
fn a_message_fades_after_five_seconds() {
    let mut app = with_queue(actions(1));
    let start = app_moment(&app);
    press_char(&mut app, 'a');
    assert!(app.flash.is_some());

    app.update(Action::Tick(after(start, 4.9)));
    assert!(app.flash.is_some(), "gone before its time");
    app.update(Action::Tick(after(start, 5.0)));
    assert!(app.flash.is_none(), "still there after five seconds");
}

#[test]
fn an_outcome_stays_pinned_for_six_seconds_then_goes() {
    let mut app = with_queue(actions(2));
    press_char(&mut app, 'a');
    press_char(&mut app, 'j');
    press_char(&mut app, 'a');
    let start = app_moment(&app);
    app.update(Action::Decided {
        id: action_id(0),
        outcome: Ok(Status::Sent),
        detail: None,
    });

    app.update(Action::Tick(after(start, 5.9)));
    assert_eq!(app.decisions.len(), 2);
    app.update(Action::Tick(after(start, 6.0)));

    let left = decision_states(&app);
    assert_eq!(
        left,
        [(action_id(1), DecisionState::Sending)],
        "a send in progress stays"
    );
}

#[test]
fn ticks_move_the_clock_ages_are_read_against() {
    let mut app = with_queue(actions(1));
    let start = app_moment(&app);

    app.update(Action::Tick(after(start, 90.0)));

    assert_eq!(app.now, start.wall + chrono::Duration::seconds(90));
}

/// The app's clocks as they stand.
fn app_moment(app: &contactcmd::tui::app::App) -> contactcmd::tui::action::Now {
    contactcmd::tui::action::Now {
        instant: app.instant,
        wall: app.now,
    }
}
