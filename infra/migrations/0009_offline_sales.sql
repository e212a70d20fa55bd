-- Offline sales: a kiosk that cannot reach Saku keeps selling within caps and replays its
-- journal on reconnect. A replayed sale the wallet cannot cover becomes the student's debt.

ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('student_wallet', 'merchant_settlement', 'topup_clearing', 'offline_debt'));

-- per student per day across all kiosks, and per kiosk while offline (IDR)
ALTER TABLE schools ADD COLUMN offline_student_cap numeric(20, 4) NOT NULL DEFAULT 25000
    CHECK (offline_student_cap >= 0);
ALTER TABLE schools ADD COLUMN offline_kiosk_cap numeric(20, 4) NOT NULL DEFAULT 1000000
    CHECK (offline_kiosk_cap >= 0);

ALTER TABLE payments ADD COLUMN offline boolean NOT NULL DEFAULT false;
-- the part of an offline sale the wallet could not cover, owed by the student
ALTER TABLE payments ADD COLUMN debt numeric(20, 4) NOT NULL DEFAULT 0 CHECK (debt >= 0);
