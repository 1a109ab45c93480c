-- Core schema of the Blue Whale order pipeline (DESIGN.md §4).
-- Money is numeric(12,2) for prices and numeric(14,2) for totals: a line of 1 000 000 units
-- at a five-figure price must not overflow. Dates that are calendar days are `date`;
-- instants are `timestamptz`.

-- ───────────────────────────── organisations ─────────────────────────────
CREATE TABLE platforms (
    id          uuid PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    city        text,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE station_groups (
    id          uuid PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stations (
    id           uuid PRIMARY KEY,
    code         text NOT NULL UNIQUE,
    name         text NOT NULL,
    group_id     uuid REFERENCES station_groups (id),
    platform_id  uuid REFERENCES platforms (id),
    address      text,
    postal_code  text,
    city         text,
    country      char(2) NOT NULL DEFAULT 'FR',
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE suppliers (
    id          uuid PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    siret       text,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE supplier_sites (
    id           uuid PRIMARY KEY,
    supplier_id  uuid NOT NULL REFERENCES suppliers (id),
    name         text NOT NULL,
    address      text,
    postal_code  text,
    city         text,
    country      char(2) NOT NULL DEFAULT 'FR',
    is_primary   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX supplier_sites_supplier_idx ON supplier_sites (supplier_id);
-- At most one primary site per supplier.
CREATE UNIQUE INDEX supplier_sites_one_primary ON supplier_sites (supplier_id) WHERE is_primary;

-- ───────────────────────────── users and sessions ─────────────────────────────
CREATE TABLE users (
    id                    uuid PRIMARY KEY,
    email                 text NOT NULL,
    full_name             text NOT NULL,
    password_hash         text NOT NULL,
    role                  text NOT NULL CHECK (role IN ('ADMIN', 'MANAGER', 'HANDLER', 'STATION', 'SUPPLIER')),
    org_type              text NOT NULL CHECK (org_type IN ('BLUEWHALE', 'STATION', 'SUPPLIER')),
    org_id                uuid,
    active                boolean NOT NULL DEFAULT true,
    failed_login_count    integer NOT NULL DEFAULT 0,
    locked_until          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    -- A role belongs to exactly one kind of organisation; staff have no org id.
    CONSTRAINT users_role_matches_org CHECK (
        (role IN ('ADMIN', 'MANAGER', 'HANDLER') AND org_type = 'BLUEWHALE' AND org_id IS NULL)
        OR (role = 'STATION' AND org_type = 'STATION' AND org_id IS NOT NULL)
        OR (role = 'SUPPLIER' AND org_type = 'SUPPLIER' AND org_id IS NOT NULL)
    )
);
-- Emails are matched case-insensitively.
CREATE UNIQUE INDEX users_email_unique ON users (lower(email));

-- Rotating refresh tokens: only a SHA-256 of the token is stored. A family is one login;
-- replaying a spent token revokes the whole family.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id),
    token_hash  bytea NOT NULL UNIQUE,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    spent_at    timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- ───────────────────────────── catalogue and contracts ─────────────────────────────
CREATE TABLE products (
    id                         uuid PRIMARY KEY,
    code                       text NOT NULL UNIQUE,
    name                       text NOT NULL,
    description                text,
    category                   text NOT NULL,
    conditioning_unit          text NOT NULL,
    quantity_per_conditioning  integer NOT NULL CHECK (quantity_per_conditioning > 0),
    active                     boolean NOT NULL DEFAULT true,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE master_contracts (
    id                   uuid PRIMARY KEY,
    number               text NOT NULL UNIQUE,
    supplier_id          uuid NOT NULL REFERENCES suppliers (id),
    status               text NOT NULL CHECK (status IN ('DRAFT', 'ACTIVE', 'SUSPENDED', 'EXPIRED', 'TERMINATED')),
    valid_from           date NOT NULL,
    valid_until          date NOT NULL,
    currency             char(3) NOT NULL DEFAULT 'EUR',
    minimum_order_value  numeric(12, 2) CHECK (minimum_order_value >= 0),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT master_contracts_valid_range CHECK (valid_from <= valid_until)
);
CREATE INDEX master_contracts_supplier_idx ON master_contracts (supplier_id, status);

CREATE TABLE contract_lines (
    id                  uuid PRIMARY KEY,
    contract_id         uuid NOT NULL REFERENCES master_contracts (id),
    product_id          uuid NOT NULL REFERENCES products (id),
    supplier_reference  text,
    unit_price          numeric(12, 2) NOT NULL CHECK (unit_price > 0),
    min_order_quantity  integer NOT NULL DEFAULT 1 CHECK (min_order_quantity >= 1),
    -- [{"min_quantity": 100, "reduction_percent": "5.00"}, ...]
    price_breaks        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(price_breaks) = 'array'),
    tax_rate            numeric(5, 2) NOT NULL DEFAULT 20.00 CHECK (tax_rate >= 0 AND tax_rate < 100),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contract_lines_one_per_product UNIQUE (contract_id, product_id)
);
CREATE INDEX contract_lines_product_idx ON contract_lines (product_id);

-- ───────────────────────────── orders ─────────────────────────────
CREATE TABLE master_orders (
    id                       uuid PRIMARY KEY,
    reference                text NOT NULL UNIQUE,
    station_id               uuid NOT NULL REFERENCES stations (id),
    created_by               uuid NOT NULL REFERENCES users (id),
    idempotency_key          text NOT NULL,
    -- SHA-256 of the canonical request, to tell a replay from a key reused for another body.
    request_hash             bytea NOT NULL,
    status                   text NOT NULL,
    order_date               date NOT NULL,
    accepted_at              timestamptz NOT NULL,
    requested_delivery_date  date,
    notes                    text,
    currency                 char(3) NOT NULL DEFAULT 'EUR',
    total_excluding_tax      numeric(14, 2) NOT NULL DEFAULT 0,
    tax_amount               numeric(14, 2) NOT NULL DEFAULT 0,
    total_including_tax      numeric(14, 2) NOT NULL DEFAULT 0,
    rejection                jsonb,
    command_id               uuid NOT NULL UNIQUE,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    -- Invariant 2: one master order per (user, idempotency key).
    CONSTRAINT master_orders_idempotency UNIQUE (created_by, idempotency_key),
    CONSTRAINT master_orders_rejection_iff_rejected CHECK ((status = 'REJECTED') = (rejection IS NOT NULL))
);
CREATE INDEX master_orders_station_idx ON master_orders (station_id, created_at DESC);
CREATE INDEX master_orders_status_idx ON master_orders (status);
CREATE INDEX master_orders_created_idx ON master_orders (created_at DESC);

CREATE TABLE purchase_orders (
    id                   uuid PRIMARY KEY,
    number               text NOT NULL UNIQUE,
    master_order_id      uuid NOT NULL REFERENCES master_orders (id),
    supplier_id          uuid NOT NULL REFERENCES suppliers (id),
    station_id           uuid NOT NULL REFERENCES stations (id),
    status               text NOT NULL CHECK (status IN ('REGISTERED', 'CONFIRMED', 'SHIPPED', 'RECEIVED', 'CLOSED', 'INVOICED', 'ARCHIVED', 'CANCELLED')),
    order_date           date NOT NULL,
    currency             char(3) NOT NULL DEFAULT 'EUR',
    total_excluding_tax  numeric(14, 2) NOT NULL,
    tax_amount           numeric(14, 2) NOT NULL,
    total_including_tax  numeric(14, 2) NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- Invariant 2: exactly one purchase order per (master order, supplier).
    CONSTRAINT purchase_orders_one_per_supplier UNIQUE (master_order_id, supplier_id)
);
CREATE INDEX purchase_orders_supplier_idx ON purchase_orders (supplier_id, created_at DESC);
CREATE INDEX purchase_orders_station_idx ON purchase_orders (station_id, created_at DESC);
CREATE INDEX purchase_orders_created_idx ON purchase_orders (created_at DESC);

CREATE TABLE purchase_order_lines (
    id                  uuid PRIMARY KEY,
    purchase_order_id   uuid NOT NULL REFERENCES purchase_orders (id),
    line_number         integer NOT NULL,
    -- No foreign keys to the catalogue: every concurrent order would take a share lock on the
    -- same hot product and contract rows (contended multixacts, measured as the costliest
    -- insert of the batch). The line keeps its own copy of the terms, and catalogue rows are
    -- never deleted (refused by trigger below), so the references cannot dangle.
    product_id          uuid NOT NULL,
    product_code        text NOT NULL,
    product_name        text NOT NULL,
    conditioning_unit   text NOT NULL,
    supplier_reference  text,
    contract_id         uuid NOT NULL,
    contract_line_id    uuid NOT NULL,
    quantity            integer NOT NULL CHECK (quantity > 0),
    base_unit_price     numeric(12, 2) NOT NULL,
    reduction_percent   numeric(5, 2) NOT NULL,
    unit_price          numeric(12, 2) NOT NULL,
    tax_rate            numeric(5, 2) NOT NULL,
    line_total          numeric(14, 2) NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT purchase_order_lines_number UNIQUE (purchase_order_id, line_number),
    CONSTRAINT purchase_order_lines_one_per_product UNIQUE (purchase_order_id, product_id)
);

-- Products and contracts are deactivated or terminated, never deleted: order lines refer to
-- them without foreign keys.
CREATE FUNCTION catalogue_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted (deactivate or terminate them instead)', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER products_no_delete BEFORE DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION catalogue_refuse_delete();
CREATE TRIGGER master_contracts_no_delete BEFORE DELETE ON master_contracts
    FOR EACH ROW EXECUTE FUNCTION catalogue_refuse_delete();
CREATE TRIGGER contract_lines_no_delete BEFORE DELETE ON contract_lines
    FOR EACH ROW EXECUTE FUNCTION catalogue_refuse_delete();

CREATE TABLE purchase_order_status_history (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purchase_order_id  uuid NOT NULL REFERENCES purchase_orders (id),
    from_status        text,
    to_status          text NOT NULL,
    changed_at         timestamptz NOT NULL DEFAULT now(),
    actor_user_id      uuid,
    command_id         uuid,
    reason             text
);
CREATE INDEX purchase_order_status_history_po_idx ON purchase_order_status_history (purchase_order_id);

-- ───────────────────────────── infrastructure ─────────────────────────────
-- One row per processed command: the idempotency record of the workers.
CREATE TABLE commands (
    id            uuid PRIMARY KEY,
    type          text NOT NULL,
    subject       text NOT NULL,
    actor         jsonb NOT NULL,
    request_id    text,
    outcome       text NOT NULL CHECK (outcome IN ('APPLIED', 'REJECTED', 'DEAD_LETTERED')),
    error         jsonb,
    issued_at     timestamptz NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox: one row per business transaction holding all its events, written with
-- the change and published by the relay (one message per event, message id = event id), then
-- deleted. One row per transaction rather than per event: the relay's claim, lock and delete
-- cost is paid once for a whole batch. A row that cannot be published counts its attempts and
-- is claimed after fresher ones, so it never holds the others back.
CREATE TABLE outbox (
    id           uuid PRIMARY KEY,
    -- [{"subject": "bw.evt.…", "id": "<event id>", "event": {"id", "type", "version",
    -- "occurred_at", "command_id", "data"}}]. `json`, not `jsonb`: it is only ever read back
    -- whole, so the binary conversion would be paid for nothing.
    events       json NOT NULL CHECK (json_typeof(events) = 'array'),
    event_count  integer NOT NULL CHECK (event_count > 0),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_claim_idx ON outbox (attempts, created_at, id);

CREATE TABLE dead_letters (
    id              uuid PRIMARY KEY,
    command_id      uuid,
    subject         text NOT NULL,
    payload         bytea NOT NULL,
    reason          text NOT NULL,
    error           text NOT NULL,
    delivery_count  integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_command_idx ON dead_letters (command_id);

CREATE TABLE audit_log (
    id              uuid PRIMARY KEY,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    actor_user_id   uuid,
    actor_role      text,
    actor_org_type  text,
    actor_org_id    uuid,
    action          text NOT NULL,
    entity_type     text NOT NULL,
    entity_id       uuid,
    changes         jsonb NOT NULL DEFAULT '{}',
    command_id      uuid,
    request_id      text,
    reason          text,
    client_address  text
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_command_idx ON audit_log (command_id);

-- The audit trail is append-only, whoever connects.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Gapless document numbers per kind and year, incremented inside the processing transaction.
CREATE TABLE number_sequences (
    kind        text NOT NULL,
    year        integer NOT NULL,
    last_value  bigint NOT NULL CHECK (last_value >= 0),
    PRIMARY KEY (kind, year)
);
