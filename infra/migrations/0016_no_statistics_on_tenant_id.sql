-- Per-tenant statistics are always stale for the tenants that matter most: a new tenant, or
-- one that grew since the last ANALYZE, is estimated at zero rows. The planner then probes
-- an index that starts with tenant_id by tenant alone and filters all of the tenant's rows
-- for the key it was asked for: loading a stream batch for evaluation took 6 s, and a new
-- school's kiosk payments, top-ups and postings were looked up the same way. Without
-- statistics on tenant_id, the planner takes every tenant for an average one (1/200 of a
-- table), so a lookup by key uses the key's index. Every new table with a tenant_id needs
-- the same (tests/integration/test_migrations.py checks).
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT n.nspname AS schema_name, c.relname AS table_name
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attname = 'tenant_id' AND NOT a.attisdropped
          AND c.relkind IN ('r', 'p') AND n.nspname IN (current_schema(), 'archive')
    LOOP
        EXECUTE format('ALTER TABLE %I.%I ALTER COLUMN tenant_id SET STATISTICS 0',
                       t.schema_name, t.table_name);
        -- statistics gathered before stay until cleared: ANALYZE no longer touches them
        PERFORM pg_clear_attribute_stats(t.schema_name, t.table_name, 'tenant_id', false);
    END LOOP;
END
$$;
