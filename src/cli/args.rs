//! The command line, as clap definitions.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::gateway::Status;

const TOP_EXAMPLES: &str = "\
Examples:
  contactcmd --headless                      serve the API without a console
  contactcmd gateway keys add mail-bot       create a key for an agent
  contactcmd gateway queue                   list messages waiting for a decision
  contactcmd gateway approve 0193a1b2        approve (and send) one of them

Files live in --data-dir, or $CONTACTCMD_DATA_DIR, or the platform's data
directory (~/.local/share/contactcmd on Linux). Logs: <data dir>/logs.
Exit codes: 0 ok, 1 failure, 2 bad usage or input.";

/// A local gateway that holds AI agents' outbound messages (email, SMS,
/// iMessage) until a person approves them.
#[derive(Debug, Parser)]
#[command(name = "contactcmd", version, after_help = TOP_EXAMPLES)]
pub struct Cli {
    /// Directory for the database, config, logs and outbox.
    #[arg(long, env = "CONTACTCMD_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Run the gateway without a console (for services and containers).
    #[arg(long)]
    pub headless: bool,

    /// Address for the agent API [default: from config.toml, else 127.0.0.1:9810].
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,

    #[command(subcommand)]
    pub command: Option<TopCommand>,
}

#[derive(Debug, Subcommand)]
pub enum TopCommand {
    /// Headless gateway commands for scripts.
    Gateway(GatewayArgs),
}

#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: GatewayCommand,
}

#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Serve the agent API (same as `contactcmd --headless`).
    #[command(after_help = "Example:\n  contactcmd gateway serve --bind 127.0.0.1:9810")]
    Serve {
        /// Address to listen on [default: from config.toml, else 127.0.0.1:9810].
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
    },

    /// Create, list and revoke agents' API keys.
    Keys(KeysArgs),

    /// List messages waiting for a decision (pending and flagged).
    #[command(after_help = "Example:\n  contactcmd gateway queue --limit 20 --json")]
    Queue {
        /// Show at most this many, newest first.
        #[arg(long, default_value_t = 100, value_parser = at_least_one())]
        limit: u32,
    },

    /// Approve a message and send it now.
    #[command(after_help = "Example:\n  contactcmd gateway approve 0193a1b2-7c4d")]
    Approve {
        /// The action's id, or a unique prefix of it.
        action_id: String,
    },

    /// Deny a message; it will never be sent.
    #[command(
        after_help = "Example:\n  contactcmd gateway deny 0193a1b2 --reason \"wrong recipient\""
    )]
    Deny {
        /// The action's id, or a unique prefix of it.
        action_id: String,
        /// Why, for the agent (sent back as the action's error_message).
        #[arg(long)]
        reason: Option<String>,
    },

    /// List decided messages, most recent decision first.
    #[command(after_help = "Example:\n  \
            contactcmd gateway history --status sent --agent mail-bot --limit 10")]
    History {
        /// Only this status (pending, flagged, approved, sent, denied, failed).
        #[arg(long, value_parser = parse_status)]
        status: Option<Status>,
        /// Only messages from keys with this name.
        #[arg(long)]
        agent: Option<String>,
        /// Show at most this many.
        #[arg(long, default_value_t = 50, value_parser = at_least_one())]
        limit: u32,
    },

    /// The webhook delivery log; `retry` sends a failed delivery again.
    #[command(after_help = "Examples:\n  contactcmd gateway deliveries --failed\n  \
        contactcmd gateway deliveries show msg_0193a1b2\n  \
        contactcmd gateway deliveries retry msg_0193a1b2")]
    Deliveries(DeliveriesArgs),

    /// Test a key's webhook.
    Webhook(WebhookArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DeliveriesArgs {
    #[command(subcommand)]
    pub command: Option<DeliveriesCommand>,
    /// Only deliveries that gave up.
    #[arg(long)]
    pub failed: bool,
    /// Only deliveries for this key (id, prefix or display prefix).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Show at most this many, newest first.
    #[arg(long, default_value_t = 50, value_parser = at_least_one())]
    pub limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum DeliveriesCommand {
    /// Send a failed delivery again now.
    #[command(after_help = "Example:\n  contactcmd gateway deliveries retry msg_0193a1b2")]
    Retry {
        /// The delivery's id (its webhook-id), or a unique prefix of it.
        delivery_id: String,
    },
    /// Show one delivery with every attempt and the receiver's answers.
    Show {
        /// The delivery's id (its webhook-id), or a unique prefix of it.
        delivery_id: String,
    },
}

#[derive(Debug, Args)]
pub struct WebhookArgs {
    #[command(subcommand)]
    pub command: WebhookCommand,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Send a signed `ping` event to a key's webhook and print the answer.
    #[command(after_help = "Example:\n  contactcmd gateway webhook test gw_1a2b3c4d")]
    Test {
        /// Key id, unique id prefix, or display prefix (gw_1a2b3c4d).
        key_id: String,
    },
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; the key itself is printed once and never again.
    #[command(after_help = "Example:\n  contactcmd gateway keys add mail-bot")]
    Add {
        /// A name for the agent that will use the key.
        name: String,
    },

    /// List keys (never the keys themselves).
    List,

    /// Revoke a key; requests using it fail at once.
    #[command(after_help = "Example:\n  contactcmd gateway keys revoke gw_1a2b3c4d")]
    Revoke {
        /// Key id, unique id prefix, or display prefix (gw_1a2b3c4d).
        key_id: String,
    },

    /// Show, set or remove the URL a key's outcomes are POSTed to.
    #[command(
        after_help = "Examples:\n  contactcmd gateway keys webhook gw_1a2b3c4d\n  \
        contactcmd gateway keys webhook gw_1a2b3c4d https://agent.example/hooks\n  \
        contactcmd gateway keys webhook gw_1a2b3c4d --remove"
    )]
    Webhook {
        /// Key id, unique id prefix, or display prefix (gw_1a2b3c4d).
        key_id: String,
        /// New webhook URL (http or https).
        url: Option<String>,
        /// Clear the webhook URL; nothing more is sent to it.
        #[arg(long, conflicts_with_all = ["url", "rotate_secret", "secret"])]
        remove: bool,
        /// Make a new signing secret; the old one keeps signing for 24 hours.
        #[arg(long, conflicts_with = "secret")]
        rotate_secret: bool,
        /// Print the current signing secret.
        #[arg(long)]
        secret: bool,
    },
}

fn parse_status(text: &str) -> Result<Status, String> {
    text.parse()
}

/// A `--limit`: zero would print nothing and look like an empty list.
fn at_least_one() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(1..)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
