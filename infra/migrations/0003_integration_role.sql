-- Machine clients (the bank's core system posting ISO 20022 messages) get their own role.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'school_staff', 'guardian', 'operator', 'analyst', 'integration'));
