-- Supplier notifications (issue 6): webhook endpoints managed through the command path, and the
-- notifier's durable delivery state (messages per endpoint or mailbox, and their attempts).

-- The supplier's order contact receives an e-mail for each new and each cancelled purchase order.
ALTER TABLE suppliers
    ADD COLUMN order_contact_email text CHECK (char_length(order_contact_email) <= 254);

-- ───────────────────────────── webhook endpoints ─────────────────────────────
CREATE TABLE webhook_endpoints (
    id                          uuid PRIMARY KEY,
    supplier_id                 uuid NOT NULL REFERENCES suppliers (id),
    url                         text NOT NULL CHECK (char_length(url) <= 2000),
    description                 text CHECK (char_length(description) <= 500),
    -- NULL: every supplier event type, including types added later.
    event_types                 text[],
    enabled                     boolean NOT NULL DEFAULT true,
    disabled_reason             text CHECK (char_length(disabled_reason) <= 500),
    -- Signing secrets, sealed (XChaCha20-Poly1305: nonce || ciphertext, the endpoint id as
    -- associated data) under BW_WEBHOOK_SECRET_KEY: a database dump alone reveals none.
    secret                      bytea NOT NULL,
    previous_secret             bytea,
    previous_secret_expires_at  timestamptz,
    -- First failed attempt since the last success: an endpoint failing for long is disabled.
    failing_since               timestamptz,
    version                     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    -- Deleted endpoints are kept (their delivery log stays readable to operators), never shown.
    deleted_at                  timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_endpoints_previous_secret CHECK (
        (previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE INDEX webhook_endpoints_supplier_idx ON webhook_endpoints (supplier_id, created_at)
    WHERE deleted_at IS NULL;

-- ───────────────────────────── notification delivery ─────────────────────────────
-- One row per (event, endpoint) or (event, mailbox): the unique indexes make the notifier's
-- fan-out idempotent, and the row's status makes a recorded success final.
CREATE TABLE notification_messages (
    id               uuid PRIMARY KEY,
    channel          text NOT NULL CHECK (channel IN ('WEBHOOK', 'EMAIL')),
    supplier_id      uuid NOT NULL REFERENCES suppliers (id),
    endpoint_id      uuid REFERENCES webhook_endpoints (id),
    recipient        text CHECK (char_length(recipient) <= 254),
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    -- What is delivered, rendered once at fan-out so every retry sends the same bytes: the
    -- webhook body, or the e-mail as {subject, text, html}.
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'PENDING'
                         CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- Attempts made before the current round (a resend or recover starts a new round of the
    -- retry schedule; attempt numbers keep counting).
    round_start      integer NOT NULL DEFAULT 0 CHECK (round_start >= 0),
    next_attempt_at  timestamptz,
    -- A notifier holding the message: no other claims it before leased_until.
    lease_token      uuid,
    leased_until     timestamptz,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_messages_target CHECK (
        (channel = 'WEBHOOK' AND endpoint_id IS NOT NULL AND recipient IS NULL)
        OR (channel = 'EMAIL' AND recipient IS NOT NULL AND endpoint_id IS NULL)),
    CONSTRAINT notification_messages_schedule CHECK (
        (status = 'PENDING') = (next_attempt_at IS NOT NULL))
);
CREATE UNIQUE INDEX notification_messages_webhook_once
    ON notification_messages (event_id, endpoint_id) WHERE channel = 'WEBHOOK';
CREATE UNIQUE INDEX notification_messages_email_once
    ON notification_messages (event_id, recipient) WHERE channel = 'EMAIL';
CREATE INDEX notification_messages_due_idx
    ON notification_messages (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX notification_messages_endpoint_idx
    ON notification_messages (endpoint_id, created_at DESC) WHERE endpoint_id IS NOT NULL;

CREATE TABLE notification_attempts (
    id                uuid PRIMARY KEY,
    message_id        uuid NOT NULL REFERENCES notification_messages (id),
    attempt           integer NOT NULL CHECK (attempt >= 1),
    started_at        timestamptz NOT NULL,
    duration_ms       integer NOT NULL CHECK (duration_ms >= 0),
    succeeded         boolean NOT NULL,
    http_status       integer,
    -- The first kilobyte of the receiver's answer, for the supplier's debugging.
    response_excerpt  text CHECK (char_length(response_excerpt) <= 1024),
    error             text,
    UNIQUE (message_id, attempt)
);
