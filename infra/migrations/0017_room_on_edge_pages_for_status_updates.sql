-- A payment's status report updates the status of its payment's edge, about a second after
-- the edge was inserted. On a full page the new row version goes to another page, and all
-- five indexes of the table get an entry for it: 80% of the updates went so. With room left
-- on each page, the update stays on the page and touches no index (a HOT update). The status
-- is in no index, so only the room was missing. Pages written from now on keep it.
ALTER TABLE transaction_edges SET (fillfactor = 70);
