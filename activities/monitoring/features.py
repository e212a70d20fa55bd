"""The queries that feed the rules: each account's recent history, in one query per
direction for a whole batch, and the entity profiles.

History is what happened before the transaction: its own edges (same end-to-end id) and
anything created after it are left out, and pacs.002 edges (status reports, which Tazama
also writes) are not counted twice as money movements.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from psycopg.rows import tuple_row

from activities.monitoring.school_context import load_school_contexts
from activities.rules.base import Needs
from saku.db import Pool
from saku.domain.transactions import (
    AccountHistory,
    Edge,
    EntityProfile,
    Features,
    SchoolContext,
    Transaction,
    TxType,
)

# Indonesia's cap on an unregistered e-money account (IDR); settings may lower it
DEFAULT_BALANCE_CAP = Decimal(2_000_000)

# Columns in `Edge`'s field order (each row after the first two becomes an Edge as is), and
# as the rules take them: epoch milliseconds and floats (converting thousands of timestamps
# and decimals in Python was a tenth of the worker's time).
_HISTORY_SQL = """
SELECT a.account, e.*
FROM unnest(%(accounts)s::text[]) AS a(account)
CROSS JOIN LATERAL (
    SELECT end_to_end_id, floor(extract(epoch FROM created_at) * 1000)::int8 AS at_ms,
           amount::float8, currency,
           {counterparty}_account AS counterparty_account,
           {counterparty}_entity AS counterparty_entity,
           tx_type, status, description, lat, lon, channel, category, auth_method
    FROM transaction_edges
    WHERE tenant_id = %(tenant)s AND {side}_account = a.account
      AND tx_type <> %(status_report)s AND created_at >= %(since)s
    ORDER BY created_at DESC
    LIMIT %(limit)s
) AS e
"""


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


class FeatureLoader:
    def __init__(
        self,
        pool: Pool,
        *,
        default_balance_cap: Decimal = DEFAULT_BALANCE_CAP,
        max_edges_per_account: int = 500,
    ) -> None:
        self.pool = pool
        self.default_balance_cap = default_balance_cap
        self.max_edges = max_edges_per_account

    async def _history(
        self, side: str, params: dict[str, Any], accounts: list[str]
    ) -> dict[str, list[tuple[str, Edge]]]:
        """account -> [(end-to-end id, edge)], newest first, for one side (source: outgoing)."""
        by_account: dict[str, list[tuple[str, Edge]]] = defaultdict(list)
        if not accounts:
            return by_account
        counterparty = "destination" if side == "source" else "source"
        query = _HISTORY_SQL.format(side=side, counterparty=counterparty)
        # binary: thousands of rows a batch, and their numbers need no text conversion either
        # way (1.8 against 2.1 us a row, the same Python values)
        async with (
            self.pool.connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as cur,
        ):
            await cur.execute(query, params | {"accounts": accounts})
            for row in await cur.fetchall():
                by_account[row[0]].append((row[1], Edge._make(row[2:])))
        return by_account

    async def _rows(
        self, query: str, params: tuple[Any, ...], wanted: bool
    ) -> list[dict[str, Any]]:
        if not wanted:
            return []
        async with self.pool.connection() as conn:
            return await (await conn.execute(query, params)).fetchall()

    async def _schools(
        self, tenant: str, txs: Sequence[Transaction], wanted: bool
    ) -> dict[str, SchoolContext]:
        if not wanted:
            return {}
        async with self.pool.connection() as conn:
            return await load_school_contexts(conn, tenant, txs, self.default_balance_cap)

    async def load(
        self,
        tenant: str,
        txs: Sequence[Transaction],
        window_ms: int,
        needs: frozenset[Needs] = frozenset(Needs),
    ) -> dict[str, Features]:
        """Features for each transaction, keyed by message id; one tenant per call. Only the
        history the routed rules need is read: a canteen's thousands of incoming purchases
        are not loaded for rules that look only at the student."""
        if not txs:
            return {}
        debtors = {t.debtor_account for t in txs}
        creditors = {t.creditor_account for t in txs}
        accounts = sorted(debtors | creditors)
        entities = sorted({e for t in txs for e in (t.debtor_entity, t.creditor_entity)})
        outgoing_of = sorted(
            (debtors if Needs.DEBTOR_OUTGOING in needs else set())
            | (creditors if Needs.CREDITOR_OUTGOING in needs else set())
        )
        incoming_of = sorted(
            (debtors if Needs.DEBTOR_INCOMING in needs else set())
            | (creditors if Needs.CREDITOR_INCOMING in needs else set())
        )
        since = datetime.fromtimestamp((min(t.created_at_ms for t in txs) - window_ms) / 1000, UTC)
        params = {
            "tenant": tenant,
            "since": since,
            "limit": self.max_edges,
            "status_report": TxType.PACS_002,
        }
        # Each read on its own connection, all at once: a batch's feature load takes as long
        # as its slowest read rather than all of them in turn (each history read returns
        # thousands of rows), and a payment's decision waits for it.
        # Each row becomes an Edge once, however many transactions of the batch read it.
        out_by_account, in_by_account, first_seen, profiles, schools = await asyncio.gather(
            self._history("source", params, outgoing_of),
            self._history("destination", params, incoming_of),
            self._rows(
                "SELECT account_id, first_seen_at FROM accounts "
                "WHERE tenant_id = %s AND account_id = ANY(%s)",
                (tenant, accounts),
                Needs.ACCOUNT_AGE in needs,
            ),
            self._rows(
                """SELECT e.entity_id, e.birth_date,
                          (SELECT count(*) FROM account_holders h
                           WHERE h.tenant_id = e.tenant_id AND h.entity_id = e.entity_id)
                              AS account_count
                   FROM entities e WHERE e.tenant_id = %s AND e.entity_id = ANY(%s)""",
                (tenant, entities),
                Needs.ENTITIES in needs,
            ),
            self._schools(tenant, txs, Needs.SCHOOL in needs),
        )

        seen = {r["account_id"]: _ms(r["first_seen_at"]) for r in first_seen}
        entity = {
            r["entity_id"]: EntityProfile(
                r["entity_id"],
                int(r["account_count"]),
                r["birth_date"].isoformat() if r["birth_date"] else None,
            )
            for r in profiles
        }

        def history(account: str, tx: Transaction) -> AccountHistory:
            def before(edges: list[tuple[str, Edge]]) -> tuple[Edge, ...]:
                return tuple(
                    edge
                    for end_to_end_id, edge in edges
                    if end_to_end_id != tx.end_to_end_id and edge.at_ms <= tx.created_at_ms
                )

            first = seen.get(account)
            # the account's first appearance may be this very transaction: then it is new
            if first is not None and first >= tx.created_at_ms:
                first = None
            return AccountHistory(
                account,
                first,
                before(out_by_account.get(account, [])),
                before(in_by_account.get(account, [])),
            )

        return {
            tx.msg_id: Features(
                debtor=history(tx.debtor_account, tx),
                creditor=history(tx.creditor_account, tx),
                debtor_entity=entity.get(tx.debtor_entity, EntityProfile(tx.debtor_entity)),
                creditor_entity=entity.get(tx.creditor_entity, EntityProfile(tx.creditor_entity)),
                school=schools.get(tx.msg_id),
            )
            for tx in txs
        }
