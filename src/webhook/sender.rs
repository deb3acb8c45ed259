//! One HTTP attempt at a delivery: sign, POST with a timeout, never follow a
//! redirect, and report what the receiver said.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;

use super::secret::signature_header;
use crate::gateway::webhook_url::is_forbidden;

/// Bytes of a response body kept in the delivery log.
pub const SNIPPET_BYTES: usize = 1024;

/// `user-agent` on every delivery.
pub const USER_AGENT: &str = concat!("contactcmd-gateway/", env!("CARGO_PKG_VERSION"));

/// Everything needed to make one attempt. Its `Debug` form leaves the
/// secrets out.
#[derive(Clone)]
pub struct Request {
    pub delivery_id: String,
    pub url: String,
    pub payload: String,
    /// The current secret first, then a rotated-out one still in its grace period.
    pub secrets: Vec<String>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("delivery_id", &self.delivery_id)
            .field("url", &self.url)
            .field(
                "secrets",
                &format_args!("<{} redacted>", self.secrets.len()),
            )
            .finish_non_exhaustive()
    }
}

/// What one attempt found out.
#[derive(Clone, Debug)]
pub struct Response {
    pub status_code: Option<u16>,
    pub latency: Duration,
    pub error: Option<String>,
    pub snippet: Option<String>,
    pub retry_after: Option<Duration>,
}

impl Response {
    /// A 2xx answer.
    pub fn delivered(&self) -> bool {
        self.error.is_none()
            && self
                .status_code
                .is_some_and(|code| (200..300).contains(&code))
    }

    fn failed(error: String, latency: Duration) -> Response {
        Response {
            status_code: None,
            latency,
            error: Some(error),
            snippet: None,
            retry_after: None,
        }
    }

    /// 410 Gone: the receiver wants no more events at this URL.
    pub fn gone(&self) -> bool {
        self.status_code == Some(StatusCode::GONE.as_u16())
    }
}

/// Makes delivery attempts over a shared connection pool.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
}

impl Sender {
    pub fn new(timeout: Duration) -> Result<Sender, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve the host itself, out
            // of reach of the address guard, and would carry loopback
            // deliveries off the machine.
            .no_proxy()
            .user_agent(USER_AGENT)
            .dns_resolver(Arc::new(GuardedResolver))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Sender { client })
    }

    /// POSTs the payload once, signed for this attempt's timestamp.
    pub async fn attempt(&self, request: &Request) -> Response {
        let started = Instant::now();
        if let Err(refusal) = refuse_before_sending(request) {
            return Response::failed(refusal, started.elapsed());
        }
        let result = self.post(request).await;
        let latency = started.elapsed();
        match result {
            Ok(response) => read_response(response, latency).await,
            Err(error) => Response::failed(describe(&error), latency),
        }
    }

    async fn post(&self, request: &Request) -> Result<reqwest::Response, reqwest::Error> {
        let timestamp = chrono::Utc::now().timestamp();
        let secrets: Vec<&str> = request.secrets.iter().map(String::as_str).collect();
        let signature = signature_header(
            &secrets,
            &request.delivery_id,
            timestamp,
            request.payload.as_bytes(),
        );

        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        insert(&mut headers, "webhook-id", &request.delivery_id);
        insert(&mut headers, "webhook-timestamp", &timestamp.to_string());
        insert(&mut headers, "webhook-signature", &signature);

        self.client
            .post(&request.url)
            .headers(headers)
            .body(request.payload.clone())
            .send()
            .await
    }
}

/// Why `request` must not go out at all: it would be unsigned, or its URL
/// names a forbidden address outright (the resolver guards host names).
fn refuse_before_sending(request: &Request) -> Result<(), String> {
    if request.secrets.is_empty() {
        return Err(
            "the key has no signing secret, and deliveries are never sent unsigned: \
             set its webhook again or rotate its secret"
                .into(),
        );
    }
    let url = url::Url::parse(&request.url).map_err(|e| format!("bad webhook URL: {e}"))?;
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    match literal {
        Some(ip) if is_forbidden(ip) => Err(format!(
            "{ip} is a link-local or metadata address, which is refused"
        )),
        _ => Ok(()),
    }
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

async fn read_response(mut response: reqwest::Response, latency: Duration) -> Response {
    let status = response.status();
    let retry_after = retry_after(&response);
    let location = response.headers().get(reqwest::header::LOCATION).cloned();
    let snippet = read_snippet(&mut response).await;

    let error = if status.is_success() {
        None
    } else if status.is_redirection() {
        // Only the host: a redirect's path or query may carry a token.
        let target = location
            .as_ref()
            .and_then(|l| l.to_str().ok())
            .and_then(|l| url::Url::parse(l).ok())
            .and_then(|l| l.host_str().map(str::to_string))
            .unwrap_or_else(|| "another address".into());
        Some(format!(
            "redirect ({status}) to {target}: redirects are not followed"
        ))
    } else {
        Some(format!("receiver answered {status}"))
    };
    Response {
        status_code: Some(status.as_u16()),
        latency,
        error,
        snippet,
        retry_after,
    }
}

/// The first [`SNIPPET_BYTES`] of the body, without reading the rest.
async fn read_snippet(response: &mut reqwest::Response) -> Option<String> {
    let mut body = Vec::new();
    while body.len() < SNIPPET_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(SNIPPET_BYTES);
    (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned())
}

/// `Retry-After` on 429 and 503 only, in seconds or as an HTTP date.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let status = response.status();
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    parse_retry_after(value, chrono::Utc::now())
}

fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// A short reason, without the URL (which the log line carries anyway).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_request() {
        "request failed"
    } else {
        "failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

/// Resolves host names, refusing link-local and metadata addresses, so a
/// name that points at one is caught at delivery time too.
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs: Addrs = Box::new(allowed_addresses(&host, found)?.into_iter());
            Ok(addrs)
        })
    }
}

/// The addresses `host` resolved to that may be connected to; an error if
/// none may.
fn allowed_addresses(host: &str, found: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
    let allowed: Vec<SocketAddr> = found
        .into_iter()
        .filter(|addr| !is_forbidden(addr.ip()))
        .collect();
    if allowed.is_empty() {
        return Err(format!(
            "{host} resolves only to link-local or metadata addresses, which are refused"
        ));
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        SocketAddr::new(text.parse().unwrap(), 0)
    }

    #[test]
    fn a_name_resolving_only_to_metadata_or_link_local_addresses_is_refused() {
        let found = vec![
            addr("169.254.169.254"),
            addr("fe80::1"),
            addr("::ffff:169.254.1.1"),
        ];
        let refused = allowed_addresses("hooks.example", found).unwrap_err();
        assert!(refused.contains("hooks.example"), "{refused}");
    }

    #[test]
    fn forbidden_addresses_are_dropped_from_a_mixed_answer() {
        let found = vec![addr("169.254.169.254"), addr("10.0.0.7"), addr("::1")];
        let allowed = allowed_addresses("hooks.example", found).unwrap();
        assert_eq!(allowed, [addr("10.0.0.7"), addr("::1")]);
    }

    fn request(url: &str, secrets: &[&str]) -> Request {
        Request {
            delivery_id: "msg_1".into(),
            url: url.into(),
            payload: "{}".into(),
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn an_unsigned_request_or_a_forbidden_literal_address_is_never_sent() {
        let secret = ["whsec_c2VjcmV0"];
        assert!(refuse_before_sending(&request("http://127.0.0.1/", &[])).is_err());
        assert!(refuse_before_sending(&request("http://169.254.169.254/", &secret)).is_err());
        assert!(refuse_before_sending(&request("http://[::a9fe:a9fe]/", &secret)).is_err());
        assert!(refuse_before_sending(&request("http://127.0.0.1:9/", &secret)).is_ok());
    }

    #[test]
    fn retry_after_is_read_in_seconds_or_as_an_http_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        let date = "Fri, 04 Dec 2026 10:01:30 GMT";
        assert_eq!(parse_retry_after(date, now), Some(Duration::from_secs(90)));
        let past = "Fri, 04 Dec 2026 09:00:00 GMT";
        assert_eq!(parse_retry_after(past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
