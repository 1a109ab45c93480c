//! One webhook endpoint per supplier, registered by the demo manager through the API, each
//! pointing at `<receiver-url>/<supplier id>`.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::args::Flags;

const MANAGER_EMAIL: &str = "manager@demo.bluewhale.test";

pub async fn run(flags: &Flags) -> Result<bool> {
    let base = flags.required("--base-url")?.trim_end_matches('/');
    let receiver = flags.required("--receiver-url")?.trim_end_matches('/');
    let password =
        std::env::var("BLUEWHALE_DEMO_PASSWORD").unwrap_or_else(|_| "bluewhale-demo".into());
    bluewhale::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": MANAGER_EMAIL, "password": password}))
        .send()
        .await
        .context("login")?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .with_context(|| format!("login as {MANAGER_EMAIL}: {login}"))?
        .to_owned();
    let suppliers: Value = client
        .get(format!("{base}/api/v1/suppliers?per_page=100"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let items = suppliers["items"].as_array().context("supplier list")?;
    for supplier in items {
        let id = supplier["id"].as_str().context("supplier id")?;
        let response = client
            .post(format!("{base}/api/v1/suppliers/{id}/webhook-endpoints"))
            .bearer_auth(&token)
            .header("Idempotency-Key", format!("faults-endpoint-{id}"))
            .header("Prefer", "wait=30")
            .json(&json!({"url": format!("{receiver}/{id}"), "description": "faults.sh receiver"}))
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "endpoint for supplier {id}: {status} {}",
                response.text().await.unwrap_or_default()
            );
        }
    }
    println!(
        "webhooks: an endpoint for each of {} suppliers → {receiver}/<supplier>",
        items.len()
    );
    Ok(true)
}
