//! `cart.change`: puts items in a station's open cart, changes or removes them, or empties
//! it, under the station's cart lock; the change is audited with the items before and after.

use serde_json::json;

use bluewhale::db::carts;
use bluewhale::domain::audit::AuditAction;
use bluewhale::messaging::commands::ChangeCart;

use crate::handler::{
    BatchContext, Decision, EachHandler, HandlerError, Incoming, Outcome, audit_of, derived_id,
};

/// Handles `cart.change`.
pub struct CartChangeHandler;

impl EachHandler for CartChangeHandler {
    type Command = ChangeCart;

    async fn apply(
        &self,
        ctx: &BatchContext,
        tx: &mut sqlx::PgConnection,
        incoming: &Incoming<ChangeCart>,
    ) -> Result<Decision, HandlerError> {
        let cmd = &incoming.envelope;
        let cart = carts::lock_open_cart(&mut *tx, cmd.data.station_id).await?;
        let after = match carts::decide(&mut *tx, &cart, &cmd.data, &cmd.actor, ctx.now).await? {
            Ok(after) => after,
            Err(refusal) => return Ok(Decision::rejected(refusal)),
        };
        let mut audit = Vec::new();
        if after != cart.items {
            let new_id = derived_id(cmd.id, "cart");
            let id = carts::write_items(&mut *tx, &cart, new_id, &after, ctx.now).await?;
            let mut changes = serde_json::Map::new();
            changes.insert("items".into(), json!({"old": cart.items, "new": after}));
            audit.push(audit_of(
                cmd,
                ctx,
                AuditAction::Update,
                ("cart", id),
                changes,
                None,
            ));
        }
        Ok(Decision {
            outcome: Outcome::Applied,
            audit,
            events: Vec::new(),
        })
    }
}
