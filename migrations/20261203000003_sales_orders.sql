-- Blue Whale's sales order to the station (issue 8 §4): written with every priced master
-- order, in the same transaction; invoiced by staff once the goods have arrived.

CREATE TABLE sales_orders (
    id                            uuid PRIMARY KEY,
    number                        text NOT NULL UNIQUE,
    master_order_id               uuid NOT NULL UNIQUE REFERENCES master_orders (id),
    station_id                    uuid NOT NULL REFERENCES stations (id),
    status                        text NOT NULL CHECK (status IN ('ISSUED', 'INVOICED')),
    version                       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    order_date                    date NOT NULL,
    currency                      char(3) NOT NULL DEFAULT 'EUR',
    total_excluding_tax           numeric(14, 2) NOT NULL,
    tax_amount                    numeric(14, 2) NOT NULL,
    total_including_tax           numeric(14, 2) NOT NULL,
    -- Set together when invoiced: the invoice bills the lines of the purchase orders that
    -- were not cancelled (the others are credited), VAT again rounded once per rate.
    invoice_number                text UNIQUE,
    invoice_date                  date,
    due_date                      date,
    invoiced_total_excluding_tax  numeric(14, 2),
    invoiced_tax_amount           numeric(14, 2),
    invoiced_total_including_tax  numeric(14, 2),
    invoiced_at                   timestamptz,
    -- Set when invoiced: the cancelled purchase orders, whose lines are credited.
    credited_purchase_order_ids   uuid[],
    created_at                    timestamptz NOT NULL,
    updated_at                    timestamptz NOT NULL,
    CONSTRAINT sales_orders_invoice_iff_invoiced CHECK (
        (status = 'INVOICED') = (invoice_number IS NOT NULL AND invoice_date IS NOT NULL
            AND due_date IS NOT NULL AND invoiced_total_excluding_tax IS NOT NULL
            AND invoiced_tax_amount IS NOT NULL AND invoiced_total_including_tax IS NOT NULL
            AND invoiced_at IS NOT NULL AND credited_purchase_order_ids IS NOT NULL)),
    CONSTRAINT sales_orders_due_after_invoice CHECK (due_date >= invoice_date)
);
CREATE INDEX sales_orders_station_idx ON sales_orders (station_id, created_at DESC);
CREATE INDEX sales_orders_created_idx ON sales_orders (created_at DESC);

-- A sales-order line is its purchase-order line resold: the resale terms live on that row
-- (one row per line on the order path, not two), and the sales order reads them through its
-- master order. Null on lines priced before sales orders existed.
ALTER TABLE purchase_order_lines
    ADD COLUMN platform_fee_percent  numeric(5, 2) CHECK (platform_fee_percent >= 0 AND platform_fee_percent < 100),
    ADD COLUMN sales_unit_price      numeric(12, 2),
    ADD COLUMN sales_line_total      numeric(14, 2);
