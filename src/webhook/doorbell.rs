//! A loopback UDP doorbell: a one-shot command in another process rings it
//! after committing a decision, so the dispatcher sends within milliseconds
//! instead of waiting for its next look at the database.
//!
//! A ring carries no data; the dispatcher always reads the truth from the
//! database, so a stray or lost datagram costs nothing but one look.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket as StdUdpSocket};

use tokio::net::UdpSocket;

/// The dispatcher's end.
pub struct Doorbell {
    socket: UdpSocket,
}

impl Doorbell {
    /// Listens on an ephemeral loopback port.
    pub async fn bind() -> std::io::Result<Doorbell> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        Ok(Doorbell { socket })
    }

    pub fn port(&self) -> Option<u16> {
        self.socket.local_addr().ok().map(|addr| addr.port())
    }

    /// Waits for a ring, then swallows any that piled up behind it.
    pub async fn rung(&self) {
        let mut buffer = [0u8; 8];
        let _ = self.socket.recv(&mut buffer).await;
        while self.socket.try_recv(&mut buffer).is_ok() {}
    }
}

/// Rings the doorbell on `port`; failures are ignored, since the dispatcher
/// also looks at the database on its own.
pub fn ring(port: u16) {
    let Ok(socket) = StdUdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) else {
        return;
    };
    let _ = socket.send_to(&[1], SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
}
