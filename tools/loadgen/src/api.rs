//! The few API calls made before the load: login, `/me`, active contracts.

use anyhow::{Context, Result, anyhow, bail};
use reqwest::{Client, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::plan::Contract;

/// An authenticated station user.
pub struct Session {
    /// Bearer access token (never printed).
    pub access_token: String,
    /// Seconds the token stays valid.
    pub expires_in: u64,
    /// The station the user orders for.
    pub station_id: Uuid,
}

#[derive(Deserialize)]
struct TokenPair {
    access_token: String,
    #[serde(default)]
    expires_in: u64,
}

#[derive(Deserialize)]
struct Me {
    role: String,
    organization: Organization,
}

#[derive(Deserialize)]
struct Organization {
    #[serde(rename = "type")]
    kind: String,
    id: Uuid,
}

#[derive(Deserialize)]
struct Page<T> {
    items: Vec<T>,
    #[serde(default)]
    total: u64,
}

/// Logs in and resolves the user's station.
pub async fn login(client: &Client, base: &str, email: &str, password: &str) -> Result<Session> {
    let resp = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .with_context(|| format!("POST {base}/api/v1/auth/login: is the ingress running?"))?;
    let tokens: TokenPair = json_or_error(resp, "login").await?;
    let me: Me = json_or_error(
        client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(&tokens.access_token)
            .send()
            .await
            .context("GET /api/v1/me")?,
        "GET /api/v1/me",
    )
    .await?;
    if !me.organization.kind.eq_ignore_ascii_case("STATION") {
        // Staff may order for any station, but then we would not know which one to use.
        bail!(
            "{email} belongs to a {} organisation (role {}); a STATION user is needed",
            me.organization.kind,
            me.role
        );
    }
    Ok(Session {
        access_token: tokens.access_token,
        expires_in: tokens.expires_in,
        station_id: me.organization.id,
    })
}

/// Fetches every ACTIVE contract visible to the user (all pages, 100 per page).
pub async fn active_contracts(client: &Client, base: &str, token: &str) -> Result<Vec<Contract>> {
    let mut all = Vec::new();
    // The bound only protects against a server that keeps answering full pages forever.
    for page in 1..=100u32 {
        let resp = client
            // Built by hand: reqwest's `query` feature is not enabled in this workspace.
            .get(format!(
                "{base}/api/v1/contracts?status=ACTIVE&per_page=100&page={page}"
            ))
            .bearer_auth(token)
            .send()
            .await
            .context("GET /api/v1/contracts")?;
        let body: Page<Contract> = json_or_error(resp, "GET /api/v1/contracts").await?;
        let got = body.items.len();
        all.extend(body.items);
        if got == 0 || all.len() as u64 >= body.total {
            break;
        }
    }
    Ok(all)
}

/// Decodes a 2xx JSON body, or turns any other answer into an error carrying its problem body.
async fn json_or_error<T: DeserializeOwned>(resp: reqwest::Response, what: &str) -> Result<T> {
    let status = resp.status();
    let text = resp.text().await.with_context(|| format!("{what}: body"))?;
    if status != StatusCode::OK {
        // Problem bodies never contain credentials (DESIGN §7.7), so they are safe to show.
        return Err(anyhow!("{what}: HTTP {status}: {}", truncate(&text, 400)));
    }
    serde_json::from_str(&text).with_context(|| format!("{what}: unexpected body"))
}

/// Shortens a text for an error message, on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
