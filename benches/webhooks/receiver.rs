//! A webhook receiver on a loopback port that notes when each action's event
//! arrives, and either answers 200 at once or never answers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The receiver's record of arrivals, shared with the bench.
#[derive(Default)]
pub struct Arrivals {
    by_action: Mutex<HashMap<String, Instant>>,
    hang: AtomicBool,
    arrived: Notify,
}

impl Arrivals {
    /// From now on, hold every request open without answering.
    pub fn hang(&self, hang: bool) {
        self.hang.store(hang, Ordering::SeqCst);
    }

    /// When the event for `action_id` first arrived, if it has.
    pub fn of(&self, action_id: &str) -> Option<Instant> {
        self.by_action.lock().unwrap().get(action_id).copied()
    }

    pub fn count(&self) -> usize {
        self.by_action.lock().unwrap().len()
    }

    /// Waits until at least `n` distinct actions' events have arrived.
    pub async fn wait_for(&self, n: usize) {
        loop {
            let notified = self.arrived.notified();
            if self.count() >= n {
                return;
            }
            notified.await;
        }
    }

    /// The latest arrival among all recorded.
    pub fn last(&self) -> Option<Instant> {
        self.by_action.lock().unwrap().values().max().copied()
    }
}

#[derive(Deserialize)]
struct Event {
    action_id: Option<String>,
}

/// Serves on an ephemeral loopback port until the runtime stops.
pub async fn start(arrivals: Arc<Arrivals>) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the webhook receiver")?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(arrivals);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

async fn receive(State(arrivals): State<Arc<Arrivals>>, body: Bytes) -> StatusCode {
    let now = Instant::now();
    if let Ok(Event {
        action_id: Some(id),
    }) = serde_json::from_slice(&body)
    {
        arrivals.by_action.lock().unwrap().entry(id).or_insert(now);
        arrivals.arrived.notify_waiters();
    }
    if arrivals.hang.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    StatusCode::OK
}
