-- The wallet side: schools, canteens, kiosks, students and guardians; payments, top-ups,
-- guardian controls, notifications and the audit trail of staff actions.

CREATE TABLE schools (
    tenant_id       text NOT NULL REFERENCES tenants (id),
    id              text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name            text NOT NULL,
    timezone        text NOT NULL DEFAULT 'Asia/Jakarta',
    -- canteen hours in local time; purchases outside them are flagged by rule s02
    canteen_opens   time NOT NULL DEFAULT '06:30',
    canteen_closes  time NOT NULL DEFAULT '15:00',
    -- the e-money cap on a wallet's balance; NULL: the tenant-wide setting applies
    balance_cap     numeric(20, 4) CHECK (balance_cap > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE merchants (
    tenant_id   text NOT NULL,
    id          text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    school_id   text NOT NULL,
    name        text NOT NULL,
    account_id  text NOT NULL,  -- its merchant_settlement ledger account
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES ledger_accounts (tenant_id, id)
);

CREATE TABLE kiosks (
    tenant_id    text NOT NULL,
    id           text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    school_id    text NOT NULL,
    merchant_id  text NOT NULL,
    name         text NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    last_seen_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, merchant_id) REFERENCES merchants (tenant_id, id)
);

-- A kiosk signs every request with its Ed25519 key. Rotation leaves the old key valid for a
-- short grace period (valid_until); revocation ends it at once.
CREATE TABLE kiosk_keys (
    tenant_id    text NOT NULL,
    kiosk_id     text NOT NULL,
    key_id       text NOT NULL,
    public_key   bytea NOT NULL CHECK (length(public_key) = 32),
    valid_until  timestamptz,          -- NULL: current key
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, kiosk_id, key_id),
    FOREIGN KEY (tenant_id, kiosk_id) REFERENCES kiosks (tenant_id, id)
);

CREATE TABLE product_categories (
    tenant_id  text NOT NULL REFERENCES tenants (id),
    id         text NOT NULL CHECK (id ~ '^[a-z0-9_-]{1,64}$'),
    name       text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Students are pseudonymous: an opaque id, a display name the kiosk shows (e.g. "Budi S."),
-- a grade. No birth date, address or national id.
CREATE TABLE students (
    tenant_id     text NOT NULL,
    id            text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    school_id     text NOT NULL,
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 40),
    grade         text,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'left')),
    account_id    text NOT NULL,  -- the student_wallet ledger account
    pin_hash      text,           -- argon2id; the PIN fallback at the kiosk
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES ledger_accounts (tenant_id, id)
);
CREATE INDEX students_school_idx ON students (tenant_id, school_id);

CREATE TABLE guardians (
    tenant_id     text NOT NULL REFERENCES tenants (id),
    id            text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    user_id       uuid UNIQUE REFERENCES users (id),  -- the guardian's sign-in, if any
    display_name  text NOT NULL,
    -- where notifications go (an app backend or messaging gateway); NULL: none are sent
    webhook_url   text CHECK (webhook_url ~ '^https?://'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE student_guardians (
    tenant_id    text NOT NULL,
    student_id   text NOT NULL,
    guardian_id  text NOT NULL,
    PRIMARY KEY (tenant_id, student_id, guardian_id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id),
    FOREIGN KEY (tenant_id, guardian_id) REFERENCES guardians (tenant_id, id)
);
CREATE INDEX student_guardians_guardian_idx ON student_guardians (tenant_id, guardian_id);

-- Guardian controls, one row per student; NULL means no limit.
CREATE TABLE student_controls (
    tenant_id              text NOT NULL,
    student_id             text NOT NULL,
    daily_limit            numeric(20, 4) CHECK (daily_limit >= 0),
    weekly_limit           numeric(20, 4) CHECK (weekly_limit >= 0),
    low_balance_threshold  numeric(20, 4) CHECK (low_balance_threshold >= 0),
    updated_by             text NOT NULL,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, student_id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id)
);

-- Per category: blocked outright (an allergen, sugary drinks) or a daily limit.
CREATE TABLE student_category_controls (
    tenant_id    text NOT NULL,
    student_id   text NOT NULL,
    category_id  text NOT NULL,
    blocked      boolean NOT NULL DEFAULT false,
    daily_limit  numeric(20, 4) CHECK (daily_limit >= 0),
    PRIMARY KEY (tenant_id, student_id, category_id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id),
    FOREIGN KEY (tenant_id, category_id) REFERENCES product_categories (tenant_id, id)
);

-- One row per kiosk purchase, keyed by the kiosk's own transaction id: approved (with its
-- posting) or declined (with the reason shown to the child).
CREATE TABLE payments (
    tenant_id      text NOT NULL,
    kiosk_id       text NOT NULL,
    kiosk_tx_id    text NOT NULL,
    student_id     text NOT NULL,
    school_id      text NOT NULL,
    merchant_id    text NOT NULL,
    amount         numeric(20, 4) NOT NULL CHECK (amount > 0),
    category_id    text,
    auth_method    text NOT NULL,
    status         text NOT NULL CHECK (status IN ('approved', 'declined', 'refunded', 'voided')),
    reason_code    text,
    reason         text,
    posting_id     uuid,
    evaluation_id  text,
    workflow_id    text NOT NULL,
    created_at     timestamptz NOT NULL,  -- when the kiosk sold it
    decided_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, kiosk_id, kiosk_tx_id),
    FOREIGN KEY (tenant_id, kiosk_id) REFERENCES kiosks (tenant_id, id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id),
    CHECK (status = 'declined' OR posting_id IS NOT NULL)
);
-- limits sum a student's approved spending today and this week
CREATE INDEX payments_student_idx ON payments (tenant_id, student_id, created_at DESC);

CREATE TABLE topups (
    tenant_id      text NOT NULL,
    id             text NOT NULL,  -- the bank's (or gateway's) top-up reference
    student_id     text NOT NULL,
    amount         numeric(20, 4) NOT NULL CHECK (amount > 0),
    channel        text NOT NULL CHECK (channel IN ('api', 'kafka')),
    payer_account  text NOT NULL,
    status         text NOT NULL CHECK (status IN ('credited', 'declined')),
    reason_code    text,
    reason         text,
    posting_id     uuid,
    evaluation_id  text,
    workflow_id    text NOT NULL,
    created_at     timestamptz NOT NULL,
    decided_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id),
    CHECK (status = 'declined' OR posting_id IS NOT NULL)
);
CREATE INDEX topups_student_idx ON topups (tenant_id, student_id, created_at DESC);

-- Who did what to money by hand (refunds, voids, key changes), and why. Append-only.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   text NOT NULL,
    actor       text NOT NULL,      -- the user id (or kiosk) that acted
    actor_role  text NOT NULL,
    action      text NOT NULL,
    target      text NOT NULL,
    reason      text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, at DESC);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Notifications to guardians, written in the same transaction as what caused them and
-- delivered by the webhook sender: retried with backoff, dead after too many attempts.
CREATE TABLE notification_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        text NOT NULL,
    guardian_id      text NOT NULL,
    kind             text NOT NULL,
    payload          jsonb NOT NULL,
    dedup_key        text NOT NULL,  -- the same event notifies a guardian once
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (tenant_id, guardian_id, dedup_key),
    FOREIGN KEY (tenant_id, guardian_id) REFERENCES guardians (tenant_id, id)
);
CREATE INDEX notification_outbox_due_idx ON notification_outbox (next_attempt_at)
    WHERE status = 'pending';
