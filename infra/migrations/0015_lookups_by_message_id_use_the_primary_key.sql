-- Lookups by message id must use the primary key (tenant_id, msg_id). While statistics lag
-- a new tenant, the planner estimates its rows at zero, and it probed another index that
-- starts with tenant_id by tenant alone, filtering every one of the tenant's rows for each
-- message id: loading a batch of 250 transactions for evaluation took six seconds. So no
-- other index on these tables starts with tenant_id.

-- Nothing reads raw messages by end-to-end id (a status report is completed from its
-- payment's edge), and the index cost every insert.
DROP INDEX raw_messages_e2e_idx;

-- An evaluation by end-to-end id: the id first (it is near unique on its own), then tenant.
DROP INDEX evaluations_e2e_idx;
CREATE INDEX evaluations_e2e_idx ON evaluations (end_to_end_id, tenant_id);
