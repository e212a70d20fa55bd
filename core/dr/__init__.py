"""Disaster recovery's boundary types: what its workflows take and return."""
