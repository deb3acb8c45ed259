//! The command line: parsing arguments and running the headless commands.

mod actions;
pub mod args;
mod keys;
mod output;
mod webhooks;

use std::process::ExitCode;

use anyhow::Context;

use crate::config::Config;
use crate::gateway::{Error, Gateway};
use crate::logging::{self, Echo};
use crate::paths::DataDir;
use crate::server;
use crate::store::HistoryFilter;
use crate::webhook::Settings;
pub use args::Cli;
use args::{GatewayArgs, GatewayCommand, TopCommand, WebhookCommand};
use output::{EXIT_FAILURE, EXIT_OK};

/// Runs what the command line asks for and returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let data = DataDir::locate(cli.data_dir.as_deref())?;
    data.create()
        .with_context(|| format!("creating data directory {}", data.root().display()))?;
    Config::write_default_if_missing(&data.config())
        .with_context(|| format!("writing default config {}", data.config().display()))?;
    let config = Config::load(&data.config())?;

    match cli.command {
        Some(TopCommand::Gateway(args)) => gateway_command(&data, &config, args).await,
        None if cli.headless => serve(&data, &config, cli.bind).await,
        None => console(&data, &config, cli.bind).await,
    }
}

async fn console(
    data: &DataDir,
    config: &Config,
    bind: Option<std::net::SocketAddr>,
) -> anyhow::Result<ExitCode> {
    let _log = logging::init(&data.logs(), Echo::FileOnly)?;
    crate::tui::run(data, config, bind.unwrap_or(config.server.bind)).await?;
    Ok(ExitCode::from(EXIT_OK))
}

async fn serve(
    data: &DataDir,
    config: &Config,
    bind: Option<std::net::SocketAddr>,
) -> anyhow::Result<ExitCode> {
    let _log = logging::init(&data.logs(), Echo::Stderr)?;
    server::run(data, config, bind.unwrap_or(config.server.bind)).await?;
    Ok(ExitCode::from(EXIT_OK))
}

async fn gateway_command(
    data: &DataDir,
    config: &Config,
    args: GatewayArgs,
) -> anyhow::Result<ExitCode> {
    if let GatewayCommand::Serve { bind } = args.command {
        return serve(data, config, bind).await;
    }
    let _log = logging::init(&data.logs(), Echo::Fallback)?;
    let gateway = server::open_gateway(data, config)?;
    let settings = config.webhooks.settings();
    Ok(
        match one_shot(&gateway, &settings, args.command, args.json).await {
            Ok(code) => code,
            Err(error) => output::fail(&error),
        },
    )
}

async fn one_shot(
    gateway: &Gateway,
    settings: &Settings,
    command: GatewayCommand,
    json: bool,
) -> Result<ExitCode, Error> {
    let succeeded = match command {
        GatewayCommand::Approve { action_id } => {
            actions::approve(gateway, settings, &action_id, json).await?
        }
        GatewayCommand::Webhook(args) => match args.command {
            WebhookCommand::Test { key_id } => {
                webhooks::test(gateway, settings, &key_id, json).await?
            }
        },
        other => {
            always_succeeds(gateway, settings, other, json).await?;
            true
        }
    };
    Ok(ExitCode::from(if succeeded {
        EXIT_OK
    } else {
        EXIT_FAILURE
    }))
}

/// The commands whose only failure is an error.
async fn always_succeeds(
    gateway: &Gateway,
    settings: &Settings,
    command: GatewayCommand,
    json: bool,
) -> Result<(), Error> {
    match command {
        GatewayCommand::Keys(keys) => keys::run(gateway, keys.command, json).await,
        GatewayCommand::Queue { limit } => actions::queue(gateway, limit, json),
        GatewayCommand::Deny { action_id, reason } => {
            actions::deny(gateway, settings, &action_id, reason, json).await
        }
        GatewayCommand::History {
            status,
            agent,
            limit,
        } => {
            let filter = HistoryFilter {
                status,
                agent,
                limit,
                offset: 0,
            };
            actions::history(gateway, &filter, json)
        }
        GatewayCommand::Deliveries(args) => {
            webhooks::deliveries(gateway, settings, args, json).await
        }
        GatewayCommand::Serve { .. }
        | GatewayCommand::Approve { .. }
        | GatewayCommand::Webhook(_) => Err(misrouted()),
    }
}

fn misrouted() -> Error {
    Error::Internal("a command reached the wrong handler".into())
}
