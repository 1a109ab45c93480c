//! What every write request carries besides its body: `Idempotency-Key` (required),
//! `Prefer: wait=N` and `If-Match`, read once by one extractor.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

use super::error::{ApiError, FieldError};

/// Longest `Prefer: wait` honoured, in seconds.
pub const MAX_WAIT_SECS: u64 = 30;
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The write headers of a request, validated.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    /// The client's idempotency key.
    pub idempotency_key: String,
    /// How long the client is willing to wait for the outcome.
    pub wait: Option<Duration>,
    /// `If-Match`, parsed but not yet judged: see [`WriteRequest::if_match`].
    if_match: Result<Option<i32>, String>,
    /// When the ingress received the request: the command's issue instant.
    pub received_at: DateTime<Utc>,
}

impl<S: Send + Sync> FromRequestParts<S> for WriteRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let key = headers
            .get("idempotency-key")
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        Ok(Self {
            idempotency_key: parse_idempotency_key(key)
                .map_err(|e| ApiError::Validation(vec![e]))?,
            wait: prefer_wait(headers),
            if_match: if_match(headers),
            received_at: Utc::now(),
        })
    }
}

impl WriteRequest {
    /// The version `If-Match` names: `None` without the header, with `*` or with an entity
    /// tag that names no version (which [`WriteRequest::if_match`] refuses once the request's
    /// own checks have passed).
    pub fn named_version(&self) -> Option<i32> {
        self.if_match.clone().unwrap_or(None)
    }

    /// The version `If-Match` names, or 412 for an entity tag that names no version.
    /// Handlers judge it after the request's content and the checks the worker repeats: a
    /// request that would be refused without its precondition is refused for that (RFC 9110
    /// §13.2.1), not answered 412.
    pub fn if_match(&self) -> Result<Option<i32>, ApiError> {
        self.if_match.clone().map_err(|text| {
            ApiError::PreconditionFailed(format!(
                "If-Match {text:?} names no version of this resource; send the ETag you read"
            ))
        })
    }
}

/// Validates an `Idempotency-Key` header value: 1–255 visible ASCII characters.
pub fn parse_idempotency_key(value: Option<&str>) -> Result<String, FieldError> {
    let field = "Idempotency-Key";
    let Some(key) = value else {
        return Err(FieldError::new(
            field,
            "REQUIRED",
            "the Idempotency-Key header is required",
        ));
    };
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY_LEN
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(FieldError::new(
            field,
            "INVALID",
            format!(
                "the Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
            ),
        ));
    }
    Ok(key.to_owned())
}

/// `Prefer: wait=N` (RFC 7240), capped at [`MAX_WAIT_SECS`].
pub fn prefer_wait(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .find_map(|pref| {
            let (name, value) = pref.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("wait")
                .then(|| value.trim().trim_matches('"').parse::<u64>().ok())?
        })
        .map(|secs| Duration::from_secs(secs.min(MAX_WAIT_SECS)))
}

/// The version of `If-Match: "<version>"`. `*` matches any version; an entity tag that is
/// not one of our versions can never match, so it fails the precondition (RFC 9110 §13.1.1).
fn if_match(headers: &HeaderMap) -> Result<Option<i32>, String> {
    let Some(value) = headers.get("if-match") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    text.strip_prefix("W/")
        .unwrap_or(text)
        .trim_matches('"')
        .parse::<i32>()
        .map(Some)
        .map_err(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn prefer_wait_parsing() {
        let mut headers = HeaderMap::new();
        assert_eq!(prefer_wait(&headers), None);
        headers.insert("prefer", HeaderValue::from_static("respond-async, wait=5"));
        assert_eq!(prefer_wait(&headers), Some(Duration::from_secs(5)));
        headers.insert("prefer", HeaderValue::from_static("wait=600"));
        assert_eq!(
            prefer_wait(&headers),
            Some(Duration::from_secs(MAX_WAIT_SECS))
        );
        headers.insert("prefer", HeaderValue::from_static("wait=soon"));
        assert_eq!(prefer_wait(&headers), None);
    }

    #[test]
    fn if_match_parsing() {
        let mut headers = HeaderMap::new();
        assert_eq!(if_match(&headers).unwrap(), None);
        for (value, expected) in [("\"3\"", Some(3)), ("W/\"4\"", Some(4)), ("*", None)] {
            headers.insert("if-match", HeaderValue::from_static(value));
            assert_eq!(if_match(&headers).unwrap(), expected, "{value}");
        }
        headers.insert("if-match", HeaderValue::from_static("\"abc\""));
        assert_eq!(if_match(&headers), Err("\"abc\"".to_owned()));
    }

    #[test]
    fn idempotency_keys() {
        assert_eq!(parse_idempotency_key(Some("abc-123")).unwrap(), "abc-123");
        for bad in [None, Some(""), Some("has space"), Some("é")] {
            assert!(parse_idempotency_key(bad).is_err(), "{bad:?}");
        }
        assert!(parse_idempotency_key(Some(&"k".repeat(255))).is_ok());
        assert!(parse_idempotency_key(Some(&"k".repeat(256))).is_err());
    }
}
