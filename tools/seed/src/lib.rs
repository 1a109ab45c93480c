//! Demo data loader: writes the invented world of [`world`] in one transaction, idempotently.
//!
//! Every row has a deterministic id and is inserted with `ON CONFLICT DO NOTHING … RETURNING
//! id`, so a re-run inserts nothing, and exactly the rows actually inserted get a CREATE audit
//! row (actor: system) in the same transaction. Existing users are never re-hashed.

pub mod world;

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use anyhow::Context as _;
use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use bluewhale::config::Secret;
use bluewhale::db::audit::{self, AuditRecord};
use bluewhale::domain::audit::AuditAction;
use bluewhale::security::password;

pub use world::DEMO_EMAIL_DOMAIN;

/// Key of the transaction-scoped advisory lock that serialises concurrent seed runs, so two
/// runs never both hash passwords for the same users and report the same rows.
const SEED_LOCK_KEY: i64 = 0x0b1e_5eed;

/// Rows inserted per table by one run; all zero when the demo data was already there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// `platforms` rows.
    pub platforms: u64,
    /// `station_groups` rows.
    pub station_groups: u64,
    /// `stations` rows.
    pub stations: u64,
    /// `suppliers` rows.
    pub suppliers: u64,
    /// `supplier_sites` rows.
    pub supplier_sites: u64,
    /// `products` rows.
    pub products: u64,
    /// `master_contracts` rows.
    pub master_contracts: u64,
    /// `contract_lines` rows.
    pub contract_lines: u64,
    /// `users` rows.
    pub users: u64,
    /// `audit_log` rows (one per row inserted above).
    pub audit_rows: u64,
}

impl SeedReport {
    /// Business rows inserted, audit rows excluded.
    pub fn total(&self) -> u64 {
        self.platforms
            + self.station_groups
            + self.stations
            + self.suppliers
            + self.supplier_sites
            + self.products
            + self.master_contracts
            + self.contract_lines
            + self.users
    }

    /// Whether the run changed nothing.
    pub fn is_empty(&self) -> bool {
        self.total() == 0 && self.audit_rows == 0
    }
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} platforms, {} station groups, {} stations, {} suppliers, {} supplier sites, \
             {} products, {} contracts, {} contract lines, {} users, {} audit rows",
            self.platforms,
            self.station_groups,
            self.stations,
            self.suppliers,
            self.supplier_sites,
            self.products,
            self.master_contracts,
            self.contract_lines,
            self.users,
            self.audit_rows
        )
    }
}

/// Loads the demo world into `pool`'s database in one transaction. `today` (a date in the
/// business time zone) picks the contract year: ACTIVE for its year, DRAFT next, EXPIRED last.
pub async fn run(
    pool: &PgPool,
    demo_password: &Secret,
    today: NaiveDate,
) -> anyhow::Result<SeedReport> {
    let contracts = world::contracts(today.year())
        .with_context(|| format!("contract years around {today} are out of range"))?;
    let mut tx = pool.begin().await.context("begin seed transaction")?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SEED_LOCK_KEY)
        .execute(&mut *tx)
        .await
        .context("take the seed lock")?;

    let mut audit = Audit::new();
    let report = SeedReport {
        platforms: insert_platforms(&mut tx, &mut audit)
            .await
            .context("platforms")?,
        station_groups: insert_station_groups(&mut tx, &mut audit)
            .await
            .context("station groups")?,
        stations: insert_stations(&mut tx, &mut audit)
            .await
            .context("stations")?,
        suppliers: insert_suppliers(&mut tx, &mut audit)
            .await
            .context("suppliers")?,
        supplier_sites: insert_supplier_sites(&mut tx, &mut audit)
            .await
            .context("supplier sites")?,
        products: insert_products(&mut tx, &mut audit)
            .await
            .context("products")?,
        master_contracts: insert_contracts(&mut tx, &mut audit, &contracts)
            .await
            .context("master contracts")?,
        contract_lines: insert_contract_lines(&mut tx, &mut audit, &contracts)
            .await
            .context("contract lines")?,
        users: insert_users(&mut tx, &mut audit, demo_password)
            .await
            .context("users")?,
        audit_rows: audit.records.len() as u64,
    };
    audit::insert_many(&mut tx, &audit.records)
        .await
        .context("audit rows")?;
    tx.commit().await.context("commit seed transaction")?;
    Ok(report)
}

/// Collects one CREATE audit row per inserted row, all stamped with the same instant.
struct Audit {
    occurred_at: DateTime<Utc>,
    records: Vec<AuditRecord>,
}

impl Audit {
    fn new() -> Self {
        Self {
            occurred_at: Utc::now(),
            records: Vec::new(),
        }
    }

    /// Records a CREATE for each of `rows` whose id the insert returned; rows that already
    /// existed are skipped. Returns how many were inserted.
    fn created(
        &mut self,
        entity_type: &'static str,
        inserted: Vec<Uuid>,
        rows: impl IntoIterator<Item = (Uuid, Value)>,
    ) -> u64 {
        let inserted: HashSet<Uuid> = inserted.into_iter().collect();
        for (id, changes) in rows {
            if inserted.contains(&id) {
                self.records.push(AuditRecord {
                    id: Uuid::now_v7(),
                    occurred_at: self.occurred_at,
                    actor: None,
                    action: AuditAction::Create,
                    entity_type: entity_type.to_owned(),
                    entity_id: Some(id),
                    changes,
                    command_id: None,
                    request_id: None,
                    reason: Some("demo data seed".to_owned()),
                    client: None,
                });
            }
        }
        inserted.len() as u64
    }
}

/// `{field: {"old": null, "new": value}}` for a new row; null fields are left out, since
/// nothing changed for them.
fn creation(fields: Vec<(&str, Value)>) -> Value {
    let map: Map<String, Value> = fields
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(field, value)| (field.to_owned(), json!({"old": null, "new": value})))
        .collect();
    Value::Object(map)
}

/// Parses a decimal literal of the world tables exactly (never through a float).
fn decimal(literal: &str) -> anyhow::Result<Decimal> {
    Decimal::from_str(literal)
        .with_context(|| format!("invalid decimal literal {literal:?} in the demo world"))
}

async fn insert_platforms(tx: &mut PgConnection, audit: &mut Audit) -> anyhow::Result<u64> {
    let rows = world::PLATFORMS;
    let ids: Vec<Uuid> = rows.iter().map(|p| world::platform_id(p.code)).collect();
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO platforms (id, code, name, city, active) \
         SELECT id, code, name, city, true FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[]) \
             AS t(id, code, name, city) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&ids)
    .bind(rows.iter().map(|p| p.code).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.name).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.city).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    Ok(audit.created(
        "platform",
        inserted,
        rows.iter().zip(&ids).map(|(p, id)| {
            let changes = creation(vec![
                ("code", json!(p.code)),
                ("name", json!(p.name)),
                ("city", json!(p.city)),
                ("active", json!(true)),
            ]);
            (*id, changes)
        }),
    ))
}

async fn insert_station_groups(tx: &mut PgConnection, audit: &mut Audit) -> anyhow::Result<u64> {
    let rows = world::STATION_GROUPS;
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|g| world::station_group_id(g.code))
        .collect();
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO station_groups (id, code, name) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[]) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&ids)
    .bind(rows.iter().map(|g| g.code).collect::<Vec<_>>())
    .bind(rows.iter().map(|g| g.name).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    Ok(audit.created(
        "station_group",
        inserted,
        rows.iter().zip(&ids).map(|(g, id)| {
            let changes = creation(vec![("code", json!(g.code)), ("name", json!(g.name))]);
            (*id, changes)
        }),
    ))
}

async fn insert_stations(tx: &mut PgConnection, audit: &mut Audit) -> anyhow::Result<u64> {
    let rows = world::STATIONS;
    let ids: Vec<Uuid> = rows.iter().map(|s| world::station_id(s.code)).collect();
    let group_ids: Vec<Uuid> = rows
        .iter()
        .map(|s| world::station_group_id(s.group))
        .collect();
    let platform_ids: Vec<Uuid> = rows
        .iter()
        .map(|s| world::platform_id(s.platform))
        .collect();
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO stations (id, code, name, group_id, platform_id, address, postal_code, city, \
             country, active) \
         SELECT id, code, name, group_id, platform_id, address, postal_code, city, 'FR', true \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], \
             $7::text[], $8::text[]) \
             AS t(id, code, name, group_id, platform_id, address, postal_code, city) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&ids)
    .bind(rows.iter().map(|s| s.code).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.name).collect::<Vec<_>>())
    .bind(&group_ids)
    .bind(&platform_ids)
    .bind(rows.iter().map(|s| s.address).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.postal_code).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.city).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    Ok(audit.created(
        "station",
        inserted,
        rows.iter().enumerate().map(|(i, s)| {
            let changes = creation(vec![
                ("code", json!(s.code)),
                ("name", json!(s.name)),
                ("group_id", json!(group_ids[i])),
                ("platform_id", json!(platform_ids[i])),
                ("address", json!(s.address)),
                ("postal_code", json!(s.postal_code)),
                ("city", json!(s.city)),
                ("country", json!("FR")),
                ("active", json!(true)),
            ]);
            (ids[i], changes)
        }),
    ))
}

async fn insert_suppliers(tx: &mut PgConnection, audit: &mut Audit) -> anyhow::Result<u64> {
    let rows = world::SUPPLIERS;
    let ids: Vec<Uuid> = rows.iter().map(|s| world::supplier_id(s.code)).collect();
    let emails: Vec<String> = rows
        .iter()
        .map(|s| world::supplier_contact_email(s.code))
        .collect();
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO suppliers (id, code, name, order_contact_email, active) \
         SELECT id, code, name, email, true \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t(id, code, name, email) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&ids)
    .bind(rows.iter().map(|s| s.code).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.name).collect::<Vec<_>>())
    .bind(&emails)
    .fetch_all(&mut *tx)
    .await?;
    Ok(audit.created(
        "supplier",
        inserted,
        rows.iter().zip(&ids).map(|(s, id)| {
            let changes = creation(vec![
                ("code", json!(s.code)),
                ("name", json!(s.name)),
                (
                    "order_contact_email",
                    json!(world::supplier_contact_email(s.code)),
                ),
                ("active", json!(true)),
            ]);
            (*id, changes)
        }),
    ))
}

async fn insert_supplier_sites(tx: &mut PgConnection, audit: &mut Audit) -> anyhow::Result<u64> {
    let rows = world::SUPPLIER_SITES;
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|s| world::supplier_site_id(s.supplier, s.site))
        .collect();
    let supplier_ids: Vec<Uuid> = rows
        .iter()
        .map(|s| world::supplier_id(s.supplier))
        .collect();
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO supplier_sites (id, supplier_id, name, address, postal_code, city, country, \
             is_primary) \
         SELECT id, supplier_id, name, address, postal_code, city, 'FR', is_primary \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::boolean[]) AS t(id, supplier_id, name, address, postal_code, city, is_primary) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&ids)
    .bind(&supplier_ids)
    .bind(rows.iter().map(|s| s.name).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.address).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.postal_code).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.city).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.is_primary).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    Ok(audit.created(
        "supplier_site",
        inserted,
        rows.iter().enumerate().map(|(i, s)| {
            let changes = creation(vec![
                ("supplier_id", json!(supplier_ids[i])),
                ("name", json!(s.name)),
                ("address", json!(s.address)),
                ("postal_code", json!(s.postal_code)),
                ("city", json!(s.city)),
                ("country", json!("FR")),
                ("is_primary", json!(s.is_primary)),
            ]);
            (ids[i], changes)
        }),
    ))
}

async fn insert_products(tx: &mut PgConnection, audit: &mut Audit) -> anyhow::Result<u64> {
    let rows = world::PRODUCTS;
    let ids: Vec<Uuid> = rows.iter().map(|p| world::product_id(p.code)).collect();
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO products (id, code, name, description, category, conditioning_unit, \
             quantity_per_conditioning, active) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::integer[], $8::boolean[]) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&ids)
    .bind(rows.iter().map(|p| p.code).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.name).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.description).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.category).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.conditioning_unit).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|p| p.quantity_per_conditioning)
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|p| p.active).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    Ok(audit.created(
        "product",
        inserted,
        rows.iter().zip(&ids).map(|(p, id)| {
            let changes = creation(vec![
                ("code", json!(p.code)),
                ("name", json!(p.name)),
                ("description", json!(p.description)),
                ("category", json!(p.category)),
                ("conditioning_unit", json!(p.conditioning_unit)),
                (
                    "quantity_per_conditioning",
                    json!(p.quantity_per_conditioning),
                ),
                ("active", json!(p.active)),
            ]);
            (*id, changes)
        }),
    ))
}

async fn insert_contracts(
    tx: &mut PgConnection,
    audit: &mut Audit,
    contracts: &[world::ContractSeed],
) -> anyhow::Result<u64> {
    let ids: Vec<Uuid> = contracts
        .iter()
        .map(|c| world::contract_id(&c.number))
        .collect();
    let supplier_ids: Vec<Uuid> = contracts
        .iter()
        .map(|c| world::supplier_id(c.terms.supplier))
        .collect();
    let movs = contracts
        .iter()
        .map(|c| c.terms.minimum_order_value.map(decimal).transpose())
        .collect::<anyhow::Result<Vec<Option<Decimal>>>>()?;
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO master_contracts (id, number, supplier_id, status, valid_from, valid_until, \
             currency, minimum_order_value) \
         SELECT id, number, supplier_id, status, valid_from, valid_until, 'EUR', mov \
         FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::date[], $6::date[], \
             $7::numeric[]) AS t(id, number, supplier_id, status, valid_from, valid_until, mov) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&ids)
    .bind(
        contracts
            .iter()
            .map(|c| c.number.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(&supplier_ids)
    .bind(contracts.iter().map(|c| c.status).collect::<Vec<_>>())
    .bind(contracts.iter().map(|c| c.valid_from).collect::<Vec<_>>())
    .bind(contracts.iter().map(|c| c.valid_until).collect::<Vec<_>>())
    .bind(&movs)
    .fetch_all(&mut *tx)
    .await?;
    Ok(audit.created(
        "master_contract",
        inserted,
        contracts.iter().enumerate().map(|(i, c)| {
            let changes = creation(vec![
                ("number", json!(c.number)),
                ("supplier_id", json!(supplier_ids[i])),
                ("status", json!(c.status)),
                ("valid_from", json!(c.valid_from.to_string())),
                ("valid_until", json!(c.valid_until.to_string())),
                ("currency", json!("EUR")),
                ("minimum_order_value", json!(movs[i].map(|d| d.to_string()))),
            ]);
            (ids[i], changes)
        }),
    ))
}

async fn insert_contract_lines(
    tx: &mut PgConnection,
    audit: &mut Audit,
    contracts: &[world::ContractSeed],
) -> anyhow::Result<u64> {
    struct Row {
        id: Uuid,
        contract_id: Uuid,
        product_id: Uuid,
        supplier_reference: &'static str,
        unit_price: Decimal,
        min_order_quantity: i32,
        price_breaks: Value,
        tax_rate: Decimal,
    }
    let mut rows = Vec::new();
    for c in contracts {
        for l in c.terms.lines {
            let breaks = l
                .price_breaks
                .iter()
                .map(|(min_quantity, percent)| {
                    // Decimal strings in JSON, as the API and pricing read them.
                    Ok(json!({
                        "min_quantity": min_quantity,
                        "reduction_percent": decimal(percent)?.to_string(),
                    }))
                })
                .collect::<anyhow::Result<Vec<Value>>>()?;
            rows.push(Row {
                id: world::contract_line_id(&c.number, l.product),
                contract_id: world::contract_id(&c.number),
                product_id: world::product_id(l.product),
                supplier_reference: l.supplier_reference,
                unit_price: decimal(l.unit_price)?,
                min_order_quantity: l.min_order_quantity,
                price_breaks: Value::Array(breaks),
                tax_rate: decimal(l.tax_rate)?,
            });
        }
    }
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO contract_lines (id, contract_id, product_id, supplier_reference, unit_price, \
             min_order_quantity, price_breaks, tax_rate) \
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::numeric[], \
             $6::integer[], $7::jsonb[], $8::numeric[]) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.contract_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.product_id).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.supplier_reference)
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.unit_price).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|r| r.min_order_quantity)
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|r| r.price_breaks.clone())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.tax_rate).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    Ok(audit.created(
        "contract_line",
        inserted,
        rows.into_iter().map(|r| {
            let changes = creation(vec![
                ("contract_id", json!(r.contract_id)),
                ("product_id", json!(r.product_id)),
                ("supplier_reference", json!(r.supplier_reference)),
                ("unit_price", json!(r.unit_price.to_string())),
                ("min_order_quantity", json!(r.min_order_quantity)),
                ("price_breaks", r.price_breaks),
                ("tax_rate", json!(r.tax_rate.to_string())),
            ]);
            (r.id, changes)
        }),
    ))
}

async fn insert_users(
    tx: &mut PgConnection,
    audit: &mut Audit,
    demo_password: &Secret,
) -> anyhow::Result<u64> {
    let emails: Vec<String> = world::USERS
        .iter()
        .map(|u| u.email.to_lowercase())
        .collect();
    // Checked first so an existing user keeps its hash: hashing is slow, and a re-run must
    // change nothing at all.
    let existing: HashSet<String> =
        sqlx::query_scalar("SELECT lower(email) FROM users WHERE lower(email) = ANY($1)")
            .bind(&emails)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let missing: Vec<&world::UserSeed> = world::USERS
        .iter()
        .filter(|u| !existing.contains(&u.email.to_lowercase()))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }

    // One hash per user (own random salt), off the async runtime: argon2 is deliberately slow.
    let secret = demo_password.clone();
    let count = missing.len();
    let hashes = tokio::task::spawn_blocking(move || {
        (0..count)
            .map(|_| password::hash_password(secret.expose()))
            .collect::<Result<Vec<String>, _>>()
    })
    .await
    .context("password hashing task")??;

    let ids: Vec<Uuid> = missing.iter().map(|u| world::user_id(u.email)).collect();
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO users (id, email, full_name, password_hash, role, org_type, org_id, active) \
         SELECT id, email, full_name, password_hash, role, org_type, org_id, true \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::uuid[]) AS t(id, email, full_name, password_hash, role, org_type, org_id) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&ids)
    .bind(missing.iter().map(|u| u.email).collect::<Vec<_>>())
    .bind(missing.iter().map(|u| u.full_name).collect::<Vec<_>>())
    .bind(&hashes)
    .bind(missing.iter().map(|u| u.role.as_str()).collect::<Vec<_>>())
    .bind(missing.iter().map(|u| u.org.org_type()).collect::<Vec<_>>())
    .bind(missing.iter().map(|u| u.org.org_id()).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    Ok(audit.created(
        "user",
        inserted,
        missing.iter().zip(&ids).map(|(u, id)| {
            // Never the password hash: audit rows are published as events and kept forever.
            let changes = creation(vec![
                ("email", json!(u.email)),
                ("full_name", json!(u.full_name)),
                ("role", json!(u.role.as_str())),
                ("org_type", json!(u.org.org_type())),
                ("org_id", json!(u.org.org_id())),
                ("active", json!(true)),
            ]);
            (*id, changes)
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_diff_lists_new_values_and_skips_nulls() {
        let changes = creation(vec![
            ("code", json!("ST-1")),
            ("org_id", Value::Null),
            ("active", json!(true)),
        ]);
        assert_eq!(
            changes,
            json!({"code": {"old": null, "new": "ST-1"}, "active": {"old": null, "new": true}})
        );
    }

    #[test]
    fn audit_covers_only_inserted_rows() {
        let mut audit = Audit::new();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let count = audit.created("station", vec![b], [(a, json!({})), (b, json!({}))]);
        assert_eq!(count, 1);
        assert_eq!(audit.records.len(), 1);
        assert_eq!(audit.records[0].entity_id, Some(b));
        assert!(audit.records[0].actor.is_none());
    }

    #[test]
    fn report_prints_counts_and_knows_when_empty() {
        assert!(SeedReport::default().is_empty());
        let report = SeedReport {
            stations: 5,
            audit_rows: 5,
            ..SeedReport::default()
        };
        assert!(!report.is_empty());
        assert!(report.to_string().contains("5 stations"));
    }
}
