"""The money side: the double-entry ledger, the directory of schools, kiosks, students and
guardians, payments and top-ups (screened by the monitoring pipeline, then settled),
refunds, kiosk keys and guardian notifications."""
