"""Disaster recovery's floor: where backups live, the types crossing the Backup,
RestoreDrill and HistoryArchive workflows' boundary, and the pure WAL arithmetic."""
