"""Keep history as Tazama keeps it: raw documents, accounts, entities, holder links and
transaction edges, plus the short-lived data cache by end-to-end id in Valkey.

`HistoryStore.accept` takes a batch of validated messages and, in one database transaction,
stores every message whose (tenant, message id) is new, returning those it stored: a
message delivered twice (either channel) is accepted once. pacs.002 carries no parties or
amount: they come from its pacs.008 through the data cache, rebuilt from the stored pacs.008
on a miss, and the pacs.008 edge takes the pacs.002's status.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
import redis.asyncio as redis
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from activities.monitoring import offsets
from activities.monitoring.offsets import StreamPosition
from core.db import Pool
from core.monitoring.transactions import Transaction, TxType

DATA_CACHE_TTL_S = 300
# a batch that races another delivery of one of its messages is accepted again (see _insert_raw)
_ACCEPT_ATTEMPTS = 3
# After a message turns out to be stored already (a redelivery), how long batches first look
# up which of theirs are: a redelivered backlog would otherwise fail each batch's copy once.
_PROBE_AFTER_DUPLICATE_S = 60.0
# Lookups by key, one index probe per key. With `msg_id = ANY(...)`, or a join the planner may
# flatten, statistics that lag a busy new tenant led it to read all of the tenant's rows;
# `LIMIT 1` (the keys are unique) keeps each lookup a lookup.
_BY_KEY = """
SELECT r.* FROM unnest(%s::text[], %s::text[]) AS m(tenant_id, msg_id)
CROSS JOIN LATERAL (SELECT {columns} FROM raw_messages
                    WHERE tenant_id = m.tenant_id AND msg_id = m.msg_id LIMIT 1) AS r
"""
# an edge's columns as the intake writes them: all but `written_by`, which its default fills
# with the writing transaction's id (a record from jsonb_populate_recordset would set NULL)
_EDGE_COLUMNS = (
    "tenant_id, msg_id, end_to_end_id, tx_type, source_account, destination_account, "
    "source_entity, destination_entity, amount, currency, created_at, status, description, "
    "lat, lon, channel, category, auth_method"
)
# message types that move money and so write an edge from debtor to creditor
_PAYMENTS = frozenset({TxType.PACS_008, TxType.KIOSK_PURCHASE, TxType.TOP_UP})


@dataclass(frozen=True)
class Incoming:
    tx: Transaction
    document: str  # the message exactly as received: JSON text
    channel: str  # api | kafka | kiosk | sync


@dataclass
class Accepted:
    """What `accept` did with a batch: every message is in exactly one list."""

    new: list[Transaction]  # stored now; pacs.002 completed from its pacs.008
    duplicates: list[Incoming]  # (tenant, message id) seen before: nothing changed
    rejected: list[tuple[Incoming, str]]  # not stored, with the reason
    # (tenant, message id) seen before with other content: nothing changed, and the sender
    # must hear of it (a resend is the same document; another document needs a new MsgId)
    conflicts: list[Incoming] = field(default_factory=list)


def _key(message: Incoming) -> tuple[str, str]:
    """A message's idempotency key: (tenant, message id)."""
    return message.tx.tenant_id, message.tx.msg_id


def _cache_key(tenant: str, e2e: str) -> str:
    return f"saku:dc:{tenant}:{e2e}"


def _ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _cache_fields(tx: Transaction) -> dict[str, Any]:
    return {
        "dbtrId": tx.debtor_entity,
        "cdtrId": tx.creditor_entity,
        "dbtrAcctId": tx.debtor_account,
        "cdtrAcctId": tx.creditor_account,
        "creDtTm": tx.created_at_ms,
        "amt": tx.amount,
        "ccy": tx.currency,
        # beyond Tazama's data cache: what rules read of the payment (descriptions, location)
        "desc": tx.description,
        "lat": tx.debtor_lat,
        "lon": tx.debtor_lon,
    }


def _rows(
    names: tuple[str, ...],
    first_seen: Mapping[tuple[str, ...], int],
    **extra: Mapping[tuple[str, ...], object],
) -> str:
    """Keys with their first-seen time (and any extra columns by key) as a JSON array."""
    return orjson.dumps(
        [
            dict(zip(names, key, strict=True))
            | {"at_ms": at_ms}
            | {column: values.get(key) for column, values in extra.items()}
            for key, at_ms in first_seen.items()
        ]
    ).decode()


def _complete_status_report(tx: Transaction, cached: dict[str, Any]) -> Transaction:
    return replace(
        tx,
        debtor_entity=cached["dbtrId"],
        creditor_entity=cached["cdtrId"],
        debtor_account=cached["dbtrAcctId"],
        creditor_account=cached["cdtrAcctId"],
        amount=float(cached["amt"]),
        currency=cached["ccy"],
        # the report is about the payment: its description and where the debtor paid from
        description=cached.get("desc"),
        debtor_lat=cached.get("lat"),
        debtor_lon=cached.get("lon"),
    )


class HistoryStore:
    def __init__(self, pool: Pool, valkey: redis.Redis) -> None:
        self.pool = pool
        self.valkey = valkey
        self._probe_until = 0.0  # monotonic time; see _PROBE_AFTER_DUPLICATE_S

    async def accept(
        self, batch: Sequence[Incoming], *, position: StreamPosition | None = None
    ) -> Accepted:
        """Store what is new, in one transaction; see `Accepted`. With `position` (a Kafka
        batch's), the consumer's offsets are recorded in that same transaction.

        Messages are usually new, so a batch is copied in without first looking up which of
        its messages are stored. A message stored before fails the copy on the primary key;
        the batch is then stored again, looking first, and so are the batches of the next
        minute."""
        if not batch:
            if position is not None:
                await offsets.record_alone(self.pool, position)
            return Accepted([], [], [])
        probe = time.monotonic() < self._probe_until
        for _ in range(_ACCEPT_ATTEMPTS - 1):
            try:
                return await self._accept(batch, probe=probe, position=position)
            except psycopg.errors.UniqueViolation:
                # stored before, or by another delivery after we looked: the next attempt
                # finds it stored and counts it as a duplicate
                self._saw_duplicate()
                probe = True
        return await self._accept(batch, probe=True, position=position)

    def _saw_duplicate(self) -> None:
        self._probe_until = time.monotonic() + _PROBE_AFTER_DUPLICATE_S

    async def _accept(
        self, batch: Sequence[Incoming], *, probe: bool, position: StreamPosition | None
    ) -> Accepted:
        result = Accepted([], [], [])
        async with self.pool.connection() as conn, conn.transaction():
            # Status reports are completed from their payments before anything is stored, so
            # each is written once, whole; one whose pacs.008 was never seen is not kept (once
            # the pacs.008 arrives, the same pacs.002 can be sent again).
            reports = [m for m in batch if m.tx.tx_type == TxType.PACS_002]
            in_batch = [m.tx for m in batch if m.tx.tx_type in _PAYMENTS]
            completed, orphans = await self._complete(conn, reports, in_batch)
            orphaned = {id(m) for m, _ in orphans}
            # each message as it will be stored, by the identity of the one received
            storable = {
                id(m): replace(m, tx=completed[id(m)]) if id(m) in completed else m
                for m in batch
                if id(m) not in orphaned
            }
            new = await self._insert_raw(conn, list(storable.values()), probe=probe)
            stored = {id(m) for m in new}
            result.new = [m.tx for m in new]
            payments = [t for t in result.new if t.tx_type in _PAYMENTS]
            await self._write_parties(conn, payments)
            await self._write_edges(conn, payments)
            settled = [t for t in result.new if t.tx_type == TxType.PACS_002]
            await self._write_edges(conn, settled, reverse=True)
            await self._settle(conn, settled)
            seen_before = await self._stored(conn, [_key(m) for m, _ in orphans])
            result.rejected = [(m, why) for m, why in orphans if _key(m) not in seen_before]
            # seen before, or a second copy in this batch (only the first copy is stored)
            duplicates = [
                m for m in batch if id(m) in storable and id(storable[id(m)]) not in stored
            ] + [m for m, _ in orphans if _key(m) in seen_before]
            conflicting = await self._conflicting(conn, duplicates)
            result.duplicates = [m for m in duplicates if id(m) not in conflicting]
            result.conflicts = [m for m in duplicates if id(m) in conflicting]
            if position is not None:
                await offsets.record(conn, position)
        if payments:
            async with self.valkey.pipeline(transaction=False) as pipe:
                for tx in payments:
                    pipe.set(
                        _cache_key(tx.tenant_id, tx.end_to_end_id),
                        orjson.dumps(_cache_fields(tx)),
                        ex=DATA_CACHE_TTL_S,
                    )
                await pipe.execute()
        return result

    async def _stored(
        self, conn: AsyncConnection[DictRow], keys: Collection[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """Which of these (tenant, message id) are stored already: a probe each."""
        if not keys:
            return set()
        cur = await conn.execute(
            _BY_KEY.format(columns="tenant_id, msg_id"),
            ([t for t, _ in keys], [m for _, m in keys]),
        )
        return {(row["tenant_id"], row["msg_id"]) for row in await cur.fetchall()}

    async def _conflicting(
        self, conn: AsyncConnection[DictRow], duplicates: Sequence[Incoming]
    ) -> set[int]:
        """Which duplicates differ from the document stored under their key (compared as
        JSON values: key order and spacing do not matter); by identity."""
        if not duplicates:
            return set()
        cur = await conn.execute(
            """SELECT m.n FROM unnest(%s::text[], %s::text[], %s::text[])
                   WITH ORDINALITY AS m(tenant_id, msg_id, document, n)
               CROSS JOIN LATERAL (SELECT document FROM raw_messages
                                   WHERE tenant_id = m.tenant_id AND msg_id = m.msg_id
                                   LIMIT 1) AS r
               WHERE r.document::jsonb <> m.document::jsonb""",
            (
                [m.tx.tenant_id for m in duplicates],
                [m.tx.msg_id for m in duplicates],
                [m.document for m in duplicates],
            ),
        )
        return {id(duplicates[row["n"] - 1]) for row in await cur.fetchall()}

    async def _insert_raw(
        self, conn: AsyncConnection[DictRow], batch: Sequence[Incoming], *, probe: bool
    ) -> list[Incoming]:
        """Store the messages not stored before; returns those stored now.

        With `probe`, the ones already stored are looked up first (a probe each); the rest
        are copied in: COPY takes each document as it is, where an INSERT of the batch as one
        JSON document would make the database parse every document twice. A message stored
        before (without `probe`), or meanwhile by another delivery, fails the COPY on the
        primary key, and `accept` tries again."""
        unique: dict[tuple[str, str], Incoming] = {}
        for message in batch:  # the same message twice in one batch: keep the first
            unique.setdefault(_key(message), message)
        stored = await self._stored(conn, unique.keys()) if probe else set()
        if stored:
            self._saw_duplicate()
        new = [m for key, m in unique.items() if key not in stored]
        if not new:
            return []
        async with conn.cursor().copy(
            "COPY raw_messages (tenant_id, msg_id, tx_type, end_to_end_id, channel, document,"
            " transaction) FROM STDIN"
        ) as copy:
            for m in new:
                tx = m.tx
                await copy.write_row(
                    (
                        tx.tenant_id,
                        tx.msg_id,
                        tx.tx_type,
                        tx.end_to_end_id,
                        m.channel,
                        m.document,
                        # normalised only where an evaluation will read it
                        orjson.dumps(vars(tx)).decode() if tx.tx_type in TxType.TRIGGERS else None,
                    )
                )
        return new

    async def _write_parties(
        self, conn: AsyncConnection[DictRow], txs: Sequence[Transaction]
    ) -> None:
        """Accounts, entities and holder links, each with the earliest time it was seen.

        Sent as JSON documents, like the other bulk writes: psycopg builds array parameters
        slowly, and this runs for every batch of the stream. What is known already, as early,
        is left out before the upsert: an upsert locks the row it meets until the transaction
        ends even when it changes nothing, and every purchase at a canteen names the same
        merchant account, so its payments would queue on that row one after another."""
        if not txs:
            return
        accounts: dict[tuple[str, ...], int] = {}
        entities: dict[tuple[str, ...], int] = {}
        holders: dict[tuple[str, ...], int] = {}
        birth_dates: dict[tuple[str, ...], str] = {}
        for t in txs:
            at = t.created_at_ms
            for entity, account in (
                (t.debtor_entity, t.debtor_account),
                (t.creditor_entity, t.creditor_account),
            ):
                for seen, key in (
                    (accounts, (t.tenant_id, account)),
                    (entities, (t.tenant_id, entity)),
                    (holders, (t.tenant_id, entity, account)),
                ):
                    seen[key] = min(at, seen.get(key, at))
            if t.debtor_birth_date is not None:
                birth_dates[(t.tenant_id, t.debtor_entity)] = t.debtor_birth_date
        await conn.execute(
            """INSERT INTO accounts (tenant_id, account_id, first_seen_at)
               SELECT tenant_id, account_id, to_timestamp(at_ms / 1000.0)
               FROM jsonb_to_recordset(%s::jsonb) AS r(tenant_id text, account_id text,
                                                        at_ms int8)
               WHERE NOT EXISTS (SELECT FROM accounts a
                                 WHERE a.tenant_id = r.tenant_id AND a.account_id = r.account_id
                                   AND a.first_seen_at <= to_timestamp(r.at_ms / 1000.0))
               ON CONFLICT (tenant_id, account_id) DO UPDATE
                   SET first_seen_at = excluded.first_seen_at
                   -- only when it changes: a no-op update still writes a new row version
                   WHERE excluded.first_seen_at < accounts.first_seen_at""",
            (_rows(("tenant_id", "account_id"), accounts),),
        )
        await conn.execute(
            """INSERT INTO entities (tenant_id, entity_id, first_seen_at, birth_date)
               SELECT tenant_id, entity_id, to_timestamp(at_ms / 1000.0), birth_date
               FROM jsonb_to_recordset(%s::jsonb) AS r(tenant_id text, entity_id text,
                                                        at_ms int8, birth_date date)
               WHERE NOT EXISTS (SELECT FROM entities e
                                 WHERE e.tenant_id = r.tenant_id AND e.entity_id = r.entity_id
                                   AND e.first_seen_at <= to_timestamp(r.at_ms / 1000.0)
                                   AND (r.birth_date IS NULL
                                        OR e.birth_date IS NOT DISTINCT FROM r.birth_date))
               ON CONFLICT (tenant_id, entity_id) DO UPDATE
                   SET first_seen_at = least(entities.first_seen_at, excluded.first_seen_at),
                       birth_date = coalesce(excluded.birth_date, entities.birth_date)
                   WHERE excluded.first_seen_at < entities.first_seen_at
                      OR excluded.birth_date IS DISTINCT FROM entities.birth_date
                         AND excluded.birth_date IS NOT NULL""",
            (_rows(("tenant_id", "entity_id"), entities, birth_date=birth_dates),),
        )
        await conn.execute(
            """INSERT INTO account_holders (tenant_id, entity_id, account_id, since)
               SELECT tenant_id, entity_id, account_id, to_timestamp(at_ms / 1000.0)
               FROM jsonb_to_recordset(%s::jsonb) AS r(tenant_id text, entity_id text,
                                                        account_id text, at_ms int8)
               ON CONFLICT DO NOTHING""",
            (_rows(("tenant_id", "entity_id", "account_id"), holders),),
        )

    async def _write_edges(
        self, conn: AsyncConnection[DictRow], txs: Sequence[Transaction], *, reverse: bool = False
    ) -> None:
        if not txs:
            return
        # pacs.002's edge runs creditor -> debtor, as Tazama writes it
        rows = orjson.dumps(
            [
                {
                    "tenant_id": t.tenant_id,
                    "msg_id": t.msg_id,
                    "end_to_end_id": t.end_to_end_id,
                    "tx_type": t.tx_type,
                    "source_account": t.creditor_account if reverse else t.debtor_account,
                    "destination_account": t.debtor_account if reverse else t.creditor_account,
                    "source_entity": t.creditor_entity if reverse else t.debtor_entity,
                    "destination_entity": t.debtor_entity if reverse else t.creditor_entity,
                    "amount": t.amount,
                    "currency": t.currency,
                    "created_at": _ts(t.created_at_ms).isoformat(),
                    "status": t.status,
                    "description": t.description,
                    "lat": t.debtor_lat,
                    "lon": t.debtor_lon,
                    "channel": t.kiosk_id,
                    "category": t.category,
                    "auth_method": t.auth_method,
                }
                for t in txs
            ]
        ).decode()
        await conn.execute(
            f"""INSERT INTO transaction_edges ({_EDGE_COLUMNS})
               SELECT {_EDGE_COLUMNS}
               FROM jsonb_populate_recordset(NULL::transaction_edges, %s::jsonb)
               ON CONFLICT DO NOTHING""",
            (rows,),
        )

    async def _complete(
        self,
        conn: AsyncConnection[DictRow],
        messages: Sequence[Incoming],
        same_batch: Sequence[Transaction],
    ) -> tuple[dict[int, Transaction], list[tuple[Incoming, str]]]:
        """Fill each pacs.002 from its pacs.008: this batch, the data cache, or the database."""
        if not messages:
            return {}, []
        reports = [m.tx for m in messages]
        known: dict[tuple[str, str], dict[str, Any]] = {
            (t.tenant_id, t.end_to_end_id): _cache_fields(t) for t in same_batch
        }
        wanted = [r for r in reports if (r.tenant_id, r.end_to_end_id) not in known]
        if wanted:
            cached = await self.valkey.mget(
                [_cache_key(r.tenant_id, r.end_to_end_id) for r in wanted]
            )
            for report, cache_hit in zip(wanted, cached, strict=True):
                if cache_hit is not None:
                    known[(report.tenant_id, report.end_to_end_id)] = orjson.loads(cache_hit)
        missing = [r for r in reports if (r.tenant_id, r.end_to_end_id) not in known]
        if missing:
            cur = await conn.execute(
                """SELECT e.* FROM unnest(%s::text[], %s::text[]) AS p(tenant_id, e2e)
                   CROSS JOIN LATERAL (
                       SELECT tenant_id, end_to_end_id, source_entity, destination_entity,
                              source_account, destination_account, amount, currency,
                              description, lat, lon
                       FROM transaction_edges
                       WHERE tenant_id = p.tenant_id AND end_to_end_id = p.e2e AND tx_type = %s
                       LIMIT 1) AS e""",
                (
                    [r.tenant_id for r in missing],
                    [r.end_to_end_id for r in missing],
                    TxType.PACS_008,
                ),
            )
            for row in await cur.fetchall():
                known[(row["tenant_id"], row["end_to_end_id"])] = {
                    "dbtrId": row["source_entity"],
                    "cdtrId": row["destination_entity"],
                    "dbtrAcctId": row["source_account"],
                    "cdtrAcctId": row["destination_account"],
                    "amt": float(row["amount"]),
                    "ccy": row["currency"],
                    "desc": row["description"],
                    "lat": row["lat"],
                    "lon": row["lon"],
                }
        completed: dict[int, Transaction] = {}  # by id() of the incoming message
        orphans: list[tuple[Incoming, str]] = []
        for message in messages:
            report = message.tx
            payment = known.get((report.tenant_id, report.end_to_end_id))
            if payment is None:
                reason = f"no pacs.008 with end-to-end id {report.end_to_end_id!r} was received"
                orphans.append((message, reason))
            else:
                completed[id(message)] = _complete_status_report(report, payment)
        return completed, orphans

    async def load(self, tenant: str, msg_ids: Sequence[str]) -> dict[str, Transaction]:
        """The accepted transactions that trigger evaluation, by message id (other ids are
        left out: unknown ones, and messages kept as documents only)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                _BY_KEY.format(columns="msg_id, transaction"), ([tenant] * len(msg_ids), msg_ids)
            )
            rows = await cur.fetchall()
            return {r["msg_id"]: Transaction(**r["transaction"]) for r in rows if r["transaction"]}

    async def _settle(self, conn: AsyncConnection[DictRow], reports: Sequence[Transaction]) -> None:
        """The pacs.008 edge takes its status report's status, so history knows success."""
        if not reports:
            return
        await conn.execute(
            """UPDATE transaction_edges e SET status = s.status
               FROM unnest(%s::text[], %s::text[], %s::text[]) AS s(tenant_id, e2e, status)
               WHERE e.tenant_id = s.tenant_id AND e.end_to_end_id = s.e2e AND e.tx_type = %s""",
            (
                [r.tenant_id for r in reports],
                [r.end_to_end_id for r in reports],
                [r.status for r in reports],
                TxType.PACS_008,
            ),
        )
