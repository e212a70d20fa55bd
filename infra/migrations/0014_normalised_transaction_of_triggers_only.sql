-- The normalised transaction is what an evaluation reads, so it is kept for the messages that
-- trigger one (pacs.002, kiosk purchases, top-ups). The others keep the document as received
-- (and a pacs.008 its edge); storing each of them a second time as jsonb cost the database
-- about 35 us per message, a tenth of its work under a stream of payments.
ALTER TABLE raw_messages ALTER COLUMN transaction DROP NOT NULL;
ALTER TABLE archive.raw_messages ALTER COLUMN transaction DROP NOT NULL;
