//! The fan-out: every supplier event from the EVENTS stream becomes one message per enabled,
//! subscribed endpoint of that supplier (and one e-mail where the supplier is mailed), written
//! to PostgreSQL before the event is acknowledged. A redelivered event creates nothing new.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::PullConsumer;
use futures::StreamExt;
use uuid::Uuid;

use bluewhale::db::notification_messages::{self, Channel, NewMessage};
use bluewhale::db::purchase_orders::PurchaseOrderView;
use bluewhale::db::{supplier_notifications, webhook_endpoints};
use bluewhale::messaging::correlation::Correlation;
use bluewhale::messaging::events::{DomainEvent, Event};
use bluewhale::telemetry;
use tracing::Instrument as _;

use crate::context::NotifierContext;
use crate::email_content::{self, EmailContent, OrderMail};
use crate::supplier_payload::{self, SupplierPurchaseOrder};

/// Events taken per transaction at most.
const BATCH: usize = 64;

/// Consumes until `shutdown` resolves; the batch in flight finishes first.
pub async fn run(
    ctx: NotifierContext,
    consumer: PullConsumer,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let messages = consumer
        .stream()
        .max_messages_per_batch(BATCH)
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(30))
        .messages()
        .await?;
    let mut chunks = std::pin::pin!(messages.take_until(shutdown).ready_chunks(BATCH));
    while let Some(chunk) = chunks.next().await {
        let batch: Vec<_> = chunk
            .into_iter()
            .filter_map(|item| {
                item.map_err(|error| tracing::warn!(%error, "events consumer error"))
                    .ok()
            })
            .collect();
        handle(&ctx, batch).await;
    }
    tracing::info!("fan-out drained");
    Ok(())
}

async fn handle(ctx: &NotifierContext, batch: Vec<async_nats::jetstream::Message>) {
    let stored = async {
        let mut messages = Vec::new();
        for message in &batch {
            match DomainEvent::decode_message(&message.payload) {
                Ok((event, decoded)) => {
                    let received = Correlation::from_headers(message.headers.as_ref());
                    messages.extend(fan_out_traced(ctx, &event, &decoded, received).await?);
                }
                // Not ours to deliver (or a newer version): nothing to do, and never blocking.
                Err(error) => tracing::warn!(%error, subject = %message.subject, "event skipped"),
            }
        }
        insert(ctx, &messages).await
    };
    match stored.await {
        Ok(created) => {
            if created > 0 {
                ctx.wake.notify_one();
            }
            for message in &batch {
                if let Err(error) = message.ack().await {
                    tracing::warn!(%error, "event ack failed; it will be redelivered");
                }
            }
        }
        Err(error) => {
            tracing::warn!(%error, "fan-out not stored; events redelivered shortly");
            for message in &batch {
                let _ = message
                    .ack_with(AckKind::Nak(Some(Duration::from_secs(2))))
                    .await;
            }
        }
    }
}

async fn insert(ctx: &NotifierContext, messages: &[NewMessage]) -> sqlx::Result<u64> {
    let mut conn = ctx.db.acquire().await?;
    notification_messages::insert_new(&mut conn, messages, chrono::Utc::now()).await
}

/// The supplier's view of a purchase order and its order contact; `notes` as the creation
/// event carries them (later events do not repeat them).
async fn supplier_view(
    ctx: &NotifierContext,
    po: &PurchaseOrderView,
    notes: Option<String>,
) -> sqlx::Result<Option<(SupplierPurchaseOrder, Option<String>)>> {
    let around =
        supplier_notifications::surroundings(&ctx.db, po.master_order_id, po.supplier_id).await?;
    Ok(around.map(|around| {
        let view = SupplierPurchaseOrder::new(
            po,
            around.deliver_to,
            around.requested_delivery_date,
            notes,
        );
        (view, around.order_contact_email)
    }))
}

/// The messages one event makes, in the trace the event came with: their deliveries carry it on.
async fn fan_out_traced(
    ctx: &NotifierContext,
    event: &Event,
    decoded: &DomainEvent,
    received: Correlation,
) -> sqlx::Result<Vec<NewMessage>> {
    let span = tracing::info_span!(
        "fan_out",
        event_id = %event.id,
        event_type = %event.kind,
        request_id = received.request_id.as_deref(),
        trace_id = tracing::field::Empty,
    );
    let onward = Correlation {
        traceparent: Some(telemetry::adopt(&span, received.traceparent)),
        request_id: received.request_id,
    };
    let made = messages_for(ctx, event, decoded, &onward)
        .instrument(span.clone())
        .await?;
    if !made.is_empty() {
        span.in_scope(|| tracing::info!(messages = made.len(), "event fanned out"));
    }
    Ok(made)
}

/// The messages one event makes.
async fn messages_for(
    ctx: &NotifierContext,
    event: &Event,
    decoded: &DomainEvent,
    correlation: &Correlation,
) -> sqlx::Result<Vec<NewMessage>> {
    let encode = |e: serde_json::Error| sqlx::Error::Encode(Box::new(e));
    let (supplier_id, body, endpoints, mail) = match decoded {
        DomainEvent::PurchaseOrderCreated(created) => {
            let po = &created.purchase_order;
            let Some((view, contact)) = supplier_view(ctx, po, created.notes.clone()).await? else {
                return Ok(Vec::new());
            };
            let mail = contact.map(|to| {
                (
                    to,
                    email_content::purchase_order_mail(OrderMail::Created, &view),
                )
            });
            let body =
                supplier_payload::purchase_order_body(&event.kind, event.occurred_at, view, None)
                    .map_err(encode)?;
            let endpoints =
                webhook_endpoints::subscribed(&ctx.db, po.supplier_id, &event.kind).await?;
            (po.supplier_id, body, endpoints, mail)
        }
        DomainEvent::PurchaseOrderChanged(changed) => {
            let po = &changed.purchase_order;
            let Some((view, contact)) = supplier_view(ctx, po, None).await? else {
                return Ok(Vec::new());
            };
            let mail = contact.filter(|_| po.status == "CANCELLED").map(|to| {
                (
                    to,
                    email_content::purchase_order_mail(OrderMail::Cancelled, &view),
                )
            });
            let body = supplier_payload::purchase_order_body(
                &event.kind,
                event.occurred_at,
                view,
                Some(changed.from_status.as_str()),
            )
            .map_err(encode)?;
            let endpoints =
                webhook_endpoints::subscribed(&ctx.db, po.supplier_id, &event.kind).await?;
            (po.supplier_id, body, endpoints, mail)
        }
        DomainEvent::WebhookTest(test) => {
            let body =
                supplier_payload::body(&event.kind, event.occurred_at, test).map_err(encode)?;
            // Only the endpoint it was asked for, whatever that endpoint subscribes to.
            let endpoints = webhook_endpoints::find(&ctx.db, test.endpoint_id)
                .await?
                .filter(|row| row.deleted_at.is_none())
                .map(|row| vec![row.id])
                .unwrap_or_default();
            (test.supplier_id, body, endpoints, None)
        }
        DomainEvent::WebhookEndpointDisabled(disabled) => {
            let body =
                supplier_payload::body(&event.kind, event.occurred_at, disabled).map_err(encode)?;
            let endpoints =
                webhook_endpoints::subscribed(&ctx.db, disabled.supplier_id, &event.kind).await?;
            let mail = supplier_notifications::supplier_contact(&ctx.db, disabled.supplier_id)
                .await?
                .and_then(|(_, email)| email)
                .map(|to| {
                    (
                        to,
                        email_content::endpoint_disabled_mail(&disabled.url, &disabled.reason),
                    )
                });
            (disabled.supplier_id, body, endpoints, mail)
        }
        DomainEvent::ContractChanged(changed) => {
            let body =
                supplier_payload::body(&event.kind, event.occurred_at, changed).map_err(encode)?;
            let endpoints =
                webhook_endpoints::subscribed(&ctx.db, changed.supplier_id, &event.kind).await?;
            let mail = supplier_notifications::supplier_contact(&ctx.db, changed.supplier_id)
                .await?
                .and_then(|(_, email)| email)
                .map(|to| (to, email_content::contract_mail(changed)));
            (changed.supplier_id, body, endpoints, mail)
        }
        _ => return Ok(Vec::new()),
    };
    let message = |channel: Channel, target: String, endpoint_id, recipient, body| NewMessage {
        id: Uuid::new_v5(
            &event.id,
            format!("{}:{target}", channel.as_str()).as_bytes(),
        ),
        channel,
        supplier_id,
        endpoint_id,
        recipient,
        event_id: event.id,
        event_type: event.kind.clone(),
        body,
        correlation: correlation.clone(),
    };
    let mut messages: Vec<NewMessage> = endpoints
        .into_iter()
        .map(|id| {
            message(
                Channel::Webhook,
                id.to_string(),
                Some(id),
                None,
                body.clone(),
            )
        })
        .collect();
    if let Some((to, content)) = mail {
        let content: EmailContent = content;
        let body = serde_json::to_string(&content).map_err(encode)?;
        messages.push(message(
            Channel::Email,
            to.to_lowercase(),
            None,
            Some(to),
            body,
        ));
    }
    Ok(messages)
}
