//! Loads what pricing needs for a batch of orders, in a few queries for the whole batch.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::catalogue::{Catalogue, Offer, PriceBreak, ProductInfo, SupplierInfo};

/// Everything a batch of orders is priced against.
pub struct PricingInputs {
    /// `active` flag of each known station.
    pub stations: HashMap<Uuid, bool>,
    /// Products, suppliers and offers of ACTIVE contracts.
    pub catalogue: Catalogue,
    /// Blue Whale's fee in percent, by contract of the offers (what the sales order adds).
    pub platform_fees: HashMap<Uuid, Decimal>,
}

#[derive(sqlx::FromRow)]
struct OfferRow {
    contract_id: Uuid,
    contract_line_id: Uuid,
    supplier_id: Uuid,
    product_id: Uuid,
    valid_from: NaiveDate,
    valid_until: NaiveDate,
    minimum_order_value: Option<Decimal>,
    unit_price: Decimal,
    min_order_quantity: i32,
    price_breaks: Json<Vec<PriceBreak>>,
    tax_rate: Decimal,
    supplier_reference: Option<String>,
    platform_fee_percent: Decimal,
}

/// Loads stations, products, suppliers and the ACTIVE offers for (supplier, product) pairs
/// valid at some date in `dates` (min..=max of the batch's order dates).
pub async fn load(
    conn: &mut PgConnection,
    station_ids: &[Uuid],
    product_ids: &[Uuid],
    supplier_ids: &[Uuid],
    dates: (NaiveDate, NaiveDate),
) -> sqlx::Result<PricingInputs> {
    let stations: Vec<(Uuid, bool)> =
        sqlx::query_as("SELECT id, active FROM stations WHERE id = ANY($1)")
            .bind(station_ids)
            .fetch_all(&mut *conn)
            .await?;
    let products: Vec<(Uuid, String, String, String, bool)> = sqlx::query_as(
        "SELECT id, code, name, conditioning_unit, active FROM products WHERE id = ANY($1)",
    )
    .bind(product_ids)
    .fetch_all(&mut *conn)
    .await?;
    let suppliers: Vec<(Uuid, bool)> =
        sqlx::query_as("SELECT id, active FROM suppliers WHERE id = ANY($1)")
            .bind(supplier_ids)
            .fetch_all(&mut *conn)
            .await?;
    let offers: Vec<OfferRow> = sqlx::query_as(
        "SELECT c.id AS contract_id, l.id AS contract_line_id, c.supplier_id, l.product_id, \
                c.valid_from, c.valid_until, c.minimum_order_value, l.unit_price, \
                l.min_order_quantity, l.price_breaks, l.tax_rate, l.supplier_reference, c.platform_fee_percent \
         FROM master_contracts c JOIN contract_lines l ON l.contract_id = c.id \
         WHERE c.status = 'ACTIVE' AND c.supplier_id = ANY($1) AND l.product_id = ANY($2) \
           AND c.valid_from <= $4 AND c.valid_until >= $3",
    )
    .bind(supplier_ids)
    .bind(product_ids)
    .bind(dates.0)
    .bind(dates.1)
    .fetch_all(&mut *conn)
    .await?;
    let platform_fees = offers
        .iter()
        .map(|o| (o.contract_id, o.platform_fee_percent))
        .collect();
    let catalogue = Catalogue::new(
        products
            .into_iter()
            .map(|(id, code, name, conditioning_unit, active)| ProductInfo {
                id,
                code,
                name,
                conditioning_unit,
                active,
            })
            .collect(),
        suppliers
            .into_iter()
            .map(|(id, active)| SupplierInfo { id, active })
            .collect(),
        offers
            .into_iter()
            .map(|o| Offer {
                contract_id: o.contract_id,
                contract_line_id: o.contract_line_id,
                supplier_id: o.supplier_id,
                product_id: o.product_id,
                valid_from: o.valid_from,
                valid_until: o.valid_until,
                minimum_order_value: o.minimum_order_value,
                unit_price: o.unit_price,
                // The column is CHECKed ≥ 1, so the conversion cannot fail.
                min_order_quantity: u32::try_from(o.min_order_quantity).unwrap_or(1),
                price_breaks: o.price_breaks.0,
                tax_rate: o.tax_rate,
                supplier_reference: o.supplier_reference,
            })
            .collect(),
    );
    Ok(PricingInputs {
        stations: stations.into_iter().collect(),
        catalogue,
        platform_fees,
    })
}
