//! Encryption at rest of webhook signing secrets, and derivation of new ones.
//!
//! Signing secrets must be readable by the notifier (it signs with them), so they cannot be
//! hashed like passwords; they are sealed with XChaCha20-Poly1305 under a key from the
//! configuration (`BW_WEBHOOK_SECRET_KEY`), so a database dump alone reveals none of them.
//! The 24-byte nonce is random: at that size random nonces never collide in practice, so no
//! counter has to be coordinated between the stateless ingress and worker processes.
//!
//! The associated data binds a sealed value to its row (e.g. the endpoint id): a ciphertext
//! copied onto another endpoint's row fails to open instead of being used there.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Length of the sealing key in bytes.
pub const KEY_LEN: usize = 32;
/// Length of the random nonce that starts every sealed value.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 authentication tag that ends every sealed value.
pub const TAG_LEN: usize = 16;

/// The size of a sealed empty plaintext: nothing shorter can be opened.
const MIN_SEALED_LEN: usize = NONCE_LEN + TAG_LEN;

/// Domain separation of the derivation subkey from any other use of the sealing key.
const DERIVE_LABEL: &[u8] = b"bluewhale derive v1";
/// The most [`SecretBox::derive`] can produce: HKDF-Expand's 255 blocks of 32 bytes.
pub const MAX_DERIVE_LEN: usize = 255 * 32;

/// Seals and opens secrets under one key, and derives secrets from it; Debug is redacted.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// HMAC(key, "bluewhale derive v1"): derivation never uses the encryption key directly.
    derive_key: [u8; 32],
}

/// Why a key could not be loaded or a sealed value could not be opened; never quotes secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretBoxError {
    /// The key text is not standard (padded) base64.
    #[error("the key is not standard base64 (expected 32 random bytes, base64-encoded)")]
    KeyNotBase64,
    /// The key decodes to the wrong number of bytes.
    #[error("the key is {len} bytes once decoded; exactly {KEY_LEN} are required")]
    KeyLength {
        /// Its decoded length in bytes.
        len: usize,
    },
    /// Too short to hold a nonce and a tag: not something [`SecretBox::seal`] produced.
    #[error("sealed data is {len} bytes; a nonce and a tag alone take {MIN_SEALED_LEN}")]
    TooShort {
        /// Its length in bytes.
        len: usize,
    },
    /// The tag does not match: wrong key, tampered data or other associated data.
    #[error(
        "sealed data failed authentication (wrong key, tampered data or other associated data)"
    )]
    AuthenticationFailed,
}

impl SecretBox {
    /// A box using `key` (32 random bytes).
    pub fn new(key: [u8; KEY_LEN]) -> Self {
        let cipher = XChaCha20Poly1305::new(&key.into());
        let derive_key = hmac_sha256(&key, &[DERIVE_LABEL]);
        Self { cipher, derive_key }
    }

    /// A box from the configured key: standard base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, SecretBoxError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SecretBoxError::KeyNotBase64)?;
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SecretBoxError::KeyLength { len: bytes.len() })?;
        Ok(Self::new(key))
    }

    /// Encrypts `plaintext` bound to `associated`: `nonce (24 bytes) || ciphertext || tag`.
    ///
    /// # Panics
    ///
    /// If `plaintext` exceeds the cipher's limit of about 256 GiB, which no secret approaches.
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        // ThreadRng: a ChaCha CSPRNG seeded and periodically reseeded from the OS.
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: associated,
        };
        let Ok(ciphertext) = self.cipher.encrypt(&XNonce::from(nonce), payload) else {
            panic!(
                "XChaCha20-Poly1305 refused a {}-byte plaintext",
                plaintext.len()
            );
        };
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts what [`seal`](Self::seal) produced with the same key and associated data.
    pub fn open(&self, sealed: &[u8], associated: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let Some((nonce, ciphertext)) = sealed
            .split_first_chunk::<NONCE_LEN>()
            .filter(|(_, rest)| rest.len() >= TAG_LEN)
        else {
            return Err(SecretBoxError::TooShort { len: sealed.len() });
        };
        let payload = Payload {
            msg: ciphertext,
            aad: associated,
        };
        self.cipher
            .decrypt(&XNonce::from(*nonce), payload)
            .map_err(|_| SecretBoxError::AuthenticationFailed)
    }

    /// `len` deterministic pseudo-random bytes for `purpose` and `input`, secret without the key.
    ///
    /// HKDF-Expand (RFC 5869) with the derivation subkey as PRK and `purpose || 0x00 || input`
    /// as info. Used to derive a webhook signing secret from a command id, so a redelivered
    /// or replayed command shows the same secret instead of minting a second one. `purpose`
    /// is a fixed label without NUL bytes, so the separator keeps distinct pairs distinct. A
    /// shorter output is a prefix of a longer one for the same purpose and input.
    ///
    /// # Panics
    ///
    /// If `len` exceeds [`MAX_DERIVE_LEN`] (8160 bytes); callers ask for a constant 24 to 64.
    pub fn derive(&self, purpose: &str, input: &[u8], len: usize) -> Vec<u8> {
        debug_assert!(
            !purpose.contains('\0'),
            "derivation purposes contain no NUL"
        );
        hkdf_expand(&self.derive_key, &[purpose.as_bytes(), &[0], input], len)
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length (longer ones are hashed first), so this cannot fail.
    let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(key) else {
        unreachable!("HMAC-SHA256 accepts keys of every length");
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HKDF-Expand (RFC 5869 §2.3) with SHA-256; `info` is the concatenation of its parts.
fn hkdf_expand(prk: &[u8], info: &[&[u8]], len: usize) -> Vec<u8> {
    assert!(
        len <= MAX_DERIVE_LEN,
        "at most {MAX_DERIVE_LEN} bytes can be derived, not {len}"
    );
    let mut okm = Vec::with_capacity(len);
    let mut previous: Option<[u8; 32]> = None;
    let mut counter: u8 = 1;
    while okm.len() < len {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(info.len() + 2);
        if let Some(block) = &previous {
            parts.push(block);
        }
        parts.extend_from_slice(info);
        let counter_byte = [counter];
        parts.push(&counter_byte);
        let block = hmac_sha256(prk, &parts);
        let take = (len - okm.len()).min(block.len());
        okm.extend_from_slice(&block[..take]);
        previous = Some(block);
        counter = counter.wrapping_add(1);
    }
    okm
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(byte: u8) -> SecretBox {
        SecretBox::new([byte; KEY_LEN])
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex in test"))
            .collect()
    }

    #[test]
    fn sealed_values_open_with_the_same_key_and_associated_data() {
        let sb = boxed(1);
        for plaintext in [
            &b""[..],
            b"x",
            b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            &[0u8; 1000],
        ] {
            let sealed = sb.seal(plaintext, b"endpoint 42");
            assert_eq!(sealed.len(), NONCE_LEN + plaintext.len() + TAG_LEN);
            assert_eq!(sb.open(&sealed, b"endpoint 42").expect("opens"), plaintext);
        }
    }

    #[test]
    fn sealing_twice_gives_different_nonces_and_ciphertexts() {
        let sb = boxed(1);
        let a = sb.seal(b"secret", b"");
        let b = sb.seal(b"secret", b"");
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_ne!(a, b);
        assert!(!a.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn another_key_cannot_open() {
        let sealed = boxed(1).seal(b"secret", b"ad");
        assert_eq!(
            boxed(2).open(&sealed, b"ad"),
            Err(SecretBoxError::AuthenticationFailed)
        );
    }

    #[test]
    fn other_associated_data_cannot_open() {
        let sb = boxed(1);
        let sealed = sb.seal(b"secret", b"endpoint 42");
        for other in [&b"endpoint 43"[..], b"", b"endpoint 42 "] {
            assert_eq!(
                sb.open(&sealed, other),
                Err(SecretBoxError::AuthenticationFailed)
            );
        }
    }

    #[test]
    fn any_tampered_byte_is_detected() {
        let sb = boxed(1);
        let sealed = sb.seal(b"secret", b"ad");
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                sb.open(&tampered, b"ad"),
                Err(SecretBoxError::AuthenticationFailed),
                "byte {i}"
            );
        }
        let mut extended = sealed.clone();
        extended.push(0);
        assert_eq!(
            sb.open(&extended, b"ad"),
            Err(SecretBoxError::AuthenticationFailed)
        );
        let truncated = &sealed[..sealed.len() - 1];
        assert_eq!(
            sb.open(truncated, b"ad"),
            Err(SecretBoxError::AuthenticationFailed)
        );
    }

    #[test]
    fn short_input_is_refused() {
        let sb = boxed(1);
        for len in [0, 1, NONCE_LEN, NONCE_LEN + TAG_LEN - 1] {
            assert_eq!(
                sb.open(&vec![0; len], b""),
                Err(SecretBoxError::TooShort { len })
            );
        }
        // Exactly nonce and tag is a sealed empty plaintext's size: judged by its tag.
        assert_eq!(
            sb.open(&[0; NONCE_LEN + TAG_LEN], b""),
            Err(SecretBoxError::AuthenticationFailed)
        );
    }

    #[test]
    fn keys_load_from_base64_of_32_bytes() {
        let text = STANDARD.encode([9u8; 32]);
        let loaded = SecretBox::from_base64(&text).expect("valid key");
        let sealed = boxed(9).seal(b"secret", b"");
        assert_eq!(loaded.open(&sealed, b"").expect("same key"), b"secret");
        // A trailing newline from an env file is tolerated.
        assert!(SecretBox::from_base64(&format!("{text}\n")).is_ok());
    }

    #[test]
    fn bad_keys_are_refused_without_quoting_them() {
        let short = STANDARD.encode([9u8; 31]);
        let long = STANDARD.encode([9u8; 33]);
        let cases = [
            ("", SecretBoxError::KeyLength { len: 0 }),
            (short.as_str(), SecretBoxError::KeyLength { len: 31 }),
            (long.as_str(), SecretBoxError::KeyLength { len: 33 }),
            ("not base64 at all!", SecretBoxError::KeyNotBase64),
            // URL-safe alphabet / missing padding are not standard base64.
            (
                "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk",
                SecretBoxError::KeyNotBase64,
            ),
        ];
        for (text, expected) in cases {
            let err = SecretBox::from_base64(text).expect_err(text);
            assert_eq!(err, expected, "{text:?}");
            let message = err.to_string();
            assert!(!message.contains("CQkJ"), "{message}");
            assert!(!message.contains("base64 at all"), "{message}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", boxed(1)), "SecretBox(***)");
    }

    #[test]
    fn derive_is_deterministic() {
        let a = boxed(1).derive("webhook signing secret", b"command 1", 32);
        let b = boxed(1).derive("webhook signing secret", b"command 1", 32);
        assert_eq!(a, b);
        assert_eq!(
            SecretBox::from_base64(&STANDARD.encode([1u8; 32]))
                .expect("key")
                .derive("webhook signing secret", b"command 1", 32),
            a
        );
    }

    #[test]
    fn derive_separates_keys_purposes_and_inputs() {
        let sb = boxed(1);
        let base = sb.derive("webhook signing secret", b"command 1", 32);
        assert_ne!(
            boxed(2).derive("webhook signing secret", b"command 1", 32),
            base
        );
        assert_ne!(sb.derive("other purpose", b"command 1", 32), base);
        assert_ne!(sb.derive("webhook signing secret", b"command 2", 32), base);
        // The separator keeps a purpose/input boundary from being shifted.
        assert_ne!(sb.derive("ab", b"c", 32), sb.derive("a", b"bc", 32));
        // Derivation does not expose the encryption key.
        assert_ne!(base, vec![1u8; 32]);
    }

    #[test]
    fn derive_gives_the_requested_length() {
        let sb = boxed(1);
        let longest = sb.derive("webhook signing secret", b"command 1", 64);
        for len in [0, 1, 24, 31, 32, 33, 48, 64] {
            let out = sb.derive("webhook signing secret", b"command 1", len);
            assert_eq!(out.len(), len);
            assert_eq!(out, longest[..len], "prefix of the longer output");
        }
        // Blocks beyond the first differ from it (the counter and chaining work).
        assert_ne!(longest[..32], longest[32..]);
        assert_eq!(sb.derive("p", b"i", MAX_DERIVE_LEN).len(), MAX_DERIVE_LEN);
    }

    #[test]
    #[should_panic(expected = "at most 8160 bytes")]
    fn derive_refuses_more_than_hkdf_allows() {
        boxed(1).derive("p", b"i", MAX_DERIVE_LEN + 1);
    }

    #[test]
    fn hkdf_expand_matches_rfc_5869_test_case_1() {
        let prk = hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
        let info = hex("f0f1f2f3f4f5f6f7f8f9");
        let expected = hex(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        );
        // The info split in parts is the same as whole: parts are concatenated.
        assert_eq!(hkdf_expand(&prk, &[&info], 42), expected);
        assert_eq!(hkdf_expand(&prk, &[&info[..3], &info[3..]], 42), expected);
    }
}
