-- The general command path and the purchase-order lifecycle (issue 5).

-- ───────────────────────────── commands ─────────────────────────────
-- Every command names the aggregate it changes (the resource of GET /commands/{id}), and keeps
-- the hash of the request that carried it, so a reused Idempotency-Key is told from a replay
-- for every write endpoint, not only for orders.
ALTER TABLE commands
    ADD COLUMN aggregate_type  text,
    ADD COLUMN aggregate_id    uuid,
    ADD COLUMN request_hash    text;
-- Who may read a command: its issuer (and staff). Listed per user for later ops views.
CREATE INDEX commands_actor_idx ON commands (((actor ->> 'user_id')::uuid), issued_at DESC);

-- ───────────────────────────── aggregate versions ─────────────────────────────
-- Optimistic concurrency: each change increments the version; If-Match compares with it.
ALTER TABLE master_orders ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE purchase_orders ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);

-- ───────────────────────────── purchase-order lifecycle ─────────────────────────────
ALTER TABLE purchase_orders
    ADD COLUMN confirmed_delivery_date  date,
    ADD COLUMN carrier                  text CHECK (char_length(carrier) <= 100),
    ADD COLUMN tracking_number          text CHECK (char_length(tracking_number) <= 100),
    ADD COLUMN confirmed_at             timestamptz,
    ADD COLUMN shipped_at               timestamptz,
    ADD COLUMN received_at              timestamptz,
    ADD COLUMN closed_at                timestamptz,
    ADD COLUMN cancelled_at             timestamptz,
    ADD COLUMN cancellation_reason      text CHECK (char_length(cancellation_reason) <= 500),
    ADD COLUMN invoice_number           text CHECK (char_length(invoice_number) <= 50),
    ADD COLUMN invoiced_at              timestamptz,
    ADD COLUMN archived_at              timestamptz,
    ADD COLUMN archive_reason           text CHECK (char_length(archive_reason) <= 500),
    ADD COLUMN has_discrepancy          boolean NOT NULL DEFAULT false;
CREATE INDEX purchase_orders_master_idx ON purchase_orders (master_order_id);
CREATE INDEX purchase_orders_status_idx ON purchase_orders (status, created_at DESC);

ALTER TABLE purchase_order_lines
    ADD COLUMN received_quantity  integer CHECK (received_quantity >= 0),
    ADD COLUMN reception_note     text CHECK (char_length(reception_note) <= 500);

-- The history names the actor fully (role and organisation at the time) and keeps the step's
-- details (delivery date, carrier, received lines, invoice number…).
ALTER TABLE purchase_order_status_history
    ADD COLUMN actor_role      text,
    ADD COLUMN actor_org_type  text,
    ADD COLUMN actor_org_id    uuid,
    ADD COLUMN details         jsonb;
