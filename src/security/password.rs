//! Password hashing: argon2id with the OWASP-recommended parameters, stored as PHC strings.
//!
//! The parameters travel inside each PHC string, so raising them later only affects new
//! hashes; existing ones keep verifying with the parameters they were made with.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};

/// Memory cost in KiB (OWASP Password Storage Cheat Sheet: 19 MiB).
pub const M_COST_KIB: u32 = 19_456;
/// Number of passes (OWASP: 2 with 19 MiB).
pub const T_COST: u32 = 2;
/// Degree of parallelism (OWASP: 1).
pub const P_COST: u32 = 1;

/// Upper bounds accepted when verifying: the cost parameters come from the stored string, and a
/// tampered or corrupt row must not make one login allocate gigabytes or spin for minutes.
const MAX_VERIFY_M_COST_KIB: u32 = 256 * 1024;
const MAX_VERIFY_T_COST: u32 = 16;
const MAX_VERIFY_P_COST: u32 = 16;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The hashing library refused the input or failed (RNG failure, invalid parameters).
    #[error("password hashing failed: {0}")]
    Hash(argon2::password_hash::Error),
}

/// The hasher with explicit parameters, rather than the crate defaults, so a dependency
/// upgrade that changes its defaults cannot silently change our stored hashes.
fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params =
        Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(|e| PasswordError::Hash(e.into()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with argon2id and a fresh random salt, returning a PHC string.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let hash = hasher()?
        .hash_password(password.as_bytes())
        .map_err(PasswordError::Hash)?;
    Ok(hash.to_string())
}

/// Whether `password` matches `phc_hash`; false for a malformed or out-of-bounds hash.
pub fn verify_password(password: &str, phc_hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc_hash) else {
        return false;
    };
    // Only argon2id: a downgraded algorithm in the stored string is treated as corrupt.
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return false;
    }
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if params.m_cost() > MAX_VERIFY_M_COST_KIB
        || params.t_cost() > MAX_VERIFY_T_COST
        || params.p_cost() > MAX_VERIFY_P_COST
    {
        return false;
    }
    // The verifier takes algorithm, version and costs from the parsed hash, not from `self`.
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A fixed hash built on first use, with the same parameters as real ones, so that
/// verifying against it costs what a real verification costs.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    // A fixed salt: nothing is protected by this hash, and it avoids depending on the RNG.
    // Hashing with valid constant parameters cannot fail; should it ever, an empty string
    // only makes `dummy_verify` cheaper, never lets anyone in.
    hasher()
        .and_then(|h| {
            h.hash_password_with_salt(b"bluewhale-dummy-password", b"bluewhale-dummy-salt")
                .map_err(PasswordError::Hash)
        })
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

/// Spends the time of one verification, for logins of unknown emails (no user enumeration
/// through response times). The result is always discarded.
pub fn dummy_verify(password: &str) {
    let _ = verify_password(password, &DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

    #[test]
    fn round_trip_verifies() {
        let hash = hash_password("correct horse battery staple").expect("hash");
        assert!(verify_password("correct horse battery staple", &hash));
    }

    #[test]
    fn wrong_password_is_refused() {
        let hash = hash_password("correct horse battery staple").expect("hash");
        assert!(!verify_password("correct horse battery stapler", &hash));
        assert!(!verify_password("", &hash));
    }

    #[test]
    fn malformed_hashes_are_refused_without_panicking() {
        let valid = hash_password("pw").expect("hash");
        let truncated = &valid[..valid.len() - 10];
        let huge_memory = valid.replace("m=19456", "m=4294967295");
        let argon2i = valid.replace("$argon2id$", "$argon2i$");
        for bad in [
            "",
            "not a hash",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$v=19$m=0,t=0,p=0$c2FsdHNhbHQ$aGFzaA",
            "$bcrypt$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            truncated,
            huge_memory.as_str(),
            argon2i.as_str(),
        ] {
            assert!(!verify_password("pw", bad), "{bad:?}");
        }
    }

    #[test]
    fn hash_never_contains_the_password_and_is_salted() {
        let password = "bluewhale-demo";
        let first = hash_password(password).expect("hash");
        let second = hash_password(password).expect("hash");
        assert_ne!(first, password);
        assert!(!first.contains(password));
        assert_ne!(first, second, "each hash gets its own random salt");
    }

    #[test]
    fn phc_string_carries_argon2id_and_the_owasp_parameters() {
        let hash = hash_password("pw").expect("hash");
        assert!(hash.starts_with(PREFIX), "{hash}");
    }

    #[test]
    fn dummy_hash_is_a_real_hash_with_the_same_parameters() {
        assert!(DUMMY_HASH.starts_with(PREFIX), "{}", *DUMMY_HASH);
        assert!(verify_password("bluewhale-dummy-password", &DUMMY_HASH));
        dummy_verify("anything");
    }
}
