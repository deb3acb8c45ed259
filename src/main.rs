//! The `contactcmd` binary: parse the command line and run it.

use std::process::ExitCode;

use clap::Parser;
use contactcmd::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    contactcmd::process::create_private_files();
    cli::run(Cli::parse()).await
}
