//! The delivery loop: claims due messages under a lease (at most a few in flight per endpoint,
//! over every notifier process), delivers each on its own task within the process's
//! concurrency, and records the attempt with its verdict. A slow endpoint holds only its own
//! slots; the others keep flowing.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use uuid::Uuid;

use bluewhale::db::notification_messages::{self, AttemptRecord, ClaimedMessage};
use bluewhale::db::webhook_endpoints::{self, EndpointRow};
use bluewhale::domain::delivery_policy::{AttemptResult, Verdict, judge};
use bluewhale::messaging::commands::ChangeWebhookEndpoint;
use bluewhale::messaging::commands::webhook_endpoint::EndpointChange;
use bluewhale::messaging::envelope::{Actor, Envelope};
use bluewhale::messaging::publish::publish_command;
use bluewhale::ops::metrics as m;
use bluewhale::security::webhook_signature::SigningKey;
use bluewhale::telemetry;
use metrics::counter;
use tracing::Instrument as _;

use crate::context::NotifierContext;
use crate::email_content::EmailContent;

/// Delivers until `shutdown` resolves, then lets the attempts in flight finish.
pub async fn run(ctx: NotifierContext, shutdown: impl Future<Output = ()> + Send) {
    let concurrency = ctx.config.notifier.concurrency;
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while tasks.try_join_next().is_some() {}
        let free = slots.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            claim(&ctx, free).await
        };
        let idle = claimed.is_empty();
        for message in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let ctx = ctx.clone();
            tasks.spawn(async move {
                deliver(&ctx, message.0, message.1).await;
                drop(permit);
            });
        }
        if !idle && slots.available_permits() > 0 {
            continue;
        }
        tokio::select! {
            () = &mut shutdown => break,
            () = ctx.wake.notified() => {}
            () = tokio::time::sleep(ctx.config.notifier.poll_interval) => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    while tasks.join_next().await.is_some() {}
    tracing::info!("deliveries drained");
}

async fn claim(ctx: &NotifierContext, limit: usize) -> Vec<(ClaimedMessage, Uuid)> {
    let token = Uuid::new_v4();
    // Twice the request timeout: an attempt always ends (and is recorded) well within it, so
    // only a notifier that died or stalled loses its claim.
    let lease = ctx.config.webhook.timeout * 2;
    let per_endpoint = ctx.config.notifier.per_endpoint;
    let claimed = async {
        let mut conn = ctx.db.acquire().await?;
        notification_messages::claim_due(
            &mut conn,
            Utc::now(),
            i64::try_from(limit).unwrap_or(i64::MAX),
            i64::try_from(per_endpoint).unwrap_or(i64::MAX),
            lease,
            token,
        )
        .await
    };
    match claimed.await {
        Ok(messages) => messages.into_iter().map(|m| (m, token)).collect(),
        Err(error) => {
            tracing::warn!(%error, "claiming due messages failed");
            Vec::new()
        }
    }
}

/// One attempt of one message, in the trace of the request whose change it delivers.
async fn deliver(ctx: &NotifierContext, message: ClaimedMessage, token: Uuid) {
    let correlation = message.correlation();
    let span = tracing::info_span!(
        "delivery",
        message_id = %message.id,
        channel = %message.channel,
        event_type = %message.event_type,
        attempt = message.attempts,
        request_id = correlation.request_id.as_deref(),
        trace_id = tracing::field::Empty,
    );
    telemetry::adopt(&span, correlation.traceparent);
    attempt(ctx, message, token).instrument(span).await;
}

/// One attempt of one message, recorded with its verdict.
async fn attempt(ctx: &NotifierContext, message: ClaimedMessage, token: Uuid) {
    let started_at = Utc::now();
    let clock = Instant::now();
    let (attempt, endpoint) = if message.channel == "EMAIL" {
        (send_email(ctx, &message).await, None)
    } else {
        match load_endpoint(ctx, &message).await {
            Ok(Some(endpoint)) => (send_webhook(ctx, &message, &endpoint).await, Some(endpoint)),
            Ok(None) => return, // deleted meanwhile: nothing more goes to it
            Err(error) => {
                tracing::warn!(%error, message_id = %message.id, "endpoint not readable");
                return; // the lease expires and the attempt is made again
            }
        }
    };
    let round_attempt = u32::try_from(message.round_attempt).unwrap_or(u32::MAX);
    let verdict = judge(
        &attempt.result,
        round_attempt,
        &ctx.config.webhook.retry_schedule,
        rand::random::<f64>(),
    );
    let next_attempt_at = match verdict {
        Verdict::RetryAfter(delay) => {
            Some(Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX))
        }
        _ => None,
    };
    let record = AttemptRecord {
        message_id: message.id,
        lease_token: token,
        attempt: message.attempts,
        started_at,
        duration_ms: i32::try_from(clock.elapsed().as_millis()).unwrap_or(i32::MAX),
        succeeded: verdict == Verdict::Delivered,
        http_status: attempt.http_status.map(i32::from),
        response_excerpt: attempt.excerpt,
        error: attempt.error,
        next_attempt_at,
    };
    let recorded = async {
        let mut conn = ctx.db.acquire().await?;
        notification_messages::record_attempt(&mut conn, &record).await
    };
    match recorded.await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(message_id = %message.id, "lease lost before the attempt was recorded");
            return;
        }
        Err(error) => {
            tracing::warn!(%error, message_id = %message.id, "attempt not recorded");
            return;
        }
    }
    tracing::info!(
        ?verdict,
        http_status = record.http_status,
        "delivery attempted"
    );
    let outcome = match verdict {
        Verdict::Delivered => "delivered",
        Verdict::RetryAfter(_) => "retried",
        Verdict::Failed => "failed",
        Verdict::DisableEndpoint => "gone",
    };
    let channel = if endpoint.is_some() {
        "webhook"
    } else {
        "email"
    };
    counter!(m::NOTIFICATION_ATTEMPTS, "channel" => channel, "outcome" => outcome).increment(1);
    if let Some(endpoint) = endpoint {
        after_webhook(ctx, &endpoint, verdict, record.succeeded).await;
    }
}

/// What an attempt means for its endpoint: its health, and disabling it when it said 410 or
/// has failed everything for too long.
async fn after_webhook(ctx: &NotifierContext, endpoint: &EndpointRow, verdict: Verdict, ok: bool) {
    let now = Utc::now();
    // Only a change of health is written: a healthy endpoint's success costs nothing more.
    if ok == endpoint.failing_since.is_some()
        && let Err(error) = webhook_endpoints::record_health(&ctx.db, endpoint.id, ok, now).await
    {
        tracing::warn!(%error, endpoint_id = %endpoint.id, "endpoint health not recorded");
    }
    let disable_after = chrono::Duration::from_std(ctx.config.webhook.disable_after)
        .unwrap_or(chrono::Duration::MAX);
    let reason = match verdict {
        Verdict::DisableEndpoint => Some("the receiver answered 410 Gone".to_owned()),
        _ if !ok
            && endpoint
                .failing_since
                .is_some_and(|since| now - since >= disable_after) =>
        {
            Some(format!(
                "every delivery failed for more than {} hours",
                disable_after.num_hours()
            ))
        }
        _ => None,
    };
    if let Some(reason) = reason {
        disable(ctx, endpoint, reason).await;
    }
}

/// Asks the worker to disable an endpoint: the change goes through the command path like any
/// other (audit row, `webhook_endpoint.disabled` event). One command per endpoint version, so
/// several notifiers asking at once make one change.
async fn disable(ctx: &NotifierContext, endpoint: &EndpointRow, reason: String) {
    let id = Uuid::new_v5(
        &endpoint.id,
        format!("disable:{}", endpoint.version).as_bytes(),
    );
    let envelope = Envelope::new(
        id,
        Utc::now(),
        Actor::SYSTEM,
        None,
        None,
        ChangeWebhookEndpoint {
            endpoint_id: endpoint.id,
            supplier_id: endpoint.supplier_id,
            expected_version: Some(endpoint.version),
            change: EndpointChange::Disable { reason },
        },
    );
    // A decision of the system, not of the request whose message failed: a trace of its own.
    match publish_command(&ctx.js, &ctx.ns, &envelope, None).await {
        Ok(_) => tracing::info!(endpoint_id = %endpoint.id, "endpoint disable requested"),
        Err(error) => tracing::warn!(%error, endpoint_id = %endpoint.id, "disable not published"),
    }
}

async fn load_endpoint(
    ctx: &NotifierContext,
    message: &ClaimedMessage,
) -> sqlx::Result<Option<EndpointRow>> {
    let Some(id) = message.endpoint_id else {
        return Ok(None);
    };
    Ok(webhook_endpoints::find(&ctx.db, id)
        .await?
        .filter(|row| row.deleted_at.is_none()))
}

/// What an attempt produced, whatever the channel.
struct Attempt {
    result: AttemptResult,
    http_status: Option<u16>,
    excerpt: Option<String>,
    error: Option<String>,
}

async fn send_webhook(
    ctx: &NotifierContext,
    message: &ClaimedMessage,
    endpoint: &EndpointRow,
) -> Attempt {
    let keys = match signing_keys(ctx, endpoint) {
        Ok(keys) => keys,
        Err(error) => {
            return Attempt {
                result: AttemptResult::Failed,
                http_status: None,
                excerpt: None,
                error: Some(error),
            };
        }
    };
    let refs: Vec<&SigningKey> = keys.iter().collect();
    let sent = ctx
        .webhooks
        .send(
            &endpoint.url,
            &message.event_id.to_string(),
            &refs,
            &message.body,
            Utc::now(),
        )
        .await;
    Attempt {
        result: sent.result,
        http_status: sent.http_status,
        excerpt: sent.excerpt,
        error: sent.error,
    }
}

/// The keys that sign now: the current one, and the previous one during a rotation's overlap.
fn signing_keys(ctx: &NotifierContext, endpoint: &EndpointRow) -> Result<Vec<SigningKey>, String> {
    let secrets = &ctx.config.webhook.secrets;
    let open = |sealed: &[u8]| {
        secrets
            .open(sealed, endpoint.id.as_bytes())
            .map(SigningKey::from_bytes)
            .map_err(|e| format!("signing secret unreadable: {e}"))
    };
    let mut keys = vec![open(&endpoint.secret)?];
    if let (Some(previous), Some(until)) = (
        &endpoint.previous_secret,
        endpoint.previous_secret_expires_at,
    ) && until > Utc::now()
    {
        keys.push(open(previous)?);
    }
    Ok(keys)
}

async fn send_email(ctx: &NotifierContext, message: &ClaimedMessage) -> Attempt {
    let failed = |error: String| Attempt {
        result: AttemptResult::Failed,
        http_status: None,
        excerpt: None,
        error: Some(error),
    };
    let Some(to) = message.recipient.as_deref() else {
        return failed("no recipient".to_owned());
    };
    let content: EmailContent = match serde_json::from_str(&message.body) {
        Ok(content) => content,
        Err(error) => return failed(format!("stored e-mail unreadable: {error}")),
    };
    match ctx.email.send(to, &message.id.to_string(), &content).await {
        Ok(()) => Attempt {
            result: AttemptResult::Accepted,
            http_status: None,
            excerpt: None,
            error: None,
        },
        Err(error) => failed(error),
    }
}
