-- The school office: what Saku knows of each kiosk's offline journal, and leavers' balances
-- paid back to a guardian through the bank (a payout, ledger-posted into payouts pending).

-- A kiosk reports its unsynced journal (sales and amount) when it asks for its config, and
-- an offline-sales upload records when it last synced.
ALTER TABLE kiosks ADD COLUMN last_synced_at timestamptz;
ALTER TABLE kiosks ADD COLUMN journal_unsynced integer CHECK (journal_unsynced >= 0);
ALTER TABLE kiosks ADD COLUMN journal_unsynced_amount numeric(20, 4)
    CHECK (journal_unsynced_amount >= 0);
ALTER TABLE kiosks ADD COLUMN journal_reported_at timestamptz;

-- New kinds: a 'payouts_pending' account (money owed to guardians until the bank pays) and
-- 'payout' postings. Other migrations add kinds too, so the checks are extended as they
-- stand, never rewritten from a list that would drop another's kind.
DO $$
DECLARE
    def text;
BEGIN
    SELECT pg_get_constraintdef(oid) INTO def FROM pg_constraint
     WHERE conname = 'ledger_accounts_kind_check' AND conrelid = 'ledger_accounts'::regclass;
    IF position('''payouts_pending''' IN def) = 0 THEN
        EXECUTE 'ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check';
        EXECUTE 'ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check '
            || replace(def, 'ARRAY[', 'ARRAY[''payouts_pending''::text, ');
    END IF;
    SELECT pg_get_constraintdef(oid) INTO def FROM pg_constraint
     WHERE conname = 'postings_kind_check' AND conrelid = 'postings'::regclass;
    IF position('''payout''' IN def) = 0 THEN
        EXECUTE 'ALTER TABLE postings DROP CONSTRAINT postings_kind_check';
        EXECUTE 'ALTER TABLE postings ADD CONSTRAINT postings_kind_check '
            || replace(def, 'ARRAY[', 'ARRAY[''payout''::text, ');
    END IF;
END $$;

-- A leaving student's balance, to be paid by the bank to one of their guardians: requested
-- (posted: wallet -> payouts pending), then sent (the request is on the payouts topic).
CREATE TABLE payouts (
    tenant_id     text NOT NULL,
    id            text NOT NULL,
    student_id    text NOT NULL,
    guardian_id   text NOT NULL,
    amount        numeric(20, 4) NOT NULL CHECK (amount > 0),
    reason        text NOT NULL,
    requested_by  text NOT NULL,
    status        text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'sent')),
    posting_id    uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id),
    FOREIGN KEY (tenant_id, guardian_id) REFERENCES guardians (tenant_id, id),
    FOREIGN KEY (tenant_id, posting_id) REFERENCES postings (tenant_id, id)
);
CREATE INDEX payouts_student_idx ON payouts (tenant_id, student_id, created_at DESC);
-- no statistics on tenant_id (0016 says why)
ALTER TABLE payouts ALTER COLUMN tenant_id SET STATISTICS 0;
