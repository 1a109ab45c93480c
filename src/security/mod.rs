//! Credentials: password hashing, access tokens, refresh tokens.

pub mod jwt;
pub mod password;
pub mod password_threads;
pub mod personal_data;
pub mod refresh_token;
pub mod secret_box;
pub mod webhook_signature;
