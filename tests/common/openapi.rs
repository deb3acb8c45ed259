//! The OpenAPI spec in `assets/openapi.yaml`, parsed, and a validator that
//! checks a real answer against it: its status is one the spec lists for
//! that operation, and its body (or the absence of one) is what the spec
//! gives for that status. `tests/openapi_contract.rs` runs every endpoint
//! through it; the hostile-client tests check their refusals with it too.

use std::collections::BTreeSet;

use jsonschema::Validator;
use serde_json::{json, Value};

use super::RawReply;

/// The spec as committed.
pub const SPEC_FILE: &str = include_str!("../../assets/openapi.yaml");

/// The parsed spec and lookups into it.
pub struct Spec {
    pub doc: Value,
}

/// An answer as the validator sees it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The media type, without parameters such as `charset`.
    pub content_type: String,
    /// Header names, lower case.
    pub headers: BTreeSet<String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// An answer read straight off a socket.
    pub fn from_raw(reply: &RawReply) -> Answer {
        let mut headers = BTreeSet::new();
        let mut content_type = String::new();
        for line in reply.head.lines().skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            if name == "content-type" {
                content_type = media_type(value);
            }
            headers.insert(name);
        }
        Answer {
            status: reply.status,
            content_type,
            headers,
            body: reply.body.clone(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            let text = String::from_utf8_lossy(&self.body);
            panic!("HTTP {} body is not JSON ({e}): {text}", self.status)
        })
    }

    pub fn data(&self) -> Value {
        self.json()["data"].clone()
    }
}

/// `application/json` for `application/json; charset=utf-8`.
pub fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

impl Spec {
    /// The committed spec.
    pub fn committed() -> Spec {
        Spec::parse(SPEC_FILE)
    }

    /// The committed spec, parsed once per test binary.
    pub fn committed_once() -> &'static Spec {
        static SPEC: std::sync::OnceLock<Spec> = std::sync::OnceLock::new();
        SPEC.get_or_init(Spec::committed)
    }

    pub fn parse(text: &str) -> Spec {
        let doc: Value = serde_norway::from_str(text).expect("openapi.yaml is YAML");
        assert_eq!(doc["openapi"], "3.1.0", "the spec is OpenAPI 3.1");
        Spec { doc }
    }

    /// Follows a local `$ref` (`#/a/b`) until it reaches a real object.
    pub fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
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
    pub fn validator(&self, schema: &Value) -> Validator {
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
    pub fn assert_valid(&self, what: &str, schema: &Value, instance: &Value) {
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
    pub fn operations(&self, template: &str) -> &serde_json::Map<String, Value> {
        self.doc["paths"][template]
            .as_object()
            .unwrap_or_else(|| panic!("the spec has no path {template}"))
    }

    /// The response object for `status`: exact, then a range (`4XX`), then
    /// `default`.
    pub fn response<'a>(&'a self, responses: &'a Value, status: u16) -> Option<&'a Value> {
        let range = format!("{}XX", status / 100);
        [status.to_string(), range, "default".to_string()]
            .iter()
            .find_map(|key| responses.get(key))
            .map(|response| self.resolve(response))
    }

    /// A component response by name, e.g. `NoSuchEndpoint`.
    pub fn component_response(&self, name: &str) -> &Value {
        let response = &self.doc["components"]["responses"][name];
        assert!(response.is_object(), "the spec has no response {name}");
        self.resolve(response)
    }

    /// Every (template, method, status) the spec documents.
    pub fn documented(&self) -> BTreeSet<(String, String, u16)> {
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

    /// The codes the spec's `Error` schema allows.
    pub fn error_codes(&self) -> BTreeSet<String> {
        let codes = &self.doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"];
        let codes = codes.as_array().expect("Error.code is an enum");
        codes
            .iter()
            .map(|code| code.as_str().expect("codes are strings").to_string())
            .collect()
    }

    /// Asserts `answer` is what the spec says `method template` answers
    /// with its status, and returns the response object it matched.
    pub fn check(&self, method: &str, template: &str, answer: &Answer) -> &Value {
        let what = format!("{method} {template} -> {}", answer.status);
        let operation = &self.operations(template)[&method.to_ascii_lowercase()];
        let response = self
            .response(&operation["responses"], answer.status)
            .unwrap_or_else(|| panic!("{what}: the spec lists no such status"));
        self.check_response(&what, response, answer);
        response
    }

    /// The answer's required headers and body against `response`. A
    /// response with no `content` must come with an empty body.
    pub fn check_response(&self, what: &str, response: &Value, answer: &Answer) {
        for (name, header) in response["headers"].as_object().into_iter().flatten() {
            let required = self.resolve(header)["required"] == true;
            let name = name.to_ascii_lowercase();
            assert!(
                !required || answer.headers.contains(&name),
                "{what}: the spec requires header {name}"
            );
        }
        if response.get("content").is_none() {
            assert!(
                answer.body.is_empty(),
                "{what}: the spec gives no body, the answer has {:?}",
                String::from_utf8_lossy(&answer.body)
            );
            return;
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
        self.assert_valid(what, &media["schema"], &body);
    }
}
