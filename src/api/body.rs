//! Reading a request body with a size cap and a deadline, so a client that
//! trickles its body a byte at a time cannot hold a connection open.

use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::StatusCode;
use bytes::BytesMut;
use http_body_util::BodyExt;

use super::error::{ApiError, Code};
use super::MAX_BODY_BYTES;

/// Time a client has to send the whole body once its headers arrived.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of an oversized body is read and thrown away before answering
/// 413, and for how long: a client still sending when the server answers and
/// closes would get a reset instead of the answer.
const DRAIN_BYTES: usize = 8 * MAX_BODY_BYTES;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a body could not be had.
enum Refusal {
    TooLarge(Body),
    Broken(axum::Error),
}

/// The whole body, or 413 if it is too large, 408 if it is too slow.
pub async fn read(body: Body) -> Result<Bytes, ApiError> {
    // A declared Content-Length over the cap is refused without waiting for
    // the body: a client announcing more than we accept would otherwise be
    // waited on until the deadline and told 408, which hides the real problem.
    if body.size_hint().lower() > MAX_BODY_BYTES as u64 {
        drain(body).await;
        return Err(ApiError::too_large(MAX_BODY_BYTES));
    }
    match tokio::time::timeout(BODY_READ_TIMEOUT, collect(body)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(Refusal::TooLarge(rest))) => {
            drain(rest).await;
            Err(ApiError::too_large(MAX_BODY_BYTES))
        }
        Ok(Err(Refusal::Broken(error))) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::BadBody,
            format!("could not read the request body: {error}"),
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            Code::BodyTimeout,
            format!(
                "the request body did not arrive within {} s: send it whole, promptly",
                BODY_READ_TIMEOUT.as_secs()
            ),
        )),
    }
}

/// Reads the body up to [`MAX_BODY_BYTES`].
async fn collect(mut body: Body) -> Result<Bytes, Refusal> {
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(Refusal::Broken)?.into_data() else {
            continue;
        };
        if buffer.len() + data.len() > MAX_BODY_BYTES {
            return Err(Refusal::TooLarge(body));
        }
        buffer.extend_from_slice(&data);
    }
    Ok(buffer.freeze())
}

/// Reads and discards what the client is still sending, within bounds, so
/// that it is ready to read the answer and its connection can carry the
/// next request.
pub async fn drain(mut body: Body) {
    let discard = async {
        let mut seen = 0;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |data| data.len());
            if seen > DRAIN_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, discard).await;
}
