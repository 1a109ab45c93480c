-- Master contracts managed through the command path (issue 8 §1): a version for optimistic
-- concurrency, Blue Whale's fee, notes, the lifecycle's instants and reasons, and renewals.

ALTER TABLE master_contracts
    ADD COLUMN version               integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN platform_fee_percent  numeric(5, 2) NOT NULL DEFAULT 0
        CHECK (platform_fee_percent >= 0 AND platform_fee_percent < 100),
    ADD COLUMN notes                 text CHECK (char_length(notes) <= 2000),
    ADD COLUMN status_reason         text CHECK (char_length(status_reason) <= 500),
    ADD COLUMN renewed_from          uuid REFERENCES master_contracts (id),
    ADD COLUMN activated_at          timestamptz,
    ADD COLUMN suspended_at          timestamptz,
    ADD COLUMN terminated_at         timestamptz,
    ADD COLUMN expired_at            timestamptz;

-- The expiry job looks for contracts in force whose validity has ended.
CREATE INDEX master_contracts_in_force_until_idx ON master_contracts (valid_until)
    WHERE status IN ('ACTIVE', 'SUSPENDED');

-- The lines of a DRAFT are replaced as a whole; once a contract has left DRAFT its lines are
-- fixed (DESIGN §5.2): purchase-order lines refer to them.
DROP TRIGGER contract_lines_no_delete ON contract_lines;
CREATE FUNCTION contract_lines_fixed_once_drafted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT status FROM master_contracts WHERE id = OLD.contract_id) <> 'DRAFT' THEN
        RAISE EXCEPTION 'lines of a contract that is not a DRAFT are never changed'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
CREATE TRIGGER contract_lines_fixed BEFORE UPDATE OR DELETE ON contract_lines
    FOR EACH ROW EXECUTE FUNCTION contract_lines_fixed_once_drafted();

-- Scheduled jobs that run once per interval across any number of workers: the worker that
-- locks a job's row (the others skip it) runs the job if its last run is old enough.
CREATE TABLE scheduled_jobs (
    name         text PRIMARY KEY,
    last_run_at  timestamptz NOT NULL
);
