-- Children's biometric data: consent decisions, per-student data keys (wrapped by a key
-- outside the database), encrypted templates, and what the kiosks hold.

-- Append-only: the consent status is derived from each party's latest decision.
CREATE TABLE biometric_consent_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    text NOT NULL,
    student_id   text NOT NULL,
    party        text NOT NULL CHECK (party = 'student' OR party LIKE 'guardian:%'),
    decision     text NOT NULL
                 CHECK (decision IN ('consent', 'object', 'withdraw', 'refuse', 'accept')),
    recorded_by  text NOT NULL,  -- the staff member who took the written decision
    at           timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id)
);
CREATE INDEX biometric_consent_student_idx ON biometric_consent_events (tenant_id, student_id);

-- One data key per student, AES-256-GCM-wrapped by the key-encryption key of kek_version.
-- Deleting the row crypto-shreds every copy of the student's templates, backups included.
CREATE TABLE biometric_data_keys (
    tenant_id    text NOT NULL,
    student_id   text NOT NULL,
    key_version  integer NOT NULL,  -- renewed on re-enrolment
    kek_version  integer NOT NULL,
    wrap_nonce   bytea NOT NULL CHECK (length(wrap_nonce) = 12),
    wrapped_key  bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, student_id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES students (tenant_id, id)
);

-- Templates only ever encrypted; no images are stored. The associated data binds each
-- ciphertext to its tenant, student, slot, key version and format version.
CREATE TABLE biometric_templates (
    tenant_id       text NOT NULL,
    student_id      text NOT NULL,
    finger          smallint NOT NULL CHECK (finger BETWEEN 1 AND 10),
    key_version     integer NOT NULL,
    format_version  smallint NOT NULL,
    nonce           bytea NOT NULL CHECK (length(nonce) = 12),
    ciphertext      bytea NOT NULL,
    enrolled_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, student_id, finger),
    FOREIGN KEY (tenant_id, student_id) REFERENCES biometric_data_keys (tenant_id, student_id)
);

-- What each kiosk's sensor must do: load a student's template (the kiosk picks the slot and
-- keeps the slot <-> student mapping itself) or delete it. Kept until the kiosk confirms,
-- so a kiosk that is offline gets its commands when it reconnects.
CREATE TABLE kiosk_sensor_commands (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    text NOT NULL,
    kiosk_id     text NOT NULL,
    student_id   text NOT NULL,
    finger       smallint NOT NULL,
    action       text NOT NULL CHECK (action IN ('load', 'delete')),
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'done', 'cancelled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    done_at      timestamptz,
    FOREIGN KEY (tenant_id, kiosk_id) REFERENCES kiosks (tenant_id, id)
);
CREATE INDEX kiosk_sensor_commands_pending_idx ON kiosk_sensor_commands (tenant_id, kiosk_id)
    WHERE status = 'pending';
CREATE INDEX kiosk_sensor_commands_student_idx
    ON kiosk_sensor_commands (tenant_id, student_id, finger);
