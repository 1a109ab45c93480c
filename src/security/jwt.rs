//! Access tokens: HS256 JWTs with a pinned algorithm and validated `exp`, `iss` and `aud`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::AuthConfig;
use crate::domain::roles::{OrgType, Role};

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Uuid,
    /// Role at issue time.
    pub role: Role,
    /// Organisation kind.
    pub org_type: OrgType,
    /// Organisation id (none for staff).
    pub org_id: Option<Uuid>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Token id.
    pub jti: Uuid,
    /// The session (refresh-token family) it belongs to: revoking the session refuses it.
    pub sid: Uuid,
}

/// Why a token was refused; the HTTP layer answers 401 to all of them alike.
#[derive(Debug, thiserror::Error)]
#[error("invalid access token: {0}")]
pub struct InvalidToken(String);

/// Signs and verifies access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl TokenKeys {
    /// Keys and validation rules from the configuration.
    pub fn new(config: &AuthConfig) -> Self {
        let secret = config.jwt_secret.expose().as_bytes();
        // Only HS256 is accepted, whatever the token's header says ("alg" confusion attacks).
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl: config.access_token_ttl,
        }
    }

    /// Lifetime of the tokens this issues.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues a token for a user's session at `now`.
    pub fn issue(
        &self,
        user_id: Uuid,
        role: Role,
        org_type: OrgType,
        org_id: Option<Uuid>,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<String, InvalidToken> {
        let iat = now.timestamp();
        let claims = Claims {
            sub: user_id,
            role,
            org_type,
            org_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat,
            exp: iat + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            jti: Uuid::new_v4(),
            sid: session_id,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| InvalidToken(e.to_string()))
    }

    /// Verifies signature, algorithm, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        jsonwebtoken::decode::<Claims>(token.as_bytes(), &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| InvalidToken(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn config(secret: &str) -> AuthConfig {
        AuthConfig {
            jwt_secret: Secret::new(secret),
            issuer: "bluewhale".into(),
            audience: "bluewhale-api".into(),
            access_token_ttl: Duration::from_secs(900),
            refresh_token_ttl: Duration::from_secs(3600),
            limits: crate::config::LoginLimitConfig {
                login_per_address: 60,
                refresh_per_address: 60,
                address_window: Duration::from_secs(60),
                max_failures: 5,
                failure_window: Duration::from_secs(60),
                slowdown_after: 5,
                slowdown_base: Duration::from_millis(250),
                slowdown_max: Duration::from_secs(3),
            },
        }
    }

    const SECRET: &str = "an-hs256-secret-that-is-long-enough!!";

    /// The session every test token belongs to.
    const SESSION: Uuid = Uuid::from_u128(9);

    impl TokenKeys {
        /// A token of `user` with `role` (its organisation kind follows) in [`SESSION`].
        fn issue_as(&self, user: Uuid, role: Role, org: Option<Uuid>, at: DateTime<Utc>) -> String {
            let org_type = match role {
                Role::Station => OrgType::Station,
                Role::Supplier => OrgType::Supplier,
                _ => OrgType::Bluewhale,
            };
            self.issue(user, role, org_type, org, SESSION, at).unwrap()
        }
    }

    #[test]
    fn issued_tokens_verify_with_their_claims() {
        let keys = TokenKeys::new(&config(SECRET));
        let user = Uuid::from_u128(1);
        let org = Some(Uuid::from_u128(2));
        let token = keys.issue_as(user, Role::Station, org, Utc::now());
        let claims = keys.verify(&token).unwrap();
        assert_eq!(
            (claims.sub, claims.role, claims.org_id, claims.sid),
            (user, Role::Station, org, SESSION)
        );
    }

    #[test]
    fn refuses_expired_forged_tampered_and_foreign_tokens() {
        let keys = TokenKeys::new(&config(SECRET));
        let user = Uuid::from_u128(1);
        let long_ago = Utc::now() - chrono::Duration::hours(2);
        let expired = keys.issue_as(user, Role::Admin, None, long_ago);
        assert!(keys.verify(&expired).is_err(), "expired");

        let other = TokenKeys::new(&config("another-secret-of-sufficient-length!!"));
        let forged = other.issue_as(user, Role::Admin, None, Utc::now());
        assert!(keys.verify(&forged).is_err(), "signed with another key");

        let good = keys.issue_as(user, Role::Station, None, Utc::now());
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let payload = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &parts[1])
                .unwrap(),
        )
        .unwrap()
        .replace("STATION\"", "ADMIN\"");
        parts[1] =
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload);
        assert!(keys.verify(&parts.join(".")).is_err(), "tampered payload");

        let none_alg = format!(
            "{}.{}.",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                r#"{"alg":"none","typ":"JWT"}"#
            ),
            parts[1]
        );
        assert!(keys.verify(&none_alg).is_err(), "alg none");

        let mut foreign_config = config(SECRET);
        foreign_config.audience = "another-api".into();
        let foreign = TokenKeys::new(&foreign_config).issue_as(user, Role::Admin, None, Utc::now());
        assert!(keys.verify(&foreign).is_err(), "wrong audience");
    }
}
