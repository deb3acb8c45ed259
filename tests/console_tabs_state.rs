//! The other tabs, dialogs, quitting and the mouse, driven as the terminal
//! would drive them: key and mouse events in, state and worker commands
//! out. No terminal, no database: the worker's answers are fed back by hand.

mod console_fixtures;

use console_fixtures::*;
use contactcmd::gateway::Status;
use contactcmd::tui::action::{Action, Command};
use contactcmd::tui::app::{Dialog, InputPurpose};
use contactcmd::tui::layout;
use contactcmd::tui::model::Tab;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEventKind};

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
fn editing_a_refused_url_clears_the_refusal() {
    let mut app = on_keys_tab(vec![key("mail-bot", None)]);
    press_char(&mut app, 'w');
    type_text(&mut app, "ftp://bot.example/");
    press(&mut app, KeyCode::Enter);
    assert!(input_error(&app).is_some());

    press(&mut app, KeyCode::Left);
    assert!(
        input_error(&app).is_some(),
        "moving the cursor changes nothing"
    );
    press(&mut app, KeyCode::Backspace);

    assert_eq!(input_error(&app), None);
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

// Size, secrets and q over dialogs.

#[test]
fn a_resize_changes_the_size_and_what_a_page_is() {
    let mut app = with_queue(actions(100));
    let small_page = app.page_rows();

    assert!(app.update(Action::Resize(120, 40)).is_empty());

    assert_eq!(app.size, (120, 40));
    assert_eq!(app.page_rows(), small_page + 16);
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.queue.selected, small_page + 16);
}

#[test]
fn the_secret_is_shown_until_dismissed_and_says_whether_it_is_new() {
    let mut app = on_keys_tab(vec![key("mail-bot", Some("http://127.0.0.1:1/"))]);
    for rotated in [false, true] {
        app.update(Action::SecretShown {
            key_name: "mail-bot".into(),
            secret: "whsec_c2VjcmV0".into(),
            rotated,
        });
        assert!(matches!(
            &app.dialog,
            Some(Dialog::Secret { rotated: r, .. }) if *r == rotated
        ));
        press_char(&mut app, 'j');
        assert!(
            app.dialog.is_some(),
            "an unrelated key keeps the secret on screen"
        );
        press(&mut app, KeyCode::Esc);
        assert!(app.dialog.is_none());
        assert!(!app.quit);
    }
}

#[test]
fn q_closes_help_and_shown_keys_but_not_a_question_and_never_quits_from_them() {
    let mut app = on_keys_tab(vec![key("mail-bot", Some("http://127.0.0.1:1/"))]);

    press_char(&mut app, '?');
    press_char(&mut app, 'q');
    assert!(app.dialog.is_none() && !app.quit, "q closes help");

    app.update(Action::KeyCreated {
        name: "ops-bot".into(),
        plaintext: "gw_secret".into(),
    });
    press_char(&mut app, 'q');
    assert!(app.dialog.is_none() && !app.quit, "q closes the new key");

    press_char(&mut app, 'r');
    press_char(&mut app, 'q');
    assert!(
        matches!(app.dialog, Some(Dialog::Confirm { .. })),
        "a question needs y or n"
    );
    assert!(!app.quit);
}
