//! Messages published by hand onto the COMMANDS stream while the load runs.
//!
//! Duplicates: live `order.submit` commands are captured from the stream (direct get of the
//! newest message, before a worker acknowledges it) and published again, each three ways:
//! under its own message id (JetStream must drop it: duplicate window), under a fresh message
//! id at once (the copy races the original through the workers), and under a fresh message id
//! again once the original is processed (a late redelivery). None may change anything.
//!
//! Poison: an undecodable payload, an envelope of an unknown command type, and an
//! `order.submit` envelope whose data is not an order. Each must be dead-lettered, with its
//! reason; their subjects are written to `--dead-letters-out` for the checker.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use async_nats::HeaderMap;
use async_nats::jetstream::Context as Js;
use bytes::Bytes;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::args::Flags;
use crate::streams;

/// A captured command.
struct Captured {
    subject: String,
    payload: Bytes,
    msg_id: Option<String>,
    command_id: Uuid,
}

pub async fn run(flags: &Flags) -> Result<bool> {
    let ns = flags.namespace()?;
    let db = PgPool::connect(flags.required("--database-url")?)
        .await
        .context("connecting to PostgreSQL")?;
    let out = flags.required("--dead-letters-out")?;
    let wanted: usize = flags.number("--duplicates", 5)?;
    let client = streams::connect(flags.required("--nats-url")?).await?;
    let js = async_nats::jetstream::new(client);
    let stream_name = ns.commands_stream();
    let submit_prefix = ns.subject("bw.cmd.order.submit.");

    // Capture live order commands: the newest message of the stream, until enough are held.
    let deadline = Instant::now() + Duration::from_secs(30);
    let stream = js.get_stream(&stream_name).await?;
    let mut captured: Vec<Captured> = Vec::new();
    let mut seen = HashSet::new();
    while captured.len() < wanted {
        if Instant::now() > deadline {
            bail!(
                "captured only {} of {wanted} live order commands in 30 s: is the load running?",
                captured.len()
            );
        }
        let last = js
            .get_stream(&stream_name)
            .await?
            .info()
            .await?
            .state
            .last_sequence;
        if last > 0
            && seen.insert(last)
            && let Ok(message) = stream.get_raw_message(last).await
            && message.subject.starts_with(&submit_prefix)
        {
            let envelope: Value = serde_json::from_slice(&message.payload)
                .context("a live order command is not JSON")?;
            let command_id = envelope["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .context("a live order command without an id")?;
            captured.push(Captured {
                subject: message.subject.to_string(),
                msg_id: message.headers.get("Nats-Msg-Id").map(|v| v.to_string()),
                payload: message.payload.clone(),
                command_id,
            });
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let mut dropped = 0;
    for c in &captured {
        if let Some(id) = &c.msg_id
            && publish(&js, &c.subject, c.payload.clone(), id).await?
        {
            dropped += 1;
        }
        publish(
            &js,
            &c.subject,
            c.payload.clone(),
            &Uuid::new_v4().to_string(),
        )
        .await?;
    }
    let ids: Vec<Uuid> = captured.iter().map(|c| c.command_id).collect();
    let processed_by = Instant::now() + Duration::from_secs(60);
    loop {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM commands WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_one(&db)
            .await?;
        if n as usize == ids.len() {
            break;
        }
        if Instant::now() > processed_by {
            bail!(
                "the captured orders were not processed within 60 s ({n} of {})",
                ids.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for c in &captured {
        publish(
            &js,
            &c.subject,
            c.payload.clone(),
            &Uuid::new_v4().to_string(),
        )
        .await?;
    }
    println!(
        "inject: {} live order commands published again: {} copies under their own message id \
         ({dropped} dropped by JetStream de-duplication), {} under fresh ids while in flight, {} \
         after processing",
        captured.len(),
        captured.iter().filter(|c| c.msg_id.is_some()).count(),
        captured.len(),
        captured.len()
    );

    // Poison.
    let actor = json!({"user_id": Uuid::new_v4(), "role": "ADMIN", "org_type": "BLUEWHALE", "org_id": null});
    let garbage = ns.command_subject("order.submit", Uuid::new_v4(), Uuid::new_v4());
    let unknown = ns.subject(&format!("bw.cmd.order.teleport.{}", Uuid::new_v4()));
    let order_id = Uuid::new_v4();
    let wrong_data = ns.command_subject("order.submit", order_id, order_id);
    let poison = [
        (garbage, Bytes::from_static(b"{not json")),
        (
            unknown,
            Bytes::from(serde_json::to_vec(&json!({
                "id": Uuid::new_v4(), "type": "order.teleport", "version": 1,
                "issued_at": "2026-11-24T10:00:00Z", "actor": actor, "request_id": null, "data": {}
            }))?),
        ),
        (
            wrong_data,
            Bytes::from(serde_json::to_vec(&json!({
                "id": order_id, "type": "order.submit", "version": 1,
                "issued_at": "2026-11-24T10:00:00Z", "actor": actor, "request_id": null,
                "data": {"not": "an order"}
            }))?),
        ),
    ];
    let mut subjects = String::new();
    for (subject, payload) in poison {
        publish(&js, &subject, payload, &Uuid::new_v4().to_string()).await?;
        subjects.push_str(&subject);
        subjects.push('\n');
    }
    std::fs::write(out, subjects).with_context(|| format!("writing {out}"))?;
    println!("inject: 3 poison messages published (undecodable, unknown type, data not an order)");
    Ok(true)
}

/// Publishes and waits for the stream's ack; true if JetStream reported a duplicate.
async fn publish(js: &Js, subject: &str, payload: Bytes, msg_id: &str) -> Result<bool> {
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", msg_id);
    let ack = js
        .publish_with_headers(subject.to_owned(), headers, payload)
        .await
        .with_context(|| format!("publishing to {subject}"))?
        .await
        .with_context(|| format!("storing on {subject}"))?;
    Ok(ack.duplicate)
}
