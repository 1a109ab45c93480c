//! One webhook attempt: the URL rules checked again, a connection only to an address the rules
//! allow (a resolver that refuses forbidden addresses, so DNS rebinding cannot reach them), no
//! redirects, no proxies, a timeout, Standard Webhooks headers, and the first kilobyte of the
//! answer kept for the log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use bluewhale::domain::delivery_policy::AttemptResult;
use bluewhale::domain::webhook_url::{UrlPolicy, check_address, check_url};
use bluewhale::security::webhook_signature::{SigningKey, sign};

/// Bytes of the receiver's answer kept in the delivery log.
const EXCERPT_BYTES: usize = 1024;

/// Resolves host names, keeping only the addresses the URL rules allow.
struct GuardedResolver {
    policy: UrlPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match check_address(addr.ip(), &policy) {
                    Ok(()) => true,
                    Err(issue) => {
                        refused = Some(issue);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refused.map_or_else(|| "no address".to_owned(), |i| i.to_string());
                return Err(format!("{host} resolves to no allowed address: {why}").into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Sends webhook requests.
#[derive(Clone)]
pub struct WebhookTransport {
    client: reqwest::Client,
    policy: UrlPolicy,
}

/// What one attempt produced, for the verdict and the log.
#[derive(Debug, Clone)]
pub struct WebhookAttempt {
    /// For the delivery policy.
    pub result: AttemptResult,
    /// The receiver's status, if it answered.
    pub http_status: Option<u16>,
    /// The first kilobyte of its answer.
    pub excerpt: Option<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

impl WebhookTransport {
    /// A transport applying `policy` at delivery, giving up after `timeout`.
    pub fn new(policy: UrlPolicy, timeout: Duration) -> anyhow::Result<Self> {
        bluewhale::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("BlueWhale-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .build()?;
        Ok(Self { client, policy })
    }

    /// POSTs `body` to `url`, signed with every key in `keys`.
    pub async fn send(
        &self,
        url: &str,
        event_id: &str,
        keys: &[&SigningKey],
        body: &str,
        now: DateTime<Utc>,
    ) -> WebhookAttempt {
        let failed = |error: String| WebhookAttempt {
            result: AttemptResult::Failed,
            http_status: None,
            excerpt: None,
            error: Some(error),
        };
        // The rules again: the endpoint may have been registered under other settings, and an
        // IP literal is connected to without the resolver.
        let checked = match check_url(url, &self.policy) {
            Ok(checked) => checked,
            Err(issue) => return failed(format!("refused: {issue}")),
        };
        if let Some(ip) = checked.ip_literal()
            && let Err(issue) = check_address(ip, &self.policy)
        {
            return failed(format!("refused: {issue}"));
        }
        let timestamp = now.timestamp();
        let request = self
            .client
            .post(checked.as_str())
            .header("content-type", "application/json")
            .header("webhook-id", event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                sign(keys, event_id, timestamp, body.as_bytes()),
            )
            .body(body.to_owned());
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => return failed(describe(&error)),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now));
        let mut excerpt = Vec::new();
        let mut error = None;
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    // A body that never ends within the timeout is a failed attempt too.
                    error = Some(describe(&e));
                    break;
                }
            }
        }
        excerpt.truncate(EXCERPT_BYTES);
        let excerpt = String::from_utf8_lossy(&excerpt).into_owned();
        let result = match &error {
            Some(_) if (200..300).contains(&status) => AttemptResult::Failed,
            _ => AttemptResult::Answered {
                status,
                retry_after,
            },
        };
        let error =
            error.or_else(|| (!(200..300).contains(&status)).then(|| format!("HTTP {status}")));
        WebhookAttempt {
            result,
            http_status: Some(status),
            excerpt: Some(excerpt_chars(&excerpt)),
            error,
        }
    }
}

/// At most [`EXCERPT_BYTES`] characters (the column's limit counts characters).
fn excerpt_chars(text: &str) -> String {
    text.chars().take(EXCERPT_BYTES).collect()
}

/// A reqwest error with its causes, which say what really happened (refused address, timeout).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or as an HTTP date.
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value.trim()).ok()?;
    (at.with_timezone(&Utc) - now).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 10:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 09:00:00 GMT", now),
            None
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}

#[cfg(test)]
mod guard_tests {
    use super::*;
    use bluewhale::domain::ip_network::IpNetwork;

    fn policy(allowed: &[&str]) -> UrlPolicy {
        UrlPolicy {
            allow_http: true,
            allowed_networks: allowed
                .iter()
                .map(|n| n.parse::<IpNetwork>().unwrap())
                .collect(),
        }
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_resolving_to_forbidden_addresses() {
        let refused = GuardedResolver {
            policy: policy(&[]),
        }
        .resolve("localhost".parse().unwrap())
        .await;
        let error = refused.err().expect("refused").to_string();
        assert!(error.contains("no allowed address"), "{error}");
        let allowed = GuardedResolver {
            policy: policy(&["127.0.0.0/8", "::1/128"]),
        }
        .resolve("localhost".parse().unwrap())
        .await
        .expect("allowed");
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn metadata_and_private_literals_are_refused_before_connecting() {
        let transport =
            WebhookTransport::new(policy(&["127.0.0.0/8"]), Duration::from_secs(1)).unwrap();
        let key = SigningKey::from_bytes(vec![7; 32]);
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "http://10.1.2.3/hook",
            "http://[::ffff:192.168.1.1]/hook",
        ] {
            let attempt = transport.send(url, "msg", &[&key], "{}", Utc::now()).await;
            assert_eq!(attempt.result, AttemptResult::Failed, "{url}");
            assert_eq!(attempt.http_status, None);
            assert!(attempt.error.unwrap().starts_with("refused:"), "{url}");
        }
    }
}
