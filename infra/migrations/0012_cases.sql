-- Alert cases: every alerting evaluation opens one, an operator decides it, and a case
-- left undecided past its service level is escalated.
CREATE TABLE cases (
    tenant_id      text NOT NULL,
    msg_id         text NOT NULL,
    evaluation_id  uuid NOT NULL,
    tx_type        text NOT NULL,
    status         text NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'escalated', 'decided')),
    outcome        text CHECK (outcome IN ('confirmed_fraud', 'false_positive')),
    decided_by     text,
    note           text,
    workflow_id    text NOT NULL,
    opened_at      timestamptz NOT NULL DEFAULT now(),
    escalated_at   timestamptz,
    decided_at     timestamptz,
    PRIMARY KEY (tenant_id, msg_id),
    CHECK ((status = 'decided') = (outcome IS NOT NULL))
);
CREATE INDEX cases_open_idx ON cases (tenant_id, opened_at) WHERE status <> 'decided';
