//! `config.toml` in the data directory: where to listen and which transport
//! carries each channel. A missing file means the embedded defaults.

use std::net::SocketAddr;
use std::path::Path;

use std::time::Duration;

use serde::Deserialize;

use crate::webhook::{self, RetryPolicy};

/// The commented default written to a new data directory.
pub const DEFAULT_CONFIG: &str = include_str!("../assets/config.toml");

/// Where the API listens unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:9810";

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub transport: TransportsConfig,
    #[serde(default)]
    pub webhooks: WebhooksConfig,
}

/// `[webhooks]`: how deliveries are retried and how long receivers get.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Waits between attempts, in seconds; fractions allowed.
    pub retry_schedule_secs: Option<Vec<f64>>,
    /// Time a receiver has to answer one attempt, in seconds.
    pub timeout_secs: Option<f64>,
    /// Deliveries in flight at once.
    pub concurrency: Option<usize>,
    /// Longest wait between looks at the database when nothing wakes the
    /// dispatcher, in seconds.
    pub idle_poll_secs: Option<f64>,
}

impl WebhooksConfig {
    /// The delivery settings these values describe.
    pub fn settings(&self) -> webhook::Settings {
        let defaults = webhook::Settings::default();
        let retry = match &self.retry_schedule_secs {
            Some(secs) => {
                RetryPolicy::new(secs.iter().map(|s| Duration::from_secs_f64(*s)).collect())
            }
            None => defaults.retry,
        };
        webhook::Settings {
            retry,
            timeout: self
                .timeout_secs
                .map_or(defaults.timeout, Duration::from_secs_f64),
            concurrency: self.concurrency.unwrap_or(defaults.concurrency),
            idle_poll: self
                .idle_poll_secs
                .map_or(defaults.idle_poll, Duration::from_secs_f64),
        }
    }

    fn validate(&self) -> Result<(), String> {
        let positive = |value: f64| value.is_finite() && value > 0.0 && value < 1e9;
        if let Some(schedule) = &self.retry_schedule_secs {
            if !schedule.iter().copied().all(positive) {
                return Err(
                    "[webhooks] retry_schedule_secs must list positive numbers of seconds, \
                     e.g. [5, 30, 120]"
                        .into(),
                );
            }
        }
        if self.timeout_secs.is_some_and(|t| !positive(t)) {
            return Err("[webhooks] timeout_secs must be a positive number of seconds".into());
        }
        if self.idle_poll_secs.is_some_and(|t| !positive(t)) {
            return Err("[webhooks] idle_poll_secs must be a positive number of seconds".into());
        }
        if self.concurrency == Some(0) {
            return Err("[webhooks] concurrency must be at least 1".into());
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: default_bind(),
        }
    }
}

fn default_bind() -> SocketAddr {
    DEFAULT_BIND
        .parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 9810)))
}

/// The transport for each channel.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportsConfig {
    #[serde(default)]
    pub email: TransportConfig,
    #[serde(default)]
    pub sms: TransportConfig,
    #[serde(default)]
    pub imessage: TransportConfig,
}

/// How one channel's messages are delivered.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum TransportConfig {
    /// Write each message as a file under the data directory's `outbox/`.
    Outbox {
        /// Sender of `.eml` files, e.g. `"Me <me@example.com>"`.
        #[serde(default)]
        from: Option<String>,
    },
    /// Pipe each message as JSON to a program; exit 0 means sent.
    Command {
        /// The program and its arguments.
        command: Vec<String>,
        #[serde(default = "default_command_timeout")]
        timeout_secs: u64,
    },
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig::Outbox { from: None }
    }
}

fn default_command_timeout() -> u64 {
    60
}

/// A config file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("config file {path}: {reason}")]
pub struct ConfigError {
    pub path: String,
    pub reason: String,
}

impl Config {
    /// Reads `path`, or returns the defaults if it does not exist.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let error = |reason: String| ConfigError {
            path: path.display().to_string(),
            reason,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(error(e.to_string())),
        };
        let config: Config = toml::from_str(&text).map_err(|e| error(e.to_string()))?;
        config.validate().map_err(error)?;
        Ok(config)
    }

    /// Writes the commented default config to `path` if no file is there.
    pub fn write_default_if_missing(path: &Path) -> std::io::Result<()> {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(mut file) => std::io::Write::write_all(&mut file, DEFAULT_CONFIG.as_bytes()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn validate(&self) -> Result<(), String> {
        self.webhooks.validate()?;
        let channels = [
            ("email", &self.transport.email),
            ("sms", &self.transport.sms),
            ("imessage", &self.transport.imessage),
        ];
        for (channel, transport) in channels {
            if let TransportConfig::Command {
                command,
                timeout_secs,
            } = transport
            {
                if command.is_empty() || command[0].trim().is_empty() {
                    return Err(format!(
                        "[transport.{channel}] has an empty `command`: give the program and its \
                         arguments, e.g. command = [\"/usr/local/bin/send-sms\"]"
                    ));
                }
                if *timeout_secs == 0 {
                    return Err(format!(
                        "[transport.{channel}] timeout_secs must be at least 1"
                    ));
                }
            }
        }
        Ok(())
    }
}
