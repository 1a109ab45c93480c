//! The W3C Trace Context `traceparent` header (version 00): `00-<trace-id>-<parent-id>-<flags>`,
//! which carries one trace from the HTTP request through commands and events to deliveries.

use std::fmt;

use rand::Rng;

/// A parsed or generated `traceparent`: the trace, the span that is the parent of the next hop,
/// and whether the trace is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
}

/// Why a `traceparent` value was refused (it is then ignored and a new trace started).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid traceparent header")]
pub struct InvalidTraceParent;

const SAMPLED: u8 = 0x01;

impl TraceParent {
    /// Parses a header value. Version 00 must be exactly 55 characters; a later version may carry
    /// more fields after the first four (the specification's forward compatibility), `ff` never.
    /// Ids are lowercase hex and not all zero.
    pub fn parse(value: &[u8]) -> Result<Self, InvalidTraceParent> {
        let text = std::str::from_utf8(value).map_err(|_| InvalidTraceParent)?;
        let mut parts = text.splitn(5, '-');
        let (Some(version), Some(trace), Some(parent), Some(flags)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(InvalidTraceParent);
        };
        let rest = parts.next();
        let version = hex::<1>(version)?[0];
        let future_version = version != 0;
        if version == 0xff || (!future_version && rest.is_some()) {
            return Err(InvalidTraceParent);
        }
        // A later version keeps the four fields; what follows is only ours to skip.
        let flags = if future_version {
            hex::<1>(flags.get(..2).ok_or(InvalidTraceParent)?)?[0]
        } else {
            hex::<1>(flags)?[0]
        };
        let trace_id = hex::<16>(trace)?;
        let parent_id = hex::<8>(parent)?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return Err(InvalidTraceParent);
        }
        Ok(Self {
            trace_id,
            parent_id,
            flags,
        })
    }

    /// A new, sampled trace with a new span of ours as its first parent.
    pub fn start() -> Self {
        let mut rng = rand::rng();
        Self {
            trace_id: nonzero(&mut rng),
            parent_id: nonzero(&mut rng),
            flags: SAMPLED,
        }
    }

    /// From ids produced elsewhere (an OpenTelemetry span); `None` if either is all zero.
    pub fn from_parts(trace_id: [u8; 16], parent_id: [u8; 8], sampled: bool) -> Option<Self> {
        (trace_id != [0; 16] && parent_id != [0; 8]).then_some(Self {
            trace_id,
            parent_id,
            flags: if sampled { SAMPLED } else { 0 },
        })
    }

    /// The same trace, with a new span of ours as the parent of the next hop.
    pub fn child(&self) -> Self {
        Self {
            parent_id: nonzero(&mut rand::rng()),
            ..*self
        }
    }

    /// The trace id, 16 bytes.
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    /// The parent span id, 8 bytes.
    pub fn parent_id(&self) -> [u8; 8] {
        self.parent_id
    }

    /// Whether the trace is sampled (flag 01).
    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The trace id as 32 lowercase hex digits, as logged.
    pub fn trace_id_hex(&self) -> String {
        to_hex(&self.trace_id)
    }
}

impl fmt::Display for TraceParent {
    /// The header value, always version 00.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            to_hex(&self.trace_id),
            to_hex(&self.parent_id),
            self.flags
        )
    }
}

impl serde::Serialize for TraceParent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TraceParent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

fn nonzero<const N: usize>(rng: &mut impl Rng) -> [u8; N] {
    loop {
        let bytes: [u8; N] = rng.random();
        if bytes != [0; N] {
            return bytes;
        }
    }
}

/// Exactly `2 * N` lowercase hex digits.
fn hex<const N: usize>(text: &str) -> Result<[u8; N], InvalidTraceParent> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return Err(InvalidTraceParent);
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(InvalidTraceParent),
    };
    let mut out = [0; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Ok(out)
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_specification_example_round_trips() {
        let parsed = TraceParent::parse(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(parsed.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            parsed.parent_id(),
            [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
        );
        assert!(parsed.sampled());
        assert_eq!(parsed.to_string(), EXAMPLE);
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        ] {
            assert_eq!(
                TraceParent::parse(bad.as_bytes()),
                Err(InvalidTraceParent),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_later_version_is_read_for_its_first_four_fields() {
        let parsed =
            TraceParent::parse(b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what")
                .unwrap();
        assert_eq!(parsed.to_string(), EXAMPLE);
    }

    #[test]
    fn a_child_keeps_the_trace_and_sampling_with_a_new_parent() {
        let parent = TraceParent::parse(EXAMPLE.as_bytes()).unwrap();
        let child = parent.child();
        assert_eq!(child.trace_id(), parent.trace_id());
        assert_ne!(child.parent_id(), parent.parent_id());
        assert!(child.sampled());
        let started = TraceParent::start();
        assert!(started.sampled());
        assert_ne!(started.trace_id(), TraceParent::start().trace_id());
    }

    #[test]
    fn it_serialises_as_the_header_value() {
        let parsed = TraceParent::parse(EXAMPLE.as_bytes()).unwrap();
        let json = serde_json::to_string(&parsed).unwrap();
        assert_eq!(json, format!("\"{EXAMPLE}\""));
        assert_eq!(serde_json::from_str::<TraceParent>(&json).unwrap(), parsed);
    }
}
