//! Moving a message to the dead-letter queue: a `dead_letters` row first, then the DLQ stream,
//! and only then the acknowledgement of the original message.

use async_nats::HeaderMap;
use async_nats::jetstream::Message;
use uuid::Uuid;

use bluewhale::db::dead_letters::{self, DeadLetter};
use bluewhale::domain::dead_letter_reason::DeadLetterReason;
use bluewhale::messaging::publish::publish_acked;

use crate::context::WorkerContext;

const DEAD_LETTER_NAMESPACE: Uuid = Uuid::from_u128(0x0d1e_a7d0_5c3b_4f71_8e2a_6b9c_d4e5_f607);

/// Records and republishes a dead letter. Idempotent: a redelivered message maps to the same
/// dead-letter id (from its stream sequence), recorded and published once.
pub async fn record(
    ctx: &WorkerContext,
    msg: &Message,
    command_id: Option<Uuid>,
    reason: DeadLetterReason,
    error: &str,
) -> anyhow::Result<()> {
    let info = msg
        .info()
        .map_err(|e| anyhow::anyhow!("message metadata: {e}"))?;
    let id = Uuid::new_v5(
        &DEAD_LETTER_NAMESPACE,
        format!("{}:{}", info.stream, info.stream_sequence).as_bytes(),
    );
    let delivered = info.delivered;
    let letter = DeadLetter {
        id,
        command_id,
        subject: msg.subject.to_string(),
        headers: headers_json(msg.headers.as_ref()),
        payload: msg.payload.to_vec(),
        reason: reason.as_str().to_owned(),
        error: error.to_owned(),
        delivery_count: i32::try_from(delivered).unwrap_or(i32::MAX),
        stream_sequence: i64::try_from(info.stream_sequence).unwrap_or(i64::MAX),
    };
    let mut conn = ctx.db.acquire().await?;
    dead_letters::insert(&mut conn, &letter).await?;
    drop(conn);
    let mut headers = HeaderMap::new();
    headers.insert("Bw-Dead-Letter-Reason", reason.as_str());
    headers.insert("Bw-Delivery-Count", delivered.to_string().as_str());
    headers.insert("Bw-Original-Subject", msg.subject.as_str());
    headers.insert("Bw-Error", header_safe(error).as_str());
    publish_acked(
        &ctx.js,
        ctx.ns.dead_letter_for(&msg.subject),
        id,
        Some(headers),
        msg.payload.clone(),
    )
    .await?;
    tracing::warn!(subject = %msg.subject, %reason, error, delivered, "command dead-lettered");
    Ok(())
}

/// The message's headers as `{name: [values]}`, for operators to inspect.
fn headers_json(headers: Option<&HeaderMap>) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (name, values) in headers.into_iter().flat_map(|h| h.iter()) {
        let values = values
            .iter()
            .map(|v| serde_json::Value::from(v.as_str()))
            .collect();
        map.insert(name.to_string(), serde_json::Value::Array(values));
    }
    serde_json::Value::Object(map)
}

/// Header values cannot hold line breaks, and stay short.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(512)
        .collect()
}
