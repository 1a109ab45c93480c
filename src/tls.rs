//! The process-wide TLS crypto provider. reqwest is built without one of its own (its default
//! would compile a second crypto library, aws-lc); every HTTP client here uses ring, as the
//! NATS client already does.

/// Installs ring as the default rustls provider; harmless when one is installed already.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
