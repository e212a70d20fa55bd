-- The bank's answers to payouts: a payout is paid (posted out of payouts pending to the
-- bank's clearing account, with the bank's reference) or rejected (with the bank's reason;
-- the money stays owed in payouts pending until the school sends it again, as a new payout
-- that replaces the rejected one and pays the same money).

-- A new kind: 'payout_paid' postings (payouts pending -> the bank's clearing account).
-- Other migrations add kinds too, so the check is extended as it stands (as 0028 does).
DO $$
DECLARE
    def text;
BEGIN
    SELECT pg_get_constraintdef(oid) INTO def FROM pg_constraint
     WHERE conname = 'postings_kind_check' AND conrelid = 'postings'::regclass;
    IF position('''payout_paid''' IN def) = 0 THEN
        EXECUTE 'ALTER TABLE postings DROP CONSTRAINT postings_kind_check';
        EXECUTE 'ALTER TABLE postings ADD CONSTRAINT postings_kind_check '
            || replace(def, 'ARRAY[', 'ARRAY[''payout_paid''::text, ');
    END IF;
END $$;

ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check
    CHECK (status IN ('requested', 'sent', 'paid', 'rejected'));
-- what the bank answered, and when
ALTER TABLE payouts ADD COLUMN bank_reference text;
ALTER TABLE payouts ADD COLUMN answered_at timestamptz;
ALTER TABLE payouts ADD COLUMN rejection_reason text;
-- a paid payout's posting out of payouts pending
ALTER TABLE payouts ADD COLUMN paid_posting_id uuid;
ALTER TABLE payouts ADD FOREIGN KEY (tenant_id, paid_posting_id) REFERENCES postings (tenant_id, id);
-- a rejected payout sent again: the new payout names the one it replaces (once)
ALTER TABLE payouts ADD COLUMN replaces text;
ALTER TABLE payouts ADD COLUMN replaced_by text;
ALTER TABLE payouts ADD FOREIGN KEY (tenant_id, replaces) REFERENCES payouts (tenant_id, id);
ALTER TABLE payouts ADD CONSTRAINT payouts_replaces_once UNIQUE (tenant_id, replaces);
ALTER TABLE payouts ADD CONSTRAINT payouts_answer_recorded CHECK (
    (status NOT IN ('paid', 'rejected') OR (answered_at IS NOT NULL AND bank_reference IS NOT NULL))
    AND (status <> 'paid' OR paid_posting_id IS NOT NULL)
    AND (status <> 'rejected' OR rejection_reason IS NOT NULL)
    AND (replaced_by IS NULL OR status = 'rejected'));
-- the office's list of rejected payouts still to send again
CREATE INDEX payouts_rejected_idx ON payouts (tenant_id) WHERE status = 'rejected'
    AND replaced_by IS NULL;
