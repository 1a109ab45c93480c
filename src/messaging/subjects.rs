//! Subject and stream names. A namespace prefixes all of them so that several deployments or
//! tests can share one NATS server without seeing each other's messages.

use uuid::Uuid;

/// Name prefix applied to every subject (`<ns>.bw.…`) and stream (`<ns>_COMMANDS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace {
    prefix: String,
}

impl Namespace {
    /// A namespace; empty means none. Only letters, digits, `-` and `_` are allowed
    /// because the value becomes part of stream names.
    pub fn new(prefix: impl Into<String>) -> Result<Self, String> {
        let prefix = prefix.into();
        if prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            Ok(Self { prefix })
        } else {
            Err(format!(
                "namespace {prefix:?} may only hold letters, digits, '-' and '_'"
            ))
        }
    }

    /// The subject `s` inside this namespace.
    pub fn subject(&self, s: &str) -> String {
        if self.prefix.is_empty() {
            s.to_owned()
        } else {
            format!("{}.{s}", self.prefix)
        }
    }

    /// The stream `name` inside this namespace.
    pub fn stream(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}_{name}", self.prefix)
        }
    }

    /// Strips this namespace from a subject, giving the bare `bw.…` subject.
    pub fn strip<'a>(&self, subject: &'a str) -> &'a str {
        if self.prefix.is_empty() {
            return subject;
        }
        subject
            .strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(subject)
    }

    /// The COMMANDS stream.
    pub fn commands_stream(&self) -> String {
        self.stream("COMMANDS")
    }

    /// The EVENTS stream.
    pub fn events_stream(&self) -> String {
        self.stream("EVENTS")
    }

    /// The DLQ stream.
    pub fn dlq_stream(&self) -> String {
        self.stream("DLQ")
    }

    /// Subject of a command: `bw.cmd.<type>.<aggregate id>.<command id>`. The aggregate lets
    /// subscribers and consumers filter; the command id lets the ingress find a pending
    /// command with a direct get on [`Namespace::pending_command_filter`].
    pub fn command_subject(&self, kind: &str, aggregate_id: Uuid, command_id: Uuid) -> String {
        self.subject(&format!("bw.cmd.{kind}.{aggregate_id}.{command_id}"))
    }

    /// Whether `subject` is a command subject of this namespace (what a replay may publish to).
    pub fn is_command_subject(&self, subject: &str) -> bool {
        subject.starts_with(&self.subject("bw.cmd.")) && !subject.contains(['*', '>', ' '])
    }

    /// Filter matching the subject of command `command_id` of type `kind` (`"*.*"` for any:
    /// every type is two tokens), whatever its aggregate.
    pub fn pending_command_filter(&self, kind: &str, command_id: Uuid) -> String {
        self.subject(&format!("bw.cmd.{kind}.*.{command_id}"))
    }

    /// The aggregate id and command id of a command subject.
    pub fn command_ids(&self, subject: &str) -> Option<(Uuid, Uuid)> {
        let mut tokens = self.strip(subject).rsplit('.');
        let command_id = tokens.next()?.parse().ok()?;
        let aggregate_id = tokens.next()?.parse().ok()?;
        Some((aggregate_id, command_id))
    }

    /// Dead-letter subject for a command subject (`bw.cmd.x.y` → `bw.dlq.x.y`).
    pub fn dead_letter_for(&self, command_subject: &str) -> String {
        let bare = self.strip(command_subject);
        let rest = bare.strip_prefix("bw.cmd.").unwrap_or(bare);
        self.subject(&format!("bw.dlq.{rest}"))
    }

    /// Subject of a domain event about an entity, e.g. `bw.evt.order.priced.<station>`.
    pub fn event(&self, event_type: &str, routing_id: impl std::fmt::Display) -> String {
        self.subject(&format!("bw.evt.{event_type}.{routing_id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_and_without_namespace() {
        let id = Uuid::from_u128(7);
        let cmd = Uuid::from_u128(8);
        let bare = Namespace::default();
        assert_eq!(
            bare.command_subject("order.submit", id, cmd),
            format!("bw.cmd.order.submit.{id}.{cmd}")
        );
        assert_eq!(bare.commands_stream(), "COMMANDS");
        let ns = Namespace::new("t42").unwrap();
        let subject = ns.command_subject("order.submit", id, cmd);
        assert_eq!(subject, format!("t42.bw.cmd.order.submit.{id}.{cmd}"));
        assert_eq!(
            ns.pending_command_filter("*.*", cmd),
            format!("t42.bw.cmd.*.*.*.{cmd}")
        );
        assert_eq!(ns.command_ids(&subject), Some((id, cmd)));
        assert_eq!(ns.command_ids("t42.bw.cmd.x"), None);
        assert!(ns.is_command_subject(&subject));
        assert!(!ns.is_command_subject(&format!("bw.cmd.order.submit.{id}.{cmd}")));
        assert!(!ns.is_command_subject("t42.bw.evt.order.priced.x"));
        assert!(!ns.is_command_subject("t42.bw.cmd.>"));
        assert_eq!(ns.commands_stream(), "t42_COMMANDS");
        assert_eq!(
            ns.dead_letter_for(&subject),
            format!("t42.bw.dlq.order.submit.{id}.{cmd}")
        );
        assert_eq!(
            ns.event("order.priced", id),
            format!("t42.bw.evt.order.priced.{id}")
        );
    }

    #[test]
    fn refuses_namespaces_that_would_break_stream_names() {
        assert!(Namespace::new("a.b").is_err());
        assert!(Namespace::new("a b").is_err());
        assert!(Namespace::new("ok_1-x").is_ok());
    }
}
