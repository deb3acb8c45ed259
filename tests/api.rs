//! The HTTP API's boundaries: `/gateway/health` needs no key and reports
//! what it promises; the admin endpoints answer only loopback clients,
//! whatever address the server is bound to; an agent sees only its own
//! actions; unknown paths and methods get JSON errors.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};

use common::{eventually, own_non_loopback_addresses, sms, Endpoint, Reply, TestDir};
use serde_json::Value;

#[tokio::test]
async fn health_reports_status_uptime_pending_count_and_version_without_a_key() {
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let first = server.queue_message(&key, &sms("+15550100", "one")).await;
    server.queue_message(&key, &sms("+15550100", "two")).await;

    let health = server.health().await.ok();

    let data = health.data();
    assert_eq!(data["status"], "ok");
    assert!(data["uptime_secs"].is_u64(), "{data}");
    assert_eq!(data["pending_count"], 2);
    assert_eq!(data["version"], env!("CARGO_PKG_VERSION"));
    server.approve(&first).await.ok();
    // The count may be cached briefly, so wait for it to catch up.
    eventually("pending_count to drop to 1", || async {
        (server.health().await.ok().data()["pending_count"] == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn agent_cannot_read_an_action_sent_with_another_key() {
    let dir = TestDir::new();
    let owner = dir.add_key("owner").await;
    let other = dir.add_key("other").await;
    let server = dir.start_server();
    let id = server
        .queue_message(&owner, &sms("+15550100", "private"))
        .await;

    let reply = server.poll(&other, &id).await;

    let reply = reply.rejected(404, "not_found", &[&id]);
    assert!(!reply.body.to_string().contains("+15550100"), "{reply:?}");
    assert_eq!(
        server.poll(&owner, &id).await.ok().data()["action_id"],
        id.as_str()
    );
}

#[tokio::test]
async fn unknown_path_and_wrong_method_get_json_errors() {
    let dir = TestDir::new();
    let server = dir.start_server();
    let http = common::http_client();

    let missing = http
        .get(server.url("/gateway/nothing"))
        .send()
        .await
        .expect("GET");
    let wrong = http
        .get(server.url("/gateway/send"))
        .send()
        .await
        .expect("GET");

    assert_eq!(missing.status().as_u16(), 404);
    let body: Value = missing.json().await.expect("JSON 404");
    assert_eq!(body["success"], false);
    assert_eq!(wrong.status().as_u16(), 405);
    let body: Value = wrong.json().await.expect("JSON 405");
    assert_eq!(body["success"], false);
}

#[tokio::test]
async fn admin_endpoints_refuse_a_client_that_is_not_on_loopback() {
    let Some(own) = own_non_loopback_addresses().first().copied() else {
        eprintln!("skipped: this machine has no address besides loopback");
        return;
    };
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server_on(&SocketAddr::new(own, 0).to_string());
    let remote = server.endpoint();
    let id = queue_via(&remote, &key).await;

    assert_admin_refused(&dir, &remote, &id).await;

    assert_eq!(remote.health().await.ok().data()["status"], "ok");
    dir.gateway(&["approve", &id]).await.success();
}

#[tokio::test]
async fn admin_endpoints_answer_only_loopback_when_bound_to_every_ipv4_interface() {
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server_on("0.0.0.0:0");
    let local = server.via(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let id = queue_via(&local, &key).await;

    for own in own_non_loopback_addresses()
        .into_iter()
        .filter(IpAddr::is_ipv4)
    {
        assert_admin_refused(&dir, &server.via(own), &id).await;
    }

    assert_eq!(local.queue().await.ok().data()[0]["action_id"], id.as_str());
    assert_eq!(local.approve(&id).await.ok().data()["status"], "sent");
}

#[tokio::test]
async fn admin_endpoints_answer_ipv4_and_ipv6_loopback_when_bound_to_the_ipv6_wildcard() {
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server_on("[::]:0");
    let v6_loopback = server.via(IpAddr::V6(Ipv6Addr::LOCALHOST));
    let id = queue_via(&v6_loopback, &key).await;

    for own in own_non_loopback_addresses() {
        assert_admin_refused(&dir, &server.via(own), &id).await;
    }

    assert_eq!(
        v6_loopback.queue().await.ok().data()[0]["action_id"],
        id.as_str()
    );
    // A dual-stack socket sees an IPv4 client as ::ffff:127.0.0.1, which is
    // still loopback.
    let approver = if accepts_ipv4(server.address.port()) {
        server.via(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        v6_loopback
    };
    assert_eq!(approver.approve(&id).await.ok().data()["status"], "sent");
}

fn accepts_ipv4(port: u16) -> bool {
    TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok()
}

async fn queue_via(api: &Endpoint, key: &str) -> String {
    let reply = api.send(key, &sms("+15550100", "Hello")).await.ok();
    reply.data()["action_id"]
        .as_str()
        .expect("action_id")
        .to_string()
}

/// Asserts queue, approve and deny through `api` all get 403 and change
/// nothing.
async fn assert_admin_refused(dir: &TestDir, api: &Endpoint, id: &str) {
    let before = dir.snapshot();

    let replies: [Reply; 3] = [
        api.queue().await,
        api.approve(id).await,
        api.deny(id, Some("from afar")).await,
    ];

    for reply in replies {
        reply.rejected(403, "loopback_only", &["loopback"]);
    }
    assert_eq!(
        dir.snapshot(),
        before,
        "a refused admin request changed the database"
    );
    assert!(
        dir.outbox_files().is_empty(),
        "a refused approval sent the message"
    );
}
