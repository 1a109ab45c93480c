//! What the notifier reads to make a purchase-order event self-contained for its supplier:
//! where to deliver (the station), the supplier's order contact, and the master order's dates.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use uuid::Uuid;

/// The station a purchase order is delivered to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct DeliverTo {
    /// Station id.
    pub station_id: Uuid,
    /// Station code.
    pub code: String,
    /// Station name.
    pub name: String,
    /// Street address.
    pub address: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ISO country code.
    pub country: String,
}

/// A purchase order's surroundings at notification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSurroundings {
    /// Where to deliver.
    pub deliver_to: DeliverTo,
    /// Delivery date the station asked for.
    pub requested_delivery_date: Option<NaiveDate>,
    /// The supplier's name.
    pub supplier_name: String,
    /// The supplier's order contact, if it has one.
    pub order_contact_email: Option<String>,
}

/// The surroundings of a purchase order of `master_order_id` for `supplier_id`.
pub async fn surroundings(
    db: impl PgExecutor<'_>,
    master_order_id: Uuid,
    supplier_id: Uuid,
) -> sqlx::Result<Option<OrderSurroundings>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        deliver_to: DeliverTo,
        requested_delivery_date: Option<NaiveDate>,
        supplier_name: String,
        order_contact_email: Option<String>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT s.id AS station_id, s.code, s.name, s.address, s.postal_code, s.city,
             trim(s.country) AS country, mo.requested_delivery_date,
             sup.name AS supplier_name, sup.order_contact_email
         FROM master_orders mo
         JOIN stations s ON s.id = mo.station_id
         JOIN suppliers sup ON sup.id = $2
         WHERE mo.id = $1",
    )
    .bind(master_order_id)
    .bind(supplier_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| OrderSurroundings {
        deliver_to: row.deliver_to,
        requested_delivery_date: row.requested_delivery_date,
        supplier_name: row.supplier_name,
        order_contact_email: row.order_contact_email,
    }))
}

/// A supplier's name and order contact.
pub async fn supplier_contact(
    db: impl PgExecutor<'_>,
    supplier_id: Uuid,
) -> sqlx::Result<Option<(String, Option<String>)>> {
    sqlx::query_as("SELECT name, order_contact_email FROM suppliers WHERE id = $1")
        .bind(supplier_id)
        .fetch_optional(db)
        .await
}
