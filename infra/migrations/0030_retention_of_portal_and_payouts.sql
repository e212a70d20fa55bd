-- Retention for the guardian portal's and the school office's tables (0027, 0028), as for
-- the other data classes (0010): a guardian's read notifications go after 90 days (unread
-- ones stay until read), the bank's answered auto top-up requests after a year (pending
-- ones stay: the relay still sends them), and payouts, money paid back to guardians, are
-- financial records: archived with the ledger's period, never purged.

CREATE TABLE archive.guardian_inbox (LIKE public.guardian_inbox INCLUDING DEFAULTS);
CREATE TABLE archive.topup_requests (LIKE public.topup_requests INCLUDING DEFAULTS);
CREATE TABLE archive.payouts (LIKE public.payouts INCLUDING DEFAULTS);
-- an archived row is there once, whatever reruns happen
ALTER TABLE archive.guardian_inbox ADD PRIMARY KEY (id);
ALTER TABLE archive.topup_requests ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE archive.payouts ADD PRIMARY KEY (tenant_id, id);
-- no statistics on tenant_id (0016 says why)
ALTER TABLE archive.guardian_inbox ALTER COLUMN tenant_id SET STATISTICS 0;
ALTER TABLE archive.topup_requests ALTER COLUMN tenant_id SET STATISTICS 0;
ALTER TABLE archive.payouts ALTER COLUMN tenant_id SET STATISTICS 0;

-- payouts join the classes that may never be purged (money and accountability); the two
-- checks are found by what they say, whatever their generated names
DO $$
DECLARE
    found record;
BEGIN
    FOR found IN
        SELECT conname FROM pg_constraint
         WHERE conrelid = 'retention_policies'::regclass AND contype = 'c'
           AND pg_get_constraintdef(oid) LIKE '%audit_log%'
    LOOP
        EXECUTE format('ALTER TABLE retention_policies DROP CONSTRAINT %I', found.conname);
    END LOOP;
END $$;
ALTER TABLE retention_policies ADD CONSTRAINT retention_policies_kept_classes_archive_only
    CHECK (purge OR data_class IN ('postings', 'ledger_entries', 'audit_log', 'payouts'));
ALTER TABLE retention_policies ADD CONSTRAINT retention_policies_kept_classes_never_purged
    CHECK (NOT purge OR data_class NOT IN ('postings', 'ledger_entries', 'audit_log', 'payouts'));

INSERT INTO retention_policies (data_class, days, purge) VALUES
    ('guardian_inbox', 90, true),
    ('topup_requests', 365, true);
-- as long as the ledger's records are kept hot, and archived with them
INSERT INTO retention_policies (data_class, days, purge)
    SELECT 'payouts', days, false FROM retention_policies WHERE data_class = 'ledger_entries';
