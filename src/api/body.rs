//! Reading a request body with a size cap and a deadline, so a client that
//! trickles its body a byte at a time cannot hold a connection open.

use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::StatusCode;
use http_body_util::LengthLimitError;

use super::error::ApiError;
use super::MAX_BODY_BYTES;

/// Time a client has to send the whole body once its headers arrived.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The whole body, or 413 if it is too large, 408 if it is too slow.
pub async fn read(body: Body) -> Result<Bytes, ApiError> {
    // A declared Content-Length over the cap is refused before reading: a
    // client announcing more than we accept would otherwise be waited on
    // until the deadline and told 408, which hides the real problem.
    let declared = body.size_hint().lower();
    if declared > MAX_BODY_BYTES as u64 {
        return Err(ApiError::too_large(MAX_BODY_BYTES));
    }
    let reading = axum::body::to_bytes(body, MAX_BODY_BYTES);
    match tokio::time::timeout(BODY_READ_TIMEOUT, reading).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) if is_too_large(&error) => Err(ApiError::too_large(MAX_BODY_BYTES)),
        Ok(Err(error)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!("could not read the request body: {error}"),
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body did not arrive within {} s: send it whole, promptly",
                BODY_READ_TIMEOUT.as_secs()
            ),
        )),
    }
}

fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.is::<LengthLimitError>() {
            return true;
        }
        source = cause.source();
    }
    false
}
