"""Reporting: the dbt project in `dbt/` built against Saku's PostgreSQL."""
