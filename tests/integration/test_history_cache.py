"""Histories a worker keeps between batches read what a full read of the database would:
whatever order transactions commit in, with statuses that arrive later, and within the
window and the per-account limit."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as redis
from psycopg import AsyncConnection

from activities.monitoring.history import HistoryStore, Incoming
from activities.monitoring.history_cache import History, HistoryCache
from activities.wallet.payments import _not_moved
from api.intake.messages import parse_message
from core.db import Pool
from core.monitoring.transactions import TxType
from saku.iso20022_samples import end_to_end_id, epoch_ms, pacs002, pacs008

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
DAY_MS = 86_400_000


def cache(
    pool: Pool, limit: int = 500, accounts: int = 1_000, reread_after_s: float = 600.0
) -> HistoryCache:
    return HistoryCache(
        pool, max_edges_per_account=limit, max_accounts=accounts, reread_after_s=reread_after_s
    )


async def read_in_full(
    pool: Pool,
    tenant: str,
    since_ms: int,
    outgoing_of: list[str],
    incoming_of: list[str],
    limit: int = 500,
) -> tuple[dict[str, History], dict[str, History]]:
    """What a worker that kept nothing reads."""
    return await cache(pool, limit).histories(tenant, since_ms, outgoing_of, incoming_of)


async def insert_edge(
    conn: AsyncConnection[Any],
    tenant: str,
    msg_id: str,
    source: str,
    destination: str,
    at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO transaction_edges (tenant_id, msg_id, end_to_end_id, tx_type,
               source_account, destination_account, source_entity, destination_entity,
               amount, currency, created_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 1000, 'IDR', %s)""",
        (
            tenant,
            msg_id,
            f"e2e-{msg_id}",
            TxType.KIOSK_PURCHASE,
            source,
            destination,
            f"entity-{source}",
            f"entity-{destination}",
            at,
        ),
    )


def messages_of(histories: dict[str, History], account: str) -> list[str]:
    return [e2e.removeprefix("e2e-") for e2e, _ in histories[account]]


async def test_kept_histories_read_as_a_full_read_does_round_after_round(
    pool: Pool, valkey: redis.Redis, bank: str
) -> None:
    store = HistoryStore(pool, valkey)
    kept = cache(pool)
    rng = random.Random(7)
    parties = ["ani", "budi", "citra", "dewi"]
    some_payments = [
        parse_message(pacs008(debtor=p, creditor=q), bank)
        for p, q in zip(parties, parties[1:] + parties[:1], strict=True)
    ]
    # each party's account as a debtor's and as a creditor's (at different agents)
    accounts = sorted({a for t in some_payments for a in (t.debtor_account, t.creditor_account)})
    assert len(accounts) == 2 * len(parties)
    unsettled: list[str] = []
    since_ms = epoch_ms(NOW - timedelta(days=2))
    for round_no in range(6):
        batch = []
        for _ in range(8):
            debtor, creditor = rng.sample(parties, 2)
            at = NOW - timedelta(hours=rng.uniform(0, 40))
            payment = pacs008(
                debtor=debtor,
                creditor=creditor,
                amount=rng.choice([10_000.0, 25_000.0]),
                created_at=at,
                tenant_id=bank,
            )
            batch.append(payment)
            unsettled.append(end_to_end_id(payment))
        # status reports for some payments: in the same batch, or rounds later
        rng.shuffle(unsettled)
        for e2e in unsettled[:5]:
            batch.append(pacs002(e2e_id=e2e, status=rng.choice(["ACCC", "RJCT"]), tenant_id=bank))
        del unsettled[:5]
        await store.accept(
            [Incoming(parse_message(m, bank), json.dumps(m), "kafka") for m in batch]
        )

        assert await kept.histories(bank, since_ms, accounts, accounts) == await read_in_full(
            pool, bank, since_ms, accounts, accounts
        ), f"round {round_no}"
        since_ms += 3_600_000  # the window moves on
    outgoing, _ = await kept.histories(bank, since_ms, accounts, accounts)
    statuses = {edge.status for history in outgoing.values() for _, edge in history}
    assert {"ACCC", "RJCT", None} <= statuses


async def test_an_edge_committed_after_a_later_one_is_still_read(pool: Pool, bank: str) -> None:
    kept = cache(pool)
    since_ms = epoch_ms(NOW - timedelta(days=1))
    assert await kept.histories(bank, since_ms, ["a"], ["b"]) == ({"a": []}, {"b": []})

    async with pool.connection() as slow, slow.transaction():
        await insert_edge(slow, bank, "slow", "a", "b", NOW - timedelta(minutes=2))
        async with pool.connection() as quick:
            await insert_edge(quick, bank, "quick", "a", "b", NOW - timedelta(minutes=1))
        outgoing, incoming = await kept.histories(bank, since_ms, ["a"], ["b"])
        assert messages_of(outgoing, "a") == messages_of(incoming, "b") == ["quick"]
    # the slower transaction began first and committed last: its edge is older than the one
    # already read, and was written by a transaction older than that one's
    outgoing, incoming = await kept.histories(bank, since_ms, ["a"], ["b"])
    assert messages_of(outgoing, "a") == messages_of(incoming, "b") == ["quick", "slow"]


async def test_a_declined_purchase_is_read_again_with_its_new_status(pool: Pool, bank: str) -> None:
    kept = cache(pool)
    since_ms = epoch_ms(NOW - timedelta(days=1))
    async with pool.connection() as conn:
        await insert_edge(conn, bank, "buy", "student", "canteen", NOW)
    outgoing, _ = await kept.histories(bank, since_ms, ["student"], [])
    assert [edge.status for _, edge in outgoing["student"]] == [None]

    async with pool.connection() as conn:
        await _not_moved(conn, bank, "buy")

    outgoing, _ = await kept.histories(bank, since_ms, ["student"], [])
    assert [edge.status for _, edge in outgoing["student"]] == ["RJCT"]
    assert (outgoing, {}) == await read_in_full(pool, bank, since_ms, ["student"], [])


async def test_an_earlier_window_than_what_is_kept_reads_the_account_again(
    pool: Pool, bank: str
) -> None:
    kept = cache(pool)
    async with pool.connection() as conn:
        await insert_edge(conn, bank, "last-week", "a", "b", NOW - timedelta(days=7))
        await insert_edge(conn, bank, "today", "a", "b", NOW)
    recent, _ = await kept.histories(bank, epoch_ms(NOW) - DAY_MS, ["a"], [])
    assert messages_of(recent, "a") == ["today"]

    longer, _ = await kept.histories(bank, epoch_ms(NOW) - 30 * DAY_MS, ["a"], [])
    assert messages_of(longer, "a") == ["today", "last-week"]


async def test_the_newest_edges_up_to_the_limit_and_accounts_up_to_the_bound(
    pool: Pool, bank: str
) -> None:
    kept = cache(pool, limit=3, accounts=2)
    since_ms = epoch_ms(NOW) - DAY_MS
    async with pool.connection() as conn:
        for n in range(10):
            await insert_edge(conn, bank, f"m{n}", "a", "b", NOW - timedelta(minutes=10 - n))
    for account in ("a", "x", "y", "a"):  # "a" is let go for x and y, then read again
        outgoing, _ = await kept.histories(bank, since_ms, [account], [])
    assert messages_of(outgoing, "a") == ["m9", "m8", "m7"]

    async with pool.connection() as conn:
        for n in range(10, 20):
            await insert_edge(conn, bank, f"m{n}", "a", "b", NOW + timedelta(minutes=n))
    outgoing, incoming = await kept.histories(bank, since_ms, ["a"], ["b"])
    assert messages_of(outgoing, "a") == messages_of(incoming, "b") == ["m19", "m18", "m17"]
    assert (outgoing, incoming) == await read_in_full(pool, bank, since_ms, ["a"], ["b"], limit=3)


async def test_edges_deleted_outside_the_intake_are_gone_once_the_account_is_read_again(
    pool: Pool, bank: str
) -> None:
    kept = cache(pool, reread_after_s=0.5)
    since_ms = epoch_ms(NOW) - DAY_MS
    async with pool.connection() as conn:
        await insert_edge(conn, bank, "kept", "a", "b", NOW - timedelta(minutes=2))
        await insert_edge(conn, bank, "purged", "a", "b", NOW - timedelta(minutes=1))
    outgoing, _ = await kept.histories(bank, since_ms, ["a"], [])
    assert messages_of(outgoing, "a") == ["purged", "kept"]

    async with pool.connection() as conn:  # as retention purges, or a correction by hand
        await conn.execute(
            "DELETE FROM transaction_edges WHERE tenant_id = %s AND msg_id = 'purged'", (bank,)
        )
    await asyncio.sleep(0.6)
    outgoing, _ = await kept.histories(bank, since_ms, ["a"], [])
    assert messages_of(outgoing, "a") == ["kept"]
