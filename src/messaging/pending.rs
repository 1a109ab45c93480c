//! Reading a command that is still waiting in the COMMANDS stream (a work queue: a message is
//! there until a worker acknowledged it), by a direct get on its per-aggregate subject.

use async_nats::jetstream::{self, stream::DirectGetErrorKind};
use uuid::Uuid;

use super::Namespace;
use super::commands::SubmitOrder;
use super::envelope::Envelope;

/// The pending submission of an order, if the stream still holds it.
pub async fn pending_submission(
    js: &jetstream::Context,
    ns: &Namespace,
    order_id: Uuid,
) -> Result<Option<Envelope<SubmitOrder>>, String> {
    let stream = js
        .get_stream_no_info(ns.commands_stream())
        .await
        .map_err(|e| e.to_string())?;
    match stream
        .direct_get_last_for_subject(ns.order_submit(order_id))
        .await
    {
        Ok(message) => serde_json::from_slice(&message.payload)
            .map(Some)
            .map_err(|e| format!("undecodable pending command: {e}")),
        Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}
