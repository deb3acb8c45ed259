//! The engine under the console: the same store, dispatcher and API server
//! as `--headless`, plus a watcher that notices commits from any process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::action::Action;
use super::model::{ApiState, PortHolder};
use super::port_holder;
use crate::config::Config;
use crate::gateway::Gateway;
use crate::paths::DataDir;
use crate::server;
use crate::webhook::Dispatcher;

/// How often the watcher asks SQLite whether anything was committed.
const WATCH_INTERVAL: Duration = Duration::from_millis(100);

/// The running engine.
pub struct Engine {
    pub gateway: Arc<Gateway>,
    shutdown: CancellationToken,
    /// Tasks that stop by themselves once `shutdown` is cancelled.
    tasks: Vec<tokio::task::JoinHandle<()>>,
    sweeper: tokio::task::JoinHandle<()>,
}

/// Opens the database, starts delivering webhooks, and serves the API on
/// `bind` if the address is free (saying why not otherwise).
pub async fn start(
    data: &DataDir,
    config: &Config,
    bind: SocketAddr,
    actions: UnboundedSender<Action>,
) -> anyhow::Result<Engine> {
    let (gateway, dispatcher) = server::open_serving(data, config).await?;

    let shutdown = CancellationToken::new();
    let sweeper = tokio::spawn(server::sweep_interrupted_sends(gateway.clone()));
    let mut tasks = vec![
        spawn_dispatcher(dispatcher, shutdown.clone()),
        tokio::spawn(watch(data.database(), actions.clone(), shutdown.clone())),
    ];
    tasks.extend(serve_api(bind, gateway.clone(), shutdown.clone(), &actions).await);
    Ok(Engine {
        gateway,
        shutdown,
        tasks,
        sweeper,
    })
}

impl Engine {
    /// Stops serving and delivering, releasing webhook leases.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.sweeper.abort();
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

fn spawn_dispatcher(
    dispatcher: Dispatcher,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(dispatcher.run(shutdown))
}

async fn serve_api(
    bind: SocketAddr,
    gateway: Arc<Gateway>,
    shutdown: CancellationToken,
    actions: &UnboundedSender<Action>,
) -> Option<tokio::task::JoinHandle<()>> {
    let listener = match TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            let _ = actions.send(Action::Api(ApiState::Taken {
                bind,
                holder: PortHolder::Asking,
            }));
            tokio::spawn(say_who_holds(bind, gateway, actions.clone()));
            return None;
        }
        Err(error) => {
            tracing::warn!(%bind, %error, "console is not serving the API");
            let error = error.to_string();
            let _ = actions.send(Action::Api(ApiState::Failed { bind, error }));
            return None;
        }
    };
    let address = listener.local_addr().unwrap_or(bind);
    tracing::info!(%address, "console serving the API");
    let _ = actions.send(Action::Api(ApiState::Serving(address)));
    Some(tokio::spawn(async move {
        let stop = async move { shutdown.cancelled().await };
        crate::api::serve(listener, gateway, stop).await;
    }))
}

/// Finds out who holds `bind` and tells the status bar.
async fn say_who_holds(bind: SocketAddr, gateway: Arc<Gateway>, actions: UnboundedSender<Action>) {
    let holder = port_holder::find(bind, gateway.store().clone()).await;
    tracing::warn!(%bind, ?holder, "console is not serving the API: the address is taken");
    let _ = actions.send(Action::Api(ApiState::Taken { bind, holder }));
}

/// Reports `DataChanged` whenever any connection (in this process or
/// another) commits, by watching SQLite's `data_version`.
async fn watch(
    path: std::path::PathBuf,
    actions: UnboundedSender<Action>,
    shutdown: CancellationToken,
) {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match Connection::open_with_flags(&path, flags) {
        Ok(conn) => conn,
        Err(error) => {
            tracing::warn!(%error, "cannot watch the database; the console will not refresh");
            return;
        }
    };
    let mut last = data_version(&conn);
    let mut ticks = tokio::time::interval(WATCH_INTERVAL);
    while !shutdown.is_cancelled() {
        ticks.tick().await;
        let now = data_version(&conn);
        if now != last {
            last = now;
            if actions.send(Action::DataChanged).is_err() {
                return;
            }
        }
    }
}

fn data_version(conn: &Connection) -> Option<i64> {
    conn.pragma_query_value(None, "data_version", |row| row.get(0))
        .ok()
}
