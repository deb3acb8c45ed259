//! The HTTP API's boundaries: `/gateway/health` needs no key and reports
//! what it promises; the admin endpoints answer only loopback clients,
//! whatever address the server is bound to; an agent sees only its own
//! actions; unknown paths and methods get JSON errors.
//!
//! The admin tests run the server in a private network namespace: a client
//! in the test process reaches it as a remote host over a veth pair, and a
//! client inside the namespace uses its loopback. They need root and
//! iproute2, and are skipped without them (failed, when `CI` is set).

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use common::netns::Netns;
use common::{eventually, sms, Endpoint, Reply, TestDir};
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
    let Some(netns) = Netns::create_or_skip() else {
        return;
    };
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let bind = SocketAddr::new(netns.inside_v4.into(), 0);
    let server = dir.start_server_in(&netns, &bind.to_string());
    // From the test process, across the veth pair: a remote host.
    let remote = server.endpoint();
    let id = queue_via(&remote, &key).await;

    assert_admin_refused(&dir, &remote, &id).await;

    assert_eq!(remote.health().await.ok().data()["status"], "ok");
    dir.gateway(&["approve", &id]).await.success();
}

#[tokio::test]
async fn admin_endpoints_answer_only_loopback_when_bound_to_every_ipv4_interface() {
    let Some(netns) = Netns::create_or_skip() else {
        return;
    };
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server_in(&netns, "0.0.0.0:0");
    let loopback = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), server.address.port());
    let id = netns.request(
        loopback,
        |local| async move { queue_via(&local, &key).await },
    );

    assert_admin_refused(&dir, &server.via(netns.inside_v4.into()), &id).await;

    let listed = netns.request(loopback, |local| async move { local.queue().await });
    assert_eq!(listed.ok().data()[0]["action_id"], id.as_str());
    let approved = netns.request(loopback, |local| async move { local.approve(&id).await });
    assert_eq!(approved.ok().data()["status"], "sent");
}

#[tokio::test]
async fn admin_endpoints_answer_ipv4_and_ipv6_loopback_when_bound_to_the_ipv6_wildcard() {
    let Some(netns) = Netns::create_or_skip() else {
        return;
    };
    let Some(inside_v6) = netns.inside_v6 else {
        common::skip::announce("the kernel gives the test's network namespace no IPv6");
        return;
    };
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server_in(&netns, "[::]:0");
    let port = server.address.port();
    let v6_loopback = SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port);
    let id = netns.request(
        v6_loopback,
        |local| async move { queue_via(&local, &key).await },
    );

    // The IPv4 client reaches the dual-stack socket as ::ffff:10.213.x.y,
    // which must not pass for loopback just because it is IPv4-mapped.
    for remote in [IpAddr::V4(netns.inside_v4), IpAddr::V6(inside_v6)] {
        assert_admin_refused(&dir, &server.via(remote), &id).await;
    }

    let listed = netns.request(v6_loopback, |local| async move { local.queue().await });
    assert_eq!(listed.ok().data()[0]["action_id"], id.as_str());
    // A new namespace has net.ipv6.bindv6only at 0, so the socket is
    // dual-stack and sees an IPv4 loopback client as ::ffff:127.0.0.1,
    // which is loopback.
    let v4_loopback = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port);
    let approved = netns.request(v4_loopback, |local| async move { local.approve(&id).await });
    assert_eq!(approved.ok().data()["status"], "sent");
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
