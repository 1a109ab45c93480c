//! The single place that reads the environment. Every variable has a documented default
//! (README, `.env.example`) except the JWT secret and the webhook secret key; an unusable value stops start-up with a
//! message naming the variable. Secrets are wrapped so they never print.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::ip_network::{IpNetwork, parse_networks};
use crate::domain::webhook_url::UrlPolicy;
use crate::security::secret_box::SecretBox;

/// A configuration problem, naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {var}: {message}")]
pub struct ConfigError {
    /// Name of the environment variable.
    pub var: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// A value that must never appear in logs or debug output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (production).
    Json,
    /// Human-readable lines (development).
    Pretty,
}

/// PostgreSQL settings.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Connection URL (DATABASE_URL).
    pub url: String,
    /// Pool size per process (BW_DB_MAX_CONNECTIONS).
    pub max_connections: u32,
    /// Apply migrations at start-up (BW_MIGRATE_ON_START).
    pub migrate_on_start: bool,
}

/// NATS settings.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// Server URL (NATS_URL).
    pub url: String,
    /// Prefix of every subject and stream name (BW_NAMESPACE), empty in production.
    pub namespace: String,
}

/// Authentication settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// HMAC key of access tokens (BW_JWT_SECRET, at least 32 bytes).
    pub jwt_secret: Secret,
    /// `iss` claim (BW_JWT_ISSUER).
    pub issuer: String,
    /// `aud` claim (BW_JWT_AUDIENCE).
    pub audience: String,
    /// Access-token lifetime (BW_ACCESS_TOKEN_TTL_SECS).
    pub access_token_ttl: Duration,
    /// Refresh-token lifetime (BW_REFRESH_TOKEN_TTL_SECS).
    pub refresh_token_ttl: Duration,
    /// Login and refresh limits.
    pub limits: LoginLimitConfig,
}

/// Login and refresh limits, shared by every ingress through PostgreSQL.
#[derive(Debug, Clone)]
pub struct LoginLimitConfig {
    /// Login attempts per client address per [`Self::address_window`] (BW_LOGIN_ADDRESS_LIMIT).
    pub login_per_address: u32,
    /// Refreshes per client address per [`Self::address_window`] (BW_REFRESH_ADDRESS_LIMIT).
    pub refresh_per_address: u32,
    /// The per-address window (BW_LOGIN_ADDRESS_WINDOW_SECS).
    pub address_window: Duration,
    /// Failed logins on one account from one address before that address is refused for
    /// the rest of the failure window (BW_LOGIN_MAX_FAILURES).
    pub max_failures: u32,
    /// How long failures are counted (BW_LOGIN_FAILURE_WINDOW_SECS).
    pub failure_window: Duration,
    /// Failures on an account, from anywhere, before its attempts are slowed down
    /// (BW_LOGIN_SLOWDOWN_AFTER).
    pub slowdown_after: u32,
    /// First delay, doubled per further failure (BW_LOGIN_SLOWDOWN_BASE_MS).
    pub slowdown_base: Duration,
    /// Longest delay (BW_LOGIN_SLOWDOWN_MAX_MS): a slowdown, never a lock-out.
    pub slowdown_max: Duration,
}

/// HTTP ingress settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Listen address (BW_HTTP_ADDR).
    pub addr: SocketAddr,
    /// Maximum request body (BW_BODY_LIMIT_BYTES).
    pub body_limit_bytes: usize,
    /// Request timeout (BW_REQUEST_TIMEOUT_SECS); `Prefer: wait` requests get their wait on top.
    pub request_timeout: Duration,
    /// `Strict-Transport-Security` max-age, for an ingress served behind TLS
    /// (BW_HSTS_MAX_AGE_SECS; unset: no header, since plain HTTP cannot promise TLS).
    pub hsts_max_age: Option<Duration>,
    /// Browser origins allowed to call the API cross-origin (BW_CORS_ALLOWED_ORIGINS,
    /// comma-separated `scheme://host[:port]`; default none: no CORS headers at all).
    pub cors_allowed_origins: Vec<String>,
    /// Proxies in front of the ingress whose `X-Forwarded-For` tells the client's address
    /// (BW_TRUSTED_PROXIES, comma-separated networks; default none: the peer is the client).
    pub trusted_proxies: Vec<IpNetwork>,
    /// Threads hashing and verifying passwords (BW_PASSWORD_THREADS; default: one per core).
    /// Each holds argon2's 19 MiB while it works.
    pub password_threads: usize,
}

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Batches processed at once per worker process (BW_WORKER_CONCURRENCY).
    pub concurrency: usize,
    /// Commands per database transaction at most (BW_WORKER_BATCH_SIZE).
    pub batch_size: usize,
    /// Deliveries of a failing command before it is dead-lettered (BW_WORKER_MAX_DELIVER).
    pub max_deliver: u32,
    /// JetStream ack wait (BW_ACK_WAIT_SECS).
    pub ack_wait: Duration,
    /// After SIGTERM, how long batches in flight and the relay may take before they are
    /// abandoned and the process exits (BW_DRAIN_TIMEOUT_SECS).
    pub drain_timeout: Duration,
    /// How often the contract expiry job runs, across all workers together
    /// (BW_CONTRACT_EXPIRY_INTERVAL_SECS).
    pub contract_expiry_interval: Duration,
    /// How often the personal-data retention job runs, across all workers together
    /// (BW_RETENTION_INTERVAL_SECS).
    pub retention_interval: Duration,
    /// How long client addresses and user agents of security events are kept
    /// (BW_CLIENT_DATA_RETENTION_DAYS).
    pub client_data_retention: Duration,
}

/// Webhook endpoint rules and delivery settings (ingress and notifier).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Seals signing secrets at rest and derives new ones (BW_WEBHOOK_SECRET_KEY, base64 of
    /// 32 bytes).
    pub secrets: Arc<SecretBox>,
    /// Accept `http://` endpoints (BW_WEBHOOK_ALLOW_HTTP; development only).
    pub allow_http: bool,
    /// Networks endpoints may be in although not public (BW_WEBHOOK_ALLOWED_NETWORKS).
    pub allowed_networks: Vec<IpNetwork>,
    /// A slower answer is a failed attempt (BW_WEBHOOK_TIMEOUT_SECS).
    pub timeout: Duration,
    /// Delay before each attempt, the first included (BW_WEBHOOK_RETRY_SCHEDULE).
    pub retry_schedule: Vec<Duration>,
    /// An endpoint failing every delivery this long is disabled (BW_WEBHOOK_DISABLE_AFTER_SECS).
    pub disable_after: Duration,
    /// How long a rotated-out secret still signs (BW_WEBHOOK_SECRET_OVERLAP_SECS).
    pub secret_overlap: Duration,
}

impl WebhookConfig {
    /// The URL rules of these settings.
    pub fn url_policy(&self) -> UrlPolicy {
        UrlPolicy {
            allow_http: self.allow_http,
            allowed_networks: self.allowed_networks.clone(),
        }
    }
}

/// Notifier settings.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// Deliveries in flight at once per notifier process (BW_NOTIFIER_CONCURRENCY).
    pub concurrency: usize,
    /// Deliveries in flight at once per endpoint (BW_WEBHOOK_ENDPOINT_CONCURRENCY).
    pub per_endpoint: usize,
    /// Pause between looks for due messages when none is due (BW_NOTIFIER_POLL_MS).
    pub poll_interval: Duration,
    /// SMTP server (BW_SMTP_URL: smtp://host:port, smtps:// for TLS, ?tls=required for
    /// STARTTLS, credentials as user:password@).
    pub smtp_url: Secret,
    /// Sender of supplier e-mails (BW_MAIL_FROM).
    pub mail_from: String,
}

/// The whole configuration of a process.
#[derive(Debug, Clone)]
pub struct Config {
    /// PostgreSQL.
    pub database: DatabaseConfig,
    /// NATS JetStream.
    pub nats: NatsConfig,
    /// Tokens and login throttling.
    pub auth: AuthConfig,
    /// Ingress.
    pub http: HttpConfig,
    /// Workers.
    pub worker: WorkerConfig,
    /// Webhook endpoints and delivery.
    pub webhook: WebhookConfig,
    /// Notifier.
    pub notifier: NotifierConfig,
    /// Where this process serves /metrics, /health and /ready (BW_OPS_ADDR; unset: the
    /// process's own loopback default).
    pub ops_addr: Option<SocketAddr>,
    /// Time zone of order dates (BW_BUSINESS_TIMEZONE).
    pub business_timezone: chrono_tz::Tz,
    /// Days from a sales order's invoice date to its due date (BW_INVOICE_DUE_DAYS).
    pub invoice_due_days: u32,
    /// Log format (BW_LOG_FORMAT).
    pub log_format: LogFormat,
}

impl DatabaseConfig {
    /// Reads only the database settings (for tools such as `seed` that need nothing else).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name: &str| std::env::var(name).ok())
    }

    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        Ok(Self {
            url: env.parse_or(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/bluewhale".to_owned(),
            )?,
            max_connections: env.positive("BW_DB_MAX_CONNECTIONS", 20)?,
            migrate_on_start: env.parse_or("BW_MIGRATE_ON_START", true)?,
        })
    }
}

/// The demo users' password (BLUEWHALE_DEMO_PASSWORD), required by the seed.
pub fn demo_password_from_env() -> Result<Secret, ConfigError> {
    Env(&|name: &str| std::env::var(name).ok())
        .required("BLUEWHALE_DEMO_PASSWORD")
        .map(Secret::new)
}

/// Minimum HMAC key length: HS256 keys shorter than the hash output are brute-forceable.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let jwt_secret = env.required("BW_JWT_SECRET")?;
        if jwt_secret.len() < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError {
                var: "BW_JWT_SECRET",
                message: format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
            });
        }
        let timezone: String = env.parse_or("BW_BUSINESS_TIMEZONE", "Europe/Paris".to_owned())?;
        let business_timezone = timezone.parse().map_err(|_| ConfigError {
            var: "BW_BUSINESS_TIMEZONE",
            message: format!("unknown IANA time zone {timezone:?}"),
        })?;
        let log_format = match env.parse_or("BW_LOG_FORMAT", "json".to_owned())?.as_str() {
            "json" => LogFormat::Json,
            "pretty" => LogFormat::Pretty,
            other => {
                return Err(ConfigError {
                    var: "BW_LOG_FORMAT",
                    message: format!("expected json or pretty, got {other:?}"),
                });
            }
        };
        Ok(Self {
            database: DatabaseConfig::from_lookup(&lookup)?,
            nats: NatsConfig {
                url: env.parse_or("NATS_URL", "nats://127.0.0.1:14222".to_owned())?,
                namespace: env.parse_or("BW_NAMESPACE", String::new())?,
            },
            auth: AuthConfig {
                jwt_secret: Secret::new(jwt_secret),
                issuer: env.parse_or("BW_JWT_ISSUER", "bluewhale".to_owned())?,
                audience: env.parse_or("BW_JWT_AUDIENCE", "bluewhale-api".to_owned())?,
                access_token_ttl: env.seconds("BW_ACCESS_TOKEN_TTL_SECS", 900)?,
                refresh_token_ttl: env.seconds("BW_REFRESH_TOKEN_TTL_SECS", 1_209_600)?,
                limits: LoginLimitConfig {
                    login_per_address: env.positive("BW_LOGIN_ADDRESS_LIMIT", 60)?,
                    refresh_per_address: env.positive("BW_REFRESH_ADDRESS_LIMIT", 120)?,
                    address_window: env.seconds("BW_LOGIN_ADDRESS_WINDOW_SECS", 60)?,
                    max_failures: env.positive("BW_LOGIN_MAX_FAILURES", 5)?,
                    failure_window: env.seconds("BW_LOGIN_FAILURE_WINDOW_SECS", 900)?,
                    slowdown_after: env.positive("BW_LOGIN_SLOWDOWN_AFTER", 5)?,
                    slowdown_base: Duration::from_millis(
                        env.positive("BW_LOGIN_SLOWDOWN_BASE_MS", 250)?,
                    ),
                    slowdown_max: Duration::from_millis(
                        env.positive("BW_LOGIN_SLOWDOWN_MAX_MS", 3000)?,
                    ),
                },
            },
            http: HttpConfig {
                addr: env.parse_or("BW_HTTP_ADDR", SocketAddr::from(([0, 0, 0, 0], 8080)))?,
                body_limit_bytes: env.positive("BW_BODY_LIMIT_BYTES", 262_144)?,
                request_timeout: env.seconds("BW_REQUEST_TIMEOUT_SECS", 10)?,
                hsts_max_age: match env.raw("BW_HSTS_MAX_AGE_SECS") {
                    None => None,
                    Some(_) => Some(env.seconds("BW_HSTS_MAX_AGE_SECS", 0)?),
                },
                cors_allowed_origins: parse_origins(
                    &env.raw("BW_CORS_ALLOWED_ORIGINS").unwrap_or_default(),
                )
                .map_err(|message| ConfigError {
                    var: "BW_CORS_ALLOWED_ORIGINS",
                    message,
                })?,
                trusted_proxies: parse_networks(&env.raw("BW_TRUSTED_PROXIES").unwrap_or_default())
                    .map_err(|message| ConfigError {
                        var: "BW_TRUSTED_PROXIES",
                        message,
                    })?,
                password_threads: env.positive(
                    "BW_PASSWORD_THREADS",
                    std::thread::available_parallelism().map_or(2, usize::from),
                )?,
            },
            worker: WorkerConfig {
                concurrency: env.positive("BW_WORKER_CONCURRENCY", 2)?,
                batch_size: env.positive("BW_WORKER_BATCH_SIZE", 64)?,
                max_deliver: env.positive("BW_WORKER_MAX_DELIVER", 5)?,
                ack_wait: env.seconds("BW_ACK_WAIT_SECS", 30)?,
                drain_timeout: env.seconds("BW_DRAIN_TIMEOUT_SECS", 25)?,
                contract_expiry_interval: env.seconds("BW_CONTRACT_EXPIRY_INTERVAL_SECS", 300)?,
                retention_interval: env.seconds("BW_RETENTION_INTERVAL_SECS", 3600)?,
                client_data_retention: Duration::from_secs(
                    86_400 * env.positive::<u64>("BW_CLIENT_DATA_RETENTION_DAYS", 90)?,
                ),
            },
            webhook: WebhookConfig::from_env(&env)?,
            notifier: NotifierConfig {
                concurrency: env.positive("BW_NOTIFIER_CONCURRENCY", 32)?,
                per_endpoint: env.positive("BW_WEBHOOK_ENDPOINT_CONCURRENCY", 4)?,
                poll_interval: Duration::from_millis(env.positive("BW_NOTIFIER_POLL_MS", 500)?),
                smtp_url: Secret::new(
                    env.parse_or("BW_SMTP_URL", "smtp://127.0.0.1:1025".to_owned())?,
                ),
                mail_from: env.parse_or(
                    "BW_MAIL_FROM",
                    "Blue Whale <orders@bluewhale.test>".to_owned(),
                )?,
            },
            ops_addr: env
                .raw("BW_OPS_ADDR")
                .map(|raw| raw.parse())
                .transpose()
                .map_err(|_| ConfigError {
                    var: "BW_OPS_ADDR",
                    message: "expected host:port".to_owned(),
                })?,
            business_timezone,
            invoice_due_days: env.parse_or("BW_INVOICE_DUE_DAYS", 30)?,
            log_format,
        })
    }
}

/// Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
const DEFAULT_RETRY_SCHEDULE: &str = "0,5,300,1800,7200,18000,36000,36000";

impl WebhookConfig {
    fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<'_, F>) -> Result<Self, ConfigError> {
        const KEY: &str = "BW_WEBHOOK_SECRET_KEY";
        let secret_key = env.required(KEY)?;
        let secrets = SecretBox::from_base64(&secret_key).map_err(|e| ConfigError {
            var: KEY,
            message: e.to_string(),
        })?;
        let networks: String = env.parse_or("BW_WEBHOOK_ALLOWED_NETWORKS", String::new())?;
        let allowed_networks = parse_networks(&networks).map_err(|message| ConfigError {
            var: "BW_WEBHOOK_ALLOWED_NETWORKS",
            message,
        })?;
        const SCHEDULE: &str = "BW_WEBHOOK_RETRY_SCHEDULE";
        let schedule: String = env.parse_or(SCHEDULE, DEFAULT_RETRY_SCHEDULE.to_owned())?;
        let retry_schedule = schedule
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ConfigError {
                var: SCHEDULE,
                message: format!("expected comma-separated seconds, got {schedule:?}"),
            })?;
        Ok(Self {
            secrets: Arc::new(secrets),
            allow_http: env.parse_or("BW_WEBHOOK_ALLOW_HTTP", false)?,
            allowed_networks,
            timeout: env.seconds("BW_WEBHOOK_TIMEOUT_SECS", 15)?,
            retry_schedule,
            disable_after: env.seconds("BW_WEBHOOK_DISABLE_AFTER_SECS", 432_000)?,
            secret_overlap: env.seconds("BW_WEBHOOK_SECRET_OVERLAP_SECS", 86_400)?,
        })
    }
}

/// Exact origins (`https://app.example.com`, `http://localhost:3000`): a scheme, a host, an
/// optional port, nothing else; `*` is refused (credentials travel in headers).
fn parse_origins(list: &str) -> Result<Vec<String>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .ok_or_else(|| format!("{origin:?} is not an http(s) origin"))?;
            let valid = !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
            if valid {
                Ok(origin.to_owned())
            } else {
                Err(format!(
                    "{origin:?} is not an origin (scheme://host[:port], no path)"
                ))
            }
        })
        .collect()
}

/// Typed access to an environment lookup.
struct Env<'a, F: Fn(&str) -> Option<String>>(&'a F);

impl<F: Fn(&str) -> Option<String>> Env<'_, F> {
    fn raw(&self, var: &str) -> Option<String> {
        (self.0)(var).filter(|v| !v.is_empty())
    }

    fn required(&self, var: &'static str) -> Result<String, ConfigError> {
        self.raw(var).ok_or(ConfigError {
            var,
            message: "is required and not set".to_owned(),
        })
    }

    fn parse_or<T: FromStr>(&self, var: &'static str, default: T) -> Result<T, ConfigError> {
        match self.raw(var) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|_| ConfigError {
                var,
                message: format!("cannot parse {value:?}"),
            }),
        }
    }

    fn positive<T: FromStr + PartialOrd + Default>(
        &self,
        var: &'static str,
        default: T,
    ) -> Result<T, ConfigError> {
        let value = self.parse_or(var, default)?;
        if value <= T::default() {
            return Err(ConfigError {
                var,
                message: "must be greater than zero".to_owned(),
            });
        }
        Ok(value)
    }

    fn seconds(&self, var: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(var, default).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    const SECRET: (&str, &str) = ("BW_JWT_SECRET", "0123456789abcdef0123456789abcdef");
    const KEY: (&str, &str) = (
        "BW_WEBHOOK_SECRET_KEY",
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    );

    #[test]
    fn defaults_apply_when_only_the_secret_is_set() {
        let config = config(&[SECRET, KEY]).expect("valid");
        assert_eq!(config.http.addr.port(), 8080);
        assert_eq!(config.nats.url, "nats://127.0.0.1:14222");
        assert_eq!(config.business_timezone, chrono_tz::Europe::Paris);
        assert_eq!(config.worker.max_deliver, 5);
        assert_eq!(config.worker.drain_timeout, Duration::from_secs(25));
        assert_eq!(
            config.worker.contract_expiry_interval,
            Duration::from_secs(300)
        );
        assert_eq!(config.webhook.retry_schedule.len(), 8);
        assert_eq!(config.webhook.retry_schedule[2], Duration::from_secs(300));
        assert!(!config.webhook.allow_http);
        assert_eq!(config.webhook.timeout, Duration::from_secs(15));
    }

    #[test]
    fn refuses_a_missing_or_short_jwt_secret() {
        assert_eq!(config(&[KEY]).unwrap_err().var, "BW_JWT_SECRET");
        let short = config(&[("BW_JWT_SECRET", "too-short"), KEY]).unwrap_err();
        assert_eq!(short.var, "BW_JWT_SECRET");
        assert!(short.message.contains("32 bytes"));
    }

    #[test]
    fn refuses_unusable_values_naming_the_variable() {
        for (var, value) in [
            ("BW_HTTP_ADDR", "not-an-address"),
            ("BW_WORKER_CONCURRENCY", "0"),
            ("BW_BUSINESS_TIMEZONE", "Mars/Olympus"),
            ("BW_LOG_FORMAT", "xml"),
            ("BW_ACCESS_TOKEN_TTL_SECS", "-5"),
            ("BW_WEBHOOK_SECRET_KEY", "c2hvcnQ="),
            ("BW_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/33"),
            ("BW_WEBHOOK_RETRY_SCHEDULE", "0,5,soon"),
        ] {
            let err = config(&[SECRET, KEY, (var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{value}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let config = config(&[SECRET, KEY]).expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains(SECRET.1));
        assert!(!printed.contains(KEY.1));
        assert!(printed.contains("Secret(***)"));
    }

    #[test]
    fn cors_origins_are_exact_http_origins() {
        assert_eq!(
            parse_origins(" https://app.example.com, http://localhost:3000 ,").unwrap(),
            ["https://app.example.com", "http://localhost:3000"]
        );
        assert!(parse_origins("").unwrap().is_empty());
        for bad in [
            "*",
            "app.example.com",
            "https://app.example.com/path",
            "https://",
        ] {
            assert!(parse_origins(bad).is_err(), "{bad}");
        }
    }
}
