-- The audit API (issue 9 §4) lists newest first, whole or by actor; entity filters use the
-- existing (entity_type, entity_id) index.
CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, occurred_at DESC);
