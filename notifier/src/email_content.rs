//! The e-mails a supplier's order contact receives (new and cancelled purchase orders, a
//! disabled webhook endpoint), as plain text and HTML from the same facts.

use serde::{Deserialize, Serialize};

use bluewhale::messaging::events::{ContractChanged, ContractEventKind};

use crate::supplier_payload::SupplierPurchaseOrder;

/// One e-mail, as stored with its message and sent as multipart/alternative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailContent {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Why a purchase order is e-mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderMail {
    /// It was just created.
    Created,
    /// It was cancelled.
    Cancelled,
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn address_lines(po: &SupplierPurchaseOrder) -> Vec<String> {
    let to = &po.deliver_to;
    let city = [to.postal_code.as_deref(), to.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [
        Some(to.name.clone()),
        to.address.clone(),
        Some(city),
        Some(to.country.clone()),
    ]
    .into_iter()
    .flatten()
    .filter(|l| !l.trim().is_empty())
    .collect()
}

/// The e-mail of a new or cancelled purchase order.
pub fn purchase_order_mail(kind: OrderMail, po: &SupplierPurchaseOrder) -> EmailContent {
    let (subject, intro) = match kind {
        OrderMail::Created => (
            format!(
                "New purchase order {} — deliver to {}",
                po.number, po.deliver_to.name
            ),
            format!(
                "Blue Whale orders the following on behalf of {} (purchase order {}, {}).",
                po.deliver_to.name, po.number, po.order_date
            ),
        ),
        OrderMail::Cancelled => (
            format!("Cancelled: purchase order {}", po.number),
            format!(
                "Purchase order {} of {} is cancelled{}. Please do not deliver it.",
                po.number,
                po.order_date,
                po.cancellation_reason
                    .as_deref()
                    .map(|r| format!(" (reason: {r})"))
                    .unwrap_or_default()
            ),
        ),
    };
    let date = match (po.confirmed_delivery_date, po.requested_delivery_date) {
        (Some(d), _) => format!("Confirmed delivery date: {d}"),
        (None, Some(d)) => format!("Requested delivery date: {d}"),
        (None, None) => "Delivery date: not specified".to_owned(),
    };
    let address = address_lines(po);
    let mut text = format!(
        "{intro}\n\nBuyer of record: {}\nDeliver to:\n  {}\n{date}\n\nLines:\n",
        po.buyer.name,
        address.join("\n  ")
    );
    for line in &po.lines {
        text.push_str(&format!(
            "  {}. {} {} — {} × {} at {} {} (VAT {} %) = {} {}\n",
            line.line_number,
            line.product_code,
            line.product_name,
            line.quantity,
            line.conditioning_unit,
            line.unit_price,
            po.currency,
            line.tax_rate,
            line.line_total,
            po.currency
        ));
    }
    if !po.lines_complete {
        text.push_str("  … more lines: see the purchase order in Blue Whale.\n");
    }
    text.push_str(&format!(
        "\nTotal excluding VAT: {} {c}\nVAT: {} {c}\nTotal including VAT: {} {c}\n",
        po.total_excluding_tax,
        po.tax_amount,
        po.total_including_tax,
        c = po.currency
    ));

    let rows: String = po
        .lines
        .iter()
        .map(|l| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td style=\"text-align:right\">{}</td><td style=\"text-align:right\">{} %</td>\
                 <td style=\"text-align:right\">{}</td></tr>",
                l.line_number,
                escape(&l.product_code),
                escape(&l.product_name),
                l.quantity,
                escape(&l.conditioning_unit),
                l.unit_price,
                l.tax_rate,
                l.line_total
            )
        })
        .collect();
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <p>{}</p><p><strong>Buyer of record:</strong> {}<br><strong>Deliver to:</strong><br>{}</p>\
         <p>{}</p><table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\">\
         <thead><tr><th>#</th><th>Code</th><th>Product</th><th>Quantity</th><th>Unit</th>\
         <th>Unit price ({cur})</th><th>VAT</th><th>Total ({cur})</th></tr></thead>\
         <tbody>{rows}</tbody></table>{}\
         <p>Total excluding VAT: {} {cur}<br>VAT: {} {cur}<br>\
         <strong>Total including VAT: {} {cur}</strong></p></body></html>",
        escape(&intro),
        escape(po.buyer.name),
        address
            .iter()
            .map(|l| escape(l))
            .collect::<Vec<_>>()
            .join("<br>"),
        escape(&date),
        if po.lines_complete {
            ""
        } else {
            "<p>… more lines: see the purchase order in Blue Whale.</p>"
        },
        po.total_excluding_tax,
        po.tax_amount,
        po.total_including_tax,
        cur = escape(&po.currency),
    );
    EmailContent {
        subject,
        text,
        html,
    }
}

/// The e-mail telling a supplier that one of its webhook endpoints was disabled.
pub fn endpoint_disabled_mail(url: &str, reason: &str) -> EmailContent {
    let text = format!(
        "Blue Whale stopped delivering webhooks to {url}: {reason}.\n\n\
         Purchase orders are still e-mailed to you. Once the endpoint works again, enable it \
         (PATCH …/webhook-endpoints/{{id}} with {{\"enabled\": true}}) and recover the failed \
         messages (POST …/recover).\n"
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Blue Whale stopped \
         delivering webhooks to <code>{}</code>: {}.</p><p>Purchase orders are still e-mailed \
         to you. Once the endpoint works again, enable it and recover the failed messages.</p>\
         </body></html>",
        escape(url),
        escape(reason)
    );
    EmailContent {
        subject: "Webhook endpoint disabled".to_owned(),
        text,
        html,
    }
}

/// The e-mail telling a supplier that one of its contracts changed status.
pub fn contract_mail(changed: &ContractChanged) -> EmailContent {
    let verb = match changed.change {
        ContractEventKind::Activated => "is now in force",
        ContractEventKind::Suspended => "is suspended",
        ContractEventKind::Resumed => "is in force again",
        ContractEventKind::Terminated => "is terminated",
        ContractEventKind::Expired => "has expired",
    };
    let reason = changed
        .reason
        .as_deref()
        .map(|r| format!(" Reason: {r}."))
        .unwrap_or_default();
    let text = format!(
        "Master contract {number} (valid {from} to {until}) {verb}.{reason}\n\n\
         Purchase orders are priced only from contracts in force on their order date.\n",
        number = changed.number,
        from = changed.valid_from,
        until = changed.valid_until,
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Master contract \
         <strong>{}</strong> (valid {} to {}) {verb}.{}</p><p>Purchase orders are priced only \
         from contracts in force on their order date.</p></body></html>",
        escape(&changed.number),
        changed.valid_from,
        changed.valid_until,
        escape(&reason),
    );
    EmailContent {
        subject: format!("Contract {} {verb}", changed.number),
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let mail = endpoint_disabled_mail("https://x.example/<script>", "410 Gone");
        assert!(!mail.html.contains("<script>"));
        assert!(mail.text.contains("https://x.example/<script>"));
    }
}
