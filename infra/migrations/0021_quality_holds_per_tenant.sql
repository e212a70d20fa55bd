-- A failed data-quality check names the tenants whose data failed it: only their purge is
-- held (every tenant's when a failure could not be pinned on any), and each retention run
-- records whose rows it left in place.
ALTER TABLE data_quality_alerts
    ADD COLUMN tenants            text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN purge_held_for_all boolean NOT NULL DEFAULT true;
ALTER TABLE retention_runs ADD COLUMN held_tenants text[] NOT NULL DEFAULT '{}';
