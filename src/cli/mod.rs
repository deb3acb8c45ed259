//! The command line: parsing arguments and running the headless commands.

mod actions;
pub mod args;
mod keys;
mod output;

use std::process::ExitCode;

use anyhow::Context;

use crate::config::Config;
use crate::gateway::{Error, Gateway};
use crate::logging::{self, Echo};
use crate::paths::DataDir;
use crate::server;
use crate::store::HistoryFilter;
pub use args::Cli;
use args::{GatewayArgs, GatewayCommand, TopCommand};
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
        None => {
            // TODO: the full-screen console is not built yet, so without
            // --headless the gateway serves headless and says so.
            if !cli.headless {
                eprintln!("contactcmd: the console is not available yet; serving headless.");
            }
            serve(&data, &config, cli.bind).await
        }
    }
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
    let _log = logging::init(&data.logs(), Echo::FileOnly)?;
    let gateway = server::open_gateway(data, config)?;
    Ok(match one_shot(&gateway, args.command, args.json).await {
        Ok(code) => code,
        Err(error) => output::fail(&error),
    })
}

async fn one_shot(
    gateway: &Gateway,
    command: GatewayCommand,
    json: bool,
) -> Result<ExitCode, Error> {
    match command {
        GatewayCommand::Serve { .. } => unreachable_serve()?,
        GatewayCommand::Keys(keys) => keys::run(gateway, keys.command, json).await?,
        GatewayCommand::Queue { limit } => actions::queue(gateway, limit, json)?,
        GatewayCommand::Approve { action_id } => {
            let sent = actions::approve(gateway, &action_id, json).await?;
            return Ok(ExitCode::from(if sent { EXIT_OK } else { EXIT_FAILURE }));
        }
        GatewayCommand::Deny { action_id, reason } => {
            actions::deny(gateway, &action_id, reason, json).await?
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
            };
            actions::history(gateway, &filter, json)?
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn unreachable_serve() -> Result<(), Error> {
    Err(Error::Internal(
        "serve is handled before one-shot commands".into(),
    ))
}
