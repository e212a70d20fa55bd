-- Each point-in-time restore Saku is brought up on, recorded in the restored copy by
-- `saku dr restore`. Its epoch is what kiosks watch (GET /v1/kiosk/config): a new one makes
-- them check their synced offline sales against what the restore kept. `swept_at` is when
-- the consumer started again the evaluations the restore lost of messages it kept.
CREATE TABLE dr_restores (
    epoch        text PRIMARY KEY,
    restored_at  timestamptz NOT NULL DEFAULT now(),
    restored_to  timestamptz,  -- the restore point (NULL: not known, the archive's end)
    backup_id    text NOT NULL,
    swept_at     timestamptz
);
CREATE INDEX dr_restores_restored_idx ON dr_restores (restored_at DESC);
