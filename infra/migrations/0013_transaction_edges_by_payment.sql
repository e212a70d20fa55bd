-- A payment's edges by end-to-end id: a pacs.002 settles its pacs.008's edge (status) and,
-- on a data-cache miss, is completed from it. Without this index both read the whole
-- tenant's edges, which was a third of PostgreSQL's time under a stream of payments.
CREATE INDEX edges_end_to_end_idx ON transaction_edges (tenant_id, end_to_end_id, tx_type);

-- Room on each page for the status report's update of its payment's edge to stay a HOT
-- update (status is in no index), instead of a new row version in all five indexes.
ALTER TABLE transaction_edges SET (fillfactor = 85);
