//! `order.submit`: split and price a batch of master orders in one transaction.

pub mod plan;
pub mod sales_order;

use std::collections::HashSet;
use std::time::Instant;

use uuid::Uuid;

use serde_json::json;

use bluewhale::db::order_writes::Numbered;
use bluewhale::db::{carts, numbers, order_writes, pricing_inputs};
use bluewhale::domain::audit::AuditAction;
use bluewhale::domain::numbering::DocumentKind;
use bluewhale::domain::order::OrderToPrice;
use bluewhale::domain::refusal::Refusal;
use bluewhale::domain::split::price_order;
use bluewhale::messaging::commands::SubmitOrder;

use self::plan::{Decided, FirstNumbers};
use crate::handler::{BatchContext, Decision, Handler, HandlerError, Incoming, Outcome, audit_of};

/// Handles `order.submit`: a whole batch of orders is split and priced in one transaction.
pub struct SubmitOrderHandler;

impl Handler for SubmitOrderHandler {
    type Command = SubmitOrder;

    async fn handle(
        &self,
        ctx: &BatchContext,
        tx: &mut sqlx::PgConnection,
        batch: &[Incoming<SubmitOrder>],
    ) -> Result<Vec<Decision>, HandlerError> {
        let started = Instant::now();
        let inputs = load_inputs(&mut *tx, batch).await?;
        let loaded = started.elapsed();
        let decided = batch
            .iter()
            .map(|s| {
                let cmd = &s.envelope;
                let idempotency = cmd.idempotency.as_ref().ok_or_else(|| {
                    HandlerError::Permanent(format!("order {} has no idempotency key", cmd.id))
                })?;
                let order = OrderToPrice {
                    // An unknown station cannot be stored (foreign key): the insert fails and
                    // the command is dead-lettered as a permanent failure.
                    station_active: inputs
                        .stations
                        .get(&cmd.data.station_id)
                        .copied()
                        .unwrap_or(true),
                    order_date: cmd.data.order_date,
                    lines: cmd.data.lines.clone(),
                };
                Ok(Decided {
                    command: cmd,
                    idempotency,
                    outcome: price_order(&order, &inputs.catalogue),
                })
            })
            .collect::<Result<Vec<_>, HandlerError>>()?;

        // Gapless numbers lock their counter rows until commit, so they are taken last: every
        // row is written first (master and purchase orders under a placeholder number), then
        // the numbers are reserved — always in the same order, years ascending and master
        // orders before purchase orders, so batches cannot deadlock — and only the rows that
        // show them are written while the lock is held.
        let early = plan::unnumbered(&decided, &inputs.platform_fees, ctx.now);
        order_writes::insert_master_orders(&mut *tx, &early.master_orders).await?;
        order_writes::insert_purchase_orders(&mut *tx, &early.purchase_orders).await?;
        order_writes::insert_lines(&mut *tx, &early.lines).await?;
        order_writes::insert_status_changes(&mut *tx, &early.status_changes).await?;
        order_writes::insert_sales_orders(&mut *tx, &early.sales_orders).await?;
        let unlocked = started.elapsed();

        let mut first = FirstNumbers::new();
        for (year, needed) in plan::numbers_needed(&decided) {
            let mut take = async |kind, count| match count {
                0 => Ok(1),
                n => numbers::allocate(&mut *tx, kind, year, n).await,
            };
            let counters = plan::Counters {
                master_orders: take(DocumentKind::MasterOrder, needed.master_orders).await?,
                purchase_orders: take(DocumentKind::PurchaseOrder, needed.purchase_orders).await?,
                sales_orders: take(DocumentKind::SalesOrder, needed.sales_orders).await?,
            };
            first.insert(year, counters);
        }
        let numbered = started.elapsed();
        let late = plan::numbered(&decided, &early, &first, &ctx.ns, ctx.now)?;
        for (kind, numbers) in [
            (Numbered::MasterOrder, &late.master_order_references),
            (Numbered::PurchaseOrder, &late.purchase_order_numbers),
            (Numbered::SalesOrder, &late.sales_order_numbers),
        ] {
            order_writes::set_numbers(&mut *tx, kind, numbers).await?;
        }
        tracing::debug!(
            orders = decided.len(),
            load_ms = loaded.as_millis(),
            unnumbered_writes_ms = (unlocked - loaded).as_millis(),
            numbers_wait_ms = (numbered - unlocked).as_millis(),
            numbered_writes_ms = (started.elapsed() - numbered).as_millis(),
            "orders written"
        );
        let mut decisions: Vec<Decision> = decided
            .iter()
            .zip(late.audit.into_iter().zip(late.events))
            .map(|(d, (audit, events))| Decision {
                outcome: match &d.outcome {
                    Ok(_) => Outcome::Applied,
                    Err(rejection) => Outcome::Rejected(Refusal::from(rejection)),
                },
                audit,
                events,
            })
            .collect();
        check_out_carts(ctx, tx, &decided, &mut decisions).await?;
        Ok(decisions)
    }
}

/// Archives the carts of the priced checkouts in the batch (a rejected checkout leaves its
/// cart open, to be fixed), each with an audit row in its order's decision.
async fn check_out_carts(
    ctx: &BatchContext,
    tx: &mut sqlx::PgConnection,
    decided: &[Decided<'_>],
    decisions: &mut [Decision],
) -> Result<(), HandlerError> {
    let checkouts: Vec<(usize, Uuid, Uuid)> = decided
        .iter()
        .enumerate()
        .filter_map(|(i, d)| match (&d.outcome, d.command.data.cart) {
            (Ok(_), Some(cart)) => Some((i, cart.cart_id, d.command.data.order_id)),
            _ => None,
        })
        .collect();
    if checkouts.is_empty() {
        return Ok(());
    }
    let pairs: Vec<(Uuid, Uuid)> = checkouts.iter().map(|(_, c, o)| (*c, *o)).collect();
    let archived = carts::check_out(&mut *tx, &pairs, ctx.now).await?;
    for (i, cart_id, order_id) in checkouts {
        if !archived.contains(&cart_id) {
            continue;
        }
        let mut changes = serde_json::Map::new();
        changes.insert(
            "status".into(),
            json!({"old": "OPEN", "new": "CHECKED_OUT"}),
        );
        changes.insert(
            "master_order_id".into(),
            json!({"old": null, "new": order_id}),
        );
        let audit = audit_of(
            decided[i].command,
            ctx,
            AuditAction::Transition,
            ("cart", cart_id),
            changes,
            None,
        );
        decisions[i].audit.push(audit);
    }
    Ok(())
}

async fn load_inputs(
    tx: &mut sqlx::PgConnection,
    todo: &[Incoming<SubmitOrder>],
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
