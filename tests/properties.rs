//! Property tests for the two places where any input must be survived:
//! request validation and the status machine.
//!
//! - `intake_survives_any_bytes` and `intake_survives_any_json`: the send
//!   parser never panics, and what it accepts is a message the gateway can
//!   store (a body, a subject for email, flagged exactly when there is a
//!   flag reason).
//! - `arbitrary_send_bodies_over_http`: one real server gets arbitrary
//!   bodies on `/gateway/send`; each answer is a 200 or a 4xx with a JSON
//!   body, never a 5xx or a dropped connection, and the `actions` table
//!   grows by one row exactly when the answer is 200.
//! - `decisions_in_any_order_follow_the_status_machine`: arbitrary
//!   interleavings of approve, deny, finish (ok or failed) and the sweep of
//!   interrupted sends from several callers, each with its own connection
//!   to one SQLite file, do exactly what a model of the status machine
//!   says, and every terminal status has exactly one webhook delivery.
//! - `racing_callers_never_decide_twice`: the same moves run at once from
//!   threads, some through the store's group-commit writer and some through
//!   connections of their own (as a second process would): no action is
//!   decided twice, sent twice, reported twice or moved out of a final
//!   status.
//! - `the_model_knows_every_final_status_is_final`: the model those two
//!   compare against cannot itself leave a final status.
//!
//! Case counts are kept small so the file runs in seconds on two cores.

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Barrier};

use contactcmd::clock;
use contactcmd::gateway::{decide, intake, keys, Error, Status};
use contactcmd::store::{self, Store};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use serde_json::{Map, Value};

use common::TestDir;

// ---------------------------------------------------------------------------
// Generators for request bodies.

/// The fields `/gateway/send` knows, so generated objects often hit them.
const FIELDS: &[&str] = &[
    "channel",
    "recipient_address",
    "recipient_name",
    "subject",
    "body",
    "priority",
    "context",
];

/// Strings that mean something to the parser: valid and nearly valid
/// choices, addresses, a card number, blanks, control characters.
const WORDS: &[&str] = &[
    "email",
    "sms",
    "imessage",
    "EMAIL",
    "fax",
    "urgent",
    "high",
    "normal",
    "low",
    "+15550100",
    "(555) 010-0199",
    "+",
    "12",
    "dana@example.com",
    "not an address",
    "a@b",
    "4111 1111 1111 1111",
    "078-05-1120",
    "",
    "   ",
    "line\nbreak",
    "\u{0}",
    "Hello",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(str::to_string),
        2 => "\\PC{0,24}",
        1 => any::<String>(),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop_oneof![
            prop::sample::select(FIELDS).prop_map(str::to_string),
            text()
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Values a field plausibly holds, valid or nearly so.
fn plausible(field: &str) -> &'static [&'static str] {
    match field {
        "channel" => &["email", "sms", "imessage"],
        "recipient_address" => &["+15550100", "(555) 010-0199", "dana@example.com", "a@b"],
        "recipient_name" => &["Dana Reyes", "", "  Dana  "],
        "subject" => &["Thursday", "", "two\nlines"],
        "body" => &[
            "Hi",
            "card 4111 1111 1111 1111",
            "ssn 078-05-1120",
            " ",
            "a\nb",
        ],
        "priority" => &["urgent", "high", "normal", "low"],
        _ => &[""],
    }
}

/// One field of a send request: usually plausible, sometimes any JSON,
/// sometimes missing.
fn field(name: &'static str) -> impl Strategy<Value = Option<Value>> {
    let value = match name {
        "context" => prop_oneof![
            8 => prop::collection::btree_map(text(), json_value(), 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            1 => json_value(),
        ]
        .boxed(),
        _ => prop_oneof![
            14 => prop::sample::select(plausible(name)).prop_map(Value::from),
            1 => text().prop_map(Value::String),
            1 => json_value(),
        ]
        .boxed(),
    };
    let required = matches!(name, "channel" | "recipient_address" | "body");
    prop::option::weighted(if required { 0.95 } else { 0.5 }, value)
}

/// A send request whose every field may be missing, plausible or junk:
/// the shape most likely to reach the parser's deeper checks, and to be
/// accepted now and then.
fn message() -> impl Strategy<Value = Value> {
    let fields: Vec<_> = FIELDS.iter().map(|&name| field(name)).collect();
    fields.prop_map(|values| {
        let fields: Map<String, Value> = FIELDS
            .iter()
            .zip(values)
            .filter_map(|(name, value)| Some((name.to_string(), value?)))
            .collect();
        Value::Object(fields)
    })
}

/// A message the gateway should accept, with a random choice of optional
/// fields and text that may or may not be flagged.
fn valid_message() -> impl Strategy<Value = Value> {
    let to = prop_oneof![
        Just(("sms", "+1 (555) 010-0199")),
        Just(("imessage", "+15550100")),
        Just(("imessage", "dana@example.com")),
        Just(("email", "dana@example.com")),
    ];
    let optional = prop::collection::vec(any::<bool>(), 3);
    let body = prop::sample::select(&["Hi", "card 4111 1111 1111 1111", "ssn 078-05-1120"][..]);
    (to, optional, body, "\\PC{1,40}").prop_map(|((channel, to), optional, body, name)| {
        let mut message = serde_json::json!({
            "channel": channel, "recipient_address": to, "body": body, "subject": "Hello",
        });
        let extra = [
            ("recipient_name", Value::from(name)),
            ("priority", Value::from("urgent")),
            ("context", serde_json::json!({ "thread": 42 })),
        ];
        for ((field, value), include) in extra.into_iter().zip(optional) {
            if include {
                message[field] = value;
            }
        }
        message
    })
}

/// Bytes to POST: mostly JSON, some of it cut short or corrupted, some not
/// JSON at all.
fn request_body() -> impl Strategy<Value = Vec<u8>> {
    let encoded = |value: Value| serde_json::to_vec(&value).unwrap_or_default();
    prop_oneof![
        3 => message().prop_map(encoded),
        2 => valid_message().prop_map(encoded),
        1 => json_value().prop_map(encoded),
        1 => (message().prop_map(encoded), any::<prop::sample::Index>(), any::<u8>())
            .prop_map(|(mut bytes, at, byte)| {
                if !bytes.is_empty() {
                    let at = at.index(bytes.len());
                    bytes[at] = byte;
                }
                bytes
            }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

// ---------------------------------------------------------------------------
// Request validation.

/// Checks what the parser did with `body`: any refusal is fine, and an
/// accepted message must be one the gateway can store and send.
fn check_parse(body: &[u8]) -> Result<(), TestCaseError> {
    let Ok(row) = intake::parse(body, "key") else {
        return Ok(());
    };
    prop_assert!(!row.body.trim().is_empty(), "accepted a blank body");
    prop_assert!(!row.recipient_address.is_empty());
    if row.channel == contactcmd::gateway::Channel::Email {
        prop_assert!(row.subject.is_some(), "accepted an email without subject");
    }
    prop_assert!(matches!(row.status, Status::Pending | Status::Flagged));
    prop_assert_eq!(row.flag_reason.is_some(), row.status == Status::Flagged);
    if let Some(context) = &row.agent_context {
        let parsed: Value = serde_json::from_str(context).expect("stored context is JSON");
        prop_assert!(parsed.is_object());
    }
    Ok(())
}

proptest! {
    #![proptest_config(RunnerConfig::with_cases(512))]

    #[test]
    fn intake_survives_any_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check_parse(&body)?;
    }

    #[test]
    fn intake_survives_any_json(value in prop_oneof![message(), json_value()]) {
        check_parse(&serde_json::to_vec(&value).expect("encode"))?;
    }
}

#[test]
fn arbitrary_send_bodies_over_http() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = TestDir::new();
    let key = runtime.block_on(dir.add_key("fuzzer"));
    let server = dir.start_server();
    let db = dir.db();
    let count = || -> i64 {
        db.query_row("SELECT count(*) FROM actions", [], |row| row.get(0))
            .expect("count actions")
    };

    let mut runner = TestRunner::new(RunnerConfig::with_cases(96));
    let result = runner.run(&request_body(), |body| {
        let before = count();
        // `send_raw` fails the case if the connection drops or the answer
        // is not JSON.
        let reply = runtime.block_on(server.send_raw(Some(&key), body));
        prop_assert!(reply.status < 500, "{reply:?}");
        prop_assert!(reply.status == 200 || reply.status == 400, "{reply:?}");
        prop_assert_eq!(&reply.body["success"], &Value::Bool(reply.status == 200));
        let written = count() - before;
        prop_assert_eq!(written, i64::from(reply.status == 200), "{:?}", reply);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

// ---------------------------------------------------------------------------
// The status machine.

/// One move on an action, as the gateway's parts make them.
#[derive(Clone, Copy, Debug)]
enum Move {
    Approve,
    Deny {
        with_reason: bool,
    },
    /// The transport's verdict on an approved action.
    Finish {
        ok: bool,
    },
    /// The sweep for sends whose process died; bit `i` of `running` says
    /// action `i`'s send is still running.
    FailInterrupted {
        running: u8,
    },
}

fn a_move() -> impl Strategy<Value = Move> {
    prop_oneof![
        3 => Just(Move::Approve),
        2 => any::<bool>().prop_map(|with_reason| Move::Deny { with_reason }),
        3 => any::<bool>().prop_map(|ok| Move::Finish { ok }),
        1 => any::<u8>().prop_map(|running| Move::FailInterrupted { running }),
    ]
}

/// What a move did to the action it named (or, for the sweep, which of
/// the case's actions it failed).
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Moved(Status),
    Refused(Status),
    Swept(Vec<String>),
}

/// A database with one key whose webhook is set, so every terminal change
/// writes a delivery row. Each case adds actions of its own.
struct Db {
    _dir: tempfile::TempDir,
    store: Store,
    key_id: String,
    runtime: tokio::runtime::Runtime,
}

impl Db {
    fn new() -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join(store::DATABASE_FILE)).expect("open store");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let issued = keys::issue("agent").expect("issue key");
        let key_id = issued.row.id.clone();
        let id = key_id.clone();
        runtime
            .block_on(store.write(move |conn| {
                store::keys::insert(conn, &issued.row)?;
                store::keys::set_webhook_url(conn, &id, Some("http://127.0.0.1:9/hook"))
            }))
            .expect("store key");
        Db {
            _dir: dir,
            store,
            key_id,
            runtime,
        }
    }

    fn path(&self) -> &Path {
        self.store.path()
    }

    /// Queues one action per entry, flagged where the entry is true.
    fn add_actions(&self, flagged: &[bool]) -> Vec<String> {
        let rows: Vec<_> = flagged
            .iter()
            .map(|&flag| {
                let text = if flag {
                    "card 4111 1111 1111 1111"
                } else {
                    "hi"
                };
                let body = format!(
                    r#"{{"channel":"sms","recipient_address":"+15550100","body":"{text}"}}"#
                );
                intake::parse(body.as_bytes(), &self.key_id).expect("valid message")
            })
            .collect();
        let ids = rows.iter().map(|row| row.id.clone()).collect();
        self.runtime
            .block_on(self.store.write(move |conn| {
                for row in &rows {
                    assert!(store::actions::insert(conn, row)?, "action stored");
                }
                Ok(())
            }))
            .expect("store actions");
        ids
    }

    /// A connection of its own, set up as the gateway sets up its own.
    fn connect(&self) -> Connection {
        let conn = Connection::open(self.path()).expect("open database");
        conn.busy_timeout(common::DEADLINE).expect("busy timeout");
        conn.pragma_update(None, "foreign_keys", "ON")
            .expect("foreign keys");
        conn
    }

    fn status(&self, id: &str) -> Status {
        let conn = self.read_only();
        conn.query_row("SELECT status FROM actions WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .expect("read status")
    }

    /// Event types of the webhook deliveries written for `id`.
    fn deliveries(&self, id: &str) -> Vec<String> {
        let conn = self.read_only();
        let mut statement = conn
            .prepare("SELECT event_type FROM webhook_deliveries WHERE action_id = ?1")
            .expect("prepare");
        let rows = statement.query_map([id], |r| r.get(0)).expect("query");
        rows.map(|row| row.expect("row")).collect()
    }

    fn read_only(&self) -> Connection {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Connection::open_with_flags(self.path(), flags).expect("open read-only")
    }
}

/// The work of one move: runs `change` on the action `ids[index]` (or on
/// every listed action, for the sweep) inside one transaction.
fn run_move(conn: &Connection, ids: &[String], index: usize, change: Move) -> Outcome {
    let id = ids[index].as_str();
    let at = clock::now_text();
    match change {
        Move::Approve => outcome(decide::approve(conn, id, std::process::id(), &at)),
        Move::Deny { with_reason } => {
            let reason = with_reason.then_some("not this one");
            outcome(decide::deny(conn, id, reason, &at))
        }
        Move::Finish { ok } => {
            let verdict = if ok { Ok(()) } else { Err("transport failed") };
            outcome(decide::finish(conn, id, verdict, &at))
        }
        Move::FailInterrupted { running } => {
            // Actions of earlier cases count as still running, so a case
            // sweeps only its own.
            let still_running = |sending: &store::actions::SendingAction| {
                ids.iter()
                    .position(|id| *id == sending.id)
                    .is_none_or(|i| running & (1 << i) != 0)
            };
            let failed = decide::fail_interrupted(conn, still_running, &at).expect("sweep");
            let mut swept: Vec<String> = failed.into_iter().map(|d| d.action.id).collect();
            swept.sort();
            Outcome::Swept(swept)
        }
    }
}

fn outcome(decision: decide::Decision) -> Outcome {
    match decision.expect("SQL of a move") {
        Ok(decided) => Outcome::Moved(decided.action.status),
        Err(Error::AlreadyDecided { status, .. }) => Outcome::Refused(status),
        Err(other) => panic!("unexpected refusal: {other}"),
    }
}

/// Runs `change` in its own immediate transaction on `conn`.
fn run_on_connection(conn: &mut Connection, ids: &[String], index: usize, change: Move) -> Outcome {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("begin");
    let result = run_move(&tx, ids, index, change);
    tx.commit().expect("commit");
    result
}

/// Runs `change` through the store's group-commit writer.
fn run_on_store(db: &Db, ids: &[String], index: usize, change: Move) -> Outcome {
    let ids = ids.to_vec();
    let work = move |conn: &Connection| Ok(run_move(conn, &ids, index, change));
    db.runtime
        .handle()
        .block_on(db.store.write(work))
        .expect("store write")
}

/// The status machine as the design states it, applied to `statuses`.
fn model(statuses: &mut [Status], ids: &[String], index: usize, change: Move) -> Outcome {
    let now = statuses[index];
    let undecided = matches!(now, Status::Pending | Status::Flagged);
    let mut to = |allowed: bool, next: Status| {
        if allowed {
            statuses[index] = next;
            Outcome::Moved(next)
        } else {
            Outcome::Refused(now)
        }
    };
    match change {
        Move::Approve => to(undecided, Status::Approved),
        Move::Deny { .. } => to(undecided, Status::Denied),
        Move::Finish { ok: true } => to(now == Status::Approved, Status::Sent),
        Move::Finish { ok: false } => to(now == Status::Approved, Status::Failed),
        Move::FailInterrupted { running } => {
            let mut swept = Vec::new();
            for (i, status) in statuses.iter_mut().enumerate() {
                if *status == Status::Approved && running & (1 << i) == 0 {
                    *status = Status::Failed;
                    swept.push(ids[i].clone());
                }
            }
            swept.sort();
            Outcome::Swept(swept)
        }
    }
}

/// The delivery a status should have written: one event for a final
/// status, none otherwise.
fn expected_deliveries(status: Status) -> Vec<String> {
    let event = match status {
        Status::Sent => "action.sent",
        Status::Denied => "action.denied",
        Status::Failed => "action.failed",
        Status::Pending | Status::Flagged | Status::Approved => return Vec::new(),
    };
    vec![event.to_string()]
}

/// Up to three actions, each starting pending or flagged.
fn starting_actions() -> impl Strategy<Value = Vec<bool>> {
    prop::collection::vec(any::<bool>(), 1..=3)
}

#[test]
fn decisions_in_any_order_follow_the_status_machine() {
    let db = Db::new();
    // Interior mutability because the runner takes its test as an `Fn`.
    let callers: Vec<RefCell<Connection>> = (0..3).map(|_| RefCell::new(db.connect())).collect();
    let steps = prop::collection::vec((0..3usize, 0..3usize, a_move()), 0..24);

    let mut runner = TestRunner::new(RunnerConfig::with_cases(64));
    let result = runner.run(&(starting_actions(), steps), |(flagged, steps)| {
        let ids = db.add_actions(&flagged);
        let mut statuses: Vec<Status> = ids.iter().map(|id| db.status(id)).collect();
        for (caller, index, change) in steps {
            let index = index % ids.len();
            let before = statuses.clone();
            let expected = model(&mut statuses, &ids, index, change);
            let actual = run_on_connection(&mut callers[caller].borrow_mut(), &ids, index, change);
            prop_assert_eq!(&actual, &expected, "{:?} on action {}", change, index);

            for (i, id) in ids.iter().enumerate() {
                let stored = db.status(id);
                prop_assert_eq!(stored, statuses[i], "action {} after {:?}", i, change);
                if before[i].is_terminal() {
                    prop_assert_eq!(stored, before[i], "action {} left a final status", i);
                }
            }
        }
        for (i, id) in ids.iter().enumerate() {
            let expected = expected_deliveries(statuses[i]);
            prop_assert_eq!(db.deliveries(id), expected, "deliveries of action {}", i);
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Every outcome one action saw, across all callers.
#[derive(Default, Debug)]
struct Seen {
    approved: usize,
    denied: usize,
    sent: usize,
    failed: usize,
    /// Statuses reported when approve or deny was refused.
    decide_refused_as: Vec<Status>,
    /// Statuses reported when a finish was refused.
    finish_refused_as: Vec<Status>,
}

impl Seen {
    fn record(&mut self, change: Move, outcome: &Outcome) {
        match (change, outcome) {
            (_, Outcome::Moved(Status::Approved)) => self.approved += 1,
            (_, Outcome::Moved(Status::Denied)) => self.denied += 1,
            (_, Outcome::Moved(Status::Sent)) => self.sent += 1,
            (_, Outcome::Moved(_)) => self.failed += 1,
            (Move::Finish { .. }, Outcome::Refused(status)) => self.finish_refused_as.push(*status),
            (_, Outcome::Refused(status)) => self.decide_refused_as.push(*status),
            (_, Outcome::Swept(_)) => unreachable!("sweeps are recorded per action"),
        }
    }

    /// The status these outcomes leave the action in, starting from `start`.
    fn final_status(&self, start: Status) -> Status {
        match (self.denied, self.sent, self.failed, self.approved) {
            (1, ..) => Status::Denied,
            (_, 1, ..) => Status::Sent,
            (_, _, 1, _) => Status::Failed,
            (.., 1) => Status::Approved,
            _ => start,
        }
    }
}

/// One caller's moves: (action index, move).
type Script = Vec<(usize, Move)>;

#[test]
fn racing_callers_never_decide_twice() {
    let db = Arc::new(Db::new());
    let scripts = prop::collection::vec(prop::collection::vec((0..2usize, a_move()), 1..8), 4);

    let mut runner = TestRunner::new(RunnerConfig::with_cases(24));
    let result = runner.run(&(starting_actions(), scripts), |(flagged, scripts)| {
        let flagged = &flagged[..flagged.len().min(2)];
        let ids = db.add_actions(flagged);
        let start: Vec<Status> = ids.iter().map(|id| db.status(id)).collect();
        let outcomes = race(&db, &ids, scripts);

        let mut seen: BTreeMap<usize, Seen> = BTreeMap::new();
        for (index, change, outcome) in &outcomes {
            if let Outcome::Swept(swept) = outcome {
                for (i, id) in ids.iter().enumerate() {
                    if swept.contains(id) {
                        seen.entry(i).or_default().failed += 1;
                    }
                }
            } else {
                seen.entry(*index).or_default().record(*change, outcome);
            }
        }
        for (i, id) in ids.iter().enumerate() {
            let seen = seen.remove(&i).unwrap_or_default();
            check_race(&db, id, start[i], &seen)?;
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Runs each script on its own thread, all starting together: even
/// callers through the store's writer, odd ones on their own connection.
fn race(db: &Arc<Db>, ids: &[String], scripts: Vec<Script>) -> Vec<(usize, Move, Outcome)> {
    let start = Arc::new(Barrier::new(scripts.len()));
    let threads: Vec<_> = scripts
        .into_iter()
        .enumerate()
        .map(|(caller, script)| {
            let (db, ids, start) = (db.clone(), ids.to_vec(), start.clone());
            std::thread::spawn(move || {
                let mut conn = (caller % 2 == 1).then(|| db.connect());
                start.wait();
                let mut outcomes = Vec::new();
                for (index, change) in script {
                    let index = index % ids.len();
                    let outcome = match conn.as_mut() {
                        Some(conn) => run_on_connection(conn, &ids, index, change),
                        None => run_on_store(&db, &ids, index, change),
                    };
                    outcomes.push((index, change, outcome));
                }
                outcomes
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|thread| thread.join().expect("caller thread"))
        .collect()
}

fn check_race(db: &Db, id: &str, start: Status, seen: &Seen) -> Result<(), TestCaseError> {
    prop_assert!(seen.approved + seen.denied <= 1, "decided twice: {seen:?}");
    prop_assert!(seen.sent + seen.failed <= 1, "finished twice: {seen:?}");
    prop_assert!(
        seen.sent + seen.failed <= seen.approved,
        "finished unapproved: {seen:?}"
    );
    // A refused approve or deny means someone decided first.
    let undecided = [Status::Pending, Status::Flagged];
    prop_assert!(seen
        .decide_refused_as
        .iter()
        .all(|s| !undecided.contains(s)));
    // A refused finish means the action was not (or no longer) approved.
    prop_assert!(seen
        .finish_refused_as
        .iter()
        .all(|s| *s != Status::Approved));

    let status = db.status(id);
    prop_assert_eq!(status, seen.final_status(start), "{:?}", seen);
    prop_assert_eq!(db.deliveries(id), expected_deliveries(status), "{:?}", seen);
    Ok(())
}

#[test]
fn the_model_knows_every_final_status_is_final() {
    // Guards the model itself: from a final status no move goes anywhere.
    let ids = vec!["a".to_string()];
    let moves = [
        Move::Approve,
        Move::Deny { with_reason: true },
        Move::Finish { ok: true },
        Move::Finish { ok: false },
        Move::FailInterrupted { running: 0 },
    ];
    for status in [Status::Sent, Status::Denied, Status::Failed] {
        for change in moves {
            let mut statuses = vec![status];
            model(&mut statuses, &ids, 0, change);
            assert_eq!(statuses, vec![status], "{change:?} moved {status}");
        }
    }
}
