"""Disaster recovery's floor: where backups live, the types crossing the Backup and
RestoreDrill workflows' boundary, and the pure WAL arithmetic (segment names, gaps)."""
