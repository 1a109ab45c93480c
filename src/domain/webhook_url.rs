//! Rules for a supplier's webhook endpoint URL and for the address a delivery connects to.
//!
//! Suppliers choose their endpoint and our workers fetch it from inside our network, so an
//! unchecked URL is a server-side request forgery: `http://169.254.169.254/` would hand cloud
//! credentials to whoever registered it. Two checks guard against that:
//!
//! * [`check_url`] when an endpoint is registered or changed: a clear, early refusal of URLs
//!   that can only point inside (IP literals in non-public ranges, `localhost`, metadata names);
//! * [`check_address`] at every delivery, against the address actually connected to, because a
//!   public-looking host name may resolve to a private address later (DNS rebinding), and
//!   names such as `127.0.0.1.nip.io` are not recognisable as internal from their text.
//!
//! Non-public networks can be opened on purpose ([`UrlPolicy::allowed_networks`]), for a mock
//! supplier in development or tests. IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) are the
//! same host as their IPv4 address on a dual-stack socket, so they are judged as that address
//! everywhere: in classification, in network membership and in parsing networks.
//!
//! Pure: no I/O, no DNS, no clock (DESIGN §1.4).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::ip_network::IpNetwork;
use super::ip_network::{mask_v4, mask_v6};

/// Longest accepted URL, in characters: ample for any real endpoint, bounded for storage.
pub const MAX_URL_LEN: usize = 2000;

/// What an endpoint may be beyond the fixed rules; the default is the production policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Accept `http://` as well as `https://` (development and tests only).
    pub allow_http: bool,
    /// Non-public networks an endpoint may nonetheless be in (e.g. a local mock supplier).
    pub allowed_networks: Vec<IpNetwork>,
}

impl UrlPolicy {
    /// Whether a non-public `addr` is opened by the allow-list.
    ///
    /// A cloud metadata address is the most valuable target there is, so a broad entry such as
    /// `169.254.0.0/16` (or `0.0.0.0/0`) does not open it: only an entry naming exactly that
    /// host does.
    fn permits(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        if is_cloud_metadata(addr) {
            return self
                .allowed_networks
                .iter()
                .any(|net| net.is_single_host() && net.addr() == addr);
        }
        self.allowed_networks.iter().any(|net| net.contains(addr))
    }

    /// Whether the allow-list opens this machine's loopback (so `localhost` names may be used).
    fn permits_loopback(&self) -> bool {
        self.permits(IpAddr::V4(Ipv4Addr::LOCALHOST))
            || self.permits(IpAddr::V6(Ipv6Addr::LOCALHOST))
    }
}

/// An endpoint URL that passed [`check_url`], in the url crate's normalised form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    /// The normalised URL, as stored and as requested.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host as written in the URL: a lower-case name, a dotted IPv4 or a bracketed IPv6.
    pub fn host(&self) -> &str {
        // `check_url` refuses URLs without a host, so the fallback is never taken.
        self.0.host_str().unwrap_or_default()
    }

    /// The address when the host is an IP literal (no DNS involved), as parsed.
    pub fn ip_literal(&self) -> Option<IpAddr> {
        match self.0.host()? {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            url::Host::Domain(_) => None,
        }
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an address is not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKind {
    /// `0.0.0.0` or `::`.
    Unspecified,
    /// `127.0.0.0/8` or `::1`: this machine.
    Loopback,
    /// RFC 1918 ranges, unique local `fc00::/7`, deprecated site-local, local-use NAT64.
    Private,
    /// `169.254.0.0/16` or `fe80::/10`.
    LinkLocal,
    /// `100.64.0.0/10`, shared by carrier-grade NAT.
    SharedAddressSpace,
    /// `255.255.255.255`.
    Broadcast,
    /// `224.0.0.0/4` or `ff00::/8`.
    Multicast,
    /// Ranges reserved for documentation (`192.0.2.0/24`, `2001:db8::/32`, …).
    Documentation,
    /// `0.0.0.0/8`, "this network".
    ThisNetwork,
    /// IETF protocol assignments: `192.0.0.0/24`, `2001::/23` (Teredo included).
    ProtocolAssignment,
    /// Benchmarking: `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// Reserved or deprecated space (`240.0.0.0/4`, IPv6 outside `2000::/3`, …).
    Reserved,
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unspecified => "an unspecified address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::LinkLocal => "a link-local address",
            Self::SharedAddressSpace => "a shared (carrier-grade NAT) address",
            Self::Broadcast => "the broadcast address",
            Self::Multicast => "a multicast address",
            Self::Documentation => "a documentation address",
            Self::ThisNetwork => "a \"this network\" (0.0.0.0/8) address",
            Self::ProtocolAssignment => "an IETF protocol assignment address",
            Self::Benchmarking => "a benchmarking address",
            Self::Reserved => "a reserved address",
        })
    }
}

/// Why a host name is refused without looking it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostKind {
    /// `localhost`, `*.localhost` and the like: always this machine.
    Loopback,
    /// A cloud metadata service name such as `metadata.google.internal`.
    CloudMetadata,
    /// A name that only resolves inside a private network (`*.internal`, `*.local`, one label).
    PrivateUse,
}

impl fmt::Display for HostKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Loopback => "a loopback host name",
            Self::CloudMetadata => "a cloud metadata service host name",
            Self::PrivateUse => "an internal host name, not resolvable on the public internet",
        })
    }
}

/// Why an endpoint URL or a delivery address is refused; messages never quote credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlIssue {
    /// The text is not a URL (the parser's reason quotes none of the input).
    #[error("not a valid URL: {0}")]
    InvalidUrl(url::ParseError),
    /// Longer than [`MAX_URL_LEN`] characters, as given or once normalised.
    #[error("the URL is {len} characters long; at most {max} are accepted", max = MAX_URL_LEN)]
    TooLong {
        /// Its length in characters.
        len: usize,
    },
    /// `http://` while the policy requires `https://`.
    #[error("http URLs are not accepted; use https")]
    InsecureScheme,
    /// Neither `https://` nor `http://`; not quoted, as in `user:pass@host` the "scheme" is a name.
    #[error("only https URLs are accepted")]
    UnsupportedScheme,
    /// A username or password in the URL: secrets belong in the signing key, not the URL.
    #[error("the URL must not contain a username or password")]
    CredentialsInUrl,
    /// No host to deliver to.
    #[error("the URL has no host")]
    MissingHost,
    /// A `#fragment`, which is never sent to the server and so is a mistake.
    #[error("the URL must not have a fragment (#…)")]
    Fragment,
    /// The address (an IP literal, or the resolved address at delivery) is not public.
    #[error("{addr} is {kind}{}", address_detail(*.addr, *.metadata, *.embedded))]
    ForbiddenAddress {
        /// The address as given.
        addr: IpAddr,
        /// The range that makes it non-public (of the embedded IPv4 address, if any).
        kind: AddressKind,
        /// It is a cloud metadata service address.
        metadata: bool,
        /// The IPv4 address carried by a mapped, compatible, NAT64 or 6to4 IPv6 address.
        embedded: Option<Ipv4Addr>,
    },
    /// The host name is internal by its very name.
    #[error("{host} is {kind}")]
    ForbiddenHost {
        /// The normalised host name.
        host: String,
        /// Which kind of internal name.
        kind: HostKind,
    },
}

impl UrlIssue {
    /// A stable machine-readable code for API problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidUrl(_) => "INVALID_URL",
            Self::TooLong { .. } => "URL_TOO_LONG",
            Self::InsecureScheme => "INSECURE_SCHEME",
            Self::UnsupportedScheme => "UNSUPPORTED_SCHEME",
            Self::CredentialsInUrl => "CREDENTIALS_IN_URL",
            Self::MissingHost => "MISSING_HOST",
            Self::Fragment => "FRAGMENT_NOT_ALLOWED",
            Self::ForbiddenAddress { .. } => "FORBIDDEN_ADDRESS",
            Self::ForbiddenHost { .. } => "FORBIDDEN_HOST",
        }
    }
}

/// The tail of a forbidden-address message: what it is used for and what it embeds.
fn address_detail(addr: IpAddr, metadata: bool, embedded: Option<Ipv4Addr>) -> String {
    let mut detail = String::new();
    if metadata {
        detail.push_str(" used by cloud metadata services");
    }
    if let (IpAddr::V6(v6), Some(v4)) = (addr, embedded) {
        let how = match embedding(v6) {
            Some(Embedding::Mapped) => "IPv4-mapped",
            Some(Embedding::Compatible) => "IPv4-compatible",
            Some(Embedding::Nat64) => "NAT64 of",
            Some(Embedding::SixToFour) => "6to4 of",
            None => "embedding",
        };
        detail.push_str(&format!(" ({how} {v4})"));
    }
    detail
}

/// Checks an endpoint URL against the fixed rules and `policy`, returning it normalised.
///
/// Host names are judged by their text only; the address they resolve to must be checked
/// with [`check_address`] when connecting.
pub fn check_url(raw: &str, policy: &UrlPolicy) -> Result<WebhookUrl, UrlIssue> {
    let len = raw.chars().count();
    if len > MAX_URL_LEN {
        return Err(UrlIssue::TooLong { len });
    }
    let url = url::Url::parse(raw).map_err(UrlIssue::InvalidUrl)?;
    // Normalisation percent-encodes, which can lengthen the URL past the limit.
    let len = url.as_str().chars().count();
    if len > MAX_URL_LEN {
        return Err(UrlIssue::TooLong { len });
    }
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => return Err(UrlIssue::InsecureScheme),
        _ => return Err(UrlIssue::UnsupportedScheme),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlIssue::CredentialsInUrl);
    }
    if url.fragment().is_some() {
        return Err(UrlIssue::Fragment);
    }
    match url.host() {
        None => return Err(UrlIssue::MissingHost),
        Some(url::Host::Ipv4(v4)) => check_address(IpAddr::V4(v4), policy)?,
        Some(url::Host::Ipv6(v6)) => check_address(IpAddr::V6(v6), policy)?,
        Some(url::Host::Domain(name)) => check_host_name(name, policy)?,
    }
    Ok(WebhookUrl(url))
}

/// Checks an address a delivery is about to connect to: refused unless public or allowed.
pub fn check_address(addr: IpAddr, policy: &UrlPolicy) -> Result<(), UrlIssue> {
    match classify(addr) {
        None => Ok(()),
        Some(_) if policy.permits(addr) => Ok(()),
        Some(NonPublic {
            kind,
            metadata,
            embedded,
        }) => Err(UrlIssue::ForbiddenAddress {
            addr,
            kind,
            metadata,
            embedded,
        }),
    }
}

/// Refuses names that can only mean an internal host, unless the policy opens such hosts.
fn check_host_name(name: &str, policy: &UrlPolicy) -> Result<(), UrlIssue> {
    let Some(kind) = classify_host_name(name) else {
        return Ok(());
    };
    let permitted = match kind {
        HostKind::Loopback => policy.permits_loopback(),
        HostKind::CloudMetadata => policy.permits(IpAddr::V4(METADATA_V4)),
        // Which private address such a name has is unknown here; an operator who opened some
        // non-public network runs a private setup, and the resolved address is still checked
        // at delivery.
        HostKind::PrivateUse => !policy.allowed_networks.is_empty(),
    };
    if permitted {
        Ok(())
    } else {
        Err(UrlIssue::ForbiddenHost {
            host: name.to_owned(),
            kind,
        })
    }
}

/// Names that are always this machine (RFC 6761 §6.3, and Debian's IPv6 loopback aliases).
const LOOPBACK_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "ip6-localhost",
    "ip6-loopback",
];

/// Cloud metadata service names (GCP, and AWS's `instance-data`).
const METADATA_NAMES: &[&str] = &[
    "metadata.google.internal",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
];

/// Top-level names that are never delegated publicly: ICANN's private-use `internal`, mDNS
/// `local` (RFC 6762), the conventional `localdomain`, and the name-collision TLDs ICANN
/// deferred indefinitely (`corp`, `home`, `mail`).
const PRIVATE_USE_TLDS: &[&str] = &["internal", "local", "localdomain", "corp", "home", "mail"];

/// Classifies a normalised (lower-case, punycode) host name by its text alone.
fn classify_host_name(name: &str) -> Option<HostKind> {
    // `localhost.` is `localhost`: a trailing dot only marks the name as fully qualified.
    let name = name.strip_suffix('.').unwrap_or(name);
    if LOOPBACK_NAMES.contains(&name) || name.ends_with(".localhost") {
        return Some(HostKind::Loopback);
    }
    if METADATA_NAMES.contains(&name) {
        return Some(HostKind::CloudMetadata);
    }
    let tld = name.rsplit('.').next().unwrap_or(name);
    // A single label is completed by the resolver's search domains: an internal host.
    let single_label = !name.contains('.');
    let home_arpa = name == "home.arpa" || name.ends_with(".home.arpa"); // RFC 8375
    if single_label || home_arpa || PRIVATE_USE_TLDS.contains(&tld) {
        return Some(HostKind::PrivateUse);
    }
    None
}

/// The well-known cloud metadata address (AWS, GCP, Azure, OCI, …).
const METADATA_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

/// Cloud metadata service addresses: the common one, AWS ECS task metadata, Alibaba Cloud.
const METADATA_V4_ALL: &[Ipv4Addr] = &[
    METADATA_V4,
    Ipv4Addr::new(169, 254, 170, 2),
    Ipv4Addr::new(100, 100, 100, 200),
];

/// AWS's IPv6 metadata address (Nitro instances).
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

fn is_cloud_metadata(addr: IpAddr) -> bool {
    match addr.to_canonical() {
        IpAddr::V4(v4) => METADATA_V4_ALL.contains(&v4),
        IpAddr::V6(v6) => v6 == METADATA_V6,
    }
}

/// The verdict on a non-public address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NonPublic {
    kind: AddressKind,
    metadata: bool,
    embedded: Option<Ipv4Addr>,
}

/// Non-public IPv4 ranges (IANA special-purpose registry and RFC 6890), first match wins.
#[rustfmt::skip]
const V4_RANGES: &[(Ipv4Addr, u8, AddressKind)] = &[
    (Ipv4Addr::new(0, 0, 0, 0),         32, AddressKind::Unspecified),
    (Ipv4Addr::new(0, 0, 0, 0),          8, AddressKind::ThisNetwork),
    (Ipv4Addr::new(10, 0, 0, 0),         8, AddressKind::Private),
    (Ipv4Addr::new(100, 64, 0, 0),      10, AddressKind::SharedAddressSpace),
    (Ipv4Addr::new(127, 0, 0, 0),        8, AddressKind::Loopback),
    (Ipv4Addr::new(169, 254, 0, 0),     16, AddressKind::LinkLocal),
    (Ipv4Addr::new(172, 16, 0, 0),      12, AddressKind::Private),
    (Ipv4Addr::new(192, 0, 0, 0),       24, AddressKind::ProtocolAssignment),
    (Ipv4Addr::new(192, 0, 2, 0),       24, AddressKind::Documentation),
    // The deprecated 6to4 relay anycast prefix (RFC 7526).
    (Ipv4Addr::new(192, 88, 99, 0),     24, AddressKind::Reserved),
    (Ipv4Addr::new(192, 168, 0, 0),     16, AddressKind::Private),
    (Ipv4Addr::new(198, 18, 0, 0),      15, AddressKind::Benchmarking),
    (Ipv4Addr::new(198, 51, 100, 0),    24, AddressKind::Documentation),
    (Ipv4Addr::new(203, 0, 113, 0),     24, AddressKind::Documentation),
    (Ipv4Addr::new(224, 0, 0, 0),        4, AddressKind::Multicast),
    // Before 240.0.0.0/4, which contains it.
    (Ipv4Addr::new(255, 255, 255, 255), 32, AddressKind::Broadcast),
    (Ipv4Addr::new(240, 0, 0, 0),        4, AddressKind::Reserved),
];

/// Non-public IPv6 ranges checked after the special forms that embed IPv4, first match wins.
/// Everything outside `2000::/3` (global unicast) is refused after these, as reserved.
#[rustfmt::skip]
const V6_RANGES: &[(Ipv6Addr, u8, AddressKind)] = &[
    // Local-use NAT64 (RFC 8215): translates into the operator's own network.
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),  48, AddressKind::Private),
    // Discard-only (RFC 6666).
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),      64, AddressKind::Reserved),
    // Before 2001::/23, which contains it.
    (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0),     48, AddressKind::Benchmarking),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, AddressKind::Documentation),
    // Teredo (2001::/32) included: it tunnels to addresses we cannot see.
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),     23, AddressKind::ProtocolAssignment),
    // Documentation (RFC 9637).
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),     20, AddressKind::Documentation),
    // SRv6 segment identifiers (RFC 9602).
    (Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),     16, AddressKind::Reserved),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),      7, AddressKind::Private),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),     10, AddressKind::LinkLocal),
    // Deprecated site-local (RFC 3879): private in practice.
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),     10, AddressKind::Private),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),      8, AddressKind::Multicast),
];

/// How an IPv6 address carries an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Embedding {
    /// `::ffff:a.b.c.d`: the same host as `a.b.c.d` on a dual-stack socket.
    Mapped,
    /// `::a.b.c.d` (deprecated, RFC 4291).
    Compatible,
    /// `64:ff9b::a.b.c.d`: a NAT64 gateway connects to `a.b.c.d` (RFC 6052).
    Nat64,
    /// `2002:aabb:ccdd::/48`: a 6to4 relay delivers to `a.b.c.d` (RFC 3056).
    SixToFour,
}

/// Which embedding form `v6` has, if any (`::` and `::1` are not IPv4-compatible forms).
fn embedding(v6: Ipv6Addr) -> Option<Embedding> {
    let bits = u128::from(v6);
    if v6.to_ipv4_mapped().is_some() {
        Some(Embedding::Mapped)
    } else if bits >> 32 == 0 && bits > 1 {
        Some(Embedding::Compatible)
    } else if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        Some(Embedding::Nat64)
    } else if bits >> 112 == 0x2002 {
        Some(Embedding::SixToFour)
    } else {
        None
    }
}

/// The IPv4 address an embedding form carries.
fn embedded_v4(v6: Ipv6Addr, how: Embedding) -> Ipv4Addr {
    let bits = u128::from(v6);
    let v4 = match how {
        Embedding::Mapped | Embedding::Compatible | Embedding::Nat64 => bits as u32,
        Embedding::SixToFour => (bits >> 80) as u32,
    };
    Ipv4Addr::from(v4)
}

/// `None` for a public address; otherwise why it is not.
fn classify(addr: IpAddr) -> Option<NonPublic> {
    let metadata = is_cloud_metadata(addr);
    match addr {
        IpAddr::V4(v4) => classify_v4(v4).map(|kind| NonPublic {
            kind,
            metadata,
            embedded: None,
        }),
        IpAddr::V6(v6) => classify_v6(v6).map(|(kind, embedded)| NonPublic {
            kind,
            metadata: metadata || embedded.is_some_and(|v4| METADATA_V4_ALL.contains(&v4)),
            embedded,
        }),
    }
}

fn classify_v4(v4: Ipv4Addr) -> Option<AddressKind> {
    V4_RANGES
        .iter()
        .find(|(net, prefix, _)| u32::from(v4) & mask_v4(*prefix) == u32::from(*net))
        .map(|(_, _, kind)| *kind)
}

/// The kind of a non-public IPv6 address, with the IPv4 address it embeds if that decided it.
fn classify_v6(v6: Ipv6Addr) -> Option<(AddressKind, Option<Ipv4Addr>)> {
    if v6.is_unspecified() {
        return Some((AddressKind::Unspecified, None));
    }
    if v6.is_loopback() {
        return Some((AddressKind::Loopback, None));
    }
    if let Some(how) = embedding(v6) {
        let v4 = embedded_v4(v6, how);
        return match (how, classify_v4(v4)) {
            (_, Some(kind)) => Some((kind, Some(v4))),
            // Deprecated and unroutable even with a public IPv4 address inside.
            (Embedding::Compatible, None) => Some((AddressKind::Reserved, Some(v4))),
            (_, None) => None,
        };
    }
    let bits = u128::from(v6);
    if let Some((_, _, kind)) = V6_RANGES
        .iter()
        .find(|(net, prefix, _)| bits & mask_v6(*prefix) == u128::from(*net))
    {
        return Some((*kind, None));
    }
    if bits >> 125 != 0b001 {
        return Some((AddressKind::Reserved, None));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ip_network::parse_networks;

    fn net(s: &str) -> IpNetwork {
        s.parse().expect("valid network in test")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("valid address in test")
    }

    fn strict() -> UrlPolicy {
        UrlPolicy::default()
    }

    fn dev(networks: &str) -> UrlPolicy {
        UrlPolicy {
            allow_http: true,
            allowed_networks: parse_networks(networks).expect("valid networks in test"),
        }
    }

    fn code(raw: &str, policy: &UrlPolicy) -> &'static str {
        match check_url(raw, policy) {
            Ok(url) => panic!("{raw} accepted as {url}"),
            Err(issue) => issue.code(),
        }
    }

    fn refused_address(addr: &str) -> UrlIssue {
        check_address(ip(addr), &strict()).expect_err(addr)
    }

    // --- networks -------------------------------------------------------------------------

    #[test]
    fn networks_parse_cidr_and_bare_addresses() {
        assert_eq!(net("127.0.0.0/8").to_string(), "127.0.0.0/8");
        assert_eq!(net("::1/128").to_string(), "::1/128");
        assert_eq!(net("10.1.2.3").to_string(), "10.1.2.3/32");
        assert_eq!(net("fd00::1").prefix(), 128);
        assert_eq!(net(" 192.168.0.0/16 ").addr(), ip("192.168.0.0"));
        assert_eq!(net("0.0.0.0/0").prefix(), 0);
        assert_eq!(net("::/0").prefix(), 0);
    }

    #[test]
    fn network_host_bits_are_cleared() {
        assert_eq!(net("10.1.2.3/8"), net("10.0.0.0/8"));
        assert_eq!(net("fd12:3456::1/16").to_string(), "fd12::/16");
    }

    #[test]
    fn bad_networks_are_refused() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.0/8/8",
            "10.0.0.0/x",
            "10.0.0.0/300",
            "10.0.0",
            "example.com",
            "fe80::1%eth0",
            "",
        ] {
            assert!(bad.parse::<IpNetwork>().is_err(), "{bad:?} accepted");
        }
        let message = "10.0.0.0/33".parse::<IpNetwork>().expect_err("too long");
        assert!(message.contains("/33"), "{message}");
    }

    #[test]
    fn mapped_networks_are_stored_as_ipv4() {
        assert_eq!(net("::ffff:127.0.0.0/104"), net("127.0.0.0/8"));
        assert_eq!(net("::ffff:10.1.2.3"), net("10.1.2.3/32"));
        assert_eq!(net("::ffff:0:0/96"), net("0.0.0.0/0"));
    }

    #[test]
    fn contains_matches_prefixes() {
        let loopback = net("127.0.0.0/8");
        assert!(loopback.contains(ip("127.0.0.1")));
        assert!(loopback.contains(ip("127.255.255.255")));
        assert!(!loopback.contains(ip("128.0.0.1")));
        assert!(!loopback.contains(ip("::1")));
        let host = net("10.1.2.3");
        assert!(host.contains(ip("10.1.2.3")));
        assert!(!host.contains(ip("10.1.2.4")));
        let ula = net("fd00::/8");
        assert!(ula.contains(ip("fd12::1")));
        assert!(!ula.contains(ip("fe80::1")));
        assert!(!ula.contains(ip("10.0.0.1")));
        assert!(net("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(net("::/0").contains(ip("2001:4860::8888")));
    }

    #[test]
    fn contains_treats_mapped_addresses_as_ipv4() {
        assert!(net("127.0.0.0/8").contains(ip("::ffff:127.0.0.1")));
        assert!(net("::ffff:127.0.0.0/104").contains(ip("127.0.0.1")));
        assert!(!net("127.0.0.0/8").contains(ip("::127.0.0.1")));
        // An IPv6 network reaching into the mapped range covers IPv4 through it.
        assert!(net("::/0").contains(ip("127.0.0.1")));
        assert!(!net("fd00::/8").contains(ip("127.0.0.1")));
    }

    #[test]
    fn network_lists_parse() {
        assert_eq!(parse_networks(""), Ok(vec![]));
        assert_eq!(parse_networks("  "), Ok(vec![]));
        assert_eq!(
            parse_networks("127.0.0.0/8, ::1/128,10.1.2.3,"),
            Ok(vec![net("127.0.0.0/8"), net("::1/128"), net("10.1.2.3/32")])
        );
        let message = parse_networks("127.0.0.0/8,10.0.0.0/40").expect_err("bad entry");
        assert!(message.contains("10.0.0.0/40"), "{message}");
    }

    // --- schemes, credentials, shape ------------------------------------------------------

    #[test]
    fn a_public_https_url_is_accepted_and_normalised() {
        let url = check_url("HTTPS://Hooks.Example.COM:8443/a/b?x=1", &strict()).expect("public");
        assert_eq!(url.as_str(), "https://hooks.example.com:8443/a/b?x=1");
        assert_eq!(url.host(), "hooks.example.com");
        assert_eq!(url.ip_literal(), None);
        assert_eq!(url.to_string(), url.as_str());
    }

    #[test]
    fn http_needs_allow_http() {
        let raw = "http://hooks.example.com/hook";
        assert_eq!(code(raw, &strict()), "INSECURE_SCHEME");
        let policy = UrlPolicy {
            allow_http: true,
            ..UrlPolicy::default()
        };
        assert!(check_url(raw, &policy).is_ok());
    }

    #[test]
    fn other_schemes_are_refused_even_with_allow_http() {
        for raw in [
            "ftp://example.com/x",
            "ws://example.com/x",
            "wss://example.com/x",
            "file:///etc/passwd",
            "gopher://example.com/",
            "mailto:ops@example.com",
            "data:text/plain,hi",
            "javascript:alert(1)",
        ] {
            assert_eq!(code(raw, &dev("0.0.0.0/0")), "UNSUPPORTED_SCHEME", "{raw}");
        }
    }

    #[test]
    fn unparsable_urls_are_refused() {
        for raw in [
            "",
            "hooks.example.com/path",
            "/relative",
            "https://",
            "https://exa mple.com/",
            "https://example.com:99999/",
            "https://[::1/",
            "http://1.2.3.4.5/",
        ] {
            assert_eq!(code(raw, &dev("0.0.0.0/0")), "INVALID_URL", "{raw:?}");
        }
    }

    #[test]
    fn credentials_are_refused_and_never_quoted() {
        for raw in [
            "https://alice:s3cr3t-pw@example.com/hook",
            "https://alice@example.com/hook",
            "https://:s3cr3t-pw@example.com/hook",
            "http://alice:s3cr3t-pw@127.0.0.1:9000/hook",
        ] {
            let issue = check_url(raw, &dev("127.0.0.0/8")).expect_err(raw);
            assert_eq!(issue.code(), "CREDENTIALS_IN_URL", "{raw}");
            let message = issue.to_string();
            assert!(!message.contains("s3cr3t"), "{message}");
            assert!(!message.contains("alice"), "{message}");
        }
        // Nor in any other refusal of a URL carrying them.
        for raw in [
            "https://alice:s3cr3t-pw@exa mple.com/",
            "ftp://alice:s3cr3t-pw@example.com/",
            "alice:s3cr3t-pw@example.com",
        ] {
            let message = check_url(raw, &strict()).expect_err(raw).to_string();
            assert!(!message.contains("s3cr3t"), "{raw}: {message}");
        }
    }

    #[test]
    fn an_empty_userinfo_is_dropped_by_normalisation() {
        let url = check_url("https://@example.com/hook", &strict()).expect("no credentials");
        assert_eq!(url.as_str(), "https://example.com/hook");
    }

    #[test]
    fn fragments_are_refused() {
        assert_eq!(
            code("https://example.com/hook#x", &strict()),
            "FRAGMENT_NOT_ALLOWED"
        );
        assert_eq!(
            code("https://example.com/hook#", &strict()),
            "FRAGMENT_NOT_ALLOWED"
        );
    }

    #[test]
    fn length_is_limited() {
        let base = "https://example.com/";
        let at_limit = format!("{base}{}", "a".repeat(MAX_URL_LEN - base.len()));
        assert!(check_url(&at_limit, &strict()).is_ok());
        let over = format!("{at_limit}a");
        let issue = check_url(&over, &strict()).expect_err("too long");
        assert_eq!(issue.code(), "URL_TOO_LONG");
        assert!(issue.to_string().contains("2001"), "{issue}");
        // Within the limit as typed, over it once spaces are percent-encoded.
        let spaces = format!("{base}{}", " x".repeat((MAX_URL_LEN - base.len()) / 2));
        assert_eq!(code(&spaces, &strict()), "URL_TOO_LONG");
    }

    // --- IP-literal hosts -----------------------------------------------------------------

    #[test]
    fn loopback_literal_is_refused_without_the_allow_list_and_accepted_with_it() {
        let raw = "http://127.0.0.1:9000/hook";
        let refused = check_url(raw, &dev("")).expect_err("loopback");
        assert_eq!(refused.code(), "FORBIDDEN_ADDRESS");
        assert_eq!(refused.to_string(), "127.0.0.1 is a loopback address");
        let url = check_url(raw, &dev("127.0.0.0/8")).expect("allowed");
        assert_eq!(url.as_str(), raw);
        assert_eq!(url.host(), "127.0.0.1");
        assert_eq!(url.ip_literal(), Some(ip("127.0.0.1")));
        // Another non-public range stays closed.
        assert_eq!(
            code("http://10.0.0.1:9000/hook", &dev("127.0.0.0/8")),
            "FORBIDDEN_ADDRESS"
        );
    }

    #[test]
    fn normalised_ipv4_spellings_are_caught() {
        for raw in [
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0x7f.0.0.1/",
            "https://017700000001/",
            "https://0177.0.0.1/",
            "https://127.1/",
            "https://127.0.0.1./",
            "https://%31%32%37.0.0.1/",
            "https://0/",
        ] {
            let issue = check_url(raw, &strict()).expect_err(raw);
            assert_eq!(issue.code(), "FORBIDDEN_ADDRESS", "{raw}");
        }
        let url = check_url("http://2130706433:9000/", &dev("127.0.0.0/8")).expect("allowed");
        assert_eq!(url.ip_literal(), Some(ip("127.0.0.1")));
        assert_eq!(url.as_str(), "http://127.0.0.1:9000/");
    }

    #[test]
    fn ipv6_literals_are_checked() {
        for raw in [
            "https://[::1]/",
            "https://[::]/",
            "https://[0:0:0:0:0:0:0:1]/",
            "https://[fe80::1]/",
            "https://[fd12:3456::1]/",
            "https://[ff02::1]/",
            "https://[2001:db8::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[64:ff9b::10.0.0.1]/",
            "https://[2002:c0a8:0101::1]/",
            "https://[fd00:ec2::254]/",
        ] {
            assert_eq!(code(raw, &strict()), "FORBIDDEN_ADDRESS", "{raw}");
        }
        let url = check_url("https://[2606:4700::1111]/hook", &strict()).expect("public");
        assert_eq!(url.host(), "[2606:4700::1111]");
        assert_eq!(url.ip_literal(), Some(ip("2606:4700::1111")));
        let url = check_url("http://[::1]:9000/hook", &dev("::1/128")).expect("allowed");
        assert_eq!(url.ip_literal(), Some(ip("::1")));
    }

    #[test]
    fn mapped_literals_are_opened_by_ipv4_networks() {
        let url = check_url("http://[::ffff:127.0.0.1]:9000/", &dev("127.0.0.0/8")).expect("ok");
        assert_eq!(url.ip_literal(), Some(ip("::ffff:127.0.0.1")));
        assert_eq!(
            code("http://[::ffff:10.0.0.1]:9000/", &dev("127.0.0.0/8")),
            "FORBIDDEN_ADDRESS"
        );
    }

    #[test]
    fn public_ip_literals_are_accepted() {
        for raw in [
            "https://8.8.8.8/",
            "https://1.1.1.1:8443/x",
            "https://[::ffff:8.8.8.8]/",
        ] {
            assert!(check_url(raw, &strict()).is_ok(), "{raw}");
        }
    }

    #[test]
    fn metadata_literals_are_refused_and_named() {
        let issue = check_url("http://169.254.169.254/latest/meta-data/", &dev("")).expect_err("");
        assert_eq!(issue.code(), "FORBIDDEN_ADDRESS");
        assert_eq!(
            issue.to_string(),
            "169.254.169.254 is a link-local address used by cloud metadata services"
        );
        let issue = check_url("https://[fd00:ec2::254]/", &strict()).expect_err("aws v6");
        assert_eq!(
            issue.to_string(),
            "fd00:ec2::254 is a private address used by cloud metadata services"
        );
    }

    // --- host names -----------------------------------------------------------------------

    #[test]
    fn localhost_names_need_loopback_in_the_allow_list() {
        for raw in [
            "http://localhost:9000/hook",
            "http://LOCALHOST:9000/hook",
            "http://localhost.:9000/hook",
            "http://api.localhost:9000/hook",
            "http://localhost.localdomain/hook",
            "http://ip6-localhost/hook",
        ] {
            let issue = check_url(raw, &dev("10.0.0.0/8")).expect_err(raw);
            assert_eq!(issue.code(), "FORBIDDEN_HOST", "{raw}");
            assert!(check_url(raw, &dev("127.0.0.0/8")).is_ok(), "{raw}");
            assert!(check_url(raw, &dev("::1")).is_ok(), "{raw}");
        }
        let issue = check_url("https://localhost/", &strict()).expect_err("localhost");
        assert_eq!(issue.to_string(), "localhost is a loopback host name");
    }

    #[test]
    fn localhost_lookalikes_are_ordinary_names() {
        for raw in [
            "https://localhost.example.com/",
            "https://mylocalhost.com/",
            "https://notlocalhost.io/",
        ] {
            assert!(check_url(raw, &strict()).is_ok(), "{raw}");
        }
    }

    #[test]
    fn metadata_names_are_refused() {
        for raw in [
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://METADATA.GOOGLE.INTERNAL./",
            "http://metadata/computeMetadata/v1/",
            "http://instance-data/latest/",
            "http://instance-data.ec2.internal/latest/",
        ] {
            let issue = check_url(raw, &dev("169.254.0.0/16")).expect_err(raw);
            assert_eq!(issue.code(), "FORBIDDEN_HOST", "{raw}");
            assert!(issue.to_string().contains("metadata"), "{issue}");
        }
        // Only an explicit entry for the metadata host opens the names.
        assert!(check_url("http://metadata/", &dev("169.254.169.254")).is_ok());
    }

    #[test]
    fn private_use_names_need_some_allowed_network() {
        for raw in [
            "https://db.internal/hook",
            "https://printer.local/hook",
            "https://nas.home.arpa/hook",
            "https://box.localdomain/hook",
            "https://intranet.corp/hook",
            "https://router.home/hook",
            "https://supplier-mock:8080/hook",
        ] {
            let issue = check_url(raw, &strict()).expect_err(raw);
            assert_eq!(issue.code(), "FORBIDDEN_HOST", "{raw}");
            assert!(check_url(raw, &dev("172.16.0.0/12")).is_ok(), "{raw}");
        }
    }

    #[test]
    fn internationalised_names_are_normalised_before_the_checks() {
        // Full-width letters map to ASCII under IDNA: still `localhost`.
        assert_eq!(
            code("https://ｌｏｃａｌｈｏｓｔ/", &strict()),
            "FORBIDDEN_HOST"
        );
        let url = check_url("https://bücher.example/hook", &strict()).expect("public name");
        assert_eq!(url.host(), "xn--bcher-kva.example");
    }

    // --- addresses (delivery-time check) --------------------------------------------------

    #[test]
    fn non_public_ipv4_ranges_are_refused() {
        let cases = [
            ("0.0.0.0", AddressKind::Unspecified),
            ("0.1.2.3", AddressKind::ThisNetwork),
            ("10.0.0.1", AddressKind::Private),
            ("10.255.255.255", AddressKind::Private),
            ("100.64.0.1", AddressKind::SharedAddressSpace),
            ("100.127.255.255", AddressKind::SharedAddressSpace),
            ("127.0.0.1", AddressKind::Loopback),
            ("127.8.9.10", AddressKind::Loopback),
            ("169.254.1.1", AddressKind::LinkLocal),
            ("169.254.169.254", AddressKind::LinkLocal),
            ("172.16.0.1", AddressKind::Private),
            ("172.31.255.255", AddressKind::Private),
            ("192.0.0.8", AddressKind::ProtocolAssignment),
            ("192.0.2.1", AddressKind::Documentation),
            ("192.88.99.1", AddressKind::Reserved),
            ("192.168.1.1", AddressKind::Private),
            ("198.18.0.1", AddressKind::Benchmarking),
            ("198.19.255.255", AddressKind::Benchmarking),
            ("198.51.100.7", AddressKind::Documentation),
            ("203.0.113.9", AddressKind::Documentation),
            ("224.0.0.1", AddressKind::Multicast),
            ("239.255.255.250", AddressKind::Multicast),
            ("240.0.0.1", AddressKind::Reserved),
            ("255.255.255.254", AddressKind::Reserved),
            ("255.255.255.255", AddressKind::Broadcast),
        ];
        for (addr, kind) in cases {
            match refused_address(addr) {
                UrlIssue::ForbiddenAddress {
                    kind: got,
                    embedded: None,
                    ..
                } => assert_eq!(got, kind, "{addr}"),
                other => panic!("{addr}: {other:?}"),
            }
        }
    }

    #[test]
    fn public_ipv4_neighbours_of_the_ranges_are_accepted() {
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert_eq!(check_address(ip(addr), &strict()), Ok(()), "{addr}");
        }
    }

    #[test]
    fn non_public_ipv6_ranges_are_refused() {
        let cases = [
            ("::", AddressKind::Unspecified),
            ("::1", AddressKind::Loopback),
            ("fc00::1", AddressKind::Private),
            ("fdff:ffff::1", AddressKind::Private),
            ("fe80::1", AddressKind::LinkLocal),
            ("febf::1", AddressKind::LinkLocal),
            ("fec0::1", AddressKind::Private),
            ("ff02::1", AddressKind::Multicast),
            ("ff0e::1", AddressKind::Multicast),
            ("2001:db8::1", AddressKind::Documentation),
            ("3fff::1", AddressKind::Documentation),
            ("2001::1", AddressKind::ProtocolAssignment),
            ("2001:1ff::1", AddressKind::ProtocolAssignment),
            ("2001:2::1", AddressKind::Benchmarking),
            ("100::1", AddressKind::Reserved),
            ("64:ff9b:1::1", AddressKind::Private),
            ("5f00::1", AddressKind::Reserved),
            ("4000::1", AddressKind::Reserved),
            ("1::1", AddressKind::Reserved),
            ("fd00:ec2::254", AddressKind::Private),
        ];
        for (addr, kind) in cases {
            match refused_address(addr) {
                UrlIssue::ForbiddenAddress {
                    kind: got,
                    embedded: None,
                    ..
                } => assert_eq!(got, kind, "{addr}"),
                other => panic!("{addr}: {other:?}"),
            }
        }
    }

    #[test]
    fn public_ipv6_addresses_are_accepted() {
        for addr in [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001:80b::200e",
            "2001:200::1",
            "3ffe::1",
        ] {
            assert_eq!(check_address(ip(addr), &strict()), Ok(()), "{addr}");
        }
    }

    #[test]
    fn embedded_ipv4_forms_are_judged_by_the_ipv4_address() {
        let cases = [
            ("::ffff:127.0.0.1", AddressKind::Loopback, "127.0.0.1"),
            ("::ffff:10.1.2.3", AddressKind::Private, "10.1.2.3"),
            ("::ffff:0.0.0.0", AddressKind::Unspecified, "0.0.0.0"),
            ("::127.0.0.1", AddressKind::Loopback, "127.0.0.1"),
            ("::192.168.0.1", AddressKind::Private, "192.168.0.1"),
            ("::8.8.8.8", AddressKind::Reserved, "8.8.8.8"),
            ("64:ff9b::127.0.0.1", AddressKind::Loopback, "127.0.0.1"),
            (
                "64:ff9b::a9fe:a9fe",
                AddressKind::LinkLocal,
                "169.254.169.254",
            ),
            (
                "64:ff9b::100.64.0.1",
                AddressKind::SharedAddressSpace,
                "100.64.0.1",
            ),
            ("2002:7f00:0001::1", AddressKind::Loopback, "127.0.0.1"),
            ("2002:0a00:0001:1234::1", AddressKind::Private, "10.0.0.1"),
            ("2002:e000:0001::", AddressKind::Multicast, "224.0.0.1"),
        ];
        for (addr, kind, v4) in cases {
            match refused_address(addr) {
                UrlIssue::ForbiddenAddress {
                    kind: got,
                    embedded,
                    ..
                } => {
                    assert_eq!(got, kind, "{addr}");
                    assert_eq!(embedded, Some(v4.parse().expect("v4")), "{addr}");
                }
                other => panic!("{addr}: {other:?}"),
            }
        }
        for public in ["::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:0808:0808::1"] {
            assert_eq!(check_address(ip(public), &strict()), Ok(()), "{public}");
        }
    }

    #[test]
    fn messages_say_what_is_embedded() {
        assert_eq!(
            refused_address("::ffff:127.0.0.1").to_string(),
            "::ffff:127.0.0.1 is a loopback address (IPv4-mapped 127.0.0.1)"
        );
        assert_eq!(
            refused_address("64:ff9b::a00:1").to_string(),
            "64:ff9b::a00:1 is a private address (NAT64 of 10.0.0.1)"
        );
        assert_eq!(
            refused_address("2002:a9fe:a9fe::1").to_string(),
            "2002:a9fe:a9fe::1 is a link-local address used by cloud metadata services \
             (6to4 of 169.254.169.254)"
        );
        assert_eq!(
            refused_address("::10.0.0.1").to_string(),
            "::a00:1 is a private address (IPv4-compatible 10.0.0.1)"
        );
    }

    #[test]
    fn the_allow_list_opens_only_its_networks() {
        let policy = dev("127.0.0.0/8, fd00::/8");
        for allowed in ["127.0.0.1", "::ffff:127.0.0.1", "fd12::1"] {
            assert_eq!(check_address(ip(allowed), &policy), Ok(()), "{allowed}");
        }
        for refused in [
            "10.0.0.1",
            "::1",
            "fe80::1",
            "::127.0.0.1",
            "64:ff9b::127.0.0.1",
        ] {
            assert!(check_address(ip(refused), &policy).is_err(), "{refused}");
        }
    }

    #[test]
    fn metadata_addresses_need_an_explicit_entry() {
        for broad in ["169.254.0.0/16", "0.0.0.0/0", "::/0", "fd00::/8"] {
            let policy = dev(broad);
            for addr in ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254"] {
                let issue = check_address(ip(addr), &policy).expect_err(addr);
                assert!(
                    matches!(issue, UrlIssue::ForbiddenAddress { metadata: true, .. }),
                    "{broad} {addr}: {issue:?}"
                );
            }
        }
        // The broad entries still open the rest of their range.
        assert_eq!(
            check_address(ip("169.254.1.1"), &dev("169.254.0.0/16")),
            Ok(())
        );
        assert_eq!(
            check_address(ip("169.254.169.254"), &dev("169.254.169.254")),
            Ok(())
        );
        assert_eq!(
            check_address(ip("::ffff:169.254.169.254"), &dev("169.254.169.254/32")),
            Ok(())
        );
        assert_eq!(
            check_address(ip("fd00:ec2::254"), &dev("fd00:ec2::254")),
            Ok(())
        );
        for addr in ["169.254.170.2", "100.100.100.200"] {
            assert!(matches!(
                refused_address(addr),
                UrlIssue::ForbiddenAddress { metadata: true, .. }
            ));
        }
    }

    #[test]
    fn codes_are_stable() {
        let cases: [(UrlIssue, &str); 9] = [
            (
                UrlIssue::InvalidUrl(url::ParseError::EmptyHost),
                "INVALID_URL",
            ),
            (UrlIssue::TooLong { len: 2001 }, "URL_TOO_LONG"),
            (UrlIssue::InsecureScheme, "INSECURE_SCHEME"),
            (UrlIssue::UnsupportedScheme, "UNSUPPORTED_SCHEME"),
            (UrlIssue::CredentialsInUrl, "CREDENTIALS_IN_URL"),
            (UrlIssue::MissingHost, "MISSING_HOST"),
            (UrlIssue::Fragment, "FRAGMENT_NOT_ALLOWED"),
            (refused_address("10.0.0.1"), "FORBIDDEN_ADDRESS"),
            (
                UrlIssue::ForbiddenHost {
                    host: "localhost".into(),
                    kind: HostKind::Loopback,
                },
                "FORBIDDEN_HOST",
            ),
        ];
        for (issue, code) in cases {
            assert_eq!(issue.code(), code, "{issue}");
        }
    }
}
