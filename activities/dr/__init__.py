"""Disaster recovery's side effects: base backups and their catalogue, the WAL archive,
point-in-time restore into a new data directory, and the restore drill's checks."""
