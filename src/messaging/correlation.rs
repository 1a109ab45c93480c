//! What ties a message to the request that caused it: the W3C trace context and the request id,
//! carried as NATS headers on commands and events, and stored with outbox rows and notification
//! messages so that the next hop's log lines and spans join the same trace.

use async_nats::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::telemetry::TraceParent;

/// Header carrying the request id along with a command or event.
pub const REQUEST_ID_HEADER: &str = "Bw-Request-Id";
/// The W3C Trace Context header, carried by commands and events as by HTTP requests.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// A message's trace context and request id, where known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correlation {
    /// The trace, its parent being the span that sent the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<TraceParent>,
    /// The HTTP request at the origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Correlation {
    /// As NATS headers.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        self.add_to(&mut headers);
        headers
    }

    /// Adds the headers to `headers`.
    pub fn add_to(&self, headers: &mut HeaderMap) {
        if let Some(trace) = &self.traceparent {
            headers.insert(TRACEPARENT_HEADER, trace.to_string().as_str());
        }
        if let Some(request_id) = &self.request_id {
            headers.insert(REQUEST_ID_HEADER, request_id.as_str());
        }
    }

    /// What a received message carries; an invalid `traceparent` is ignored.
    pub fn from_headers(headers: Option<&HeaderMap>) -> Self {
        let Some(headers) = headers else {
            return Self::default();
        };
        Self {
            traceparent: headers
                .get(TRACEPARENT_HEADER)
                .and_then(|v| TraceParent::parse(v.as_str().as_bytes()).ok()),
            request_id: headers
                .get(REQUEST_ID_HEADER)
                .map(|v| v.as_str().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_an_invalid_trace_is_dropped() {
        let correlation = Correlation {
            traceparent: Some(TraceParent::start()),
            request_id: Some("req-1".into()),
        };
        assert_eq!(
            Correlation::from_headers(Some(&correlation.headers())),
            correlation
        );
        let mut forged = HeaderMap::new();
        forged.insert(TRACEPARENT_HEADER, "00-zz-yy-01");
        forged.insert(REQUEST_ID_HEADER, "req-2");
        let read = Correlation::from_headers(Some(&forged));
        assert_eq!(
            (read.traceparent, read.request_id.as_deref()),
            (None, Some("req-2"))
        );
        assert_eq!(Correlation::from_headers(None), Correlation::default());
    }
}
