-- Only wallets keep a cached balance (their floor needs it). A canteen's settlement account
-- or the top-up clearing account updated on every posting is one hot row that serialises a
-- whole school's purchases; their balances are derived from the entries instead.
DELETE FROM ledger_balances WHERE NOT is_wallet;
ALTER TABLE ledger_balances ADD CONSTRAINT ledger_balances_wallets_only CHECK (is_wallet);
