-- The double-entry ledger: every money movement is a posting of balanced entries.

CREATE TABLE ledger_accounts (
    tenant_id   text NOT NULL,
    id          text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('student_wallet', 'merchant_settlement',
                                              'topup_clearing')),
    owner_id    text,          -- the student or merchant it belongs to (pseudonymous id)
    currency    text NOT NULL DEFAULT 'IDR',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE postings (
    tenant_id        text NOT NULL,
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    -- the caller's key (a kiosk's transaction id, a bank's top-up id): a posting happens once
    idempotency_key  text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('topup', 'purchase', 'refund')),
    fingerprint      text NOT NULL,  -- hash of the entries, to refuse a reused key
    memo             text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, idempotency_key)
);

CREATE TABLE ledger_entries (
    tenant_id   text NOT NULL,
    posting_id  uuid NOT NULL,
    account_id  text NOT NULL,
    -- signed: credits positive, debits negative; a posting's entries sum to zero
    amount      numeric(20, 4) NOT NULL CHECK (amount <> 0),
    FOREIGN KEY (tenant_id, posting_id) REFERENCES postings (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES ledger_accounts (tenant_id, id)
);
CREATE INDEX ledger_entries_posting_idx ON ledger_entries (tenant_id, posting_id);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (tenant_id, account_id);

-- Checked when the transaction commits, after all of a posting's entries are written.
CREATE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT coalesce(sum(amount), 0) FROM ledger_entries
        WHERE tenant_id = NEW.tenant_id AND posting_id = NEW.posting_id) <> 0 THEN
        RAISE EXCEPTION 'posting % is not balanced', NEW.posting_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_posting_balanced();

-- The cached balance (derived from entries; `saku ledger verify` recomputes it). Wallets
-- cannot go below zero: a purchase beyond the balance is refused, not overdrawn.
CREATE TABLE ledger_balances (
    tenant_id   text NOT NULL,
    account_id  text NOT NULL,
    balance     numeric(20, 4) NOT NULL DEFAULT 0,
    is_wallet   boolean NOT NULL,
    PRIMARY KEY (tenant_id, account_id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES ledger_accounts (tenant_id, id),
    CHECK (NOT is_wallet OR balance >= 0)
);
