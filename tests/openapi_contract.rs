//! The OpenAPI contract: the spec the running gateway serves at
//! `/gateway/openapi.yaml` must agree with what the gateway really does.
//!
//! - `real_answers_and_webhooks_match_the_served_spec` starts the real
//!   binary with a webhook receiver on loopback, calls every endpoint so that
//!   it answers with success and with each error it can give over loopback,
//!   and checks each answer's status is one the spec lists for that path and
//!   method and its body validates against the schema given for that status.
//!   It then checks every webhook event the gateway POSTed (sent, denied,
//!   failed, ping) against the spec's `webhooks`, headers included, and
//!   fails if any documented status or event was never produced, or an
//!   event arrived twice. 431 (headers too large) is produced on every
//!   operation, 408 (a body that never finishes) on send and deny.
//! - `a_locked_database_is_answered_as_the_spec_says`: while another
//!   program holds the database's write lock, send, approve and deny give
//!   the spec's 503 (after the gateway's 5 s lock wait) and change nothing,
//!   while polls, health and the queue are answered.
//! - `every_example_in_the_spec_matches_its_schema` keeps the examples
//!   honest, so what a reader copies from the spec is something the schema
//!   accepts.
//!
//! - `the_loopback_only_refusal_is_answered_as_the_spec_says` gives the
//!   403 from a client that is not on loopback, through a network
//!   namespace (root and iproute2; skipped without them, failed under CI).
//! - `an_internal_error_is_answered_as_the_spec_says` and
//!   `a_database_that_cannot_be_read_is_answered_as_the_spec_says` check
//!   the 500 and the reads' 503 with answers built in-process: no request
//!   should cause a 500, and in WAL mode no other program can keep the
//!   gateway from reading (while any connection is open, an exclusive lock
//!   cannot be taken at all), so only a failing disk gives a read 503.
//! - `the_error_codes_are_those_the_spec_lists` compares the gateway's list
//!   of error codes with the spec's, so neither can gain one alone.

mod common;
mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::response::IntoResponse;
use common::netns::Netns;
use common::openapi::{media_type, Answer, Spec, SPEC_FILE};
use common::{read_raw_reply, TestDir};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use support::receiver::Received;
use support::{text, Config, Hooked, Key, DEADLINE};

/// Statuses the spec lists that the main scenario does not cause; each has
/// a test of its own (see the module doc).
const NOT_PRODUCED: &[u16] = &[403, 500, 503];

/// Bigger than the 16 KiB the gateway takes for a request's headers.
const HEADERS_TOO_LARGE: usize = 20 * 1024;

/// One past the gateway's 1 MiB body limit.
const TOO_LARGE: usize = 1024 * 1024 + 1;

/// An action id no action has.
const UNKNOWN_ID: &str = "01a23d72-0000-7000-8000-000000000000";

/// A client that checks every answer against the spec and remembers which
/// documented answers it has seen.
struct Contract {
    spec: Spec,
    base: String,
    http: reqwest::Client,
    seen: Mutex<BTreeSet<(String, String, u16)>>,
}

/// One request: method, the spec's path template, the concrete path, and
/// optionally a key and a body.
struct Call<'a> {
    method: Method,
    template: &'a str,
    path: String,
    key: Option<&'a str>,
    body: Option<Vec<u8>>,
    /// Bytes of an extra header, to make the headers too large.
    padding: usize,
}

impl<'a> Call<'a> {
    fn new(method: Method, template: &'a str) -> Call<'a> {
        Call {
            method,
            template,
            path: template.to_string(),
            key: None,
            body: None,
            padding: 0,
        }
    }

    fn padding(mut self, bytes: usize) -> Call<'a> {
        self.padding = bytes;
        self
    }

    /// The path with `{id}` replaced by `id`.
    fn id(mut self, id: &str) -> Call<'a> {
        self.path = self.template.replace("{id}", id);
        self
    }

    fn key(mut self, key: &'a str) -> Call<'a> {
        self.key = Some(key);
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Call<'a> {
        self.body = Some(body.into());
        self
    }

    fn query(mut self, query: &str) -> Call<'a> {
        self.path.push_str(query);
        self
    }

    fn json(self, body: &Value) -> Call<'a> {
        self.body(serde_json::to_vec(body).expect("encode body"))
    }
}

impl Contract {
    fn new(spec: Spec, base: &str) -> Contract {
        Contract {
            spec,
            base: base.to_string(),
            http: client(),
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    /// Makes the call, checks the answer against the spec, and returns it.
    async fn call(&self, call: Call<'_>) -> Answer {
        let answer = self.fetch(&call).await;
        let what = format!("{} {} -> {}", call.method, call.path, answer.status);
        let operations = self.spec.operations(call.template);
        let method = call.method.as_str().to_ascii_lowercase();
        let (responses, documented_as) = match operations.get(&method) {
            Some(operation) => (&operation["responses"], vec![method]),
            // A method the path does not take must get the 405 that the
            // path's operations document.
            None => {
                assert_eq!(answer.status, 405, "{what}: the spec has no such operation");
                let first = operations.values().next().expect("an operation");
                (&first["responses"], operations.keys().cloned().collect())
            }
        };
        let response = self
            .spec
            .response(responses, answer.status)
            .unwrap_or_else(|| panic!("{what}: the spec lists no such status"));
        self.spec.check_response(&what, response, &answer);

        for method in documented_as {
            self.saw(call.template, &method, answer.status);
        }
        answer
    }

    /// Checks an answer obtained some other way (a raw socket) and counts
    /// it as seen.
    fn check(&self, method: &str, template: &str, answer: &Answer) {
        self.spec.check(method, template, answer);
        self.saw(template, method, answer.status);
    }

    fn saw(&self, template: &str, method: &str, status: u16) {
        let mut seen = self.seen.lock().expect("seen");
        seen.insert((template.to_string(), method.to_ascii_uppercase(), status));
    }

    /// The address the base URL names, for raw connections.
    fn address(&self) -> SocketAddr {
        let authority = self.base.trim_start_matches("http://");
        authority.parse().expect("the base URL is http://IP:PORT")
    }

    /// Makes the call and expects `status`.
    async fn expect(&self, status: u16, call: Call<'_>) -> Answer {
        let what = format!("{} {}", call.method, call.path);
        let answer = self.call(call).await;
        assert_eq!(
            answer.status,
            status,
            "{what}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        answer
    }

    async fn fetch(&self, call: &Call<'_>) -> Answer {
        let url = format!("{}{}", self.base, call.path);
        let mut request = self.http.request(call.method.clone(), url);
        if let Some(key) = call.key {
            request = request.header("X-Gateway-Key", key);
        }
        if let Some(body) = &call.body {
            request = request
                .header("content-type", "application/json")
                .body(body.clone());
        }
        if call.padding > 0 {
            request = request.header("x-padding", "p".repeat(call.padding));
        }
        let response = request.send().await.expect("HTTP request");
        let headers = response.headers();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(media_type)
            .unwrap_or_default();
        let names = headers.keys().map(|name| name.as_str().to_string());
        Answer {
            status: response.status().as_u16(),
            content_type,
            headers: names.collect(),
            body: response.bytes().await.expect("read body").to_vec(),
        }
    }

    /// Documented answers the calls so far have not produced.
    fn unseen(&self) -> Vec<(String, String, u16)> {
        let seen = self.seen.lock().expect("seen");
        self.spec
            .documented()
            .into_iter()
            .filter(|(_, _, status)| !NOT_PRODUCED.contains(status))
            .filter(|documented| !seen.contains(documented))
            .collect()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(DEADLINE)
        .build()
        .expect("HTTP client")
}

fn sms(to: &str, body: &str) -> Value {
    json!({ "channel": "sms", "recipient_address": to, "body": body })
}

/// The action ids the scenario creates, one per outcome.
struct Actions {
    /// Left pending.
    waiting: String,
    /// Email through the outbox: approved and sent.
    sent: String,
    /// SMS through a failing command: approved and failed.
    failed: String,
    /// Flagged, then denied with a reason.
    denied_with_reason: String,
    /// Denied with an empty body.
    denied: String,
}

#[tokio::test]
async fn real_answers_and_webhooks_match_the_served_spec() {
    // SMS goes through a command that fails, email through the outbox, so
    // approving gives both a sent and a failed action.
    let hooked = Hooked::new(&Config::fast().failing_sms()).await;
    let server = hooked.gateway.serve().await;
    let contract = Contract::new(served_spec(&server.base).await, &server.base);
    let other = hooked.gateway.add_key("other").await;
    let revoked = revoked_key(&hooked).await;

    let scenario = async {
        meta_endpoints(&contract).await;
        let actions = send(&contract, &hooked.key, &revoked).await;
        queue(&contract).await;
        approve(&contract, &actions).await;
        deny(&contract, &actions).await;
        poll(&contract, &hooked.key, &other, &actions).await;
        unknown_endpoint(&contract).await;
        headers_too_large(&contract, &hooked.key).await;
        actions
    };
    // The body deadline is 10 s: those clients wait it out meanwhile.
    let (actions, ()) = tokio::join!(scenario, bodies_too_slow(&contract, &hooked.key));

    let unseen = contract.unseen();
    assert!(
        unseen.is_empty(),
        "documented answers this test never produced: {unseen:#?}"
    );

    let ping = hooked
        .gateway
        .run(&["webhook", "test", &hooked.key.id])
        .await;
    assert!(ping.succeeded(), "webhook test failed: {ping:#?}");
    webhooks(&contract.spec, &hooked, &actions).await;
}

/// Fetches the spec from the server and checks it is the committed file.
async fn served_spec(base: &str) -> Spec {
    let response = client()
        .get(format!("{base}/gateway/openapi.yaml"))
        .send()
        .await
        .expect("GET /gateway/openapi.yaml");
    assert_eq!(response.status(), 200);
    let content_type = response.headers().get(reqwest::header::CONTENT_TYPE);
    let content_type = content_type
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(media_type(content_type), "application/yaml");
    let text = response.text().await.expect("read the spec");
    assert!(
        text == SPEC_FILE,
        "the served spec differs from assets/openapi.yaml"
    );

    let spec = Spec::parse(&text);
    assert_eq!(spec.doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    spec
}

async fn revoked_key(hooked: &Hooked) -> Key {
    let key = hooked.gateway.add_key("revoked").await;
    let run = hooked.gateway.run(&["keys", "revoke", &key.id]).await;
    assert!(run.succeeded(), "keys revoke failed: {run:#?}");
    key
}

async fn meta_endpoints(contract: &Contract) {
    let health = contract
        .expect(200, Call::new(Method::GET, "/gateway/health"))
        .await;
    assert_eq!(health.data()["version"], env!("CARGO_PKG_VERSION"));
    contract
        .expect(405, Call::new(Method::POST, "/gateway/health"))
        .await;

    contract
        .expect(200, Call::new(Method::GET, "/gateway/openapi.yaml"))
        .await;
    contract
        .expect(405, Call::new(Method::DELETE, "/gateway/openapi.yaml"))
        .await;
}

async fn send(contract: &Contract, key: &Key, revoked: &Key) -> Actions {
    let key = key.plaintext.as_str();
    let waiting = queued(contract, key, &sms("+15550100", "Running late")).await;
    let email = json!({
        "channel": "email", "recipient_address": "dana@example.com",
        "recipient_name": "Dana Reyes", "subject": "Thursday", "body": "Move to 3pm?",
        "priority": "high", "context": { "thread": "calendar-42" },
    });
    let sent = queued(contract, key, &email).await;
    let failed = queued(contract, key, &sms("+15550101", "See you soon")).await;
    let card = json!({
        "channel": "imessage", "recipient_address": "+15550102",
        "body": "The card is 4111 1111 1111 1111", "context": null, "priority": null,
    });
    let denied_with_reason = queued(contract, key, &card).await;
    let denied = queued(contract, key, &sms("+15550103", "Bye")).await;

    send_refusals(contract, key, revoked).await;
    Actions {
        waiting,
        sent,
        failed,
        denied_with_reason,
        denied,
    }
}

/// Sends `message`, expecting it queued; returns its id.
async fn queued(contract: &Contract, key: &str, message: &Value) -> String {
    let call = Call::new(Method::POST, "/gateway/send")
        .key(key)
        .json(message);
    text(&contract.expect(200, call).await.data()["action_id"])
}

async fn send_refusals(contract: &Contract, key: &str, revoked: &Key) {
    let send = || Call::new(Method::POST, "/gateway/send");
    let bad_bodies: [&[u8]; 5] = [
        b"{\"channel\": \"sms\"",
        br#"{"channel": "sms", "recipient_address": "+15550100"}"#,
        br#"{"channel": "fax", "recipient_address": "+15550100", "body": "x"}"#,
        br#"{"channel": "sms", "recipient_address": "+15550100", "body": 7}"#,
        br#"["sms", "+15550100", null, null, "hi", null, null]"#,
    ];
    for body in bad_bodies {
        contract.expect(400, send().key(key).body(body)).await;
    }

    let message = sms("+15550100", "hi");
    contract.expect(401, send().json(&message)).await;
    let wrong = format!("gw_{}", "0".repeat(64));
    contract
        .expect(401, send().key(&wrong).json(&message))
        .await;
    contract
        .expect(401, send().key(&revoked.plaintext).json(&message))
        .await;

    contract
        .expect(413, send().key(key).body(vec![b' '; TOO_LARGE]))
        .await;
    contract
        .expect(405, Call::new(Method::GET, "/gateway/send"))
        .await;
}

async fn queue(contract: &Contract) {
    let listed = contract
        .expect(200, Call::new(Method::GET, "/gateway/queue"))
        .await;
    let statuses: BTreeSet<String> = support::array(listed.data())
        .iter()
        .map(|action| text(&action["status"]))
        .collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["pending".into(), "flagged".into()])
    );

    for (query, status) in [("?limit=1", 200), ("?limit=0", 200), ("?limit=abc", 400)] {
        let call = Call::new(Method::GET, "/gateway/queue").query(query);
        contract.expect(status, call).await;
    }
    contract
        .expect(405, Call::new(Method::POST, "/gateway/queue"))
        .await;
}

async fn approve(contract: &Contract, actions: &Actions) {
    let approve = || Call::new(Method::POST, "/gateway/queue/{id}/approve");
    let sent = contract.expect(200, approve().id(&actions.sent)).await;
    assert_eq!(sent.data()["status"], "sent");
    let failed = contract.expect(200, approve().id(&actions.failed)).await;
    assert_eq!(failed.data()["status"], "failed");

    let again = contract.expect(409, approve().id(&actions.sent)).await;
    assert_eq!(again.json()["status"], "sent");
    contract.expect(404, approve().id(UNKNOWN_ID)).await;
    contract.expect(400, approve().id("%FF")).await;
    let get = Call::new(Method::GET, "/gateway/queue/{id}/approve");
    contract.expect(405, get.id(&actions.sent)).await;
}

async fn deny(contract: &Contract, actions: &Actions) {
    let deny = || Call::new(Method::POST, "/gateway/queue/{id}/deny");
    let reason = json!({ "reason": "Not to this customer." });
    let call = deny().id(&actions.denied_with_reason).json(&reason);
    let denied = contract.expect(200, call).await;
    assert_eq!(denied.data()["error_message"], "Not to this customer.");
    contract.expect(200, deny().id(&actions.denied)).await;

    let again = contract.expect(409, deny().id(&actions.denied)).await;
    assert_eq!(again.json()["status"], "denied");
    contract.expect(404, deny().id(UNKNOWN_ID)).await;
    contract.expect(400, deny().id("%FF")).await;
    // Refused bodies, on an action that must stay pending.
    for body in [&b"nope"[..], br#"["spam"]"#, br#"{"reason": 5}"#] {
        contract
            .expect(400, deny().id(&actions.waiting).body(body))
            .await;
    }
    let large = deny().id(&actions.waiting).body(vec![b' '; TOO_LARGE]);
    contract.expect(413, large).await;
    let get = Call::new(Method::GET, "/gateway/queue/{id}/deny");
    contract.expect(405, get.id(&actions.waiting)).await;
}

async fn poll(contract: &Contract, key: &Key, other: &Key, actions: &Actions) {
    let poll = || Call::new(Method::GET, "/gateway/actions/{id}");
    let key = key.plaintext.as_str();
    let expected = [
        (&actions.waiting, "pending"),
        (&actions.sent, "sent"),
        (&actions.failed, "failed"),
        (&actions.denied_with_reason, "denied"),
        (&actions.denied, "denied"),
    ];
    for (id, status) in expected {
        let answer = contract.expect(200, poll().id(id).key(key)).await;
        assert_eq!(answer.data()["status"], status);
    }

    let foreign = poll().id(&actions.waiting).key(&other.plaintext);
    contract.expect(404, foreign).await;
    contract.expect(404, poll().id(UNKNOWN_ID).key(key)).await;
    contract.expect(400, poll().id("%FF").key(key)).await;
    contract.expect(401, poll().id(&actions.waiting)).await;
    let post = Call::new(Method::POST, "/gateway/actions/{id}");
    contract
        .expect(405, post.id(&actions.waiting).key(key))
        .await;
}

/// A path the spec does not list gets the spec's `NoSuchEndpoint` answer.
async fn unknown_endpoint(contract: &Contract) {
    for path in ["/gateway/nope", "/gateway/actions/", "/"] {
        let call = Call::new(Method::GET, path);
        let answer = contract.fetch(&call).await;
        assert_eq!(answer.status, 404, "GET {path}");
        let response = contract.spec.component_response("NoSuchEndpoint");
        contract
            .spec
            .check_response(&format!("GET {path}"), response, &answer);
    }
}

/// Every documented operation, called with headers over the limit, gets
/// the spec's bodiless 431.
async fn headers_too_large(contract: &Contract, key: &Key) {
    let operations: BTreeSet<(String, String)> = contract
        .spec
        .documented()
        .into_iter()
        .map(|(template, method, _)| (template, method))
        .collect();
    for (template, method) in &operations {
        let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let call = Call::new(method, template)
            .id(UNKNOWN_ID)
            .key(&key.plaintext)
            .padding(HEADERS_TOO_LARGE);
        contract.expect(431, call).await;
    }
}

/// A send and a deny whose bodies never finish arriving get the spec's 408.
async fn bodies_too_slow(contract: &Contract, key: &Key) {
    let key_header = format!("X-Gateway-Key: {}\r\n", key.plaintext);
    let deny = format!("/gateway/queue/{UNKNOWN_ID}/deny");
    let (sent, denied) = tokio::join!(
        body_never_finished(contract, "/gateway/send", &key_header),
        body_never_finished(contract, &deny, ""),
    );
    contract.check("POST", "/gateway/send", &sent);
    contract.check("POST", "/gateway/queue/{id}/deny", &denied);
    assert_eq!(sent.status, 408, "{sent:?}");
    assert_eq!(denied.status, 408, "{denied:?}");
}

/// POSTs headers announcing a body, sends part of it and then nothing.
async fn body_never_finished(contract: &Contract, path: &str, extra_headers: &str) -> Answer {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: gateway\r\n{extra_headers}\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"reason\""
    );
    let mut stream = tokio::net::TcpStream::connect(contract.address())
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write");
    let reply = tokio::time::timeout(DEADLINE, read_raw_reply(&mut stream))
        .await
        .expect("an answer before the deadline")
        .expect("an answer, not a closed connection");
    Answer::from_raw(&reply)
}

/// Every webhook the gateway POSTed matches the spec's `webhooks` entry for
/// its type, and every documented event was seen.
async fn webhooks(spec: &Spec, hooked: &Hooked, actions: &Actions) {
    // Four action events and one ping, and nothing more: a sixth would be a
    // duplicate. Once every delivery is recorded as delivered, none is left
    // to send, so a duplicate would have arrived by then.
    let received = hooked.receiver.wait_for(5).await;
    hooked.gateway.wait_for_all(5, "delivered").await;
    let received_by_now = hooked.receiver.requests();
    assert_eq!(received_by_now.len(), 5, "{received_by_now:#?}");
    let mut types = BTreeSet::new();
    for request in &received {
        check_webhook(spec, request);
        assert!(request.signed_by(&hooked.secret), "bad signature");
        types.insert(text(&request.json()["type"]));
    }
    let documented: BTreeSet<String> = spec.doc["webhooks"]
        .as_object()
        .expect("webhooks")
        .keys()
        .cloned()
        .collect();
    assert_eq!(types, documented, "events seen vs events documented");

    let denied = event_for(&received, &actions.denied);
    assert!(denied.get("error_message").is_none(), "{denied}");
    let with_reason = event_for(&received, &actions.denied_with_reason);
    assert_eq!(with_reason["error_message"], "Not to this customer.");
}

fn check_webhook(spec: &Spec, request: &Received) {
    let body = request.json();
    let event = text(&body["type"]);
    let what = format!("webhook {event}");
    let operation = &spec.doc["webhooks"][&event]["post"];
    assert!(operation.is_object(), "the spec has no webhook {event}");

    for parameter in operation["parameters"].as_array().expect("parameters") {
        let parameter = spec.resolve(parameter);
        let name = parameter["name"].as_str().expect("parameter name");
        let value = request.headers.get(name);
        assert!(
            value.is_some() || parameter["required"] != true,
            "{what}: missing header {name}"
        );
        if let Some(value) = value {
            let what = format!("{what} header {name}");
            spec.assert_valid(&what, &parameter["schema"], &json!(value));
        }
    }
    let content = &operation["requestBody"]["content"];
    let media = &content[request.header("content-type")];
    assert!(media.is_object(), "{what}: content-type not in the spec");
    spec.assert_valid(&what, &media["schema"], &body);
}

fn event_for(received: &[Received], action_id: &str) -> Value {
    let bodies = received.iter().map(Received::json);
    let mut matching = bodies.filter(|body| body["action_id"] == action_id);
    let event = matching
        .next()
        .unwrap_or_else(|| panic!("no webhook for action {action_id}"));
    assert!(matching.next().is_none(), "two webhooks for {action_id}");
    event
}

#[tokio::test]
async fn a_locked_database_is_answered_as_the_spec_says() {
    let gateway = support::Gateway::new(&Config::fast());
    let key = gateway.add_key("agent").await;
    let server = gateway.serve().await;
    let contract = Contract::new(Spec::committed(), &server.base);
    let message = sms("+15550100", "hi");
    let waiting = queued(&contract, &key.plaintext, &message).await;

    // Another program takes the write lock and keeps it until the answers
    // are in; the gateway gives up after its busy timeout.
    let mut lock = rusqlite::Connection::open(gateway.path().join("gateway.db")).expect("open");
    let held = lock
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("take the write lock");
    let send = Call::new(Method::POST, "/gateway/send")
        .key(&key.plaintext)
        .json(&message);
    let approve = Call::new(Method::POST, "/gateway/queue/{id}/approve").id(&waiting);
    let deny = Call::new(Method::POST, "/gateway/queue/{id}/deny").id(&waiting);
    let answers = tokio::join!(
        contract.call(send),
        contract.call(approve),
        contract.call(deny)
    );
    // Reads do not wait for the lock: their 503 is for other failures.
    let poll = Call::new(Method::GET, "/gateway/actions/{id}").id(&waiting);
    contract.expect(200, poll.key(&key.plaintext)).await;
    contract
        .expect(200, Call::new(Method::GET, "/gateway/health"))
        .await;
    contract
        .expect(200, Call::new(Method::GET, "/gateway/queue"))
        .await;
    drop(held);

    for answer in [answers.0, answers.1, answers.2] {
        assert_eq!(
            answer.status,
            503,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
    }
    let poll = Call::new(Method::GET, "/gateway/actions/{id}").id(&waiting);
    let answer = contract.expect(200, poll.key(&key.plaintext)).await;
    assert_eq!(answer.data()["status"], "pending");
}

#[test]
fn every_example_in_the_spec_matches_its_schema() {
    let spec = Spec::committed();
    let mut checked = 0;
    visit(&spec.doc, "", &mut |at, node| {
        let Some(schema) = node.get("schema") else {
            return;
        };
        let named = node["examples"].as_object().into_iter().flatten();
        let examples = node.get("example").into_iter().chain(named.map(|(_, e)| {
            // Media-type examples are Example Objects holding a `value`.
            e.get("value").unwrap_or(e)
        }));
        for example in examples {
            spec.assert_valid(&format!("example at {at}"), schema, example);
            checked += 1;
        }
    });
    assert!(checked >= 20, "only {checked} examples found");

    for (name, schema) in spec.doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
    {
        // Compiling resolves every reference the schema makes.
        let _ = spec.validator(schema);
        assert!(
            name.chars().all(char::is_alphanumeric),
            "schema name {name}"
        );
    }
}

/// Calls `found` on every object in `node`, with its JSON pointer.
fn visit(node: &Value, at: &str, found: &mut impl FnMut(&str, &Value)) {
    match node {
        Value::Object(map) => {
            found(at, node);
            for (key, child) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                visit(child, &format!("{at}/{escaped}"), found);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                visit(child, &format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_loopback_only_refusal_is_answered_as_the_spec_says() {
    let Some(netns) = Netns::create_or_skip() else {
        return;
    };
    let dir = TestDir::new();
    let bind = SocketAddr::new(netns.inside_v4.into(), 0);
    // From the test process, across the veth pair: a remote host.
    let server = dir.start_server_in(&netns, &bind.to_string());
    let contract = Contract::new(Spec::committed(), &server.url(""));

    let refused = [
        Call::new(Method::GET, "/gateway/queue"),
        Call::new(Method::POST, "/gateway/queue/{id}/approve").id(UNKNOWN_ID),
        Call::new(Method::POST, "/gateway/queue/{id}/deny").id(UNKNOWN_ID),
    ];
    for call in refused {
        contract.expect(403, call).await;
    }
}

/// What the API answers for `error`, built in-process, for failures no
/// request over loopback can cause.
async fn in_process_answer(error: contactcmd::gateway::Error) -> Answer {
    let response = contactcmd::api::ApiError::from(error).into_response();
    let status = response.status().as_u16();
    let content_type = response.headers()[axum::http::header::CONTENT_TYPE]
        .to_str()
        .map(media_type)
        .expect("a content type");
    let headers = response
        .headers()
        .keys()
        .map(|name| name.as_str().to_string())
        .collect();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("read the body");
    Answer {
        status,
        content_type,
        headers,
        body: body.to_vec(),
    }
}

/// Checks `answer` against every operation that documents its status.
fn check_everywhere_documented(spec: &Spec, answer: &Answer) {
    let documented = spec.documented();
    let with_status = documented.iter().filter(|(_, _, s)| *s == answer.status);
    let mut checked = 0;
    for (template, method, _) in with_status {
        spec.check(method, template, answer);
        checked += 1;
    }
    assert!(checked > 0, "no operation documents {}", answer.status);
}

#[tokio::test]
async fn an_internal_error_is_answered_as_the_spec_says() {
    let detail = "the writer's table is on fire";
    let error = contactcmd::gateway::Error::Internal(detail.into());
    let answer = in_process_answer(error).await;

    assert_eq!(answer.status, 500);
    check_everywhere_documented(&Spec::committed(), &answer);
    let text = String::from_utf8_lossy(&answer.body);
    assert!(!text.contains(detail), "the 500 leaks its cause: {text}");
}

/// Reads do not wait for another program's lock (see the locked-database
/// test), so their 503 comes only from a database that cannot be read: a
/// disk I/O error, built here in-process.
#[tokio::test]
async fn a_database_that_cannot_be_read_is_answered_as_the_spec_says() {
    let failure = rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
        Some("disk I/O error".into()),
    );
    let store = contactcmd::store::StoreError::Sqlite {
        action: "reading",
        path: "/var/lib/contactcmd/gateway.db".into(),
        cause: failure,
    };
    let answer = in_process_answer(contactcmd::gateway::Error::Store(store)).await;

    assert_eq!(answer.status, 503);
    check_everywhere_documented(&Spec::committed(), &answer);
    let text = String::from_utf8_lossy(&answer.body);
    assert!(
        !text.contains("gateway.db"),
        "the 503 names server paths: {text}"
    );
}

#[test]
fn the_error_codes_are_those_the_spec_lists() {
    let ours: BTreeSet<String> = contactcmd::api::Code::ALL
        .iter()
        .map(|code| code.as_str().to_string())
        .collect();
    assert_eq!(ours, Spec::committed().error_codes());
}
