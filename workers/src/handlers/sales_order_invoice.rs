//! `sales_order.invoice`: staff invoice a sales order once its goods have arrived. Locks the
//! sales order and its purchase orders, decides with the pure domain, takes the next
//! `INV-YYYY-NNNNNN`, writes the invoice (cancelled purchase orders' lines credited), and
//! tells the station.

use chrono::Datelike;
use serde_json::json;

use bluewhale::db::numbers;
use bluewhale::db::sales_orders::{self, NewInvoice};
use bluewhale::domain::audit::AuditAction;
use bluewhale::domain::numbering::{DocumentKind, format_number};
use bluewhale::domain::sales_order_invoicing::{
    InvoiceRequester, SalesOrderStatus, decide_invoice,
};
use bluewhale::domain::sales_order_pricing::invoice_totals;
use bluewhale::messaging::commands::InvoiceSalesOrder;
use bluewhale::messaging::events::{OutboxEvent, SalesOrderInvoiced};

use crate::handler::{
    BatchContext, Decision, EachHandler, HandlerError, Incoming, Outcome, audit_of, derived_id,
};

/// Handles `sales_order.invoice`.
pub struct SalesOrderInvoiceHandler;

impl EachHandler for SalesOrderInvoiceHandler {
    type Command = InvoiceSalesOrder;

    async fn apply(
        &self,
        ctx: &BatchContext,
        tx: &mut sqlx::PgConnection,
        incoming: &Incoming<InvoiceSalesOrder>,
    ) -> Result<Decision, HandlerError> {
        let cmd = &incoming.envelope;
        let data = &cmd.data;
        let loaded = sales_orders::invoiceable(&mut *tx, data.sales_order_id, true).await?;
        let requester = InvoiceRequester {
            role: cmd.actor.role,
            expected_version: data.expected_version,
        };
        let decision = match decide_invoice(requester, loaded.as_ref().map(|(_, state)| state)) {
            Ok(decision) => decision,
            Err(refusal) => return Ok(Decision::rejected(refusal)),
        };
        let Some((order, _)) = loaded else {
            return Err(HandlerError::Permanent(
                "decided on a missing sales order".into(),
            ));
        };
        let year = data.invoice_date.year();
        let value = numbers::allocate(&mut *tx, DocumentKind::Invoice, year, 1).await?;
        let invoice = NewInvoice {
            number: format_number(DocumentKind::Invoice, year, value),
            invoice_date: data.invoice_date,
            due_date: data.due_date,
            totals: invoice_totals(&order.sales_lines(), &decision.credited),
            credited: decision.credited,
        };
        sales_orders::write_invoice(&mut *tx, order.id, &invoice, ctx.now).await?;

        let mut changes = serde_json::Map::new();
        changes.insert(
            "status".into(),
            json!({"old": order.status, "new": SalesOrderStatus::Invoiced.as_str()}),
        );
        changes.insert(
            "version".into(),
            json!({"old": order.version, "new": order.version + 1}),
        );
        for (field, value) in [
            ("invoice_number", json!(invoice.number)),
            ("invoice_date", json!(invoice.invoice_date)),
            ("due_date", json!(invoice.due_date)),
            (
                "invoiced_total_excluding_tax",
                json!(invoice.totals.excluding_tax),
            ),
            ("invoiced_tax_amount", json!(invoice.totals.tax_amount)),
            (
                "invoiced_total_including_tax",
                json!(invoice.totals.including_tax),
            ),
            ("credited_purchase_orders", json!(invoice.credited)),
        ] {
            changes.insert(field.into(), json!({"old": null, "new": value}));
        }
        let audit = audit_of(
            cmd,
            ctx,
            AuditAction::Transition,
            ("sales_order", order.id),
            changes,
            None,
        );
        let invoiced = SalesOrderInvoiced {
            sales_order_id: order.id,
            number: order.number,
            master_order_id: order.master_order_id,
            station_id: order.station_id,
            invoice_number: invoice.number,
            invoice_date: invoice.invoice_date,
            due_date: invoice.due_date,
            total_excluding_tax: invoice.totals.excluding_tax,
            tax_amount: invoice.totals.tax_amount,
            total_including_tax: invoice.totals.including_tax,
        };
        let event = OutboxEvent::new(
            &ctx.ns,
            derived_id(cmd.id, "event:sales_order.invoiced"),
            ctx.now,
            Some(cmd.id),
            &invoiced,
        )?;
        Ok(Decision {
            outcome: Outcome::Applied,
            audit: vec![audit],
            events: vec![event],
        })
    }
}
