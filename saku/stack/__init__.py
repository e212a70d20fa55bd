"""The embedded stack: PostgreSQL, Valkey, Temporal and a Kafka broker from PyPI wheels."""
