//! Where a request comes from: the axum side of `service::peer`.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The client's address: the peer, or with `trust_forwarded_for` the last (nearest) entry
/// of `X-Forwarded-For`, which our own proxy appended.
pub fn client_ip(trust_forwarded_for: bool, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
    let forwarded_for = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    crate::service::peer::client_ip(trust_forwarded_for, peer, forwarded_for)
}
