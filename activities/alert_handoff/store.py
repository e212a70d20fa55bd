"""A tenant's alert receivers in PostgreSQL, the alerts read back for them, and what became of
each delivery.

The receivers are the tenant's own (each tenant is a bank with a SIEM of its own), set by its
admins: a webhook URL with the secret that signs it (sealed at rest, never shown again) and a
syslog collector (host, port, transport). Both addresses are checked like guardian webhooks:
public only, unless the host is on SAKU_WEBHOOK_ALLOW_HOSTS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg.types.json import Jsonb

from activities.alert_handoff.cef import Alert, Typology
from activities.alert_handoff.sealed import SecretBox
from activities.wallet.webhook_targets import WebhookPolicy, WebhookTargetRefused
from core.alert_handoff import AlertDelivery
from core.cases import case_workflow_id
from core.db import Pool
from core.settings import Settings

Transport = Literal["udp", "tcp", "tcp-lf"]
DeliveryStatus = Literal["pending", "delivered", "failed", "skipped"]
MIN_SECRET_CHARS = 32
_MAX_ERROR_CHARS = 200


class HandOffConfigError(ValueError):
    """A receiver configuration Saku will not store; the message says why."""


@dataclass(frozen=True)
class Receivers:
    """A tenant's receivers as its admins see them: the secret's presence, never the secret."""

    webhook_url: str | None
    webhook_secret_set: bool
    syslog_host: str | None
    syslog_port: int | None
    syslog_transport: str | None
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class WebhookReceiver:
    url: str
    secret: str


@dataclass(frozen=True)
class SyslogReceiver:
    host: str
    port: int
    transport: str


@dataclass(frozen=True)
class Delivery:
    msg_id: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    updated_at: datetime
    delivered_at: datetime | None


def _typology(t: dict[str, Any]) -> Typology:
    return Typology(
        id=str(t["id"]),
        cfg=str(t["cfg"]),
        score=float(t["score"]),
        alert_threshold=float(t["alert_threshold"]),
        interdiction_threshold=(
            None if t.get("interdiction_threshold") is None else float(t["interdiction_threshold"])
        ),
        review=bool(t["review"]),
        interdiction=bool(t["interdiction"]),
    )


def _condition_id(hit: dict[str, Any] | None) -> str | None:
    return None if hit is None else str(hit["id"])


class HandOffStore:
    def __init__(self, pool: Pool, box: SecretBox, policy: WebhookPolicy) -> None:
        self.pool = pool
        self.box = box
        self.policy = policy

    @classmethod
    def from_settings(cls, pool: Pool, settings: Settings) -> HandOffStore:
        """Sealing with SAKU_ALERT_HANDOFF_KEY, checking against SAKU_WEBHOOK_ALLOW_HOSTS."""
        return cls(
            pool,
            SecretBox(settings.resolved_alert_handoff_key()),
            WebhookPolicy(settings.webhook_allowed_hosts),
        )

    async def get(self, tenant: str) -> Receivers | None:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT webhook_url, webhook_secret IS NOT NULL AS webhook_secret_set, "
                    "syslog_host, syslog_port, syslog_transport, updated_by, updated_at "
                    "FROM alert_handoff WHERE tenant_id = %s",
                    (tenant,),
                )
            ).fetchone()
        return None if row is None else Receivers(**row)

    async def put(
        self,
        tenant: str,
        *,
        actor: str,
        webhook_url: str | None,
        webhook_secret: str | None,
        syslog_host: str | None,
        syslog_port: int | None,
        syslog_transport: Transport,
    ) -> Receivers:
        """Replace the tenant's receivers (audited). A webhook's secret may be left out when
        one is stored already: it is kept."""
        if webhook_url is None and syslog_host is None:
            raise HandOffConfigError("name a webhook URL, a syslog host, or both")
        if webhook_url is not None and not all("!" <= c <= "~" for c in webhook_url):
            raise HandOffConfigError("a webhook URL is printable ASCII without spaces")
        try:
            if webhook_url is not None:
                self.policy.check(webhook_url)
            if syslog_host is not None:
                if syslog_port is None:
                    raise HandOffConfigError("a syslog host needs a port")
                self.policy.check_host(syslog_host, syslog_port)
        except WebhookTargetRefused as err:
            raise HandOffConfigError(str(err)) from None
        if webhook_secret is not None and len(webhook_secret) < MIN_SECRET_CHARS:
            raise HandOffConfigError(
                f"the webhook secret must be at least {MIN_SECRET_CHARS} characters"
            )
        sealed = None if webhook_secret is None else self.box.seal(tenant, webhook_secret)
        async with self.pool.connection() as conn, conn.transaction():
            if webhook_url is not None and sealed is None:
                kept = await (
                    await conn.execute(
                        "SELECT webhook_secret FROM alert_handoff WHERE tenant_id = %s "
                        "AND webhook_secret IS NOT NULL FOR UPDATE",
                        (tenant,),
                    )
                ).fetchone()
                if kept is None:
                    raise HandOffConfigError("a webhook needs a secret (webhookSecret)")
                sealed = kept["webhook_secret"]
            await conn.execute(
                """INSERT INTO alert_handoff (tenant_id, webhook_url, webhook_secret, syslog_host,
                       syslog_port, syslog_transport, updated_by)
                   VALUES (%s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (tenant_id) DO UPDATE SET webhook_url = excluded.webhook_url,
                       webhook_secret = excluded.webhook_secret,
                       syslog_host = excluded.syslog_host, syslog_port = excluded.syslog_port,
                       syslog_transport = excluded.syslog_transport,
                       updated_by = excluded.updated_by, updated_at = now()""",
                (
                    tenant,
                    webhook_url,
                    sealed if webhook_url is not None else None,
                    syslog_host,
                    syslog_port if syslog_host is not None else None,
                    syslog_transport if syslog_host is not None else None,
                    actor,
                ),
            )
            await self._audit(
                conn,
                tenant,
                actor,
                "alert_handoff.configure",
                {
                    "webhookUrl": webhook_url,
                    "webhookSecretChanged": webhook_secret is not None,
                    "syslog": None
                    if syslog_host is None
                    else f"{syslog_transport}://{syslog_host}:{syslog_port}",
                },
            )
        stored = await self.get(tenant)
        assert stored is not None
        return stored

    async def delete(self, tenant: str, actor: str) -> bool:
        """Stop handing the tenant's alerts off (cases already open skip what is left)."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute("DELETE FROM alert_handoff WHERE tenant_id = %s", (tenant,))
            if cur.rowcount:
                await self._audit(conn, tenant, actor, "alert_handoff.remove", {})
        return cur.rowcount > 0

    @staticmethod
    async def _audit(
        conn: Any, tenant: str, actor: str, action: str, details: dict[str, Any]
    ) -> None:
        await conn.execute(
            """INSERT INTO audit_log (tenant_id, actor, actor_role, action, target, reason,
                   details) VALUES (%s, %s, 'admin', %s, 'alert_handoff', '', %s)""",
            (tenant, actor, action, Jsonb(details)),
        )

    async def webhook(self, tenant: str) -> WebhookReceiver | None:
        """The tenant's webhook now, its secret unsealed; None if it has none."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT webhook_url, webhook_secret FROM alert_handoff "
                    "WHERE tenant_id = %s AND webhook_url IS NOT NULL",
                    (tenant,),
                )
            ).fetchone()
        if row is None:
            return None
        return WebhookReceiver(row["webhook_url"], self.box.open(tenant, row["webhook_secret"]))

    async def syslog(self, tenant: str) -> SyslogReceiver | None:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT syslog_host, syslog_port, syslog_transport FROM alert_handoff "
                    "WHERE tenant_id = %s AND syslog_host IS NOT NULL",
                    (tenant,),
                )
            ).fetchone()
        if row is None:
            return None
        return SyslogReceiver(row["syslog_host"], row["syslog_port"], row["syslog_transport"])

    async def alert(self, tenant: str, msg_id: str) -> Alert | None:
        """The message's alerting evaluation, as it is handed off; None if it did not alert."""
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    """SELECT evaluation_id, end_to_end_id, tx_type, interdicted, workflow_id,
                              evaluated_at, result -> 'adjudication' AS adjudication
                       FROM evaluations
                       WHERE tenant_id = %s AND msg_id = %s AND status = 'ALRT'""",
                    (tenant, msg_id),
                )
            ).fetchone()
        if row is None:
            return None
        adjudication = row["adjudication"]
        return Alert(
            tenant_id=tenant,
            msg_id=msg_id,
            evaluation_id=str(row["evaluation_id"]),
            end_to_end_id=row["end_to_end_id"],
            tx_type=row["tx_type"],
            interdicted=row["interdicted"],
            typologies=tuple(_typology(t) for t in adjudication.get("typologies", [])),
            blocked_by=_condition_id(adjudication.get("blocked_by")),
            overridden_by=_condition_id(adjudication.get("overridden_by")),
            evaluated_at=row["evaluated_at"],
            workflow_id=row["workflow_id"],
            case_workflow_id=case_workflow_id(tenant, msg_id),
        )

    async def record(
        self,
        delivery: AlertDelivery,
        status: DeliveryStatus,
        attempts: int,
        error: str | None = None,
    ) -> None:
        """What became of a delivery. A delivered one stays so, and a failed one stays so but
        for a try still running when the case gave up that then succeeded (the receiver
        did take it)."""
        async with self.pool.connection() as conn:
            await conn.execute(
                """INSERT INTO alert_deliveries (tenant_id, msg_id, channel, status, attempts,
                       last_error, delivered_at)
                   VALUES (%s, %s, %s, %s, %s, %s,
                           CASE WHEN %s = 'delivered' THEN now() END)
                   ON CONFLICT (tenant_id, msg_id, channel) DO UPDATE
                   SET status = excluded.status,
                       attempts = greatest(alert_deliveries.attempts, excluded.attempts),
                       last_error = CASE
                           WHEN excluded.status = 'failed'
                                AND excluded.last_error <> alert_deliveries.last_error
                           THEN left(excluded.last_error || '; last try: '
                                     || alert_deliveries.last_error, 400)
                           ELSE coalesce(excluded.last_error, alert_deliveries.last_error) END,
                       delivered_at = excluded.delivered_at, updated_at = now()
                   WHERE alert_deliveries.status <> 'delivered'
                     AND NOT (alert_deliveries.status = 'failed'
                              AND excluded.status = 'pending')""",
                (
                    delivery.tenant_id,
                    delivery.msg_id,
                    delivery.channel,
                    status,
                    attempts,
                    None if error is None else error[:_MAX_ERROR_CHARS],
                    status,
                ),
            )

    async def deliveries(
        self, tenant: str, status: DeliveryStatus | None, limit: int
    ) -> list[Delivery]:
        """The tenant's last `limit` deliveries (of this status, if one is given), newest first."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT msg_id, channel, status, attempts, last_error, updated_at, "
                    "delivered_at FROM alert_deliveries "
                    "WHERE tenant_id = %s AND (%s::text IS NULL OR status = %s) "
                    "ORDER BY updated_at DESC LIMIT %s",
                    (tenant, status, status, limit),
                )
            ).fetchall()
        return [Delivery(**row) for row in rows]
