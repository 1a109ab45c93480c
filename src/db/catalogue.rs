//! Master-data reads: stations, suppliers, products (scoped by the reader's organisation).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AssertSqlSafe, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use super::page::{PageRequest, Paged};
use crate::domain::roles::Scope;

/// A packing station.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct StationView {
    /// Id.
    pub id: Uuid,
    /// Internal code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Station group.
    pub group_id: Option<Uuid>,
    /// Blue Whale platform serving it.
    pub platform_id: Option<Uuid>,
    /// Street address.
    pub address: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ISO country code.
    pub country: String,
    /// Whether it may order.
    pub active: bool,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A supplier.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct SupplierView {
    /// Id.
    pub id: Uuid,
    /// Internal code.
    pub code: String,
    /// Name.
    pub name: String,
    /// French company id.
    pub siret: Option<String>,
    /// Whether it receives orders.
    pub active: bool,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A catalogue product.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ProductView {
    /// Id.
    pub id: Uuid,
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Category.
    pub category: String,
    /// Unit in which it is ordered and priced, e.g. `box_of_100`.
    pub conditioning_unit: String,
    /// Items per conditioning unit.
    pub quantity_per_conditioning: i32,
    /// Whether it may be ordered.
    pub active: bool,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Stations visible in `scope`: staff all; a station itself; a supplier those it delivers.
pub async fn list_stations(
    pool: &PgPool,
    scope: Scope,
    page: PageRequest,
) -> sqlx::Result<Paged<StationView>> {
    let (all, station, supplier) = scope_params(scope);
    let filter = "($1 OR s.id = $2 OR EXISTS (SELECT 1 FROM purchase_orders po \
                  WHERE po.station_id = s.id AND po.supplier_id = $3))";
    let items = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT s.* FROM stations s WHERE {filter} ORDER BY s.code LIMIT $4 OFFSET $5"
    )))
    .bind(all)
    .bind(station)
    .bind(supplier)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM stations s WHERE {filter}"
    )))
    .bind(all)
    .bind(station)
    .bind(supplier)
    .fetch_one(pool)
    .await?;
    Ok(Paged { items, total })
}

/// Suppliers visible in `scope`: staff and stations all (they order from them); a supplier itself.
pub async fn list_suppliers(
    pool: &PgPool,
    scope: Scope,
    page: PageRequest,
) -> sqlx::Result<Paged<SupplierView>> {
    let (own, restricted) = match scope {
        Scope::Supplier(id) => (Some(id), true),
        Scope::Nothing => (None, true),
        Scope::All | Scope::Station(_) => (None, false),
    };
    let filter = "(NOT $1 OR id = $2)";
    let items = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, code, name, siret, active, created_at, updated_at FROM suppliers \
         WHERE {filter} ORDER BY code LIMIT $3 OFFSET $4"
    )))
    .bind(restricted)
    .bind(own)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM suppliers WHERE {filter}"
    )))
    .bind(restricted)
    .bind(own)
    .fetch_one(pool)
    .await?;
    Ok(Paged { items, total })
}

/// The whole catalogue is visible to every authenticated user.
pub async fn list_products(pool: &PgPool, page: PageRequest) -> sqlx::Result<Paged<ProductView>> {
    let items = sqlx::query_as(
        "SELECT id, code, name, description, category, conditioning_unit, \
         quantity_per_conditioning, active, created_at, updated_at \
         FROM products ORDER BY code LIMIT $1 OFFSET $2",
    )
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM products")
        .fetch_one(pool)
        .await?;
    Ok(Paged { items, total })
}

/// Whether a station exists (staff may order for any existing station).
pub async fn station_exists(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM stations WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

/// `(see everything, own station, own supplier)` as SQL parameters.
pub(crate) fn scope_params(scope: Scope) -> (bool, Option<Uuid>, Option<Uuid>) {
    match scope {
        Scope::All => (true, None, None),
        Scope::Station(id) => (false, Some(id), None),
        Scope::Supplier(id) => (false, None, Some(id)),
        Scope::Nothing => (false, None, None),
    }
}

/// Whether a supplier exists.
pub async fn supplier_exists(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM suppliers WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}
