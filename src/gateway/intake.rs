//! Turning an agent's `/gateway/send` body into a validated action, or a
//! message that says exactly what is wrong with it.

use serde::Deserialize;
use serde_json::Value;

use super::flags::flag_reason;
use super::{Channel, Error, Priority, Status};
use crate::clock;
use crate::store::NewActionRow;

const MAX_RECIPIENT_CHARS: usize = 320;
const MAX_NAME_CHARS: usize = 200;
/// RFC 5322's line limit; a longer subject cannot be written on one line.
const MAX_SUBJECT_CHARS: usize = 998;

/// The request body as agents send it. Every field is optional here so that
/// a missing one gets a message naming it rather than serde's generic one.
#[derive(Deserialize)]
struct SendRequest {
    channel: Option<String>,
    recipient_address: Option<String>,
    recipient_name: Option<String>,
    subject: Option<String>,
    body: Option<String>,
    priority: Option<String>,
    context: Option<Value>,
}

/// Validates `body` and builds the row to store for key `key_id`.
pub fn parse(body: &[u8], key_id: &str) -> Result<NewActionRow, Error> {
    let request = decode(body)?;

    let channel = parse_channel(request.channel.as_deref())?;
    let (recipient_address, name_in_address) =
        recipient(channel, request.recipient_address.as_deref())?;
    let recipient_name = optional_line("recipient_name", request.recipient_name, MAX_NAME_CHARS)?
        .or(name_in_address);
    let subject = subject(channel, request.subject)?;
    let text = message_body(request.body)?;
    let priority = parse_priority(request.priority.as_deref())?;
    let agent_context = context(request.context)?;

    let flag = flag_reason(&text).or_else(|| subject.as_deref().and_then(flag_reason));
    Ok(NewActionRow {
        id: clock::new_id(),
        key_id: key_id.to_string(),
        channel,
        recipient_address,
        recipient_name,
        subject,
        body: text,
        priority,
        status: if flag.is_some() {
            Status::Flagged
        } else {
            Status::Pending
        },
        flag_reason: flag,
        agent_context,
        created_at: clock::now_text(),
    })
}

/// Parses `body` without tracking where in it the parser is, which costs an
/// allocation per field; only a body that fails is parsed again, tracked, so
/// that the error can name the field at fault.
fn decode(body: &[u8]) -> Result<SendRequest, Error> {
    if looks_like_array(body) {
        return Err(Error::invalid(
            "request body must be a JSON object with channel, recipient_address and body, \
             not an array",
        ));
    }
    serde_json::from_slice(body).or_else(|_| decode_explaining(body))
}

fn decode_explaining(body: &[u8]) -> Result<SendRequest, Error> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let request = serde_path_to_error::deserialize(&mut json).map_err(describe_json_error)?;
    json.end().map_err(|e| {
        Error::invalid(format!("request body has data after the JSON object ({e})"))
    })?;
    Ok(request)
}

/// True if `body` starts like a JSON array. Checked before decoding because
/// serde fills a struct from an array by position, which no agent means.
pub fn looks_like_array(body: &[u8]) -> bool {
    body.trim_ascii_start().first() == Some(&b'[')
}

fn describe_json_error(error: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return Error::invalid(format!(
            "request body is not valid JSON ({inner}): send a JSON object such as \
             {{\"channel\": \"sms\", \"recipient_address\": \"+15550100\", \"body\": \"Hi\"}}"
        ));
    }
    if path == "." {
        return Error::invalid(format!(
            "request body must be a JSON object with channel, recipient_address and body ({inner})"
        ));
    }
    Error::invalid(format!("field `{path}` has the wrong type: {inner}"))
}

fn parse_channel(channel: Option<&str>) -> Result<Channel, Error> {
    let channel = channel.ok_or_else(|| {
        Error::invalid(format!(
            "missing field `channel`: use one of {}",
            Channel::choices()
        ))
    })?;
    channel.parse().map_err(Error::Invalid)
}

/// The recipient's address, and the name given with it when an email
/// address comes as a mailbox (`Ann Lee <ann@example.com>`), which agents
/// written for earlier gateways may send.
fn recipient(channel: Channel, address: Option<&str>) -> Result<(String, Option<String>), Error> {
    let address = address.map(str::trim).unwrap_or_default();
    if address.is_empty() {
        return Err(Error::invalid(
            "`recipient_address` is missing or empty: give an email address or phone number",
        ));
    }
    if address.chars().count() > MAX_RECIPIENT_CHARS {
        return Err(Error::invalid(format!(
            "`recipient_address` is longer than {MAX_RECIPIENT_CHARS} characters"
        )));
    }
    if let Some(mailbox) = mailbox(channel, address) {
        return Ok(mailbox);
    }
    let valid = match channel {
        Channel::Email => is_email(address),
        Channel::Sms => is_phone(address),
        Channel::Imessage => is_phone(address) || is_email(address),
    };
    if !valid {
        return Err(Error::invalid(format!(
            "`recipient_address` {address:?} is not {} for channel {channel}",
            match channel {
                Channel::Email => "an email address (name@example.com)",
                Channel::Sms => "a phone number (digits, optionally with + and separators)",
                Channel::Imessage => "a phone number or an email address",
            }
        )));
    }
    Ok((address.to_string(), None))
}

/// `Name <address>` for a channel that takes email addresses, split.
fn mailbox(channel: Channel, text: &str) -> Option<(String, Option<String>)> {
    if channel == Channel::Sms || !text.ends_with('>') {
        return None;
    }
    let mailbox: lettre::message::Mailbox = text.parse().ok()?;
    let name = mailbox.name.filter(|n| !n.trim().is_empty());
    Some((mailbox.email.to_string(), name))
}

fn is_email(address: &str) -> bool {
    address.parse::<lettre::Address>().is_ok()
}

fn is_phone(address: &str) -> bool {
    let digits = address.bytes().filter(u8::is_ascii_digit).count();
    let rest = address.strip_prefix('+').unwrap_or(address);
    (3..=20).contains(&digits)
        && rest
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')'))
}

fn subject(channel: Channel, subject: Option<String>) -> Result<Option<String>, Error> {
    let subject = optional_line("subject", subject, MAX_SUBJECT_CHARS)?;
    if channel == Channel::Email && subject.is_none() {
        return Err(Error::invalid(
            "`subject` is required for email: add a non-empty subject",
        ));
    }
    Ok(subject)
}

/// A one-line optional text field: trimmed, empty treated as absent.
fn optional_line(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, Error> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "`{field}` contains a line break or control character: it must be one line of text"
        )));
    }
    if value.chars().count() > max {
        return Err(Error::invalid(format!(
            "`{field}` is longer than {max} characters"
        )));
    }
    Ok(Some(value.to_string()))
}

fn message_body(body: Option<String>) -> Result<String, Error> {
    match body {
        Some(body) if !body.trim().is_empty() => Ok(body),
        _ => Err(Error::invalid(
            "`body` is missing or empty: put the message text in `body`",
        )),
    }
}

fn parse_priority(priority: Option<&str>) -> Result<Priority, Error> {
    match priority {
        None => Ok(Priority::Normal),
        Some(text) => text.parse().map_err(Error::Invalid),
    }
}

fn context(context: Option<Value>) -> Result<Option<String>, Error> {
    match context {
        None | Some(Value::Null) => Ok(None),
        Some(object @ Value::Object(_)) => Ok(Some(object.to_string())),
        Some(_) => Err(Error::invalid(
            "`context` must be a JSON object, e.g. {\"reason\": \"follow-up\"}",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &[u8]) -> String {
        match parse(body, "key") {
            Err(Error::Invalid(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn an_array_with_a_value_for_every_field_is_refused() {
        let body = br#" ["sms", "+15550100", null, null, "hi", null, null]"#;
        assert!(refusal(body).contains("must be a JSON object"));
    }

    #[test]
    fn an_email_address_given_as_a_mailbox_is_split_into_address_and_name() {
        let body = br#"{"channel": "email", "recipient_address": "Ann Lee <ann@example.com>",
            "subject": "Hi", "body": "hi"}"#;
        let row = parse(body, "key").unwrap();
        assert_eq!(row.recipient_address, "ann@example.com");
        assert_eq!(row.recipient_name.as_deref(), Some("Ann Lee"));
        let named = br#"{"channel": "email", "recipient_address": "Ann <ann@example.com>",
            "recipient_name": "Ann Lee", "subject": "Hi", "body": "hi"}"#;
        assert_eq!(
            parse(named, "key").unwrap().recipient_name.as_deref(),
            Some("Ann Lee")
        );
        let sms = br#"{"channel": "sms", "recipient_address": "Ann <ann@example.com>",
            "body": "hi"}"#;
        assert!(parse(sms, "key").is_err());
    }

    #[test]
    fn an_object_with_the_same_fields_is_accepted() {
        let body = br#"{"channel": "sms", "recipient_address": "+15550100", "body": "hi"}"#;
        assert!(parse(body, "key").is_ok());
    }
}
