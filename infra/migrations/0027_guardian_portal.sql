-- The guardian portal: notifications a guardian reads in the portal, auto top-up requests
-- to the bank, money moved between siblings' wallets.

-- Every notification (the same events as the webhooks) for every guardian of the student,
-- webhook or not, with whether the guardian has read it.
CREATE TABLE guardian_inbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    text NOT NULL,
    guardian_id  text NOT NULL,
    student_id   text NOT NULL,
    kind         text NOT NULL,
    payload      jsonb NOT NULL,
    dedup_key    text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    read_at      timestamptz,
    UNIQUE (tenant_id, guardian_id, dedup_key),
    FOREIGN KEY (tenant_id, guardian_id) REFERENCES guardians (tenant_id, id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id)
);
CREATE INDEX guardian_inbox_guardian_idx ON guardian_inbox (tenant_id, guardian_id, id DESC);

-- "When the balance falls below `below`, ask the bank for `amount`": one per student.
CREATE TABLE student_auto_topups (
    tenant_id   text NOT NULL,
    student_id  text NOT NULL,
    below       numeric(20, 4) NOT NULL CHECK (below > 0),
    amount      numeric(20, 4) NOT NULL CHECK (amount > 0),
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, student_id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id)
);

-- Requests to the bank, queued with the payment that crossed the threshold (so once per
-- crossing) and published to the bank-facing topic by the worker; the bank answers with a
-- top-up whose topupId is the request's id.
CREATE TABLE topup_requests (
    tenant_id        text NOT NULL,
    id               text NOT NULL,
    student_id       text NOT NULL,
    virtual_account  text NOT NULL,
    amount           numeric(20, 4) NOT NULL CHECK (amount > 0),
    cause            text NOT NULL,  -- the payment's msg id that crossed the threshold
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id)
);
CREATE INDEX topup_requests_pending_idx ON topup_requests (created_at) WHERE status = 'pending';

-- A guardian moves money from one of their children's wallets to another's.
ALTER TABLE postings DROP CONSTRAINT postings_kind_check;
ALTER TABLE postings ADD CONSTRAINT postings_kind_check
    CHECK (kind IN ('topup', 'purchase', 'refund', 'transfer'));

CREATE TABLE wallet_transfers (
    tenant_id     text NOT NULL,
    id            text NOT NULL,  -- the guardian's request id: a transfer happens once
    guardian_id   text NOT NULL,
    from_student  text NOT NULL,
    to_student    text NOT NULL,
    amount        numeric(20, 4) NOT NULL CHECK (amount > 0),
    posting_id    uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, from_student) REFERENCES students (tenant_id, id),
    FOREIGN KEY (tenant_id, to_student) REFERENCES students (tenant_id, id),
    CHECK (from_student <> to_student)
);
CREATE INDEX wallet_transfers_from_idx ON wallet_transfers (tenant_id, from_student);
CREATE INDEX wallet_transfers_to_idx ON wallet_transfers (tenant_id, to_student);

-- No statistics on tenant_id (see 0016): lookups by key stay on the key's index.
ALTER TABLE guardian_inbox ALTER COLUMN tenant_id SET STATISTICS 0;
ALTER TABLE student_auto_topups ALTER COLUMN tenant_id SET STATISTICS 0;
ALTER TABLE topup_requests ALTER COLUMN tenant_id SET STATISTICS 0;
ALTER TABLE wallet_transfers ALTER COLUMN tenant_id SET STATISTICS 0;
