//! IP networks in CIDR notation, as settings name them: the non-public networks webhook
//! endpoints may nonetheless be in, the proxies whose `X-Forwarded-For` is believed.
//!
//! Pure: no I/O (DESIGN §1.4).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP network in CIDR notation (`10.0.0.0/8`, `::1/128`; a bare address is one host).
///
/// Host bits are cleared on construction (`10.1.2.3/8` is `10.0.0.0/8`), and an IPv4-mapped
/// IPv6 network of prefix ≥ 96 is stored as the IPv4 network it denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// The network of `addr` with a `prefix`-bit mask; refuses a prefix longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, String> {
        let max = max_prefix(addr);
        if prefix > max {
            return Err(format!(
                "prefix /{prefix} is longer than the {max} bits of an {} address",
                if addr.is_ipv4() { "IPv4" } else { "IPv6" }
            ));
        }
        let (addr, prefix) = match addr {
            IpAddr::V6(v6) if prefix >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => (IpAddr::V4(v4), prefix - 96),
                None => (addr, prefix),
            },
            _ => (addr, prefix),
        };
        let addr = match addr {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask_v4(prefix))),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask_v6(prefix))),
        };
        Ok(Self { addr, prefix })
    }

    /// The network's first address (host bits cleared).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The number of leading bits that identify the network.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `addr` is in this network; `::ffff:a.b.c.d` counts as `a.b.c.d`.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                u32::from(a) & mask_v4(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                u128::from(a) & mask_v6(self.prefix) == u128::from(net)
            }
            // An IPv6 network such as `::/0` covers IPv4 addresses through their mapped form.
            (IpAddr::V6(net), IpAddr::V4(a)) => {
                u128::from(a.to_ipv6_mapped()) & mask_v6(self.prefix) == u128::from(net)
            }
            (IpAddr::V4(_), IpAddr::V6(_)) => false,
        }
    }

    /// Whether the network is one address (`/32`, `/128`).
    pub fn is_single_host(&self) -> bool {
        self.prefix == max_prefix(self.addr)
    }
}

impl FromStr for IpNetwork {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr_text, prefix_text) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| format!("{addr_text:?} is not an IP address"))?;
        let prefix = match prefix_text {
            None => max_prefix(addr),
            // Digits only: `u8::from_str` would also take a leading `+`.
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .map_err(|_| format!("prefix /{p} is out of range"))?,
            Some(p) => return Err(format!("prefix /{p} is not a number")),
        };
        Self::new(addr, prefix)
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Parses a comma-separated list of networks (a setting); empty entries are skipped.
pub fn parse_networks(list: &str) -> Result<Vec<IpNetwork>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNetwork>()
                .map_err(|e| format!("invalid network {item:?}: {e}"))
        })
        .collect()
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// The IPv4 netmask of `prefix` bits.
pub(super) fn mask_v4(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

/// The IPv6 netmask of `prefix` bits.
pub(super) fn mask_v6(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}
