-- The case console: a supervisor role, assignment, four-eyes decisions on interdicted
-- transactions, and each case's audit trail.

-- Supervisors confirm what an operator decided about an interdicted transaction.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'school_staff', 'guardian', 'operator', 'analyst', 'integration',
                    'supervisor'));

-- A decision on an interdicted transaction waits for a supervisor's confirmation
-- (`awaiting_confirmation`, the operator's decision in proposed_outcome, decided_by and note)
-- before the case is decided; `outcome` is only ever the final one.
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('open', 'escalated', 'awaiting_confirmation', 'decided'));
ALTER TABLE cases
    ADD COLUMN interdicted      boolean NOT NULL DEFAULT false,
    -- when the case is escalated if nothing happens (its decision, or its confirmation)
    ADD COLUMN due_at           timestamptz,
    ADD COLUMN assigned_to      text,
    ADD COLUMN assigned_at      timestamptz,
    ADD COLUMN proposed_outcome text CHECK (proposed_outcome IN ('confirmed_fraud', 'false_positive')),
    ADD COLUMN proposed_at      timestamptz,
    ADD COLUMN confirmed_by     text,
    ADD COLUMN confirmed_at     timestamptz,
    ADD CONSTRAINT cases_awaiting_has_a_proposal
        CHECK (status <> 'awaiting_confirmation' OR proposed_outcome IS NOT NULL);
UPDATE cases c SET interdicted = e.interdicted
FROM evaluations e WHERE e.evaluation_id = c.evaluation_id AND e.interdicted;
UPDATE cases SET due_at = opened_at + interval '24 hours' WHERE status <> 'decided';

-- Who saw, assigned, noted, decided, confirmed a case (and its escalations): append-only,
-- like audit_log.
CREATE TABLE case_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   text NOT NULL,
    msg_id      text NOT NULL,
    actor       text NOT NULL,      -- the user id, or 'saku' for what the workflow did
    actor_role  text NOT NULL,
    action      text NOT NULL CHECK (action IN
                    ('viewed', 'assigned', 'noted', 'decided', 'confirmed', 'escalated')),
    note        text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, msg_id) REFERENCES cases (tenant_id, msg_id)
);
CREATE INDEX case_events_case_idx ON case_events (tenant_id, msg_id, id);
CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a case''s audit trail is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER case_events_no_change BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION case_events_append_only();
-- TRUNCATE skips row triggers
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only();

-- no statistics on tenant_id (see 0016_no_statistics_on_tenant_id.sql)
ALTER TABLE case_events ALTER COLUMN tenant_id SET STATISTICS 0;
