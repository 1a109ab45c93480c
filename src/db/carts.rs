//! Shopping carts: the open cart of a station with its items, its writes, and its priced
//! preview (the same pure pricing the worker applies to orders).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::pricing_inputs;
use crate::domain::cart::{CartChange, CartItem, apply_change};
use crate::domain::order::{OrderLine, OrderToPrice};
use crate::domain::refusal::{FieldIssue, Refusal, RefusalCode};
use crate::domain::roles::{OrderingRefusal, may_order_for};
use crate::domain::split::{Assessment, assess_order};
use crate::messaging::commands::ChangeCart;
use crate::messaging::envelope::Actor;

/// A station's open cart (none yet: version 0, no items).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCart {
    /// The station.
    pub station_id: Uuid,
    /// The cart, once it has been written.
    pub id: Option<Uuid>,
    /// 0 before the first change.
    pub version: i32,
    /// Items, in cart order.
    pub items: Vec<CartItem>,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    product_id: Uuid,
    supplier_id: Uuid,
    quantity: i32,
    added_by: Uuid,
    added_at: DateTime<Utc>,
}

async fn fetch(
    conn: &mut PgConnection,
    station_id: Uuid,
    locking: &'static str,
) -> sqlx::Result<OpenCart> {
    let cart: Option<(Uuid, i32)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, version FROM carts WHERE station_id = $1 AND status = 'OPEN' {locking}"
    )))
    .bind(station_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, version)) = cart else {
        return Ok(OpenCart {
            station_id,
            id: None,
            version: 0,
            items: Vec::new(),
        });
    };
    let rows: Vec<ItemRow> = sqlx::query_as(
        "SELECT product_id, supplier_id, quantity, added_by, added_at FROM cart_items \
         WHERE cart_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let items = rows
        .into_iter()
        .map(|r| CartItem {
            product_id: r.product_id,
            supplier_id: r.supplier_id,
            // CHECKed between 1 and 1 000 000.
            quantity: u32::try_from(r.quantity).unwrap_or(0),
            added_by: r.added_by,
            added_at: r.added_at,
        })
        .collect();
    Ok(OpenCart {
        station_id,
        id: Some(id),
        version,
        items,
    })
}

/// The station's open cart as it is now.
pub async fn open_cart(conn: &mut PgConnection, station_id: Uuid) -> sqlx::Result<OpenCart> {
    fetch(conn, station_id, "").await
}

/// The station's open cart, its changes serialised: the station row is locked (without
/// blocking the foreign-key checks of its orders), then the cart.
pub async fn lock_open_cart(conn: &mut PgConnection, station_id: Uuid) -> sqlx::Result<OpenCart> {
    sqlx::query("SELECT 1 FROM stations WHERE id = $1 FOR NO KEY UPDATE")
        .bind(station_id)
        .execute(&mut *conn)
        .await?;
    fetch(conn, station_id, "FOR UPDATE").await
}

/// Whether the product and the supplier exist.
async fn existing(
    conn: &mut PgConnection,
    product_id: Uuid,
    supplier_id: Uuid,
) -> sqlx::Result<(bool, bool)> {
    sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM products WHERE id = $1), \
                EXISTS (SELECT 1 FROM suppliers WHERE id = $2)",
    )
    .bind(product_id)
    .bind(supplier_id)
    .fetch_one(conn)
    .await
}

/// Writes the cart's items as `items` (creating the cart as `new_id` if it has none yet) and
/// bumps its version; returns the cart's id.
pub async fn write_items(
    conn: &mut PgConnection,
    cart: &OpenCart,
    new_id: Uuid,
    items: &[CartItem],
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = match cart.id {
        Some(id) => {
            sqlx::query("UPDATE carts SET version = version + 1, updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM cart_items WHERE cart_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            id
        }
        None => {
            sqlx::query(
                "INSERT INTO carts (id, station_id, status, version, created_at, updated_at) \
                 VALUES ($1, $2, 'OPEN', 1, $3, $3)",
            )
            .bind(new_id)
            .bind(cart.station_id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            new_id
        }
    };
    let products: Vec<Uuid> = items.iter().map(|i| i.product_id).collect();
    let suppliers: Vec<Uuid> = items.iter().map(|i| i.supplier_id).collect();
    let quantities: Vec<i32> = items
        .iter()
        .map(|i| i32::try_from(i.quantity).unwrap_or(i32::MAX))
        .collect();
    let added_by: Vec<Uuid> = items.iter().map(|i| i.added_by).collect();
    let added_at: Vec<DateTime<Utc>> = items.iter().map(|i| i.added_at).collect();
    sqlx::query(
        "INSERT INTO cart_items (cart_id, product_id, supplier_id, quantity, position, added_by, \
         added_at, updated_at) \
         SELECT $1, product_id, supplier_id, quantity, position, added_by, added_at, $7 \
         FROM UNNEST($2::uuid[], $3::uuid[], $4::int[], $5::uuid[], $6::timestamptz[]) \
              WITH ORDINALITY AS i(product_id, supplier_id, quantity, added_by, added_at, position)",
    )
    .bind(id)
    .bind(&products)
    .bind(&suppliers)
    .bind(&quantities)
    .bind(&added_by)
    .bind(&added_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// What the cart would become if checked out on `order_date`: the would-be purchase orders
/// and every problem, priced by the worker's own pure functions.
pub async fn preview(
    conn: &mut PgConnection,
    cart: &OpenCart,
    order_date: NaiveDate,
) -> sqlx::Result<Assessment> {
    let lines: Vec<OrderLine> = cart
        .items
        .iter()
        .map(|i| OrderLine {
            product_id: i.product_id,
            supplier_id: i.supplier_id,
            quantity: i.quantity,
        })
        .collect();
    let products: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
    let suppliers: Vec<Uuid> = lines.iter().map(|l| l.supplier_id).collect();
    let inputs = pricing_inputs::load(
        conn,
        &[cart.station_id],
        &products,
        &suppliers,
        (order_date, order_date),
    )
    .await?;
    let order = OrderToPrice {
        station_active: inputs
            .stations
            .get(&cart.station_id)
            .copied()
            .unwrap_or(false),
        order_date,
        lines,
    };
    Ok(assess_order(&order, &inputs.catalogue))
}

/// Decides a cart change for both sides (the ingress on the current cart, the worker on the
/// locked one): who may change this station's cart (its users and staff; another station: 404,
/// a supplier: 403), the version, the items after the change, and that a new item names a
/// product and a supplier that exist. Returns the items after the change.
pub async fn decide(
    conn: &mut PgConnection,
    cart: &OpenCart,
    command: &ChangeCart,
    actor: &Actor,
    now: DateTime<Utc>,
) -> sqlx::Result<Result<Vec<CartItem>, Refusal>> {
    match may_order_for(actor.role, actor.org_id, command.station_id) {
        Ok(()) => {}
        Err(OrderingRefusal::OtherStation) => {
            return Ok(Err(Refusal::new(RefusalCode::NotFound, "No such station.")));
        }
        Err(OrderingRefusal::RoleCannotOrder) => {
            return Ok(Err(Refusal::new(
                RefusalCode::Forbidden,
                format!("A {} does not fill stations' carts.", actor.role.as_str()),
            )));
        }
    }
    if let Some(expected) = command.expected_version
        && expected != cart.version
    {
        return Ok(Err(Refusal::new(
            RefusalCode::PreconditionFailed,
            format!("The cart is at version {}, not {expected}.", cart.version),
        )));
    }
    let after = match apply_change(&cart.items, &command.change, actor.user_id, now) {
        Ok(after) => after,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if let CartChange::SetItem {
        product_id,
        supplier_id,
        quantity,
    } = command.change
        && quantity > 0
    {
        let (product, supplier) = existing(conn, product_id, supplier_id).await?;
        let mut issues = Vec::new();
        if !product {
            issues.push(FieldIssue::new(
                "product_id",
                "UNKNOWN_PRODUCT",
                "no product has this id",
            ));
        }
        if !supplier {
            issues.push(FieldIssue::new(
                "supplier_id",
                "UNKNOWN_SUPPLIER",
                "no supplier has this id",
            ));
        }
        if !issues.is_empty() {
            return Ok(Err(Refusal::invalid(issues)));
        }
    }
    Ok(Ok(after))
}

/// Archives the open carts that priced orders check out, `(cart, order)` pairs, in the
/// order's transaction; returns the carts archived (one no longer open is left alone).
pub async fn check_out(
    conn: &mut PgConnection,
    checkouts: &[(Uuid, Uuid)],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Uuid>> {
    let carts: Vec<Uuid> = checkouts.iter().map(|(cart, _)| *cart).collect();
    let orders: Vec<Uuid> = checkouts.iter().map(|(_, order)| *order).collect();
    sqlx::query_scalar(
        "UPDATE carts c SET status = 'CHECKED_OUT', master_order_id = x.order_id, \
         checked_out_at = $3, updated_at = $3, version = c.version + 1 \
         FROM UNNEST($1::uuid[], $2::uuid[]) AS x(cart_id, order_id) \
         WHERE c.id = x.cart_id AND c.status = 'OPEN' RETURNING c.id",
    )
    .bind(&carts)
    .bind(&orders)
    .bind(now)
    .fetch_all(conn)
    .await
}
