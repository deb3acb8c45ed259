//! The domain: API keys, actions and the status machine that moves them from
//! queued to sent, denied or failed, shared by the HTTP API and the CLI.

mod auth;
pub mod decide;
mod error;
mod flags;
mod hooks;
pub mod intake;
pub mod keys;
pub mod model;
mod service;
pub mod webhook_url;

pub use auth::AgentKey;
pub use error::Error;
pub use hooks::{WebhookChange, ROTATION_GRACE};
pub use model::{Channel, Priority, Status};
pub use service::{Gateway, Health};
