//! Standard Webhooks v1 signatures (the scheme Svix uses) for outgoing deliveries.
//!
//! The receiver recomputes `HMAC-SHA256(secret, "{webhook-id}.{webhook-timestamp}.{body}")`
//! and compares it with one of the space-separated `v1,<base64>` entries of the
//! `webhook-signature` header. Several entries let a rotated-out secret keep signing for an
//! overlap period, so receivers can switch secrets without losing a delivery.
//!
//! Secrets are exchanged as `whsec_` followed by standard base64 of the key bytes, as in
//! Standard Webhooks and Svix, so receivers can use those libraries unchanged.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of a signing secret's text form.
pub const WHSEC_PREFIX: &str = "whsec_";
/// Shortest secret accepted from text (Standard Webhooks: 24 bytes).
pub const MIN_KEY_LEN: usize = 24;
/// Longest secret accepted from text (Standard Webhooks: 64 bytes).
pub const MAX_KEY_LEN: usize = 64;

/// A webhook signing secret; never printed (Debug shows `SigningKey(***)`).
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

/// Why a `whsec_…` text is not a signing secret; messages never quote the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningKeyError {
    /// The text does not start with `whsec_`.
    #[error("a signing secret starts with \"whsec_\"")]
    MissingPrefix,
    /// What follows `whsec_` is not standard (padded) base64.
    #[error("the signing secret after \"whsec_\" is not standard base64")]
    InvalidBase64,
    /// The decoded secret is shorter or longer than accepted.
    #[error("the signing secret is {len} bytes; {MIN_KEY_LEN} to {MAX_KEY_LEN} are accepted")]
    InvalidLength {
        /// Its decoded length in bytes.
        len: usize,
    },
}

impl SigningKey {
    /// Wraps raw key bytes (generated or derived elsewhere, or unsealed from storage).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Parses the `whsec_<base64>` form of a 24- to 64-byte secret.
    pub fn parse(whsec: &str) -> Result<Self, SigningKeyError> {
        let encoded = whsec
            .strip_prefix(WHSEC_PREFIX)
            .ok_or(SigningKeyError::MissingPrefix)?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| SigningKeyError::InvalidBase64)?;
        if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&bytes.len()) {
            return Err(SigningKeyError::InvalidLength { len: bytes.len() });
        }
        Ok(Self(bytes))
    }

    /// The `whsec_<base64>` form, shown once to the supplier.
    pub fn to_whsec(&self) -> String {
        format!("{WHSEC_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The raw key bytes, for sealing at rest; handle as a secret.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The v1 signature of one message under this key.
    fn signature(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        // HMAC accepts keys of any length (longer ones are hashed first), so this cannot fail.
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.0) else {
            unreachable!("HMAC-SHA256 accepts keys of every length");
        };
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

/// The `webhook-signature` header value: `v1,<base64>` for each key, space-separated.
///
/// `timestamp` is the `webhook-timestamp` header (Unix seconds) and `body` the exact bytes
/// sent; no keys gives an empty string.
pub fn sign(keys: &[&SigningKey], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| {
            format!(
                "v1,{}",
                STANDARD.encode(key.signature(msg_id, timestamp, body))
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published Standard Webhooks test vector (also in the Svix libraries' tests).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn key() -> SigningKey {
        SigningKey::parse(SECRET).expect("test vector secret parses")
    }

    #[test]
    fn matches_the_standard_webhooks_test_vector() {
        assert_eq!(sign(&[&key()], MSG_ID, TIMESTAMP, BODY), SIGNATURE);
    }

    #[test]
    fn several_keys_give_space_separated_signatures_in_order() {
        let other = SigningKey::from_bytes(vec![7; 32]);
        let both = sign(&[&key(), &other], MSG_ID, TIMESTAMP, BODY);
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], SIGNATURE);
        assert_eq!(parts[1], sign(&[&other], MSG_ID, TIMESTAMP, BODY));
        assert_ne!(parts[0], parts[1]);
        assert!(parts[1].starts_with("v1,"));
    }

    #[test]
    fn no_keys_give_an_empty_header() {
        assert_eq!(sign(&[], MSG_ID, TIMESTAMP, BODY), "");
    }

    #[test]
    fn every_signed_part_matters() {
        let k = key();
        assert_ne!(sign(&[&k], "msg_other", TIMESTAMP, BODY), SIGNATURE);
        assert_ne!(sign(&[&k], MSG_ID, TIMESTAMP + 1, BODY), SIGNATURE);
        assert_ne!(
            sign(&[&k], MSG_ID, TIMESTAMP, br#"{"test": 2432232315}"#),
            SIGNATURE
        );
        assert_ne!(
            sign(
                &[&SigningKey::from_bytes(vec![0; 24])],
                MSG_ID,
                TIMESTAMP,
                BODY
            ),
            SIGNATURE
        );
    }

    #[test]
    fn signatures_are_base64_of_32_bytes() {
        let header = sign(&[&key()], MSG_ID, TIMESTAMP, b"");
        let encoded = header.strip_prefix("v1,").expect("version prefix");
        assert_eq!(STANDARD.decode(encoded).expect("base64").len(), 32);
    }

    #[test]
    fn whsec_round_trips() {
        assert_eq!(key().to_whsec(), SECRET);
        assert_eq!(key().as_bytes().len(), 24);
        for len in [MIN_KEY_LEN, 32, MAX_KEY_LEN] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let text = SigningKey::from_bytes(bytes.clone()).to_whsec();
            assert!(text.starts_with("whsec_"));
            assert_eq!(
                SigningKey::parse(&text).expect("round trip").as_bytes(),
                bytes
            );
        }
    }

    #[test]
    fn malformed_secrets_are_refused_without_quoting_them() {
        let short = format!("whsec_{}", STANDARD.encode([1u8; 23]));
        let long = format!("whsec_{}", STANDARD.encode([1u8; 65]));
        let cases = [
            (
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                SigningKeyError::MissingPrefix,
            ),
            (
                "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                SigningKeyError::MissingPrefix,
            ),
            (
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w",
                SigningKeyError::InvalidBase64,
            ),
            // URL-safe alphabet and missing padding are not standard base64.
            (
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa_w",
                SigningKeyError::InvalidBase64,
            ),
            (
                "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                SigningKeyError::InvalidBase64,
            ),
            ("whsec_", SigningKeyError::InvalidLength { len: 0 }),
            (short.as_str(), SigningKeyError::InvalidLength { len: 23 }),
            (long.as_str(), SigningKeyError::InvalidLength { len: 65 }),
        ];
        for (text, expected) in cases {
            let err = SigningKey::parse(text).expect_err(text);
            assert_eq!(err, expected, "{text}");
            let message = err.to_string();
            assert!(!message.contains("MfKQ9r8"), "{message}");
            assert!(!message.contains("AQEBAQ"), "{message}");
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert_eq!(format!("{:?}", key()), "SigningKey(***)");
        assert_eq!(format!("{:#?}", key()), "SigningKey(***)");
    }

    #[test]
    fn keys_of_any_length_sign() {
        // Longer than the SHA-256 block: HMAC hashes the key first (RFC 2104).
        let long = SigningKey::from_bytes(vec![0xaa; 131]);
        let header = sign(&[&long], MSG_ID, TIMESTAMP, BODY);
        assert!(header.starts_with("v1,") && header.len() == 3 + 44);
        let empty = SigningKey::from_bytes(Vec::new());
        assert!(sign(&[&empty], MSG_ID, TIMESTAMP, BODY).starts_with("v1,"));
    }
}
