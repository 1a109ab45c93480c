//! Which address a request came from when the ingress runs behind proxies. The peer of the
//! connection is the client unless it is a proxy we trust (BW_TRUSTED_PROXIES); then the
//! client is the nearest address in `X-Forwarded-For` that is not one of ours. Everything left
//! of that is whatever the client chose to send, so it is never believed: a client cannot
//! pick the address its login attempts are counted against.
//!
//! Pure: no I/O (DESIGN §1.4).

use std::net::{IpAddr, SocketAddr};

use super::ip_network::IpNetwork;

/// The client of a request from `peer`, given the `X-Forwarded-For` header values in the
/// order received and the proxies trusted to append to them.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &[IpNetwork],
) -> IpAddr {
    let is_trusted = |addr: IpAddr| trusted.iter().any(|net| net.contains(addr));
    let peer = peer.to_canonical();
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|value| value.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A hop that is no address (`unknown`, an obfuscated name, garbage) ends what can be
        // believed: the last trusted proxy is the best we know.
        let Some(addr) = parse_hop(hop) else {
            return client;
        };
        client = addr;
        if !is_trusted(addr) {
            return addr;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`), as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|addr| addr.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ip_network::parse_networks;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let none = parse_networks("").unwrap();
        let proxies = parse_networks("10.0.0.0/8, ::1").unwrap();
        let spoofed = ["203.0.113.9"];
        assert_eq!(
            client_address(ip("198.51.100.7"), spoofed, &none),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(ip("198.51.100.7"), spoofed, &proxies),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(ip("10.1.1.1"), spoofed, &proxies),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("::1"), spoofed, &proxies),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client_and_what_it_sent_is_ignored() {
        let proxies = parse_networks("10.0.0.0/8").unwrap();
        let peer = ip("10.0.0.2");
        // The client forged the first entry; our two proxies appended the rest.
        let header = ["1.1.1.1, 198.51.100.7", "10.0.0.1"];
        assert_eq!(client_address(peer, header, &proxies), ip("198.51.100.7"));
        assert_eq!(
            client_address(peer, ["192.0.2.1:4711"], &proxies),
            ip("192.0.2.1")
        );
        assert_eq!(
            client_address(peer, ["[2001:db8::1]:4711"], &proxies),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_address(peer, ["::ffff:192.0.2.1"], &proxies),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn an_unreadable_or_missing_hop_leaves_the_last_trusted_proxy() {
        let proxies = parse_networks("10.0.0.0/8").unwrap();
        let peer = ip("10.0.0.2");
        assert_eq!(client_address(peer, [], &proxies), peer);
        assert_eq!(
            client_address(peer, ["198.51.100.7, unknown, 10.0.0.1"], &proxies),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_address(peer, ["10.0.0.9, 10.0.0.1"], &proxies),
            ip("10.0.0.9")
        );
    }
}
