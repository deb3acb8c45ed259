//! The dispatcher: a task in every serving process that claims due
//! deliveries with a lease, sends them with bounded concurrency, and keeps a
//! heartbeat so one-shot commands know someone is delivering.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use super::attempt::{self, Claimed};
use super::doorbell::Doorbell;
use super::liveness::{self, HEARTBEAT_INTERVAL};
use super::sender::Sender;
use super::Settings;
use crate::clock;
use crate::store::dispatchers::DispatcherRow;
use crate::store::{deliveries, dispatchers, Store, StoreError};

/// How long in-flight attempts may finish after shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Delivers webhooks for one process.
pub struct Dispatcher {
    id: String,
    store: Arc<Store>,
    sender: Sender,
    settings: Settings,
    wake: Arc<Notify>,
    permits: Arc<Semaphore>,
    /// Bound by [`Dispatcher::register`], so its port is in the first heartbeat.
    doorbell: Option<Doorbell>,
}

impl Dispatcher {
    pub fn new(store: Arc<Store>, settings: Settings) -> Result<Dispatcher, reqwest::Error> {
        Ok(Dispatcher {
            id: format!("dispatcher_{}", clock::new_id()),
            sender: Sender::new(settings.timeout)?,
            permits: Arc::new(Semaphore::new(settings.concurrency)),
            wake: Arc::new(Notify::new()),
            doorbell: None,
            store,
            settings,
        })
    }

    /// Opens the doorbell and writes the first heartbeat, so one-shot
    /// commands hand their webhooks to this process from now on. Call it
    /// before announcing that the gateway is up. A failure is only logged:
    /// the heartbeat keeps trying once the dispatcher runs.
    pub async fn register(&mut self) {
        if self.doorbell.is_none() {
            self.doorbell = Doorbell::bind()
                .await
                .inspect_err(|error| tracing::warn!(%error, "no doorbell for one-shot commands"))
                .ok();
        }
        let row = self.me();
        let written = self
            .store
            .write(move |conn| dispatchers::heartbeat(conn, &row))
            .await;
        if let Err(error) = written {
            tracing::warn!(%error, "could not register the webhook dispatcher; will retry");
        }
    }

    /// Notifying this makes the dispatcher look for due deliveries now.
    pub fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `shutdown` is cancelled, then releases its leases. Call
    /// [`Dispatcher::register`] first, so one-shot commands see it at once.
    ///
    /// Delivery starts even if the database cannot be written to yet: the
    /// heartbeat, which one-shot commands look for, registers this
    /// dispatcher as soon as it can, and claims fail until then.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let me = self.me();
        let port = me.doorbell_port;
        let doorbell = self.doorbell.take();
        let heartbeat = tokio::spawn(keep_alive(self.store.clone(), me, self.wake_handle()));
        tracing::info!(dispatcher = %self.id, doorbell_port = ?port, "webhook dispatcher started");

        while !shutdown.is_cancelled() {
            let wait = match self.dispatch_due().await {
                Ok(wait) => wait,
                Err(error) => {
                    tracing::warn!(%error, "webhook dispatch failed; will look again");
                    self.settings.idle_poll
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = rung(doorbell.as_ref()) => {}
                () = tokio::time::sleep(wait) => {}
                () = shutdown.cancelled() => {}
            }
        }

        heartbeat.abort();
        self.stop().await;
    }

    /// This dispatcher's registry row, with a heartbeat of now.
    fn me(&self) -> DispatcherRow {
        DispatcherRow {
            id: self.id.clone(),
            pid: std::process::id(),
            pid_namespace: crate::process::pid_namespace().map(str::to_string),
            doorbell_port: self.doorbell.as_ref().and_then(Doorbell::port),
            heartbeat_at: clock::now_text(),
        }
    }

    /// Claims and starts every due delivery it has room for; returns how
    /// long to wait before the next one is due.
    async fn dispatch_due(&self) -> Result<Duration, StoreError> {
        loop {
            let room = self.permits.available_permits();
            if room == 0 {
                return Ok(self.settings.idle_poll);
            }
            let (claimed, count) = self.claim(room).await?;
            for delivery in claimed {
                self.start(delivery).await;
            }
            let full = count == room;
            if !full {
                return self.until_next_due();
            }
        }
    }

    /// Claims up to `room` due deliveries, loaded for sending; also returns
    /// how many were claimed (one may have vanished since).
    async fn claim(&self, room: usize) -> Result<(Vec<Claimed>, usize), StoreError> {
        let holder = self.id.clone();
        let now = chrono::Utc::now();
        let lease_until = clock::format_time(now + self.settings.lease());
        let now = clock::format_time(now);
        let limit = u32::try_from(room).unwrap_or(u32::MAX);
        self.store
            .write(move |conn| {
                let ids = deliveries::claim_due(conn, &holder, &now, &lease_until, limit)?;
                let mut claimed = Vec::with_capacity(ids.len());
                for id in &ids {
                    claimed.extend(attempt::load_claimed(conn, id)?);
                }
                Ok((claimed, ids.len()))
            })
            .await
    }

    async fn start(&self, claimed: Claimed) {
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return;
        };
        let (store, sender) = (self.store.clone(), self.sender.clone());
        let (policy, wake) = (self.settings.retry.clone(), self.wake.clone());
        let holder = self.id.clone();
        tokio::spawn(async move {
            let id = claimed.delivery.id.clone();
            if let Err(error) = attempt::attempt(&store, &sender, &policy, &holder, claimed).await {
                tracing::warn!(delivery_id = %id, %error, "could not record webhook attempt");
            }
            drop(permit);
            wake.notify_one();
        });
    }

    fn until_next_due(&self) -> Result<Duration, StoreError> {
        let next = self.store.read_in_task(deliveries::next_due_at)?;
        let Some(next) = next.as_deref().and_then(clock::parse_time) else {
            return Ok(self.settings.idle_poll);
        };
        let wait = (next - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        Ok(wait.min(self.settings.idle_poll))
    }

    /// Lets in-flight attempts finish briefly, then hands back every lease.
    async fn stop(&self) {
        let all = u32::try_from(self.settings.concurrency).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, self.permits.acquire_many(all)).await;
        let id = self.id.clone();
        let released = self
            .store
            .write(move |conn| {
                let released = deliveries::release_claims(conn, &id)?;
                dispatchers::unregister(conn, &id)?;
                Ok(released)
            })
            .await;
        match released {
            Ok(count) => {
                tracing::info!(dispatcher = %self.id, released = count, "dispatcher stopped")
            }
            Err(error) => tracing::warn!(%error, "could not release webhook leases"),
        }
    }
}

async fn rung(doorbell: Option<&Doorbell>) {
    match doorbell {
        Some(doorbell) => doorbell.rung().await,
        None => std::future::pending().await,
    }
}

/// Clears out dead peers, waking the dispatcher for any deliveries they
/// held, and keeps this dispatcher's heartbeat fresh (re-registering it if
/// its row was cleared). [`Dispatcher::register`] wrote the first one.
async fn keep_alive(store: Arc<Store>, me: DispatcherRow, wake: Arc<Notify>) {
    let mut ticks = tokio::time::interval(HEARTBEAT_INTERVAL);
    ticks.tick().await;
    loop {
        match liveness::reap(&store, &me.id).await {
            Ok(0) => {}
            Ok(_) => wake.notify_one(),
            Err(error) => tracing::warn!(%error, "could not clear dead dispatchers"),
        }
        ticks.tick().await;
        let row = DispatcherRow {
            heartbeat_at: clock::now_text(),
            ..me.clone()
        };
        if let Err(error) = store
            .write(move |conn| dispatchers::heartbeat(conn, &row))
            .await
        {
            tracing::warn!(%error, "dispatcher heartbeat failed; one-shot commands will not \
                see this gateway until it succeeds");
        }
    }
}
