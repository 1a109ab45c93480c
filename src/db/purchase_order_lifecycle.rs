//! Writes of purchase-order transitions: locking master orders, the new field values, receptions, status
//! history and the master orders' derived statuses — one statement per table for a batch.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::order_writes::{NewStatusChange, insert_status_changes};
use super::purchase_orders::PurchaseOrderView;
use crate::domain::purchase_order_lifecycle::LineReception;
use crate::domain::purchase_order_status::PurchaseOrderStatus;

/// A master order locked for the transaction, with the statuses of all its purchase orders.
#[derive(Debug, Clone)]
pub struct LockedMasterOrder {
    /// Id.
    pub id: Uuid,
    /// `MO-YYYY-NNNNNN`.
    pub reference: String,
    /// Station.
    pub station_id: Uuid,
    /// Derived status (changed in memory by the transitions of the batch).
    pub status: String,
    /// Version (incremented in memory when the status changes).
    pub version: i32,
    /// Version as loaded.
    pub loaded_version: i32,
    /// Status of each of its purchase orders.
    pub statuses: HashMap<Uuid, PurchaseOrderStatus>,
}

#[derive(sqlx::FromRow)]
struct MasterRow {
    id: Uuid,
    reference: String,
    station_id: Uuid,
    status: String,
    version: i32,
}

/// Locks the master orders of these purchase orders (ascending ids: no deadlock between
/// batches), then reads the statuses of all their purchase orders, which no other
/// transition can change while the lock is held.
pub async fn lock_master_orders(
    conn: &mut PgConnection,
    purchase_order_ids: &[Uuid],
) -> sqlx::Result<Vec<LockedMasterOrder>> {
    let rows: Vec<MasterRow> = sqlx::query_as(
        "SELECT id, reference, station_id, status, version FROM master_orders \
         WHERE id IN (SELECT master_order_id FROM purchase_orders WHERE id = ANY($1)) \
         ORDER BY id FOR UPDATE",
    )
    .bind(purchase_order_ids)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let siblings: Vec<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT master_order_id, id, status FROM purchase_orders WHERE master_order_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut statuses: HashMap<Uuid, HashMap<Uuid, PurchaseOrderStatus>> = HashMap::new();
    for (master, po, status) in siblings {
        let status = status
            .parse()
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        statuses.entry(master).or_default().insert(po, status);
    }
    Ok(rows
        .into_iter()
        .map(|r| LockedMasterOrder {
            statuses: statuses.remove(&r.id).unwrap_or_default(),
            id: r.id,
            reference: r.reference,
            station_id: r.station_id,
            status: r.status,
            version: r.version,
            loaded_version: r.version,
        })
        .collect())
}

/// Everything a batch of transitions writes.
#[derive(Debug, Default)]
pub struct TransitionWrites {
    /// Ids of the purchase orders changed.
    pub changed: HashSet<Uuid>,
    /// Their representation after the batch.
    pub purchase_orders: Vec<PurchaseOrderView>,
    /// Receptions, per purchase order.
    pub receptions: Vec<(Uuid, LineReception)>,
    /// Status-history rows.
    pub history: Vec<NewStatusChange>,
    /// Master orders whose status changed.
    pub master_orders: Vec<LockedMasterOrder>,
}

#[derive(Serialize)]
struct ReceptionRow<'a> {
    purchase_order_id: Uuid,
    line_number: i32,
    received_quantity: i32,
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct MasterStatusRow<'a> {
    id: Uuid,
    status: &'a str,
    version: i32,
}

/// Writes a batch of transitions. A purchase order whose stored version is not below the new
/// one was changed behind the lock's back: the batch fails (and is retried) rather than lose
/// that change.
pub async fn write(conn: &mut PgConnection, writes: &TransitionWrites) -> sqlx::Result<()> {
    if !writes.purchase_orders.is_empty() {
        let updated = sqlx::query(
            "UPDATE purchase_orders p SET status = x.status, version = x.version, \
               confirmed_delivery_date = x.confirmed_delivery_date, carrier = x.carrier, \
               tracking_number = x.tracking_number, has_discrepancy = x.has_discrepancy, \
               cancellation_reason = x.cancellation_reason, archive_reason = x.archive_reason, \
               invoice_number = x.invoice_number, updated_at = x.updated_at, \
               confirmed_at = x.confirmed_at, shipped_at = x.shipped_at, \
               received_at = x.received_at, closed_at = x.closed_at, \
               cancelled_at = x.cancelled_at, invoiced_at = x.invoiced_at, \
               archived_at = x.archived_at \
             FROM jsonb_to_recordset($1) AS x(id uuid, status text, version integer, \
               confirmed_delivery_date date, carrier text, tracking_number text, \
               has_discrepancy boolean, cancellation_reason text, archive_reason text, \
               invoice_number text, updated_at timestamptz, confirmed_at timestamptz, \
               shipped_at timestamptz, received_at timestamptz, closed_at timestamptz, \
               cancelled_at timestamptz, invoiced_at timestamptz, archived_at timestamptz) \
             WHERE p.id = x.id AND p.version < x.version",
        )
        .bind(Json(&writes.purchase_orders))
        .execute(&mut *conn)
        .await?;
        if updated.rows_affected() != writes.purchase_orders.len() as u64 {
            return Err(sqlx::Error::Protocol(
                "purchase order changed concurrently despite the lock".into(),
            ));
        }
    }
    if !writes.receptions.is_empty() {
        let rows: Vec<ReceptionRow<'_>> = writes
            .receptions
            .iter()
            .map(|(po, r)| ReceptionRow {
                purchase_order_id: *po,
                line_number: r.line_number,
                received_quantity: r.received_quantity,
                note: r.note.as_deref(),
            })
            .collect();
        sqlx::query(
            "UPDATE purchase_order_lines l SET received_quantity = x.received_quantity, \
               reception_note = x.note \
             FROM jsonb_to_recordset($1) AS x(purchase_order_id uuid, line_number integer, \
               received_quantity integer, note text) \
             WHERE l.purchase_order_id = x.purchase_order_id AND l.line_number = x.line_number",
        )
        .bind(Json(rows))
        .execute(&mut *conn)
        .await?;
    }
    insert_status_changes(&mut *conn, &writes.history).await?;
    if !writes.master_orders.is_empty() {
        let rows: Vec<MasterStatusRow<'_>> = writes
            .master_orders
            .iter()
            .map(|m| MasterStatusRow {
                id: m.id,
                status: &m.status,
                version: m.version,
            })
            .collect();
        sqlx::query(
            "UPDATE master_orders m SET status = x.status, version = x.version, \
               updated_at = now() \
             FROM jsonb_to_recordset($1) AS x(id uuid, status text, version integer) \
             WHERE m.id = x.id",
        )
        .bind(Json(rows))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
