"""The money side: the double-entry ledger, wallets, top-ups and payments."""
