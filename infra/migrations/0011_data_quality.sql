-- A failed data-quality checkpoint is an alert: kept here (and published on the alerts
-- topic) for operators, and it stops that night's retention purge.
CREATE TABLE data_quality_alerts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    raised_at  timestamptz NOT NULL DEFAULT now(),
    failures   jsonb NOT NULL
);
