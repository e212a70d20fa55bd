"""The Kafka channel of the intake: ISO 20022 JSON from core banking, same rules as HTTP.

A record is validated like an HTTP request (its tenant is the body's `TenantId`, or the
`saku-tenant` header, or DEFAULT as in Tazama); invalid ones are dead-lettered with the
reason. Valid ones are submitted per tenant: on a quiet stream one workflow per
transaction; on a busy one (a big poll, or a message rate at or above the busy rate) one
micro-batch workflow per poll, carrying references.
"""

from __future__ import annotations

from collections import defaultdict

import psycopg

from activities.monitoring import offsets
from activities.monitoring.history import Incoming
from activities.monitoring.offsets import StreamPosition
from api.intake.consumer import Handler, LoadMeter, Record, Rejected, decode_json
from api.intake.messages import IntakeError, parse_message
from api.intake.service import Intake
from core.db import Pool

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


async def _one_by_one(
    intake: Intake, items: list[tuple[Record, Incoming]]
) -> list[tuple[Record, str]]:
    rejected: list[tuple[Record, str]] = []
    for record, incoming in items:
        try:
            [receipt] = await intake.submit([incoming])
        except psycopg.DataError as err:
            rejected.append((record, f"the database refused a value: {err}".strip()))
            continue
        if receipt.outcome in ("rejected", "conflict"):
            rejected.append((record, receipt.reason))
    return rejected


def transactions_handler(
    intake: Intake, tenants: KnownTenants, micro_batch_from: int, load: LoadMeter
) -> Handler:
    async def handle(records: list[Record], position: StreamPosition) -> list[tuple[Record, str]]:
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
        groups = list(by_tenant.values())
        recorded = False
        for n, items in enumerate(groups, start=1):
            # batch when the poll is big or the stream is busy: a workflow per transaction
            # cannot keep up with a busy stream
            micro_batch = len(items) >= micro_batch_from or load.busy
            # The offsets go with the last tenant's history: the earlier tenants' are stored
            # by then, so the database never says a record was stored that is not.
            last = n == len(groups)
            try:
                receipts = await intake.submit(
                    [i for _, i in items],
                    micro_batch=micro_batch,
                    position=position if last else None,
                )
                recorded = last
            except psycopg.DataError:
                # a value the database refuses: find the record(s) one by one, so one bad
                # record cannot stall the stream (connection errors still retry the poll)
                rejected += await _one_by_one(intake, items)
                continue
            rejected += [
                (record, receipt.reason)
                for (record, _), receipt in zip(items, receipts, strict=True)
                if receipt.outcome in ("rejected", "conflict")
            ]
        if not recorded:  # nothing stored, or the last part went one by one
            await offsets.record_alone(intake.pool, position)
        return rejected

    return handle
