//! One HTTP attempt at a delivery: sign, POST with a timeout, never follow a
//! redirect, and report what the receiver said.

use std::net::SocketAddr;
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

/// Everything needed to make one attempt.
#[derive(Clone, Debug)]
pub struct Request {
    pub delivery_id: String,
    pub url: String,
    pub payload: String,
    /// The current secret first, then a rotated-out one still in its grace period.
    pub secrets: Vec<String>,
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
            .user_agent(USER_AGENT)
            .dns_resolver(Arc::new(GuardedResolver))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Sender { client })
    }

    /// POSTs the payload once, signed for this attempt's timestamp.
    pub async fn attempt(&self, request: &Request) -> Response {
        let started = Instant::now();
        let result = self.post(request).await;
        let latency = started.elapsed();
        match result {
            Ok(response) => read_response(response, latency).await,
            Err(error) => Response {
                status_code: None,
                latency,
                error: Some(describe(&error)),
                snippet: None,
                retry_after: None,
            },
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
        let target = location
            .as_ref()
            .and_then(|l| l.to_str().ok())
            .unwrap_or("elsewhere");
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

/// `Retry-After` in seconds, on 429 and 503 only.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let status = response.status();
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    let seconds: u64 = response
        .headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
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
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| !is_forbidden(addr.ip()))
                .collect();
            if allowed.is_empty() {
                let message = format!(
                    "{host} resolves only to link-local or metadata addresses, which are refused"
                );
                return Err(message.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}
