"""The queries that feed the rules: each account's recent history (kept between batches,
see `history_cache`), account ages, entity profiles and school contexts, for a whole batch.

History is what happened before the transaction: its own edges (same end-to-end id) and
anything created after it are left out, and pacs.002 edges (status reports, which Tazama
also writes) are not counted twice as money movements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from activities.monitoring.history_cache import HistoryCache
from activities.monitoring.rules.base import Needs
from activities.monitoring.school_context import load_school_contexts
from core.db import Pool
from core.monitoring.transactions import (
    AccountHistory,
    Edge,
    EntityProfile,
    Features,
    SchoolContext,
    Transaction,
)

# Indonesia's cap on an unregistered e-money account (IDR); settings may lower it
DEFAULT_BALANCE_CAP = Decimal(2_000_000)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


class FeatureLoader:
    def __init__(
        self,
        pool: Pool,
        *,
        default_balance_cap: Decimal = DEFAULT_BALANCE_CAP,
        max_edges_per_account: int = 500,
        max_accounts_kept: int = 20_000,
    ) -> None:
        self.pool = pool
        self.default_balance_cap = default_balance_cap
        self.histories = HistoryCache(
            pool, max_edges_per_account=max_edges_per_account, max_accounts=max_accounts_kept
        )

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
        since_ms = min(t.created_at_ms for t in txs) - window_ms
        # Each read on its own connection, all at once: a batch's feature load takes as long
        # as its slowest read rather than all of them in turn, and a payment's decision waits
        # for it. Each edge is an Edge once, however many transactions of the batch read it.
        (out_by_account, in_by_account), first_seen, profiles, schools = await asyncio.gather(
            self.histories.histories(tenant, since_ms, outgoing_of, incoming_of),
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
