//! `order.submit`: split and price a batch of master orders in one transaction.

pub mod plan;

use std::collections::HashSet;
use std::time::Instant;

use chrono::Utc;
use uuid::Uuid;

use bluewhale::db::{audit, commands, numbers, order_writes, outbox, pricing_inputs};
use bluewhale::domain::numbering::DocumentKind;
use bluewhale::domain::order::OrderToPrice;
use bluewhale::domain::split::price_order;
use bluewhale::messaging::commands::SubmitOrder;
use bluewhale::messaging::envelope::Envelope;

use self::plan::{Decided, FirstNumbers};
use crate::context::WorkerContext;

/// A decoded submission and the subject it came on.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The command.
    pub envelope: Envelope<SubmitOrder>,
    /// Its subject.
    pub subject: String,
}

/// Applies a batch of submissions in one transaction: every order of the batch commits, or
/// none does. Already-processed commands (redeliveries) are skipped. Returns how many orders
/// were written.
pub async fn process(ctx: &WorkerContext, batch: &[Submission]) -> Result<usize, sqlx::Error> {
    let started = Instant::now();
    let mut tx = ctx.db.begin().await?;
    let ids: Vec<Uuid> = batch.iter().map(|s| s.envelope.id).collect();
    let done: HashSet<Uuid> = commands::already_processed(&mut tx, &ids)
        .await?
        .into_iter()
        .collect();
    let mut seen = HashSet::new();
    let todo: Vec<&Submission> = batch
        .iter()
        .filter(|s| !done.contains(&s.envelope.id) && seen.insert(s.envelope.id))
        .collect();
    if todo.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }

    let inputs = load_inputs(&mut tx, &todo).await?;
    let loaded = started.elapsed();
    let decided: Vec<Decided<'_>> = todo
        .iter()
        .map(|s| {
            let data = &s.envelope.data;
            let order = OrderToPrice {
                // An unknown station cannot be stored (foreign key): the insert fails and the
                // command is dead-lettered as a permanent failure.
                station_active: inputs
                    .stations
                    .get(&data.station_id)
                    .copied()
                    .unwrap_or(true),
                order_date: data.order_date,
                lines: data.lines.clone(),
            };
            Decided {
                command: &s.envelope,
                subject: &s.subject,
                outcome: price_order(&order, &inputs.catalogue),
            }
        })
        .collect();

    // Gapless numbers lock their counter rows until commit, so they are taken last: every row
    // is written first (master and purchase orders under a placeholder number), then the
    // numbers are reserved — always in the same order, years ascending and master orders
    // before purchase orders, so batches cannot deadlock — and only the rows that show them
    // are written while the lock is held.
    let now = Utc::now();
    let early = plan::unnumbered(&decided, now);
    order_writes::insert_master_orders(&mut tx, &early.master_orders).await?;
    order_writes::insert_purchase_orders(&mut tx, &early.purchase_orders).await?;
    order_writes::insert_lines(&mut tx, &early.lines).await?;
    order_writes::insert_status_changes(&mut tx, &early.status_changes).await?;
    commands::insert_many(&mut tx, &early.commands).await?;
    audit::record(&mut tx, &ctx.ns, &early.audit).await?;
    let unlocked = started.elapsed();

    let mut first = FirstNumbers::new();
    for (year, (masters, purchases)) in plan::numbers_needed(&decided) {
        let mo = numbers::allocate(&mut tx, DocumentKind::MasterOrder, year, masters).await?;
        let po = if purchases > 0 {
            numbers::allocate(&mut tx, DocumentKind::PurchaseOrder, year, purchases).await?
        } else {
            1
        };
        first.insert(year, (mo, po));
    }
    let numbered = started.elapsed();
    let late = plan::numbered(&decided, &first, &ctx.ns, now);
    order_writes::set_master_order_references(&mut tx, &late.master_order_references).await?;
    order_writes::set_purchase_order_numbers(&mut tx, &late.purchase_order_numbers).await?;
    audit::insert_many(&mut tx, &late.audit).await?;
    // The numbered part's events in a second outbox row: domain events, then its audit events
    // (the early audit rows' events went out with the early part).
    let mut events = late.events;
    events.extend(late.audit.iter().map(|r| audit::audit_event(&ctx.ns, r)));
    outbox::insert(&mut tx, &events).await?;
    let written = started.elapsed();
    tx.commit().await?;
    tracing::debug!(
        orders = early.master_orders.len(),
        load_ms = loaded.as_millis(),
        unnumbered_writes_ms = (unlocked - loaded).as_millis(),
        numbers_wait_ms = (numbered - unlocked).as_millis(),
        numbered_writes_ms = (written - numbered).as_millis(),
        commit_ms = (started.elapsed() - written).as_millis(),
        "batch committed"
    );
    Ok(early.master_orders.len())
}

async fn load_inputs(
    tx: &mut sqlx::PgConnection,
    todo: &[&Submission],
) -> Result<pricing_inputs::PricingInputs, sqlx::Error> {
    let mut stations = HashSet::new();
    let mut products = HashSet::new();
    let mut suppliers = HashSet::new();
    let mut dates = (chrono::NaiveDate::MAX, chrono::NaiveDate::MIN);
    for s in todo {
        let data = &s.envelope.data;
        stations.insert(data.station_id);
        dates = (dates.0.min(data.order_date), dates.1.max(data.order_date));
        for line in &data.lines {
            products.insert(line.product_id);
            suppliers.insert(line.supplier_id);
        }
    }
    let collect = |set: HashSet<Uuid>| set.into_iter().collect::<Vec<_>>();
    pricing_inputs::load(
        tx,
        &collect(stations),
        &collect(products),
        &collect(suppliers),
        dates,
    )
    .await
}
