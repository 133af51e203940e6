//! Where a request comes from, told from the connection and what our own proxy added. Plain
//! values in, so every face extracts them its own way and they all agree.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The client's address: the peer, or with `trust_forwarded_for` the last (nearest) entry of
/// `X-Forwarded-For` (`forwarded_for`, the header's value), which our own proxy appended.
pub fn client_ip(trust_forwarded_for: bool, peer: Option<SocketAddr>, forwarded_for: Option<&str>) -> IpAddr {
    let forwarded = forwarded_for
        .filter(|_| trust_forwarded_for)
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
    forwarded
        .or(peer.map(|p| p.ip()))
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The sender a per-address limit counts: an IPv4 address as it is, an IPv6 address as the /64
/// it is in (one host or household is given a whole /64, RFC 6177, and can send from any address
/// in it: counted one by one, every per-address limit would be multiplied by 2^64), and an
/// IPv4-mapped IPv6 address as its IPv4 address. Events keep the exact address.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_an_ipv6_64_and_a_mapped_ipv4_as_one_sender() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(limit_key(ip("2001:db8:1:2:abcd::4")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2::1")), limit_key(ip("2001:db8:1:2:ffff::3")));
        assert_ne!(limit_key(ip("2001:db8:1:2::1")), limit_key(ip("2001:db8:1:3::1")));
        assert_eq!(limit_key(ip("::ffff:203.0.113.1")), ip("203.0.113.1"));
        assert_eq!(limit_key(ip("203.0.113.1")), ip("203.0.113.1"));
    }

    #[test]
    fn the_nearest_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let peer: Option<SocketAddr> = Some("10.0.0.1:4000".parse().unwrap());
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for (trust, forwarded, expected) in [
            (false, Some("203.0.113.7"), ip("10.0.0.1")),
            (true, Some("203.0.113.7"), ip("203.0.113.7")),
            (true, Some("198.51.100.1, 203.0.113.7"), ip("203.0.113.7")),
            (true, Some(" 2001:db8::1 "), ip("2001:db8::1")),
            (true, Some("not an address"), ip("10.0.0.1")),
            (true, None, ip("10.0.0.1")),
        ] {
            assert_eq!(client_ip(trust, peer, forwarded), expected, "{trust} {forwarded:?}");
        }
        assert_eq!(client_ip(true, None, None), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }
}
