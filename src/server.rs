//! Running the gateway as a server: open the engine, recover interrupted
//! sends, serve the API until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::gateway::Gateway;
use crate::paths::DataDir;
use crate::store::Store;
use crate::transport::Transports;

/// How often the server looks for sends abandoned by a crashed process.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Opens the engine over the data directory with its configured transports.
pub fn open_gateway(data: &DataDir, config: &Config) -> anyhow::Result<Gateway> {
    let store = Store::open(&data.database())?;
    let transports = Transports::from_config(&config.transport, &data.outbox());
    Ok(Gateway::new(store, transports))
}

/// Serves the API on `bind` until a shutdown signal.
pub async fn run(data: &DataDir, config: &Config, bind: SocketAddr) -> anyhow::Result<()> {
    let gateway = Arc::new(open_gateway(data, config)?);
    gateway.fail_interrupted_sends().await?;

    let listener = TcpListener::bind(bind).await.with_context(|| {
        format!("could not listen on {bind}: is another gateway running? choose another --bind")
    })?;
    let address = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%address, data_dir = %data.root().display(), "gateway listening");
    // One stable line on stdout, for scripts and tests that bind port 0.
    println!("contactcmd gateway listening on http://{address}");

    let sweeper = tokio::spawn(sweep_interrupted_sends(gateway.clone()));
    crate::api::serve(listener, gateway, shutdown_signal())
        .await
        .context("serving the API")?;
    sweeper.abort();
    tracing::info!("gateway stopped");
    Ok(())
}

async fn sweep_interrupted_sends(gateway: Arc<Gateway>) {
    let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if let Err(error) = gateway.fail_interrupted_sends().await {
            tracing::warn!(%error, "sweep for interrupted sends failed");
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received; shutting down"),
        () = terminate => tracing::info!("SIGTERM received; shutting down"),
    }
}
