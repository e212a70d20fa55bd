"""The Kafka channel of the intake: ISO 20022 JSON from core banking, same rules as HTTP.

A record is validated like an HTTP request (its tenant is the body's `TenantId`, or the
`saku-tenant` header, or DEFAULT as in Tazama); invalid ones are dead-lettered with the
reason. Valid ones are submitted per tenant: on a quiet stream one workflow per
transaction; on a busy one (a big poll, or a message rate at or above the busy rate) one
micro-batch workflow per poll, carrying references.
"""

from __future__ import annotations

from collections import defaultdict

from activities.monitoring.history import Incoming
from api.intake.messages import IntakeError, parse_message
from api.intake.service import Intake
from api.stream import Handler, LoadMeter, Record, Rejected, decode_json
from saku.db import Pool

DEFAULT_TENANT = "DEFAULT"


def _tenant(record: Record, data: dict[str, object]) -> str:
    body = data.get("TenantId")
    if isinstance(body, str) and body:
        return body
    for key, value in record.headers or ():
        if key == "saku-tenant" and value:
            return str(value.decode(errors="replace"))
    return DEFAULT_TENANT


class KnownTenants:
    """Tenants that exist; checked once each, then remembered."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._known: set[str] = set()

    async def exists(self, tenant: str) -> bool:
        if tenant not in self._known:
            async with self.pool.connection() as conn:
                cur = await conn.execute("SELECT 1 FROM tenants WHERE id = %s", (tenant,))
                if await cur.fetchone() is not None:
                    self._known.add(tenant)
        return tenant in self._known


def transactions_handler(
    intake: Intake, tenants: KnownTenants, micro_batch_from: int, load: LoadMeter
) -> Handler:
    async def handle(records: list[Record]) -> list[tuple[Record, str]]:
        rejected: list[tuple[Record, str]] = []
        by_tenant: dict[str, list[tuple[Record, Incoming]]] = defaultdict(list)
        for record in records:
            try:
                data = decode_json(record)
                tenant = _tenant(record, data)
                if not await tenants.exists(tenant):
                    raise Rejected(f"unknown tenant {tenant!r}")
                tx = parse_message(data, tenant)
            except (Rejected, IntakeError) as err:
                rejected.append((record, str(err)))
                continue
            by_tenant[tenant].append((record, Incoming(tx, record.value.decode(), "kafka")))
        for items in by_tenant.values():
            receipts = await intake.submit(
                [incoming for _, incoming in items],
                # batch when the poll is big or the stream is busy: a workflow per
                # transaction cannot keep up with a busy stream
                micro_batch=len(items) >= micro_batch_from or load.busy,
            )
            rejected += [
                (record, receipt.reason)
                for (record, _), receipt in zip(items, receipts, strict=True)
                if receipt.outcome == "rejected"
            ]
        return rejected

    return handle
