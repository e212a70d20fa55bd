-- Alert hand-off beyond Saku: per tenant (a bank with a SIEM of its own), a signed webhook
-- and/or a syslog collector that each alert's case delivers the alert to; and what became
-- of each delivery, for operators.
CREATE TABLE alert_handoff (
    tenant_id        text PRIMARY KEY REFERENCES tenants (id),
    webhook_url      text,
    -- AES-256-GCM under SAKU_ALERT_HANDOFF_KEY, bound to the tenant (never plaintext)
    webhook_secret   bytea,
    syslog_host      text,
    syslog_port      integer CHECK (syslog_port BETWEEN 1 AND 65535),
    syslog_transport text CHECK (syslog_transport IN ('udp', 'tcp', 'tcp-lf')),
    updated_by       text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((webhook_url IS NULL) = (webhook_secret IS NULL)),
    CHECK ((syslog_host IS NULL) = (syslog_port IS NULL)
           AND (syslog_host IS NULL) = (syslog_transport IS NULL)),
    CHECK (webhook_url IS NOT NULL OR syslog_host IS NOT NULL)
);

CREATE TABLE alert_deliveries (
    tenant_id    text NOT NULL,
    msg_id       text NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('webhook', 'syslog')),
    -- pending: being tried (last_error says why the last try failed); skipped: the tenant
    -- removed the receiver before it was delivered
    status       text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    PRIMARY KEY (tenant_id, msg_id, channel)
);
CREATE INDEX alert_deliveries_undelivered_idx ON alert_deliveries (tenant_id, updated_at)
    WHERE status <> 'delivered';

-- no statistics on tenant_id (see 0016_no_statistics_on_tenant_id.sql)
ALTER TABLE alert_handoff ALTER COLUMN tenant_id SET STATISTICS 0;
ALTER TABLE alert_deliveries ALTER COLUMN tenant_id SET STATISTICS 0;
