"""History as the intake stores it: each message once, status reports completed from their
payment before they are stored, orphans refused (and accepted once their payment arrives)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as redis

from activities.monitoring.history import HistoryStore, Incoming
from api.intake.messages import parse_message
from core.db import Pool
from core.monitoring.transactions import TxType
from saku.iso20022_samples import financial_transaction

pytestmark = pytest.mark.integration


def incoming(message: dict[str, object], tenant: str) -> Incoming:
    return Incoming(parse_message(message, tenant), json.dumps(message), "kafka")


@pytest.fixture
def tenant(bank: str) -> str:
    return bank


async def test_a_payment_and_its_report_are_stored_once_and_the_report_whole(
    pool: Pool, valkey: redis.Redis, tenant: str
) -> None:
    store = HistoryStore(pool, valkey)
    payment = financial_transaction(amount=75_000.0, status="ACCC", tenant_id=tenant)
    pacs008 = incoming(payment.pacs008, tenant)
    pacs002 = incoming(payment.pacs002, tenant)
    second_copy = incoming(payment.pacs002, tenant)

    first = await store.accept([pacs008, pacs002, second_copy])

    assert [t.tx_type for t in first.new] == [TxType.PACS_008, TxType.PACS_002]
    assert first.duplicates == [second_copy]
    assert first.rejected == []
    report = first.new[1]
    assert (report.amount, report.debtor_account, report.creditor_account) == (
        75_000.0,
        pacs008.tx.debtor_account,
        pacs008.tx.creditor_account,
    )
    # what the rules read of the payment: its description and where the debtor paid from
    assert pacs008.tx.description and pacs008.tx.debtor_lat is not None
    assert (report.description, report.debtor_lat, report.debtor_lon) == (
        pacs008.tx.description,
        pacs008.tx.debtor_lat,
        pacs008.tx.debtor_lon,
    )
    stored = await store.load(tenant, [report.msg_id])
    assert stored[report.msg_id] == report
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT tx_type, status FROM transaction_edges WHERE tenant_id = %s ORDER BY tx_type",
            (tenant,),
        )
        edges = [(r["tx_type"], r["status"]) for r in await cur.fetchall()]
    # the payment's edge takes its report's status; the report's own edge runs back
    assert edges == [(TxType.PACS_002, "ACCC"), (TxType.PACS_008, "ACCC")]

    again = await store.accept([incoming(payment.pacs002, tenant)])
    assert again.new == [] and again.rejected == [] and len(again.duplicates) == 1


async def test_an_orphan_report_is_refused_until_its_payment_arrives(
    pool: Pool, valkey: redis.Redis, tenant: str
) -> None:
    store = HistoryStore(pool, valkey)
    payment = financial_transaction(tenant_id=tenant)

    orphan = await store.accept([incoming(payment.pacs002, tenant)])

    [(refused, reason)] = orphan.rejected
    assert refused.tx.tx_type == TxType.PACS_002
    assert "no pacs.008 with end-to-end id" in reason
    assert orphan.new == [] and orphan.duplicates == []
    assert await store.load(tenant, [refused.tx.msg_id]) == {}

    await store.accept([incoming(payment.pacs008, tenant)])
    later = await store.accept([incoming(payment.pacs002, tenant)])
    assert [t.msg_id for t in later.new] == [refused.tx.msg_id]
    assert later.rejected == []


async def test_every_document_is_kept_and_the_normalised_transaction_of_each_trigger(
    pool: Pool, valkey: redis.Redis, tenant: str
) -> None:
    store = HistoryStore(pool, valkey)
    payment = financial_transaction(tenant_id=tenant)
    messages = [incoming(m, tenant) for m in payment]

    accepted = await store.accept(messages)

    assert len(accepted.new) == 4
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT tx_type, document, transaction FROM raw_messages WHERE tenant_id = %s",
            (tenant,),
        )
        rows = {r["tx_type"]: r for r in await cur.fetchall()}
    # each document exactly as received
    assert {t: r["document"] for t, r in rows.items()} == {
        m.tx.tx_type: json.loads(m.document) for m in messages
    }
    # the status report triggers the evaluation, which reads it normalised and completed
    assert {t for t, r in rows.items() if r["transaction"] is not None} == {TxType.PACS_002}
    report = next(t for t in accepted.new if t.tx_type == TxType.PACS_002)
    assert await store.load(tenant, [t.msg_id for t in accepted.new]) == {report.msg_id: report}


async def test_deliveries_racing_each_other_store_a_message_once(
    pool: Pool, valkey: redis.Redis, tenant: str
) -> None:
    store = HistoryStore(pool, valkey)
    payment = financial_transaction(tenant_id=tenant)

    # both look, find nothing, and store: the second waits for the first and then finds the
    # message stored, so it is a duplicate rather than an error or a second copy
    results = await asyncio.gather(
        *(store.accept([incoming(m, tenant) for m in payment]) for _ in range(3))
    )

    assert sorted(len(r.new) for r in results) == [0, 0, 4]
    assert sorted(len(r.duplicates) for r in results) == [0, 4, 4]
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) AS n FROM raw_messages WHERE tenant_id = %s", (tenant,)
        )
        assert await cur.fetchone() == {"n": 4}


async def test_a_batch_holding_a_redelivered_message_stores_the_others_once(
    pool: Pool, valkey: redis.Redis, tenant: str
) -> None:
    """A batch is copied in without looking up its messages first; one stored before (by an
    earlier delivery, in another process) fails that copy, and the batch is stored again
    looking first: the redelivered message counts as a duplicate, the rest are stored."""
    first, second = financial_transaction(tenant_id=tenant), financial_transaction(tenant_id=tenant)
    await HistoryStore(pool, valkey).accept([incoming(first.pacs008, tenant)])

    mixed = [incoming(first.pacs008, tenant), incoming(second.pacs008, tenant)]
    accepted = await HistoryStore(pool, valkey).accept(mixed)  # a new process: no lookups yet

    assert [t.msg_id for t in accepted.new] == [mixed[1].tx.msg_id]
    assert accepted.duplicates == [mixed[0]] and accepted.rejected == []
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) AS n FROM transaction_edges WHERE tenant_id = %s", (tenant,)
        )
        assert await cur.fetchone() == {"n": 2}  # the redelivered payment's edge once


async def test_a_report_whose_payment_left_the_data_cache_is_completed_from_history(
    pool: Pool, valkey: redis.Redis, tenant: str
) -> None:
    store = HistoryStore(pool, valkey)
    payment = financial_transaction(amount=12_500.0, tenant_id=tenant)
    pacs008 = incoming(payment.pacs008, tenant)
    await store.accept([pacs008])
    await valkey.delete(f"saku:dc:{tenant}:{pacs008.tx.end_to_end_id}")  # expired

    [report] = (await store.accept([incoming(payment.pacs002, tenant)])).new

    paid = pacs008.tx
    assert (report.amount, report.debtor_entity, report.creditor_account) == (
        12_500.0,
        paid.debtor_entity,
        paid.creditor_account,
    )
    assert (report.description, report.debtor_lat, report.debtor_lon) == (
        paid.description,
        paid.debtor_lat,
        paid.debtor_lon,
    )


async def first_seen(pool: Pool, tenant: str, account: str, entity: str) -> tuple[object, object]:
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                """SELECT (SELECT first_seen_at FROM accounts
                           WHERE tenant_id = %s AND account_id = %s) AS account,
                          (SELECT first_seen_at FROM entities
                           WHERE tenant_id = %s AND entity_id = %s) AS entity""",
                (tenant, account, tenant, entity),
            )
        ).fetchone()
    assert row is not None
    return row["account"], row["entity"]


async def test_parties_keep_their_earliest_time_and_a_known_one_holds_no_payment_up(
    pool: Pool, valkey: redis.Redis, tenant: str
) -> None:
    """Every purchase at a canteen names the canteen's account: a payment must not wait on
    another that is storing the same, already known party."""
    store = HistoryStore(pool, valkey)
    now = datetime.now(UTC).replace(microsecond=0)

    def paid_to_canteen(hours_ago: int) -> Incoming:
        at = now - timedelta(hours=hours_ago)
        return incoming(
            financial_transaction(creditor="canteen", created_at=at, tenant_id=tenant).pacs008,
            tenant,
        )

    later, earlier, latest = paid_to_canteen(3), paid_to_canteen(5), paid_to_canteen(1)
    canteen = (later.tx.creditor_account, later.tx.creditor_entity)
    earliest = datetime.fromtimestamp(earlier.tx.created_at_ms / 1000, UTC)
    await store.accept([later])
    await store.accept([earlier])  # arrives late: the earliest time is kept
    assert await first_seen(pool, tenant, *canteen) == (earliest, earliest)

    # another payment's transaction holds the canteen's rows, as an upsert of them would
    async with pool.connection() as holder, holder.transaction():
        await holder.execute(
            "SELECT FROM accounts WHERE tenant_id = %s AND account_id = %s FOR UPDATE",
            (tenant, canteen[0]),
        )
        await holder.execute(
            "SELECT FROM entities WHERE tenant_id = %s AND entity_id = %s FOR UPDATE",
            (tenant, canteen[1]),
        )
        stored = await asyncio.wait_for(store.accept([latest]), timeout=10)
    assert [t.msg_id for t in stored.new] == [latest.tx.msg_id]
    assert await first_seen(pool, tenant, *canteen) == (earliest, earliest)
