//! Refresh tokens: 256 random bits, shown once to the client; only their SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new refresh token and the hash to store.
pub struct NewRefreshToken {
    /// The token for the client.
    pub token: String,
    /// Its SHA-256, the only thing kept.
    pub hash: Vec<u8>,
}

/// Generates a refresh token from the thread-local CSPRNG (ChaCha, seeded by the OS).
pub fn generate() -> NewRefreshToken {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    NewRefreshToken { token, hash }
}

/// The stored form of a presented token. A fast hash suffices: the token has 256 bits of
/// entropy, so there is nothing to brute-force.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_stored_only_as_hashes() {
        let a = generate();
        let b = generate();
        assert_ne!(a.token, b.token);
        assert_eq!(a.hash, hash(&a.token));
        assert_eq!(a.token.len(), 43);
        assert!(
            !a.hash
                .windows(8)
                .any(|w| a.token.as_bytes().windows(8).any(|t| t == w))
        );
    }
}
