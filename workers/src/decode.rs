//! Decoding messages of the COMMANDS stream: first the envelope (type and version choose the
//! handler), then the typed payload, checked against the subject it came on.

use serde_json::value::RawValue;
use uuid::Uuid;

use bluewhale::domain::dead_letter_reason::DeadLetterReason;
use bluewhale::messaging::Namespace;
use bluewhale::messaging::command::CommandSpec;
use bluewhale::messaging::correlation::Correlation;
use bluewhale::messaging::envelope::Envelope;

use crate::handler::{CommandTrace, Incoming};

/// A command envelope whose payload is not decoded yet.
pub type Head = Envelope<Box<RawValue>>;

/// Why a message cannot be processed at all (it goes straight to the dead-letter queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable {
    /// Undecodable, unknown type or inconsistent.
    pub reason: DeadLetterReason,
    /// Detail.
    pub error: String,
    /// The command id, if the envelope could be read that far.
    pub command_id: Option<Uuid>,
}

/// Reads the envelope of a message payload.
pub fn decode_head(payload: &[u8]) -> Result<Head, Undecodable> {
    serde_json::from_slice(payload).map_err(|e| Undecodable {
        reason: DeadLetterReason::Undecodable,
        error: format!("not a command envelope: {e}"),
        command_id: None,
    })
}

/// The dead letter of an envelope whose type or version no handler takes.
pub fn unknown_type(head: &Head) -> Undecodable {
    Undecodable {
        reason: DeadLetterReason::UnknownType,
        error: format!(
            "no handler for command type {:?} version {}",
            head.kind, head.version
        ),
        command_id: Some(head.id),
    }
}

/// Decodes the payload of `head`, received on `subject` with `correlation`, as a `C` command.
pub fn decode_typed<C: CommandSpec>(
    ns: &Namespace,
    subject: &str,
    correlation: &Correlation,
    head: Head,
) -> Result<Incoming<C>, Undecodable> {
    let command_id = Some(head.id);
    let envelope = head
        .try_map(|raw| serde_json::from_str::<C>(raw.get()))
        .map_err(|e| Undecodable {
            reason: DeadLetterReason::Undecodable,
            error: format!("invalid {} data: {e}", C::TYPE),
            command_id,
        })?;
    // The subject names the aggregate and the command; a mismatch means a forged or
    // corrupted message.
    let expected = ns.command_subject(C::TYPE, envelope.data.subject_id(), envelope.id);
    let consistent = subject == expected && envelope.data.belongs_to(envelope.id);
    if !consistent {
        return Err(Undecodable {
            reason: DeadLetterReason::Inconsistent,
            error: format!(
                "command {} on {subject} does not match its payload (expected {expected})",
                envelope.id
            ),
            command_id,
        });
    }
    let trace = CommandTrace::adopt(
        envelope.id,
        C::TYPE,
        envelope.request_id.as_deref(),
        correlation,
    );
    Ok(Incoming {
        envelope,
        subject: subject.to_owned(),
        trace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bluewhale::domain::purchase_order_lifecycle::Transition;
    use bluewhale::messaging::commands::TransitionPurchaseOrder;

    fn envelope(id: Uuid, po: Uuid) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "id": id, "type": "purchase_order.transition", "version": 1,
            "issued_at": "2026-12-02T10:00:00Z",
            "actor": {"user_id": Uuid::nil(), "role": "ADMIN", "org_type": "BLUEWHALE", "org_id": null},
            "request_id": null,
            "data": {"purchase_order_id": po, "expected_version": null, "transition": {"action": "close"}}
        }))
        .unwrap()
    }

    #[test]
    fn garbage_is_undecodable() {
        let error = decode_head(b"not json").unwrap_err();
        assert_eq!(
            (error.reason, error.command_id),
            (DeadLetterReason::Undecodable, None)
        );
    }

    #[test]
    fn a_consistent_command_decodes_typed() {
        let ns = Namespace::new("t1").unwrap();
        let (id, po) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let subject = ns.command_subject("purchase_order.transition", po, id);
        let head = decode_head(&envelope(id, po)).unwrap();
        let incoming =
            decode_typed::<TransitionPurchaseOrder>(&ns, &subject, &Correlation::default(), head)
                .unwrap();
        assert_eq!(incoming.envelope.data.transition, Transition::Close);
        assert_eq!(incoming.subject, subject);
    }

    #[test]
    fn a_subject_naming_another_aggregate_or_command_is_inconsistent() {
        let ns = Namespace::default();
        let (id, po) = (Uuid::from_u128(1), Uuid::from_u128(2));
        for subject in [
            ns.command_subject("purchase_order.transition", Uuid::from_u128(3), id),
            ns.command_subject("purchase_order.transition", po, Uuid::from_u128(4)),
            ns.command_subject("order.submit", po, id),
        ] {
            let head = decode_head(&envelope(id, po)).unwrap();
            let error = decode_typed::<TransitionPurchaseOrder>(
                &ns,
                &subject,
                &Correlation::default(),
                head,
            )
            .unwrap_err();
            assert_eq!(
                (error.reason, error.command_id),
                (DeadLetterReason::Inconsistent, Some(id)),
                "{subject}"
            );
        }
    }

    #[test]
    fn a_payload_of_another_shape_is_undecodable() {
        let head = decode_head(&envelope(Uuid::from_u128(1), Uuid::from_u128(2))).unwrap();
        let error = decode_typed::<bluewhale::messaging::commands::SubmitOrder>(
            &Namespace::default(),
            "bw.cmd.order.submit.x.y",
            &Correlation::default(),
            head,
        )
        .unwrap_err();
        assert_eq!(error.reason, DeadLetterReason::Undecodable);
    }
}
