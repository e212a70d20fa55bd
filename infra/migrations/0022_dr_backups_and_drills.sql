-- Disaster recovery's records. The backup catalogue that restore reads is the file beside
-- the backups (SAKU_BACKUP_DIR/catalogue.json: it survives the database); dr_backups
-- mirrors it for operators and reports. dr_drills keeps every restore drill's figures.
CREATE TABLE dr_backups (
    id                text PRIMARY KEY,  -- the backup's folder under SAKU_BACKUP_DIR/base
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz NOT NULL,
    timeline          integer NOT NULL,
    start_lsn         pg_lsn NOT NULL,
    end_lsn           pg_lsn NOT NULL,
    start_wal         text NOT NULL,
    end_wal           text NOT NULL,
    wal_segment_size  integer NOT NULL,
    size_bytes        bigint NOT NULL,
    verified          boolean NOT NULL,
    verify_detail     text NOT NULL,
    trigger           text NOT NULL,
    pruned_at         timestamptz
);

CREATE TABLE dr_drills (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at               timestamptz NOT NULL,
    finished_at              timestamptz NOT NULL DEFAULT now(),
    trigger                  text NOT NULL,
    backup_id                text,
    restore_point            timestamptz,
    rpo_ms                   bigint,
    rto_s                    numeric(10, 1),
    ok                       boolean NOT NULL,
    migrations_equal         boolean NOT NULL,
    ledger_ok                boolean NOT NULL,
    tables_equal             integer NOT NULL,
    tables_compared          integer NOT NULL,
    erased_students_checked  integer NOT NULL,
    erased_still_decrypting  integer NOT NULL,
    failure                  text,
    report                   jsonb NOT NULL  -- the printed lines
);
CREATE INDEX dr_drills_finished_idx ON dr_drills (finished_at DESC);
