//! contactcmd gateway: AI agents submit messages over HTTP, a person
//! approves or denies each, approved ones go out through a transport.
//!
//! `main.rs` is a thin entry point; everything lives here so the tests and
//! benchmarks can reach it.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod gateway;
pub mod logging;
pub mod paths;
pub mod process;
pub mod server;
pub mod store;
pub mod transport;
pub mod tui;
pub mod webhook;
