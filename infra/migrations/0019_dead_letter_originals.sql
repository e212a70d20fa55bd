-- A dead-lettered Kafka record too large for the dead-letter topic: its original bytes are
-- kept here and the topic carries a reference to this row instead, so no record, however
-- large, can stop the consumer from committing past it. One row per source offset: a batch
-- that is read again after a crash stores nothing twice.
CREATE TABLE dead_letter_originals (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_topic     text NOT NULL,
    source_partition int NOT NULL,
    source_offset    bigint NOT NULL,
    reason           text NOT NULL,
    record_key       bytea,
    record_value     bytea,
    -- the whole original's size and digest; `record_value` holds it whole unless it was
    -- larger than Saku keeps (then its first bytes, and `truncated`)
    value_size       bigint NOT NULL,
    value_sha256     text NOT NULL,
    truncated        boolean NOT NULL,
    stored_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_topic, source_partition, source_offset)
);
