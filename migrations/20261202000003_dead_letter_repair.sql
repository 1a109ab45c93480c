-- Dead letters become repairable: operators replay or discard them, and who did what stays
-- on the row (the audit trail has the full story). `version` serialises racing resolutions.
ALTER TABLE dead_letters
    ADD COLUMN status text NOT NULL DEFAULT 'OPEN'
        CHECK (status IN ('OPEN', 'REPLAYED', 'DISCARDED')),
    ADD COLUMN headers jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN stream_sequence bigint,
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN resolved_by uuid,
    ADD COLUMN resolution_reason text,
    ADD COLUMN replay_message_id uuid,
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD CONSTRAINT dead_letters_resolution_ck
        CHECK ((status = 'OPEN') = (resolved_at IS NULL));

-- The ops list: newest first within a status, keyset-paged on (created_at, id).
CREATE INDEX dead_letters_status_idx ON dead_letters (status, created_at DESC, id DESC);

-- Every process says it is alive every few seconds, so operators see which run.
CREATE TABLE process_heartbeats (
    instance_id  uuid PRIMARY KEY,
    role         text NOT NULL,
    host         text NOT NULL,
    pid          integer NOT NULL,
    ops_addr     text NOT NULL,
    started_at   timestamptz NOT NULL,
    seen_at      timestamptz NOT NULL
);

-- Throughput and latency of the last minutes, read by the ops overview: BRIN stays tiny and
-- cheap to maintain on an append-mostly table.
CREATE INDEX commands_processed_brin ON commands USING brin (processed_at);
