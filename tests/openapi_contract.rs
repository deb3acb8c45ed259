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
//!   fails if any documented status or event was never produced.
//! - `a_locked_database_is_answered_as_the_spec_says`: while another
//!   program holds the database's write lock, send, approve and deny give
//!   the spec's 503 (after the gateway's 5 s lock wait) and change nothing.
//! - `every_example_in_the_spec_matches_its_schema` keeps the examples
//!   honest, so what a reader copies from the spec is something the schema
//!   accepts.
//!
//! Not produced here: 403 (the admin endpoints refuse non-loopback clients,
//! and these tests speak only to loopback) and 500 (a fault of the gateway
//! itself, which no request should be able to cause).

mod support;

use std::collections::BTreeSet;
use std::sync::Mutex;

use jsonschema::Validator;
use reqwest::Method;
use serde_json::{json, Value};

use support::receiver::Received;
use support::{text, Config, Hooked, Key, DEADLINE};

/// The spec as committed; the served one must be byte for byte the same.
const SPEC_FILE: &str = include_str!("../assets/openapi.yaml");

/// Statuses the spec lists that the main scenario does not cause: 503
/// has a test of its own, and see the module doc for the others.
const NOT_PRODUCED: &[u16] = &[403, 500, 503];

/// One past the gateway's 1 MiB body limit.
const TOO_LARGE: usize = 1024 * 1024 + 1;

/// An action id no action has.
const UNKNOWN_ID: &str = "01a23d72-0000-7000-8000-000000000000";

/// The parsed spec and lookups into it.
struct Spec {
    doc: Value,
}

impl Spec {
    fn parse(text: &str) -> Spec {
        let doc: Value = serde_norway::from_str(text).expect("openapi.yaml is YAML");
        assert_eq!(doc["openapi"], "3.1.0", "the spec is OpenAPI 3.1");
        Spec { doc }
    }

    /// Follows a local `$ref` (`#/a/b`) until it reaches a real object.
    fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        while let Some(target) = node.get("$ref").and_then(Value::as_str) {
            let pointer = target
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("only local refs are expected, found {target}"));
            node = self
                .doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("$ref {target} points at nothing"));
        }
        node
    }

    /// A validator for `schema`, a schema from the spec whose `$ref`s point
    /// into the spec's components.
    fn validator(&self, schema: &Value) -> Validator {
        // Placing the components beside the schema lets `#/components/...`
        // resolve within this one document.
        let document = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": self.doc["components"],
        });
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&document)
            .unwrap_or_else(|e| panic!("schema does not compile ({e}): {schema}"))
    }

    /// Panics, naming `what`, if `instance` does not validate against `schema`.
    fn assert_valid(&self, what: &str, schema: &Value, instance: &Value) {
        let validator = self.validator(schema);
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("  at {:?}: {e}", e.instance_path().as_str()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} does not match the spec:\n{}\ninstance: {instance:#}",
            errors.join("\n")
        );
    }

    /// The documented methods of path `template`, lower case, with their
    /// operations.
    fn operations(&self, template: &str) -> &serde_json::Map<String, Value> {
        self.doc["paths"][template]
            .as_object()
            .unwrap_or_else(|| panic!("the spec has no path {template}"))
    }

    /// The response object for `status`: exact, then a range (`4XX`), then
    /// `default`.
    fn response<'a>(&'a self, responses: &'a Value, status: u16) -> Option<&'a Value> {
        let range = format!("{}XX", status / 100);
        [status.to_string(), range, "default".to_string()]
            .iter()
            .find_map(|key| responses.get(key))
            .map(|response| self.resolve(response))
    }

    /// Every (template, method, status) the spec documents.
    fn documented(&self) -> BTreeSet<(String, String, u16)> {
        let mut all = BTreeSet::new();
        for (template, path) in self.doc["paths"].as_object().expect("paths") {
            for (method, operation) in path.as_object().expect("path item") {
                for status in operation["responses"]
                    .as_object()
                    .expect("responses")
                    .keys()
                {
                    let status = status.parse().expect("paths list exact statuses");
                    all.insert((template.clone(), method.to_ascii_uppercase(), status));
                }
            }
        }
        all
    }
}

/// What the gateway answered.
struct Answer {
    status: u16,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            let text = String::from_utf8_lossy(&self.body);
            panic!("HTTP {} body is not JSON ({e}): {text}", self.status)
        })
    }

    fn data(&self) -> Value {
        self.json()["data"].clone()
    }
}

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
}

impl<'a> Call<'a> {
    fn new(method: Method, template: &'a str) -> Call<'a> {
        Call {
            method,
            template,
            path: template.to_string(),
            key: None,
            body: None,
        }
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
        self.check_response(&what, response, &answer);

        let mut seen = self.seen.lock().expect("seen");
        for method in documented_as {
            let method = method.to_ascii_uppercase();
            seen.insert((call.template.to_string(), method, answer.status));
        }
        answer
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
        let response = request.send().await.expect("HTTP request");
        let headers = response.headers().clone();
        Answer {
            status: response.status().as_u16(),
            content_type: media_type(&headers),
            body: response.bytes().await.expect("read body").to_vec(),
            headers,
        }
    }

    /// The answer's media type, body and required headers against `response`.
    fn check_response(&self, what: &str, response: &Value, answer: &Answer) {
        for (name, header) in response["headers"].as_object().into_iter().flatten() {
            let required = self.spec.resolve(header)["required"] == true;
            assert!(
                !required || answer.headers.contains_key(name.as_str()),
                "{what}: the spec requires header {name}"
            );
        }
        let media = &response["content"][&answer.content_type];
        assert!(
            media.is_object(),
            "{what}: the spec gives no {:?} body for this status (it gives {})",
            answer.content_type,
            response["content"]
        );
        let body = if answer.content_type == "application/json" {
            answer.json()
        } else {
            Value::String(String::from_utf8(answer.body.clone()).expect("text body is UTF-8"))
        };
        self.spec.assert_valid(what, &media["schema"], &body);
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

/// The content type without parameters such as `charset`.
fn media_type(headers: &reqwest::header::HeaderMap) -> String {
    let value = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
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

    meta_endpoints(&contract).await;
    let actions = send(&contract, &hooked.key, &revoked).await;
    queue(&contract).await;
    approve(&contract, &actions).await;
    deny(&contract, &actions).await;
    poll(&contract, &hooked.key, &other, &actions).await;
    unknown_endpoint(&contract).await;

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
    assert_eq!(media_type(response.headers()), "application/yaml");
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
        let response = contract
            .spec
            .resolve(&contract.spec.doc["components"]["responses"]["NoSuchEndpoint"]);
        contract.check_response(&format!("GET {path}"), response, &answer);
    }
}

/// Every webhook the gateway POSTed matches the spec's `webhooks` entry for
/// its type, and every documented event was seen.
async fn webhooks(spec: &Spec, hooked: &Hooked, actions: &Actions) {
    // Four action events and one ping.
    let received = hooked.receiver.wait_for(5).await;
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
    let contract = Contract::new(Spec::parse(SPEC_FILE), &server.base);
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
    let spec = Spec::parse(SPEC_FILE);
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
