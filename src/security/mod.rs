//! Credentials: password hashing, access tokens, refresh tokens.

pub mod jwt;
pub mod password;
pub mod refresh_token;
