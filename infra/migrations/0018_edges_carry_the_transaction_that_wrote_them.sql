-- Each edge carries the id of the transaction that wrote it, so a worker can keep the
-- histories it has read and read only what was written since: every edge written by a
-- transaction at or after the oldest one still running when it last read (its snapshot's
-- xmin). Rows become visible in commit order, not in the order of their times or ids, so
-- "newer than the last one seen" would miss a slow transaction's rows; the xmin would not.
-- Edges written before this migration keep NULL: every reader read them in full.
-- The status report's update of its payment's edge leaves the column alone (it stays a HOT
-- update); readers take the status from the report's own edge, written in the same
-- transaction. Any other update of an edge sets the column.
ALTER TABLE transaction_edges ADD COLUMN written_by xid8;
ALTER TABLE transaction_edges ALTER COLUMN written_by SET DEFAULT pg_current_xact_id();
CREATE INDEX edges_written_idx ON transaction_edges (tenant_id, written_by);
ALTER TABLE archive.transaction_edges ADD COLUMN written_by xid8;
