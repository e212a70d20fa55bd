-- Monitoring: history kept as Tazama keeps it, versioned configuration, evaluations.

-- The raw documents as received, once per (tenant, message id): the intake's idempotency key.
CREATE TABLE raw_messages (
    tenant_id      text NOT NULL,
    msg_id         text NOT NULL,
    tx_type        text NOT NULL,
    end_to_end_id  text NOT NULL,
    channel        text NOT NULL CHECK (channel IN ('api', 'kafka', 'kiosk', 'sync')),
    document       jsonb NOT NULL,
    -- the normalised transaction the engine evaluates (pacs.002 completed from its pacs.008)
    transaction    jsonb NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, msg_id)
);
-- pacs.002 finds its pacs.008 by end-to-end id when the data cache misses
CREATE INDEX raw_messages_e2e_idx ON raw_messages (tenant_id, end_to_end_id, tx_type);
CREATE INDEX raw_messages_received_idx ON raw_messages (received_at);

CREATE TABLE entities (
    tenant_id      text NOT NULL,
    entity_id      text NOT NULL,
    birth_date     date,
    first_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, entity_id)
);

CREATE TABLE accounts (
    tenant_id      text NOT NULL,
    account_id     text NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, account_id)
);

CREATE TABLE account_holders (
    tenant_id      text NOT NULL,
    entity_id      text NOT NULL,
    account_id     text NOT NULL,
    since          timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, entity_id, account_id)
);
CREATE INDEX account_holders_account_idx ON account_holders (tenant_id, account_id);

-- One edge per message that moves money: pacs.008 debtor->creditor, pacs.002 creditor->debtor
-- (as Tazama writes it), kiosk purchases student->merchant, top-ups payer->student.
CREATE TABLE transaction_edges (
    tenant_id            text NOT NULL,
    msg_id               text NOT NULL,
    end_to_end_id        text NOT NULL,
    tx_type              text NOT NULL,
    source_account       text NOT NULL,
    destination_account  text NOT NULL,
    source_entity        text NOT NULL,
    destination_entity   text NOT NULL,
    amount               numeric(20, 4) NOT NULL,
    currency             text NOT NULL,
    created_at           timestamptz NOT NULL,
    status               text,
    description          text,
    lat                  double precision,
    lon                  double precision,
    channel              text,
    category             text,
    auth_method          text,
    PRIMARY KEY (tenant_id, msg_id)
);
-- the rules' history queries: an account's outgoing / incoming edges, newest first
CREATE INDEX edges_source_idx ON transaction_edges (tenant_id, source_account, created_at DESC);
CREATE INDEX edges_destination_idx
    ON transaction_edges (tenant_id, destination_account, created_at DESC);
CREATE INDEX edges_created_idx ON transaction_edges (created_at);

-- Configuration: immutable documents keyed by (id, cfg); a network map is activated per tenant.
CREATE TABLE rule_configs (
    tenant_id   text NOT NULL,
    rule_id     text NOT NULL,
    cfg         text NOT NULL,
    document    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, rule_id, cfg)
);

CREATE TABLE typology_configs (
    tenant_id    text NOT NULL,
    typology_id  text NOT NULL,
    cfg          text NOT NULL,
    document     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, typology_id, cfg)
);

CREATE TABLE network_maps (
    tenant_id     text NOT NULL,
    cfg           text NOT NULL,
    document      jsonb NOT NULL,
    active        boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    activated_at  timestamptz,
    PRIMARY KEY (tenant_id, cfg)
);
CREATE UNIQUE INDEX network_maps_one_active ON network_maps (tenant_id) WHERE active;

CREATE TABLE event_flow_conditions (
    tenant_id     text NOT NULL,
    id            text NOT NULL,
    document      jsonb NOT NULL,
    subject_id    text NOT NULL,
    expires_at    timestamptz,
    revoked_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX event_flow_conditions_subject_idx ON event_flow_conditions (tenant_id, subject_id);

-- One evaluation per (tenant, message id), whatever the channel or the number of deliveries.
CREATE TABLE evaluations (
    evaluation_id    uuid PRIMARY KEY,
    tenant_id        text NOT NULL,
    msg_id           text NOT NULL,
    end_to_end_id    text NOT NULL,
    tx_type          text NOT NULL,
    status           text NOT NULL CHECK (status IN ('ALRT', 'NALT')),
    interdicted      boolean NOT NULL,
    network_map_cfg  text NOT NULL,
    workflow_id      text NOT NULL,
    run_id           text NOT NULL,
    result           jsonb NOT NULL,
    evaluated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, msg_id)
);
CREATE INDEX evaluations_e2e_idx ON evaluations (tenant_id, end_to_end_id);
CREATE INDEX evaluations_alerts_idx ON evaluations (tenant_id, evaluated_at) WHERE status = 'ALRT';
