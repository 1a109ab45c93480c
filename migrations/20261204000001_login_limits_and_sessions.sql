-- Security (issue 9 §3): login limits that no third party can turn into a lock-out, shared by
-- every ingress, and access tokens that end with their session.

-- Fixed-window counters: per client address (every login or refresh), per (account, address)
-- failed logins (refused past a limit) and per account failed logins (a slowdown, never a
-- refusal). Keys are SHA-256 digests of what is counted, so neither an address nor an e-mail
-- is stored here; a row is dead once its window has passed and is purged by the retention job.
CREATE TABLE login_limits (
    key           text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL CHECK (hits > 0)
);
CREATE INDEX login_limits_window_idx ON login_limits (window_start);

-- The per-account lock-out it replaces: five wrong passwords from anyone locked the real user out.
ALTER TABLE users DROP COLUMN failed_login_count, DROP COLUMN locked_until;

-- Sessions (refresh-token families) that were ended: logout, a replayed refresh token, a
-- password change, a deactivation. Access tokens name their session (`sid`); every ingress
-- keeps the recent rows in memory and reloads them on each notification, so a revoked
-- session's access tokens are refused within moments without a query per request.
CREATE TABLE revoked_sessions (
    session_id  uuid PRIMARY KEY,
    user_id     uuid NOT NULL,
    revoked_at  timestamptz NOT NULL
);
CREATE INDEX revoked_sessions_revoked_at_idx ON revoked_sessions (revoked_at);

CREATE FUNCTION revoked_sessions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bw_revoked_sessions', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER revoked_sessions_notify AFTER INSERT ON revoked_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION revoked_sessions_notify();

-- Where a security event came from (client address, user agent): personal data with a
-- retention limit, so it lives beside the append-only audit rows and not in them; the
-- retention job and erasure delete these rows while the audit trail stays untouched.
-- No foreign key to audit_log: it would make the append-only table's TRUNCATE refusal a
-- foreign-key error instead of the trigger's, and the rows are only ever written together.
CREATE TABLE audit_clients (
    audit_id        uuid PRIMARY KEY,
    occurred_at     timestamptz NOT NULL,
    client_address  text,
    user_agent      text
);
CREATE INDEX audit_clients_occurred_at_idx ON audit_clients (occurred_at);
