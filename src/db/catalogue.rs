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

/// How a catalogue list is sorted: an allow-list, each a fixed SQL order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    /// By code, ascending (the default).
    #[default]
    Code,
    /// By code, descending.
    CodeDesc,
    /// By name.
    Name,
    /// By name, descending.
    NameDesc,
    /// Oldest first.
    Created,
    /// Newest first.
    CreatedDesc,
}

/// The columns a list searches and sorts by in the roles of code and name (constants of
/// ours, never input), and whether it has an `active` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListKeys {
    /// The unique key (`code`, a user's `email`).
    pub code: &'static str,
    /// The display name (`name`, a user's `full_name`).
    pub name: &'static str,
    /// Whether the table has an `active` column.
    pub active: bool,
}

/// Stations, suppliers, products.
pub const CODE_AND_NAME: ListKeys = ListKeys {
    code: "code",
    name: "name",
    active: true,
};
/// Station groups (no `active` flag).
pub const GROUP_KEYS: ListKeys = ListKeys {
    active: false,
    ..CODE_AND_NAME
};
/// Users.
pub const USER_KEYS: ListKeys = ListKeys {
    code: "email",
    name: "full_name",
    active: true,
};

impl SortOrder {
    /// The `sort` values accepted for a list with these keys, with their order.
    pub fn allowed(keys: ListKeys) -> [(String, SortOrder); 6] {
        [
            (keys.code.to_owned(), SortOrder::Code),
            (format!("-{}", keys.code), SortOrder::CodeDesc),
            (keys.name.to_owned(), SortOrder::Name),
            (format!("-{}", keys.name), SortOrder::NameDesc),
            ("created_at".to_owned(), SortOrder::Created),
            ("-created_at".to_owned(), SortOrder::CreatedDesc),
        ]
    }

    /// The order of a `sort` value, if allowed for a list with these keys.
    pub fn parse(value: &str, keys: ListKeys) -> Option<Self> {
        Self::allowed(keys)
            .into_iter()
            .find_map(|(name, order)| (name == value).then_some(order))
    }

    /// `ORDER BY` of columns prefixed by `alias` (code breaks ties: pages stay stable).
    fn sql(self, alias: &str) -> String {
        self.sql_on(alias, CODE_AND_NAME)
    }

    /// `ORDER BY` of the `keys` columns prefixed by `alias`.
    pub(crate) fn sql_on(self, alias: &str, keys: ListKeys) -> String {
        let (column, direction) = match self {
            SortOrder::Code => (keys.code, "ASC"),
            SortOrder::CodeDesc => (keys.code, "DESC"),
            SortOrder::Name => (keys.name, "ASC"),
            SortOrder::NameDesc => (keys.name, "DESC"),
            SortOrder::Created => ("created_at", "ASC"),
            SortOrder::CreatedDesc => ("created_at", "DESC"),
        };
        format!("{alias}{column} {direction}, {alias}{} ASC", keys.code)
    }
}

/// Search and filters of a catalogue list.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Part of the code or the name, case-insensitive.
    pub q: Option<String>,
    /// Only active (true) or inactive (false) rows.
    pub active: Option<bool>,
    /// Only this product category (products only).
    pub category: Option<String>,
    /// Order.
    pub sort: SortOrder,
}

impl Search {
    /// `q` as an `ILIKE` pattern matching it anywhere, its wildcards taken literally.
    pub(crate) fn pattern(&self) -> Option<String> {
        self.q.as_ref().map(|q| {
            let escaped = q
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        })
    }
}

/// The search conditions on columns prefixed by `alias`, parameters `$first` (pattern) and
/// `$first + 1` (active).
fn search_sql(alias: &str, first: usize) -> String {
    search_sql_on(alias, first, CODE_AND_NAME)
}

/// [`search_sql`] on the `keys` columns (without an `active` column, `$first + 1` must be
/// null).
pub(crate) fn search_sql_on(alias: &str, first: usize, keys: ListKeys) -> String {
    let active = first + 1;
    let (code, name) = (keys.code, keys.name);
    let active_filter = if keys.active {
        format!("{alias}active = ${active}")
    } else {
        "false".to_owned()
    };
    format!(
        "(${first}::text IS NULL OR {alias}{code} ILIKE ${first} ESCAPE '\\' \
         OR {alias}{name} ILIKE ${first} ESCAPE '\\') AND (${active}::bool IS NULL OR {active_filter})"
    )
}

/// Stations visible in `scope`: staff all; a station itself; a supplier those it delivers.
pub async fn list_stations(
    pool: &PgPool,
    scope: Scope,
    search: &Search,
    page: PageRequest,
) -> sqlx::Result<Paged<StationView>> {
    let (all, station, supplier) = scope_params(scope);
    let filter = format!(
        "($1 OR s.id = $2 OR EXISTS (SELECT 1 FROM purchase_orders po \
         WHERE po.station_id = s.id AND po.supplier_id = $3)) AND {}",
        search_sql("s.", 4)
    );
    let pattern = search.pattern();
    let items = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT s.* FROM stations s WHERE {filter} ORDER BY {} LIMIT $6 OFFSET $7",
        search.sort.sql("s.")
    )))
    .bind(all)
    .bind(station)
    .bind(supplier)
    .bind(&pattern)
    .bind(search.active)
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
    .bind(&pattern)
    .bind(search.active)
    .fetch_one(pool)
    .await?;
    Ok(Paged { items, total })
}

/// Suppliers visible in `scope`: staff and stations all (they order from them); a supplier itself.
pub async fn list_suppliers(
    pool: &PgPool,
    scope: Scope,
    search: &Search,
    page: PageRequest,
) -> sqlx::Result<Paged<SupplierView>> {
    let (own, restricted) = match scope {
        Scope::Supplier(id) => (Some(id), true),
        Scope::Nothing => (None, true),
        Scope::All | Scope::Station(_) => (None, false),
    };
    let filter = format!("(NOT $1 OR id = $2) AND {}", search_sql("", 3));
    let pattern = search.pattern();
    let items = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, code, name, siret, active, created_at, updated_at FROM suppliers \
         WHERE {filter} ORDER BY {} LIMIT $5 OFFSET $6",
        search.sort.sql("")
    )))
    .bind(restricted)
    .bind(own)
    .bind(&pattern)
    .bind(search.active)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM suppliers WHERE {filter}"
    )))
    .bind(restricted)
    .bind(own)
    .bind(&pattern)
    .bind(search.active)
    .fetch_one(pool)
    .await?;
    Ok(Paged { items, total })
}

/// The whole catalogue is visible to every authenticated user.
pub async fn list_products(
    pool: &PgPool,
    search: &Search,
    page: PageRequest,
) -> sqlx::Result<Paged<ProductView>> {
    let filter = format!(
        "{} AND ($3::text IS NULL OR category = $3)",
        search_sql("", 1)
    );
    let pattern = search.pattern();
    let items = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, code, name, description, category, conditioning_unit, \
         quantity_per_conditioning, active, created_at, updated_at \
         FROM products WHERE {filter} ORDER BY {} LIMIT $4 OFFSET $5",
        search.sort.sql("")
    )))
    .bind(&pattern)
    .bind(search.active)
    .bind(&search.category)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM products WHERE {filter}"
    )))
    .bind(&pattern)
    .bind(search.active)
    .bind(&search.category)
    .fetch_one(pool)
    .await?;
    Ok(Paged { items, total })
}

/// A station group.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct StationGroupView {
    /// Id.
    pub id: Uuid,
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Version (the `ETag` of `GET /station-groups/{id}`).
    pub version: i32,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Station groups (staff only; no `active` filter).
pub async fn list_station_groups(
    pool: &PgPool,
    search: &Search,
    page: PageRequest,
) -> sqlx::Result<Paged<StationGroupView>> {
    let filter = search_sql_on("", 1, GROUP_KEYS);
    let pattern = search.pattern();
    let items = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, code, name, version, created_at, updated_at FROM station_groups \
         WHERE {filter} ORDER BY {} LIMIT $3 OFFSET $4",
        search.sort.sql_on("", GROUP_KEYS)
    )))
    .bind(&pattern)
    .bind(None::<bool>)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM station_groups WHERE {filter}"
    )))
    .bind(&pattern)
    .bind(None::<bool>)
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
