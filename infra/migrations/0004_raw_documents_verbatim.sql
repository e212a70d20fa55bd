-- Raw messages are kept as received: `json` stores the text as it came (key order, spacing),
-- costs no parsing into jsonb on every insert, and is read only to rebuild or audit.
ALTER TABLE raw_messages ALTER COLUMN document TYPE json USING document::json;
