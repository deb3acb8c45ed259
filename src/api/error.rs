//! The API's one error type: a status code and a JSON body that says what is
//! wrong. Internal details are logged, not sent.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::gateway::Error;

/// Declares [`Code`] with its wire names, so that the list of every code
/// cannot leave one out.
macro_rules! codes {
    ($($variant:ident => $name:literal,)+) => {
        /// What is wrong, for programs: the `code` of every error answer.
        /// The OpenAPI spec lists the same codes; a test compares the lists.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Code {
            $($variant,)+
        }

        impl Code {
            /// Every code, in the spec's order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)+];

            /// The code as it appears in the JSON body.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)+
                }
            }
        }
    };
}

codes! {
    InvalidRequest => "invalid_request",
    BadBody => "bad_body",
    BodyTimeout => "body_timeout",
    Unauthorized => "unauthorized",
    LoopbackOnly => "loopback_only",
    NotFound => "not_found",
    NoSuchEndpoint => "no_such_endpoint",
    MethodNotAllowed => "method_not_allowed",
    AlreadyDecided => "already_decided",
    PayloadTooLarge => "payload_too_large",
    Internal => "internal",
    StorageUnavailable => "storage_unavailable",
}

/// An error response: `{"success": false, "error": message, "code": code, ...}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Code,
    message: String,
    extra: Option<(&'static str, Value)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: None,
        }
    }

    /// Adds a field to the error body.
    pub fn with(mut self, field: &'static str, value: Value) -> Self {
        self.extra = Some((field, value));
        self
    }

    pub fn too_large(limit_bytes: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            format!(
                "request body is larger than {} KiB: shorten the message",
                limit_bytes / 1024
            ),
        )
    }

    pub fn not_loopback() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            Code::LoopbackOnly,
            "this endpoint answers only clients on the gateway's own machine (loopback)",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::Invalid(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, Code::InvalidRequest, message)
            }
            Error::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, Code::NotFound, message),
            Error::Unauthorized => {
                ApiError::new(StatusCode::UNAUTHORIZED, Code::Unauthorized, message)
            }
            Error::AlreadyDecided { status, .. } => {
                ApiError::new(StatusCode::CONFLICT, Code::AlreadyDecided, message)
                    .with("status", json!(status))
            }
            Error::Store(store) if store.is_transient() => {
                tracing::warn!(error = %store, "storage unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Code::StorageUnavailable,
                    "the gateway cannot use its database right now; retry shortly",
                )
            }
            Error::Store(_) | Error::Internal(_) => {
                tracing::error!(error = %message, "request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Code::Internal,
                    "internal error; the gateway's log has the details",
                )
            }
        }
    }
}

// axum answers a path or query it cannot decode with a plain-text body;
// these keep such answers in the API's JSON error shape.
impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        if rejection.status().is_server_error() {
            // A route whose parameters do not match its handler: a bug, logged.
            return ApiError::from(Error::Internal(rejection.body_text()));
        }
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::InvalidRequest,
            format!(
                "the action id in the URL is not valid ({}): use an id as the API returned it",
                rejection.body_text()
            ),
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::InvalidRequest,
            format!(
                "the query string is not valid ({}): use ?limit=N with N a whole number",
                rejection.body_text()
            ),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code.as_str();
        let mut body = json!({ "success": false, "error": self.message, "code": code });
        if let (Some((field, value)), Some(object)) = (self.extra, body.as_object_mut()) {
            object.insert(field.to_string(), value);
        }
        (self.status, Json(body)).into_response()
    }
}
