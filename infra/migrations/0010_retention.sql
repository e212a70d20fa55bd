-- Retention: rows past their data class's retention are copied to the `archive` schema,
-- then purged from the hot tables, with counts recorded. The ledger and the audit trail are
-- archived too, but never purged.

CREATE SCHEMA archive;

CREATE TABLE archive.raw_messages (LIKE public.raw_messages INCLUDING DEFAULTS);
CREATE TABLE archive.evaluations (LIKE public.evaluations INCLUDING DEFAULTS);
CREATE TABLE archive.transaction_edges (LIKE public.transaction_edges INCLUDING DEFAULTS);
CREATE TABLE archive.notification_outbox (LIKE public.notification_outbox INCLUDING DEFAULTS);
CREATE TABLE archive.postings (LIKE public.postings INCLUDING DEFAULTS);
CREATE TABLE archive.ledger_entries (LIKE public.ledger_entries INCLUDING DEFAULTS);
CREATE TABLE archive.audit_log (LIKE public.audit_log INCLUDING DEFAULTS);
-- an archived row is there once, whatever reruns happen
ALTER TABLE archive.raw_messages ADD PRIMARY KEY (tenant_id, msg_id);
ALTER TABLE archive.evaluations ADD PRIMARY KEY (evaluation_id);
ALTER TABLE archive.transaction_edges ADD PRIMARY KEY (tenant_id, msg_id);
ALTER TABLE archive.notification_outbox ADD PRIMARY KEY (id);
ALTER TABLE archive.postings ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE archive.ledger_entries ADD COLUMN entry_key text GENERATED ALWAYS AS
    (tenant_id || ':' || posting_id || ':' || account_id) STORED;
ALTER TABLE archive.ledger_entries ADD PRIMARY KEY (entry_key);
ALTER TABLE archive.audit_log ADD PRIMARY KEY (id);

CREATE TABLE retention_policies (
    data_class  text PRIMARY KEY,
    days        integer NOT NULL CHECK (days >= 1),
    purge       boolean NOT NULL,  -- false: archived only (money and accountability)
    CHECK (purge OR data_class IN ('postings', 'ledger_entries', 'audit_log')),
    CHECK (NOT purge OR data_class NOT IN ('postings', 'ledger_entries', 'audit_log'))
);
INSERT INTO retention_policies (data_class, days, purge) VALUES
    ('raw_messages', 90, true),
    ('evaluations', 90, true),
    ('transaction_edges', 90, true),
    ('notification_outbox', 30, true),
    ('postings', 90, false),
    ('ledger_entries', 90, false),
    ('audit_log', 90, false);

CREATE TABLE retention_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    data_class  text NOT NULL,
    cutoff      timestamptz NOT NULL,
    archived    bigint NOT NULL,
    purged      bigint NOT NULL,
    ran_at      timestamptz NOT NULL DEFAULT now()
);
