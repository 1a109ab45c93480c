-- An event that cannot be published (no stream for its subject, say) must not hold back the
-- events behind it: the relay counts failed attempts and claims the least-tried events first.
ALTER TABLE outbox
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error text;
DROP INDEX outbox_created_idx;
CREATE INDEX outbox_claim_idx ON outbox (attempts, created_at, id);
