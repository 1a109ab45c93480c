-- Master data on the command path (issue 8 §2): products, suppliers (and their sites),
-- station groups, stations and users carry a version for If-Match; users get one-time
-- password tokens (an admin's reset, a new user's first password).

ALTER TABLE products       ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE suppliers      ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE station_groups ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE stations       ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE users          ADD COLUMN version integer NOT NULL DEFAULT 1;

-- A user created through the API has no password until they set one with their token: '!'
-- is no argon2id PHC string, so no password verifies against it.
ALTER TABLE users ALTER COLUMN password_hash SET DEFAULT '!';

-- One-time password tokens: only the SHA-256 of the token is stored; the plain token exists
-- only in the answer to the admin who asked for it.
CREATE TABLE password_reset_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    token_hash  bytea NOT NULL UNIQUE,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    command_id  uuid NOT NULL
);
CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (user_id);
