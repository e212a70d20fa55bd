"""Account histories a worker keeps between batches, and reads again only where they grew.

Under a stream the same accounts come back batch after batch, and reading each one's whole
window again would read the same rows every batch, in the database and in the worker. A
worker keeps what it read and, before each batch, reads the tenant's edges
written since: every edge whose writing transaction (`written_by`) is at or after the oldest
transaction still running when it last read (its snapshot's xmin). Every transaction before
that xmin had ended by then, so its edges were seen; a slower one's edges are read again
until it has ended, and taken once (by message id). Rows become visible in commit order, not
in the order of their times or ids, which is why "newer than the last edge seen" would not
do. Accounts met for the first time are read in full, after the catch-up, so whatever they
miss was written by a transaction the next catch-up reads.

Edges deleted or changed outside the intake (retention's purges, a correction by hand) are
not written again: each account is read in full again after `reread_after_s`, so what a
worker keeps is never older than that.

A payment's status arrives as its status report's edge (the report's update of the payment's
edge leaves `written_by` alone, so that the update stays cheap); any other update of an edge
sets `written_by` and the edge is read again. Each tenant's reads are taken one at a time,
so a slower read never lays older rows over newer ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from psycopg.rows import tuple_row

from core.db import Pool
from core.monitoring.transactions import Edge, TxType

# (end-to-end id, edge), newest first: an account's history on one side
History = list[tuple[str, Edge]]

# A batch's window may start a little before the last one's (batches overlap in time): what
# is kept reaches this far before the window, so such a batch does not read the account again.
_SLACK_MS = 3_600_000

_EDGE_HEAD = """end_to_end_id, floor(extract(epoch FROM created_at) * 1000)::int8 AS at_ms,
           amount::float8, currency"""
_EDGE_TAIL = "tx_type, status, description, lat, lon, channel, category, auth_method"

# Columns after the first three in `Edge`'s field order (each row becomes an Edge as is), and
# as the rules take them: epoch milliseconds and floats, converted in SQL rather than row by
# row in Python.
_ACCOUNT_SQL = f"""
SELECT a.account, e.*
FROM unnest(%(accounts)s::text[]) AS a(account)
CROSS JOIN LATERAL (
    SELECT msg_id, {_EDGE_HEAD},
           {{counterparty}}_account, {{counterparty}}_entity, {_EDGE_TAIL}
    FROM transaction_edges
    WHERE tenant_id = %(tenant)s AND {{side}}_account = a.account
      AND tx_type <> %(status_report)s AND created_at >= %(since)s
    ORDER BY created_at DESC
    LIMIT %(limit)s
) AS e
"""

# The snapshot's xmin and the edges written since the last one, in one statement (one
# snapshot); the outer join yields the xmin when nothing was written.
_WRITTEN_SINCE_SQL = f"""
SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, e.*
FROM (SELECT) AS now
LEFT JOIN LATERAL (
    SELECT msg_id, {_EDGE_HEAD}, source_account, source_entity,
           destination_account, destination_entity, {_EDGE_TAIL}
    FROM transaction_edges
    WHERE tenant_id = %(tenant)s AND written_by >= %(xmin)s::xid8
) AS e ON true
"""


@dataclass(slots=True)
class _AccountEdges:
    """One account's edges on one side: all of them from `complete_since_ms` on, or at least
    the newest `limit` of those (what a read with a later window start returns either way)."""

    complete_since_ms: int
    read_at: float = field(default_factory=time.monotonic)  # when it was read in full
    by_msg_id: dict[str, tuple[str, Edge]] = field(default_factory=dict)
    newest_first: History | None = None  # sorted on demand, after changes

    def put(self, msg_id: str, end_to_end_id: str, edge: Edge) -> None:
        if edge.at_ms >= self.complete_since_ms:
            self.by_msg_id[msg_id] = (end_to_end_id, edge)
            self.newest_first = None

    def settle(self, end_to_end_id: str, status: str | None) -> None:
        """The payment's edge takes its status report's status, as the database's does."""
        for msg_id, (e2e, edge) in self.by_msg_id.items():
            if e2e == end_to_end_id and edge.tx_type == TxType.PACS_008:
                self.by_msg_id[msg_id] = (e2e, edge._replace(status=status))
                self.newest_first = None

    def read(self, since_ms: int, limit: int) -> History:
        """The newest `limit` edges from `since_ms` on, as the database would return them;
        what the window has left behind is let go."""
        if self.newest_first is None:
            self.newest_first = sorted(
                self.by_msg_id.values(), key=lambda kept: kept[1].at_ms, reverse=True
            )
        newest = self.newest_first
        keep_from = since_ms - _SLACK_MS
        if len(newest) > 2 * limit or (newest and newest[-1][1].at_ms < keep_from):
            in_reach = [e for e in newest if e[1].at_ms >= keep_from]
            # the newest `limit` in reach (and any as old as the last of them) stay
            cutoff = in_reach[limit - 1][1].at_ms if len(in_reach) > limit else keep_from
            self.newest_first = newest = [e for e in in_reach if e[1].at_ms >= cutoff]
            self.by_msg_id = {m: e for m, e in self.by_msg_id.items() if e[1].at_ms >= cutoff}
            self.complete_since_ms = max(self.complete_since_ms, keep_from)
        return [e for e in newest if e[1].at_ms >= since_ms][:limit]


@dataclass(slots=True)
class _TenantHistories:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    xmin: str | None = None  # the last catch-up's snapshot xmin (xid8 as text)
    # by side ("source": outgoing, "destination": incoming), then account, least recent first
    kept: dict[str, dict[str, _AccountEdges]] = field(
        default_factory=lambda: {"source": {}, "destination": {}}
    )


class HistoryCache:
    def __init__(
        self,
        pool: Pool,
        *,
        max_edges_per_account: int,
        max_accounts: int,
        reread_after_s: float = 600.0,
    ) -> None:
        self.pool = pool
        self.limit = max_edges_per_account
        self.max_accounts = max_accounts  # per tenant and side; the least recent go first
        self.reread_after_s = reread_after_s
        self._tenants: dict[str, _TenantHistories] = {}

    async def histories(
        self, tenant: str, since_ms: int, outgoing_of: Sequence[str], incoming_of: Sequence[str]
    ) -> tuple[dict[str, History], dict[str, History]]:
        """Each account's outgoing and incoming edges from `since_ms` on, newest first, at
        most `max_edges_per_account` each (pacs.002 edges left out)."""
        if not outgoing_of and not incoming_of:  # the routed rules read no history
            return {}, {}
        state = self._tenants.get(tenant)
        if state is None:
            state = self._tenants[tenant] = _TenantHistories()
        async with state.lock:
            await self._catch_up(tenant, state)
            await asyncio.gather(
                self._read_missing(tenant, state.kept["source"], "source", outgoing_of, since_ms),
                self._read_missing(
                    tenant, state.kept["destination"], "destination", incoming_of, since_ms
                ),
            )
            return (
                self._read(state.kept["source"], outgoing_of, since_ms),
                self._read(state.kept["destination"], incoming_of, since_ms),
            )

    def _read(
        self, kept: dict[str, _AccountEdges], accounts: Iterable[str], since_ms: int
    ) -> dict[str, History]:
        read = {}
        for account in accounts:
            kept[account] = edges = kept.pop(account)  # now the most recent
            read[account] = edges.read(since_ms, self.limit)
        if len(kept) > self.max_accounts:
            for least_recent in list(islice(kept, len(kept) - self.max_accounts)):
                del kept[least_recent]
        return read

    async def _catch_up(self, tenant: str, state: _TenantHistories) -> None:
        async with (
            self.pool.connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as cur,
        ):
            await cur.execute(_WRITTEN_SINCE_SQL, {"tenant": tenant, "xmin": state.xmin})
            rows = await cur.fetchall()
        outgoing, incoming = state.kept["source"], state.kept["destination"]
        reports = []
        for (
            xmin,
            msg_id,
            e2e,
            at_ms,
            amount,
            currency,
            src,
            src_entity,
            dst,
            dst_entity,
            *tail,
        ) in rows:
            state.xmin = xmin
            if msg_id is None:  # nothing written since
                continue
            if tail[0] == TxType.PACS_002:
                reports.append((e2e, src, dst, tail[1]))
                continue
            if (edges := outgoing.get(src)) is not None:
                edges.put(msg_id, e2e, Edge(at_ms, amount, currency, dst, dst_entity, *tail))
            if (edges := incoming.get(dst)) is not None:
                edges.put(msg_id, e2e, Edge(at_ms, amount, currency, src, src_entity, *tail))
        # after the payments, which may have come in the same transaction as their reports;
        # a report's edge runs creditor -> debtor
        for e2e, creditor, debtor, status in reports:
            if (edges := outgoing.get(debtor)) is not None:
                edges.settle(e2e, status)
            if (edges := incoming.get(creditor)) is not None:
                edges.settle(e2e, status)

    async def _read_missing(
        self,
        tenant: str,
        kept: dict[str, _AccountEdges],
        side: str,
        accounts: Sequence[str],
        since_ms: int,
    ) -> None:
        """Read in full the accounts not kept, not kept back to `since_ms`, or last read in
        full longer than `reread_after_s` ago."""
        stale_before = time.monotonic() - self.reread_after_s
        missing = [
            account
            for account in accounts
            if (edges := kept.get(account)) is None
            or edges.complete_since_ms > since_ms
            or edges.read_at < stale_before
        ]
        if not missing:
            return
        from_ms = since_ms - _SLACK_MS
        params: dict[str, Any] = {
            "tenant": tenant,
            "accounts": missing,
            "since": datetime.fromtimestamp(from_ms / 1000, UTC),
            "limit": self.limit,
            "status_report": TxType.PACS_002,
        }
        counterparty = "destination" if side == "source" else "source"
        fresh = {account: _AccountEdges(from_ms) for account in missing}
        # binary: thousands of rows, and their numbers need no text conversion either way
        async with (
            self.pool.connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as cur,
        ):
            await cur.execute(_ACCOUNT_SQL.format(side=side, counterparty=counterparty), params)
            for account, msg_id, e2e, *edge in await cur.fetchall():
                fresh[account].put(msg_id, e2e, Edge._make(edge))
        kept.update(fresh)
