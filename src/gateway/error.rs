//! What can go wrong in the domain, in terms a caller can act on.

use crate::gateway::Status;
use crate::store::StoreError;

/// A domain failure. The HTTP API maps each variant to a status code and the
/// CLI to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request or argument is wrong; the message says how to fix it.
    #[error("{0}")]
    Invalid(String),

    /// The named action or key does not exist.
    #[error("{0}")]
    NotFound(String),

    /// Someone decided the action first.
    #[error("action {id} is already {status}: it was decided before this request")]
    AlreadyDecided { id: String, status: Status },

    /// Missing, unknown or revoked API key.
    #[error("invalid API key: pass a current key in the X-Gateway-Key header")]
    Unauthorized,

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}
