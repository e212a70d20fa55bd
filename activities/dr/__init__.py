"""Disaster recovery's side effects: base backups and their catalogue, the WAL archive,
point-in-time restore into a new data directory, the restore drill's checks, and the
archive of closed workflow histories with the copy of the Temporal server's store."""
