-- Erasure (issue 9 §5) without touching the append-only audit rows: a user's personal fields
-- inside audit changes (and the events that publish them) are sealed with a key of that
-- user's own; erasing the user destroys the key, and what was sealed reads "[ERASED]".
CREATE TABLE personal_data_keys (
    user_id     uuid PRIMARY KEY,
    key         bytea NOT NULL CHECK (length(key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- An erased user keeps their row (business records point at it) under a pseudonym.
ALTER TABLE users ADD COLUMN erased_at timestamptz;
