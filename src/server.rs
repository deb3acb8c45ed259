//! Running the gateway as a server: open the engine, recover interrupted
//! sends, serve the API until SIGTERM or Ctrl-C.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::gateway::Gateway;
use crate::paths::DataDir;
use crate::store::Store;
use crate::transport::Transports;
use crate::webhook::Dispatcher;

/// How often the server looks for sends abandoned by a crashed process.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Opens the engine over the data directory with its configured transports,
/// for a one-shot command (no dispatcher in this process).
pub fn open_gateway(data: &DataDir, config: &Config) -> anyhow::Result<Gateway> {
    let store = Arc::new(Store::open(&data.database())?);
    let transports = Transports::from_config(&config.transport, &data.outbox());
    Ok(Gateway::new(store, transports, None))
}

/// Opens the engine for a serving process: with a webhook dispatcher, and
/// with sends abandoned by a crashed process already marked failed.
pub async fn open_serving(
    data: &DataDir,
    config: &Config,
) -> anyhow::Result<(Arc<Gateway>, Dispatcher)> {
    let store = Arc::new(Store::open(&data.database())?);
    store.require_writable()?;
    let mut dispatcher = Dispatcher::new(store.clone(), config.webhooks.settings())
        .context("building the webhook HTTP client")?;
    dispatcher.register().await;
    let transports = Transports::from_config(&config.transport, &data.outbox());
    let wake = Some(dispatcher.wake_handle());
    let gateway = Arc::new(Gateway::new(store, transports, wake));
    gateway.fail_interrupted_sends().await?;
    Ok((gateway, dispatcher))
}

/// Serves the API on `bind`, and delivers webhooks, until a shutdown signal.
pub async fn run(data: &DataDir, config: &Config, bind: SocketAddr) -> anyhow::Result<()> {
    let signalled = shutdown_signal();
    let (gateway, dispatcher) = open_serving(data, config).await?;

    let listener = TcpListener::bind(bind).await.with_context(|| {
        format!("could not listen on {bind}: is another gateway running? choose another --bind")
    })?;
    let address = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%address, data_dir = %data.root().display(), "gateway listening");
    // One stable line on stdout, for scripts and tests that bind port 0.
    println!("contactcmd gateway listening on http://{address}");

    let shutdown = CancellationToken::new();
    let delivering = tokio::spawn(dispatcher.run(shutdown.clone()));
    let sweeper = tokio::spawn(sweep_interrupted_sends(gateway.clone()));
    let stopping = Arc::new(OnceLock::new());
    let (stop, stop_at) = (shutdown.clone(), stopping.clone());
    let signalled = async move {
        signalled.await;
        let _ = stop_at.set(Instant::now());
        stop.cancel();
    };
    crate::api::serve(listener, gateway, signalled).await;

    shutdown.cancel();
    sweeper.abort();
    // Waits for the dispatcher to hand back its leases.
    if let Err(error) = delivering.await {
        tracing::warn!(%error, "webhook dispatcher task failed");
    }
    let took = stopping.get().map(Instant::elapsed).unwrap_or_default();
    tracing::info!(shutdown_ms = took.as_millis(), "gateway stopped");
    Ok(())
}

/// Periodically fails sends abandoned by a process that died.
pub async fn sweep_interrupted_sends(gateway: Arc<Gateway>) {
    let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if let Err(error) = gateway.fail_interrupted_sends().await {
            tracing::warn!(%error, "sweep for interrupted sends failed");
        }
    }
}

/// Starts listening for Ctrl-C and SIGTERM now, and returns a future that
/// completes on either.
///
/// The handlers are installed before the future is first polled: a signal
/// that arrives between startup and the first poll (a supervisor stopping a
/// service it just started) is then a graceful stop, not the default
/// action of killing the process with its leases still held.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::SignalKind;
        let terminate = listen(SignalKind::terminate(), "SIGTERM");
        let interrupt = listen(SignalKind::interrupt(), "Ctrl-C");
        async move {
            tokio::select! {
                () = received(terminate) => tracing::info!("SIGTERM received; shutting down"),
                () = received(interrupt) => tracing::info!("Ctrl-C received; shutting down"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("Ctrl-C received; shutting down");
    }
}

#[cfg(unix)]
fn listen(
    kind: tokio::signal::unix::SignalKind,
    name: &str,
) -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind)
        .inspect_err(|error| tracing::warn!(%error, "cannot listen for {name}"))
        .ok()
}

/// Completes when the signal arrives; never, if it could not be listened for.
#[cfg(unix)]
async fn received(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
