//! Decoding messages of the COMMANDS stream into typed commands.

use serde_json::Value;
use uuid::Uuid;

use bluewhale::messaging::Namespace;
use bluewhale::messaging::commands::{SUBMIT_ORDER_VERSION, SubmitOrder};
use bluewhale::messaging::envelope::Envelope;
use bluewhale::messaging::subjects::ORDER_SUBMIT;

use crate::handlers::submit_order::Submission;

/// A command the worker knows.
#[derive(Debug)]
pub enum Command {
    /// `order.submit`.
    SubmitOrder(Submission),
}

/// Why a message cannot be processed at all (it goes straight to the dead-letter queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable {
    /// `undecodable`, `unknown_type` or `inconsistent`.
    pub reason: &'static str,
    /// Detail.
    pub error: String,
    /// The command id, if the envelope could be read that far.
    pub command_id: Option<Uuid>,
}

/// Decodes a message payload received on `subject`.
pub fn decode(ns: &Namespace, subject: &str, payload: &[u8]) -> Result<Command, Undecodable> {
    let envelope: Envelope<Value> = serde_json::from_slice(payload).map_err(|e| Undecodable {
        reason: "undecodable",
        error: format!("not a command envelope: {e}"),
        command_id: None,
    })?;
    let command_id = Some(envelope.id);
    match (envelope.kind.as_str(), envelope.version) {
        (ORDER_SUBMIT, SUBMIT_ORDER_VERSION) => {
            let data: SubmitOrder =
                serde_json::from_value(envelope.data.clone()).map_err(|e| Undecodable {
                    reason: "undecodable",
                    error: format!("invalid {ORDER_SUBMIT} data: {e}"),
                    command_id,
                })?;
            // The subject names the aggregate; a mismatch means a forged or corrupted message.
            if envelope.id != data.order_id || subject != ns.order_submit(data.order_id) {
                return Err(Undecodable {
                    reason: "inconsistent",
                    error: format!(
                        "command {} on {subject} does not match order {}",
                        envelope.id, data.order_id
                    ),
                    command_id,
                });
            }
            Ok(Command::SubmitOrder(Submission {
                envelope: Envelope {
                    id: envelope.id,
                    kind: envelope.kind,
                    version: envelope.version,
                    issued_at: envelope.issued_at,
                    actor: envelope.actor,
                    request_id: envelope.request_id,
                    data,
                },
                subject: subject.to_owned(),
            }))
        }
        (kind, version) => Err(Undecodable {
            reason: "unknown_type",
            error: format!("no handler for command type {kind:?} version {version}"),
            command_id,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_unknown_types_are_undecodable() {
        let ns = Namespace::default();
        assert_eq!(
            decode(&ns, "bw.cmd.x", b"not json").unwrap_err().reason,
            "undecodable"
        );
        let unknown = serde_json::json!({
            "id": Uuid::nil(), "type": "order.teleport", "version": 1,
            "issued_at": "2026-11-24T10:00:00Z",
            "actor": {"user_id": Uuid::nil(), "role": "ADMIN", "org_type": "BLUEWHALE", "org_id": null},
            "request_id": null, "data": {}
        });
        let err = decode(
            &ns,
            "bw.cmd.order.teleport.x",
            unknown.to_string().as_bytes(),
        )
        .unwrap_err();
        assert_eq!(
            (err.reason, err.command_id),
            ("unknown_type", Some(Uuid::nil()))
        );
    }
}
