-- Throughput (issue 10): the order path writes a few kilobytes of JSON per order into the
-- outbox (its events) and the audit log (its changes). pglz, the default, compresses them at
-- a fraction of lz4's speed, and the compression runs inside the transaction that holds the
-- document-number locks. lz4 is built into PostgreSQL ≥ 14 as Debian and the official images
-- ship it; values already stored stay as they are.
ALTER TABLE outbox ALTER COLUMN events SET COMPRESSION lz4;
ALTER TABLE audit_log ALTER COLUMN changes SET COMPRESSION lz4;
