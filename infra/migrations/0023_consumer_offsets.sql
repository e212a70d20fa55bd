-- Where the Kafka consumer has got to, kept with what it stored: the transactions topic's
-- offsets are written in the same database transaction as the batch's history, so a
-- point-in-time restore brings back offsets that match the restored history, and the
-- consumer re-reads from there what the restore lost (the bank's Kafka still has it).
CREATE TABLE consumer_offsets (
    consumer_group text    NOT NULL,
    topic          text    NOT NULL,
    partition      integer NOT NULL,
    next_offset    bigint  NOT NULL,  -- the first offset not yet stored
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);
