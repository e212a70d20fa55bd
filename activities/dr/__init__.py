"""Disaster recovery's side effects: archives and copies of what Saku must not lose."""
