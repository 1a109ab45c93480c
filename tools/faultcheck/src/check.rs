//! The invariants of DESIGN.md §7 after a fault scenario, in SQL and against the streams.
//!
//! Each check prints `ok   <invariant>: …` or `FAIL <invariant>: …` with the offending ids
//! (the first few, and how many in all). Audit events are not relied upon (their shape is
//! changing): events are checked through `order.priced` / `order.rejected` per order and
//! `purchase_order.created` per purchase order, and every event id across the stream.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Display;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::args::Flags;
use crate::streams;

/// How many offending ids a failure line shows.
const SHOWN: usize = 10;

/// The verdicts so far.
#[derive(Default)]
struct Verdicts {
    failed: Vec<String>,
}

impl Verdicts {
    /// Records one invariant: holds when `offending` is empty.
    fn invariant<T: Display>(&mut self, name: &str, detail: &str, offending: &[T]) {
        if offending.is_empty() {
            println!("ok   {name}: {detail}");
        } else {
            let shown: Vec<String> = offending
                .iter()
                .take(SHOWN)
                .map(|o| o.to_string())
                .collect();
            let more = offending.len().saturating_sub(SHOWN);
            println!(
                "FAIL {name}: {detail}: {} offending: {}{}",
                offending.len(),
                shown.join(", "),
                if more > 0 {
                    format!(" … and {more} more")
                } else {
                    String::new()
                }
            );
            self.failed.push(name.to_owned());
        }
    }
}

pub async fn run(flags: &Flags) -> Result<bool> {
    let db = PgPool::connect(flags.required("--database-url")?)
        .await
        .context("connecting to PostgreSQL")?;
    let ns = flags.namespace()?;
    let client = streams::connect(flags.required("--nats-url")?).await?;
    let js = async_nats::jetstream::new(client);
    let accepted_file = flags.required("--accepted")?;
    let accepted_text = std::fs::read_to_string(accepted_file)
        .with_context(|| format!("reading {accepted_file}"))?;
    let mut accepted = Vec::new();
    for line in accepted_text.lines().filter(|l| !l.trim().is_empty()) {
        accepted.push(
            line.trim()
                .parse::<Uuid>()
                .with_context(|| format!("{accepted_file}: `{line}` is not an order id"))?,
        );
    }
    let mut v = Verdicts::default();

    // 1. No lost order, no duplicate: every 202 leads to exactly one master order, processed.
    let mut seen = HashSet::new();
    let twice: Vec<Uuid> = accepted
        .iter()
        .filter(|id| !seen.insert(**id))
        .copied()
        .collect();
    v.invariant(
        "one 202 per order id",
        &format!("{} orders accepted", accepted.len()),
        &twice,
    );
    let lost: Vec<Uuid> = sqlx::query_scalar(
        "SELECT a.id FROM unnest($1::uuid[]) AS a(id) \
         LEFT JOIN master_orders m ON m.id = a.id \
         WHERE m.id IS NULL OR m.status = 'PENDING' ORDER BY a.id",
    )
    .bind(&accepted)
    .fetch_all(&db)
    .await?;
    let (priced, rejected): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status NOT IN ('REJECTED', 'PENDING')), \
                count(*) FILTER (WHERE status = 'REJECTED') FROM master_orders",
    )
    .fetch_one(&db)
    .await?;
    v.invariant(
        "every accepted order processed once (§7.1)",
        &format!("{priced} priced, {rejected} rejected master orders"),
        &lost,
    );
    let unseen: i64 =
        sqlx::query_scalar("SELECT count(*) FROM master_orders WHERE NOT (id = ANY($1))")
            .bind(&accepted)
            .fetch_one(&db)
            .await?;
    if unseen > 0 {
        println!(
            "note {unseen} processed orders whose 202 the load generator never read \
             (requests timed out or cut by the fault); checked like the others"
        );
    }
    let unrecorded: Vec<Uuid> = sqlx::query_scalar(
        "SELECT m.id FROM master_orders m LEFT JOIN commands c ON c.id = m.command_id \
         WHERE c.id IS NULL OR c.outcome NOT IN ('APPLIED', 'REJECTED') ORDER BY m.id",
    )
    .fetch_all(&db)
    .await?;
    v.invariant(
        "a commands row per master order (§7.4)",
        "idempotency record written with the order",
        &unrecorded,
    );
    let same_key: Vec<String> = sqlx::query_scalar(
        "SELECT created_by::text || '/' || idempotency_key FROM master_orders \
         GROUP BY created_by, idempotency_key HAVING count(*) > 1",
    )
    .fetch_all(&db)
    .await?;
    v.invariant(
        "one master order per (user, idempotency key) (§7.2)",
        "no duplicate",
        &same_key,
    );

    // 2. One purchase order per supplier per order, and only for priced orders.
    let po_twice: Vec<String> = sqlx::query_scalar(
        "SELECT master_order_id::text || '/' || supplier_id::text FROM purchase_orders \
         GROUP BY master_order_id, supplier_id HAVING count(*) > 1",
    )
    .fetch_all(&db)
    .await?;
    let pos: i64 = sqlx::query_scalar("SELECT count(*) FROM purchase_orders")
        .fetch_one(&db)
        .await?;
    v.invariant(
        "one PO per supplier per order (§7.2)",
        &format!("{pos} purchase orders"),
        &po_twice,
    );
    let shapeless: Vec<Uuid> = sqlx::query_scalar(
        "SELECT m.id FROM master_orders m WHERE m.status <> 'PENDING' \
         AND (m.status = 'REJECTED') = EXISTS (SELECT 1 FROM purchase_orders p WHERE p.master_order_id = m.id) \
         ORDER BY m.id",
    )
    .fetch_all(&db)
    .await?;
    v.invariant(
        "priced orders have POs, rejected ones none",
        "all or nothing (§5.2)",
        &shapeless,
    );

    // 3. No partial writes: totals add up, and every part of the order committed with it.
    let bad_po: Vec<Uuid> = sqlx::query_scalar(
        "SELECT p.id FROM purchase_orders p \
         LEFT JOIN (SELECT purchase_order_id, sum(line_total) AS total, count(*) AS n \
                    FROM purchase_order_lines GROUP BY purchase_order_id) l \
           ON l.purchase_order_id = p.id \
         WHERE l.n IS NULL OR l.total <> p.total_excluding_tax \
            OR p.total_including_tax <> p.total_excluding_tax + p.tax_amount ORDER BY p.id",
    )
    .fetch_all(&db)
    .await?;
    v.invariant(
        "PO totals = sum of their lines (§7.3)",
        "no PO without lines",
        &bad_po,
    );
    let bad_master: Vec<Uuid> = sqlx::query_scalar(
        "SELECT m.id FROM master_orders m \
         JOIN (SELECT master_order_id, sum(total_excluding_tax) AS e, sum(tax_amount) AS t, \
                      sum(total_including_tax) AS i \
               FROM purchase_orders GROUP BY master_order_id) p ON p.master_order_id = m.id \
         WHERE (m.total_excluding_tax, m.tax_amount, m.total_including_tax) \
               IS DISTINCT FROM (p.e, p.t, p.i) ORDER BY m.id",
    )
    .fetch_all(&db)
    .await?;
    v.invariant(
        "master totals = sum of their POs (§7.3)",
        "excluding tax, tax, including tax",
        &bad_master,
    );
    let no_sales_order: Vec<Uuid> = sqlx::query_scalar(
        "SELECT m.id FROM master_orders m WHERE m.status NOT IN ('REJECTED', 'PENDING') \
         AND NOT EXISTS (SELECT 1 FROM sales_orders s WHERE s.master_order_id = m.id) ORDER BY m.id",
    )
    .fetch_all(&db)
    .await?;
    v.invariant(
        "a sales order per priced order (§7.3)",
        "written in the order's transaction",
        &no_sales_order,
    );
    let unaudited: Vec<Uuid> = sqlx::query_scalar(
        "SELECT m.id FROM master_orders m \
         WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.command_id = m.command_id) ORDER BY m.id",
    )
    .fetch_all(&db)
    .await?;
    v.invariant(
        "audit rows with every order (§7.3)",
        "in the same transaction",
        &unaudited,
    );

    // 4. Gapless numbers.
    gapless(&db, &mut v).await?;

    // 5. Every committed event published, once per event id (EVENTS stream).
    let events = streams::read_all(&js, &ns.events_stream()).await?;
    let po_events = check_events(&db, &ns, &events, &mut v).await?;

    // 6. Nothing left in the outbox.
    let outbox: Vec<(Uuid, i32, Option<String>)> =
        sqlx::query_as("SELECT id, attempts, last_error FROM outbox ORDER BY created_at")
            .fetch_all(&db)
            .await?;
    let left: Vec<String> = outbox
        .iter()
        .map(|(id, attempts, error)| {
            format!(
                "{id} ({attempts} attempts{})",
                error
                    .as_deref()
                    .map(|e| format!(", {e}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    v.invariant(
        "outbox drained (§7.6)",
        "every committed event row published",
        &left,
    );

    // 7. Every command settled: the COMMANDS work queue is empty.
    let mut commands = js
        .get_stream(ns.commands_stream())
        .await
        .context("opening the COMMANDS stream")?;
    let state = commands
        .info()
        .await
        .context("COMMANDS info")?
        .state
        .clone();
    let unsettled: Vec<String> = if state.messages == 0 {
        Vec::new()
    } else {
        let mut subjects = Vec::new();
        for seq in state.first_sequence..=state.last_sequence {
            if let Ok(m) = commands.get_raw_message(seq).await {
                subjects.push(format!("#{seq} {}", m.subject));
            }
        }
        subjects
    };
    v.invariant(
        "every command acknowledged (§7.4)",
        &format!("COMMANDS holds {} messages", state.messages),
        &unsettled,
    );

    // 8. Nothing unexplained in the dead letters.
    dead_letters(&db, &js, &ns, flags, &mut v).await?;

    // 9. Webhooks at most once after success.
    if let Some(receipts) = flags.optional("--receipts") {
        webhooks(&db, receipts, &po_events, &mut v).await?;
    }

    if v.failed.is_empty() {
        println!("invariants: all hold");
        Ok(true)
    } else {
        println!("invariants: BROKEN: {}", v.failed.join("; "));
        Ok(false)
    }
}

/// MO, PO and SO numbers: per kind and year exactly 1..=last_value of `number_sequences`.
async fn gapless(db: &PgPool, v: &mut Verdicts) -> Result<()> {
    let numbers: Vec<(String, String)> = sqlx::query_as(
        "SELECT 'master_order', reference FROM master_orders \
         UNION ALL SELECT 'purchase_order', number FROM purchase_orders \
         UNION ALL SELECT 'sales_order', number FROM sales_orders",
    )
    .fetch_all(db)
    .await?;
    let sequences: Vec<(String, i32, i64)> = sqlx::query_as(
        "SELECT kind, year, last_value FROM number_sequences \
         WHERE kind IN ('master_order', 'purchase_order', 'sales_order')",
    )
    .fetch_all(db)
    .await?;
    let mut by_series: BTreeMap<(String, i32), Vec<i64>> = BTreeMap::new();
    let mut offending = Vec::new();
    for (kind, number) in &numbers {
        match parse_number(number) {
            Some((year, n)) => by_series.entry((kind.clone(), year)).or_default().push(n),
            None => offending.push(format!("{kind} malformed {number}")),
        }
    }
    let last: HashMap<(String, i32), i64> = sequences
        .into_iter()
        .map(|(kind, year, last)| ((kind, year), last))
        .collect();
    let mut summary = Vec::new();
    for ((kind, year), mut ns) in by_series {
        ns.sort_unstable();
        let counter = last.get(&(kind.clone(), year)).copied().unwrap_or(0);
        summary.push(format!(
            "{kind} {year}: {} numbers, counter {counter}",
            ns.len()
        ));
        let mut expected = 1;
        for n in &ns {
            if *n < expected {
                offending.push(format!("{kind} {year} number {n} twice"));
            } else {
                if *n > expected {
                    offending.push(format!("{kind} {year} gap {expected}..{}", n - 1));
                }
                expected = n + 1;
            }
        }
        if expected - 1 != counter {
            offending.push(format!(
                "{kind} {year}: highest {} but counter {counter}",
                expected - 1
            ));
        }
    }
    v.invariant(
        "gapless MO/PO/SO numbers (§5.3)",
        &summary.join("; "),
        &offending,
    );
    Ok(())
}

/// `XX-YYYY-NNNNNN` → (year, n).
fn parse_number(number: &str) -> Option<(i32, i64)> {
    let mut parts = number.split('-');
    let (prefix, year, n) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || prefix.len() != 2 || year.len() != 4 || n.len() < 6 {
        return None;
    }
    Some((year.parse().ok()?, n.parse().ok()?))
}

/// The event ids of the `purchase_order.created` events, by purchase order.
type PoEvents = HashMap<Uuid, Uuid>;

/// One `order.priced`/`order.rejected` per processed order, one `purchase_order.created` per
/// PO, none for anything that did not commit, and no event id twice.
async fn check_events(
    db: &PgPool,
    ns: &bluewhale::messaging::Namespace,
    events: &[streams::Stored],
    v: &mut Verdicts,
) -> Result<PoEvents> {
    let orders: HashMap<Uuid, String> = sqlx::query_as::<_, (Uuid, String)>(
        "SELECT id, status FROM master_orders WHERE status <> 'PENDING'",
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .collect();
    let pos: HashSet<Uuid> = sqlx::query_scalar("SELECT id FROM purchase_orders")
        .fetch_all(db)
        .await?
        .into_iter()
        .collect();
    let mut ids: HashMap<Uuid, u32> = HashMap::new();
    let mut order_events: HashMap<Uuid, Vec<&'static str>> = HashMap::new();
    let mut po_events: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut bad = Vec::new();
    for (i, message) in events.iter().enumerate() {
        let Ok(event) = serde_json::from_slice::<Value>(&message.payload) else {
            bad.push(format!("undecodable event on {}", message.subject));
            continue;
        };
        let Some(id) = event["id"].as_str().and_then(|s| s.parse::<Uuid>().ok()) else {
            bad.push(format!("event #{i} without an id on {}", message.subject));
            continue;
        };
        *ids.entry(id).or_default() += 1;
        if let Some(msg_id) = message.headers.as_ref().and_then(|h| h.get("Nats-Msg-Id"))
            && msg_id.as_str() != id.to_string()
        {
            bad.push(format!("event {id} published under message id {msg_id}"));
        }
        let kind = event["type"].as_str().unwrap_or_default();
        let data = &event["data"];
        match kind {
            "order.priced" | "order.rejected" => {
                match data["order_id"]
                    .as_str()
                    .and_then(|s| s.parse::<Uuid>().ok())
                {
                    Some(order) => {
                        order_events
                            .entry(order)
                            .or_default()
                            .push(if kind == "order.priced" {
                                "priced"
                            } else {
                                "rejected"
                            })
                    }
                    None => bad.push(format!("{kind} event {id} without order_id")),
                }
            }
            "purchase_order.created" => {
                match data["purchase_order"]["id"]
                    .as_str()
                    .and_then(|s| s.parse::<Uuid>().ok())
                {
                    Some(po) => po_events.entry(po).or_default().push(id),
                    None => bad.push(format!("{kind} event {id} without purchase_order.id")),
                }
            }
            _ => {}
        }
        if !message.subject.starts_with(&ns.subject("bw.evt.")) {
            bad.push(format!("event {id} on foreign subject {}", message.subject));
        }
    }
    let twice: Vec<String> = ids
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, n)| format!("{id} ×{n}"))
        .collect();
    v.invariant(
        "every event id published once (§7.6)",
        &format!("{} events in {}", events.len(), ns.events_stream()),
        &twice,
    );
    v.invariant("events well-formed", "envelope, id, message id", &bad);

    let mut offending = Vec::new();
    for (order, status) in &orders {
        let expected = if status == "REJECTED" {
            "rejected"
        } else {
            "priced"
        };
        match order_events.get(order).map(Vec::as_slice) {
            Some([one]) if *one == expected => {}
            None | Some([]) => offending.push(format!("{order} no order.{expected} event")),
            Some(got) => offending.push(format!("{order} events {got:?}, status {status}")),
        }
    }
    for order in order_events.keys().filter(|o| !orders.contains_key(o)) {
        offending.push(format!("{order} event for an order that did not commit"));
    }
    offending.sort();
    v.invariant(
        "one order.priced/rejected per processed order (§7.6)",
        &format!("{} orders", orders.len()),
        &offending,
    );
    let mut offending = Vec::new();
    for po in &pos {
        match po_events.get(po).map(Vec::len) {
            Some(1) => {}
            None => offending.push(format!("{po} no purchase_order.created event")),
            Some(n) => offending.push(format!("{po} {n} purchase_order.created events")),
        }
    }
    for po in po_events.keys().filter(|p| !pos.contains(p)) {
        offending.push(format!("{po} event for a PO that did not commit"));
    }
    offending.sort();
    v.invariant(
        "one purchase_order.created per PO (§7.6)",
        &format!("{} purchase orders", pos.len()),
        &offending,
    );
    Ok(po_events
        .into_iter()
        .filter_map(|(po, ids)| ids.first().map(|id| (po, *id)))
        .collect())
}

/// Every dead letter is one we caused (its subject in `--expected-dead-letters`), carries its
/// reason and error, and has its copy on the DLQ stream; every expected one is there.
async fn dead_letters(
    db: &PgPool,
    js: &async_nats::jetstream::Context,
    ns: &bluewhale::messaging::Namespace,
    flags: &Flags,
    v: &mut Verdicts,
) -> Result<()> {
    let expected: HashSet<String> = match flags.optional("--expected-dead-letters") {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading {path}"))?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_owned())
            .collect(),
        None => HashSet::new(),
    };
    let rows: Vec<(Uuid, String, String, String)> =
        sqlx::query_as("SELECT id, subject, reason, error FROM dead_letters ORDER BY created_at")
            .fetch_all(db)
            .await?;
    let dlq = streams::read_all(js, &ns.dlq_stream()).await?;
    let on_dlq: HashSet<String> = dlq
        .iter()
        .filter_map(|m| {
            m.headers
                .as_ref()?
                .get("Bw-Original-Subject")
                .map(|s| s.to_string())
        })
        .collect();
    let mut offending = Vec::new();
    let mut explained = Vec::new();
    for (id, subject, reason, error) in &rows {
        if !expected.contains(subject) {
            offending.push(format!("{id} unexplained: {subject}: {reason}: {error}"));
        } else if reason.trim().is_empty() || error.trim().is_empty() {
            offending.push(format!("{id} without reason or error: {subject}"));
        } else if !on_dlq.contains(subject) {
            offending.push(format!("{id} not on {}: {subject}", ns.dlq_stream()));
        } else {
            explained.push(format!("{reason} ({})", ns.strip(subject)));
        }
    }
    let recorded: HashSet<&String> = rows.iter().map(|r| &r.1).collect();
    for subject in expected.iter().filter(|s| !recorded.contains(s)) {
        offending.push(format!("poison message not dead-lettered: {subject}"));
    }
    offending.sort();
    let detail = if explained.is_empty() {
        "none".to_owned()
    } else {
        format!("{} explained: {}", explained.len(), explained.join("; "))
    };
    v.invariant("dead letters all explained (§7.4)", &detail, &offending);
    Ok(())
}

/// A webhook message: supplier, event id, status, when delivered, attempts.
type WebhookMessage = (Uuid, Uuid, String, Option<DateTime<Utc>>, i32);

/// The receiver's log against the notifier's records: every PO's webhook delivered, and no
/// delivery received after its success was recorded.
async fn webhooks(
    db: &PgPool,
    receipts: &str,
    po_events: &PoEvents,
    v: &mut Verdicts,
) -> Result<()> {
    let text = std::fs::read_to_string(receipts).with_context(|| format!("reading {receipts}"))?;
    // (supplier, event id) → receipt instants (microseconds since the epoch).
    let mut received: HashMap<(Uuid, Uuid), Vec<i64>> = HashMap::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let parsed = (|| {
            let at: i64 = parts.next()?.parse().ok()?;
            let supplier: Uuid = parts.next()?.parse().ok()?;
            let event: Uuid = parts.next()?.parse().ok()?;
            Some((at, supplier, event))
        })();
        if let Some((at, supplier, event)) = parsed {
            received.entry((supplier, event)).or_default().push(at);
        }
    }
    let messages: Vec<WebhookMessage> = sqlx::query_as(
        "SELECT supplier_id, event_id, status, delivered_at, attempts FROM notification_messages \
         WHERE channel = 'WEBHOOK' ORDER BY created_at",
    )
    .fetch_all(db)
    .await?;
    let mut offending = Vec::new();
    let mut repeated_before_success = 0usize;
    let mut known = HashSet::new();
    for (supplier, event, status, delivered_at, attempts) in &messages {
        known.insert((*supplier, *event));
        let got = received
            .get(&(*supplier, *event))
            .map(Vec::as_slice)
            .unwrap_or_default();
        match (status.as_str(), delivered_at) {
            ("DELIVERED", Some(at)) => {
                let success = at.timestamp_micros();
                let after = got.iter().filter(|t| **t > success).count();
                if after > 0 {
                    offending.push(format!(
                        "event {event} to supplier {supplier}: {after} deliveries after its recorded success"
                    ));
                }
                if got.is_empty() {
                    offending.push(format!(
                        "event {event} to supplier {supplier}: DELIVERED but never received"
                    ));
                }
                repeated_before_success += got.len().saturating_sub(1);
            }
            _ => offending.push(format!(
                "event {event} to supplier {supplier}: {status} after {attempts} attempts"
            )),
        }
    }
    let strangers = received.keys().filter(|k| !known.contains(k)).count();
    if strangers > 0 {
        offending.push(format!(
            "{strangers} deliveries of messages the notifier has no record of"
        ));
    }
    // Every PO's creation reached its supplier's endpoint.
    let suppliers: HashMap<Uuid, Uuid> =
        sqlx::query_as::<_, (Uuid, Uuid)>("SELECT id, supplier_id FROM purchase_orders")
            .fetch_all(db)
            .await?
            .into_iter()
            .collect();
    for (po, event) in po_events {
        if let Some(supplier) = suppliers.get(po)
            && !known.contains(&(*supplier, *event))
        {
            offending.push(format!("PO {po}: no webhook message for its supplier"));
        }
    }
    offending.sort();
    v.invariant(
        "webhooks delivered, at most once after success",
        &format!(
            "{} messages, {} deliveries received, {repeated_before_success} repeated before their success was recorded",
            messages.len(),
            received.values().map(Vec::len).sum::<usize>()
        ),
        &offending,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn parses_document_numbers() {
        assert_eq!(parse_number("MO-2026-000042"), Some((2026, 42)));
        assert_eq!(parse_number("PO-2026-1234567"), Some((2026, 1_234_567)));
        assert_eq!(parse_number("PENDING-x"), None);
        assert_eq!(parse_number("MO-26-000001"), None);
    }
}
