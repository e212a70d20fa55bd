"""Fuzz every route of the OpenAPI document and every Kafka topic's consumer, on the real stack.

HTTP: schemathesis generates requests for every operation from `/openapi.json` (data that
fits the schema and data that does not), sent to the real API with a real token of a role
drawn for each (admin, school_staff, guardian, operator, analyst, integration, or none);
kiosk routes are signed with a registered kiosk key, over the exact bytes sent. Path
parameters are often set to ids that exist, so requests get past the 404s. Then a fixed
set of probes at the edges: a body over the size bound, deep nesting, numbers beyond any
column, megabytes of ISO text. No answer may be >= 500, and every 4xx has the one error
schema and no database words.

Kafka: hypothesis builds records for each topic the consumer reads (random bytes, broken and
deeply nested JSON, wrong types, huge values, valid messages with mutated fields), sent
through the real consumer (`processes`); the bank's answers to payouts also at hand-made
edges (unknown payouts and tenants, another tenant's, boundary and mistyped amounts). Then
a valid sentinel per topic, sent last, must be handed on within a bound (and a payout's
answer sent before the fuzz must be taken too), every partition's committed offset must
reach its end, and every record Saku's own validation refuses must be on the dead-letter
topic with a `saku-reason` header, as must every answer for an unknown payout or another
amount; of the answers for the fuzzed payout, only the one it took (or that same answer
again) may be left undead-lettered.

Both: a bystander tenant's rows (ledger, wallets, evaluations, ...) stay as they were, and
the ledger's invariant holds. Budget and sizes: tests/integration/fuzzing.py (environment
variables SAKU_FUZZ_*; the defaults are CI's).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.openapi import from_dict

from activities.wallet.ledger import Ledger
from activities.wallet.payouts import Payouts
from core import topics
from core.db import Pool
from core.security import Role
from core.settings import Settings
from saku.iso20022_samples import financial_transaction
from tests.integration import fuzzing
from tests.integration.office_world import leaves
from tests.integration.wallet_world import World, add_kiosk, build_world
from tests.stackutil import eventually

pytestmark = pytest.mark.integration

ROLES: list[Role | None] = [*Role, None]


@pytest.fixture(scope="module")
async def bystander(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> tuple[str, dict[str, tuple[int, str]]]:
    """A tenant with a ledger, wallets, a payment, a top-up and an evaluation, and its rows'
    digests once everything it started has settled."""
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "40000")
    await world.pay(student, "2500")
    payment = financial_transaction(amount=12_500.0, tenant_id=world.tenant)
    for message in payment:
        path = f"/v1/evaluate/iso20022/{message['TxTp']}"
        response = await client.post(path, json=message, headers=world.token(Role.INTEGRATION))
        assert response.status_code == 202, response.text
    msg_id = payment.pacs002["FIToFIPmtSts"]["GrpHdr"]["MsgId"]

    async def evaluated() -> bool:
        response = await client.get(
            f"/tenants/{world.tenant}/evaluations/{msg_id}", headers=world.admin
        )
        return response.status_code == 200

    assert await eventually(evaluated, timeout=30)
    before = await fuzzing.snapshot(pool, world.tenant)
    await asyncio.sleep(1)  # nothing of the bystander's may still be moving
    assert await fuzzing.snapshot(pool, world.tenant) == before
    return world.tenant, before


async def assert_untouched(pool: Pool, bystander: tuple[str, dict[str, tuple[int, str]]]) -> None:
    tenant, before = bystander
    after = await fuzzing.snapshot(pool, tenant)
    changed = [table for table in before if after.get(table) != before[table]]
    assert not changed, f"the bystander tenant's rows changed in: {changed}"
    verification = await Ledger(pool).verify()
    assert verification.ok, verification.problems


# --- HTTP --------------------------------------------------------------------------------------


async def _fuzzed_world(
    stack: Settings, pool: Pool, client: httpx.AsyncClient
) -> tuple[World, fuzzing.Known]:
    world = await build_world(stack, pool, client)
    student = await world.student()
    await world.top_up(student, "500000")
    paid = await world.pay(student, "1500", category_id="snacks")
    topup = await world.top_up(student, "1000")
    spare = await add_kiosk(world, f"spare-{uuid.uuid4().hex[:6]}")
    known = fuzzing.Known(
        {
            "tenant_id": world.tenant,
            "school_id": world.school,
            "kiosk_id": world.kiosk.id,
            "student_id": student,
            "child_id": student,  # a guardian's own child (the fuzz's guardian token lists it)
            "guardian_id": f"g-{student}",
            "category_id": "snacks",
            "kiosk_tx_id": paid["reference"],
            "topup_id": topup["reference"],
            "key_id": spare.key_id,
            "cfg": "1.0.0",
        },
        key_kiosk=spare.id,
    )
    return world, known


def _fuzz_operation(
    operation: Any,
    client: httpx.AsyncClient,
    loop: asyncio.AbstractEventLoop,
    world: World,
    known: fuzzing.Known,
    tally: fuzzing.HttpTally,
    seconds: float,
) -> None:
    """Generated requests for one operation, for `seconds` or HTTP_EXAMPLES requests; runs in
    a thread of its own, sending each request on the API's event loop."""
    route = f"{operation.method.upper()} {operation.path}"
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            strategies.append(operation.as_strategy(generation_mode=mode))
        except Exception:  # an operation with nothing to make invalid
            continue
    kiosk = operation.path.startswith("/v1/kiosk/")
    student = known.values["student_id"]
    deadline = time.monotonic() + seconds
    # /auth/token hashes each password with argon2 (64 MiB): a few tries say enough
    examples = 8 if operation.path == "/auth/token" else fuzzing.HTTP_EXAMPLES

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.one_of(strategies),
        role=st.sampled_from(ROLES),
        use_known=st.integers(0, 3),
        signed=st.integers(0, 9),
    )
    def run(case: Any, role: Role | None, use_known: int, signed: int) -> None:
        # past the route's share of time, stop; but every route gets at least one request
        # (on a loaded machine the first example alone can take longer than the share)
        if time.monotonic() > deadline and route in tally.by_route:
            return
        if use_known and case.path_parameters:  # three times in four: ids that exist
            for name in case.path_parameters:
                if name in known.values:
                    case.path_parameters[name] = known.values[name]
            if "/keys" in operation.path and "kiosk_id" in case.path_parameters:
                case.path_parameters["kiosk_id"] = known.key_kiosk
        headers = {} if kiosk else fuzzing.token_for(world, role, student)
        try:
            request = fuzzing.build_request(
                client, case, headers, world=world if kiosk and signed else None
            )
        except Exception:  # not expressible as HTTP (a header httpx refuses, ...)
            tally.unsendable += 1
            return
        sending = asyncio.run_coroutine_threadsafe(client.send(request), loop)
        try:
            response = sending.result(120)
        except Exception as err:  # the app raised: a server error (500 from a real server)
            tally.crashed(route, request, err)
            return
        tally.record(route, request, response)

    run()


async def _probe_edges(
    client: httpx.AsyncClient, world: World, known: fuzzing.Known, tally: fuzzing.HttpTally
) -> None:
    """Hand-made requests at the bounds the generated ones rarely reach."""
    student = known.values["student_id"]
    admin = world.admin
    probes: list[tuple[str, str, str, Any]] = [
        ("PUT", f"/v1/students/{student}/controls", "json", {"daily_limit": 1e20}),
        ("PUT", f"/v1/students/{student}/controls", "json", {"weekly_limit": "1e30"}),
        (
            "PUT",
            f"/v1/students/{student}/controls/categories/snacks",
            "json",
            {"daily_limit": 1e20},
        ),
        ("POST", "/v1/schools", "json", {"id": "s-big", "name": "x", "balance_cap": 1e25}),
        ("POST", "/v1/guardians", "json", {"id": "g-uuid", "display_name": "x", "user_id": "abc"}),
        (
            "POST",
            "/v1/topups",
            "json",
            {
                "topupId": "t1",
                "studentId": student,
                "amount": 1e300,
                "payerAccount": "a",
                "payerName": "b",
            },
        ),
        ("POST", "/v1/schools", "raw", b"[" * 100_000 + b"]" * 100_000),
        ("POST", "/v1/evaluate/iso20022/pacs.008.001.10", "raw", b"[" * 100_000 + b"]" * 100_000),
        ("POST", "/v1/evaluate/iso20022/pacs.008.001.10", "raw", b"{" * 3000),
        ("POST", "/v1/schools", "raw", b"x" * (world.settings.api_max_body_bytes + 1)),
    ]
    long_text = financial_transaction(tenant_id=world.tenant).pacs008
    long_text["FIToFICstmrCdtTrf"]["RmtInf"]["Ustrd"] = "x" * 500_000
    probes.append(("POST", "/v1/evaluate/iso20022/pacs.008.001.10", "json", long_text))
    for method, path, kind, body in probes:
        content = body if kind == "raw" else json.dumps(body).encode()
        headers = {**admin, "Content-Type": "application/json"}
        request = client.build_request(method, path, content=content, headers=headers)
        try:
            response = await client.send(request)
        except Exception as err:  # the app raised: a server error (500 from a real server)
            tally.crashed(f"probe {method} {path}", request, err)
            continue
        tally.record(f"probe {method} {path}", request, response)
    # the same bounds through a chunked body (no Content-Length)
    big = b"x" * (world.settings.api_max_body_bytes + 1)

    async def chunks() -> Any:
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    response = await client.post(
        "/v1/schools", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )
    tally.record("probe POST /v1/schools (chunked)", response.request, response)
    if response.status_code != 413:
        tally.failures.append(f"a chunked body over the bound got {response.status_code}")


async def test_every_route_answers_generated_requests_without_a_server_error(
    app: FastAPI,
    client: httpx.AsyncClient,
    stack: Settings,
    pool: Pool,
    bystander: tuple[str, dict[str, tuple[int, str]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    world, known = await _fuzzed_world(stack, pool, client)
    schema = from_dict(app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(ops) for ops in app.openapi()["paths"].values())
    tally = fuzzing.HttpTally()
    loop = asyncio.get_running_loop()
    share = fuzzing.HTTP_SECONDS / len(operations)
    started = time.monotonic()
    for operation in operations:
        await asyncio.to_thread(
            _fuzz_operation, operation, client, loop, world, known, tally, share
        )
    await _probe_edges(client, world, known, tally)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\n{tally.summary()}\n  in {elapsed:.0f} s")
    assert set(tally.by_route) >= {f"{op.method.upper()} {op.path}" for op in operations}
    assert not tally.failures, "\n".join(tally.failures[:30])
    await assert_untouched(pool, bystander)


# --- Kafka -------------------------------------------------------------------------------------

KINDS = (
    topics.TRANSACTIONS.name,
    topics.TOPUPS.name,
    topics.SELFCHECK.name,
    topics.PAYOUT_RESULTS.name,
)
# the field a huge, otherwise valid-looking message carries its megabytes in
HUGE_FIELD = {
    topics.TOPUPS.name: "payerName",
    topics.SELFCHECK.name: "source",
    topics.PAYOUT_RESULTS.name: "reason",
}
PAYOUT_AMOUNT = Decimal(12_500)


def _draw_records(
    kind: str,
    base: Any,
    headers: st.SearchStrategy[list[tuple[str, bytes]]],
    records: list[tuple[str, bytes, list[Any]]],
) -> None:
    @settings(
        max_examples=fuzzing.KAFKA_RECORDS,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data(), how=st.sampled_from(["mutated", "mutated", "malformed", "valid"]))
    def build(data: st.DataObject, how: str) -> None:
        message = base()
        if how == "mutated":
            value = data.draw(fuzzing.mutated(message))
        elif how == "malformed":
            value = data.draw(fuzzing.malformed(message))
        else:
            value = json.dumps(message).encode()
        records.append((kind, value, data.draw(headers)))

    build()


def _generate_records(
    tenant: str, student: str, payout_id: str, other_tenant: str
) -> list[tuple[str, bytes, list[Any]]]:
    """KAFKA_RECORDS records per topic, built by hypothesis (in a thread: no I/O here); the
    bank's answers are about `payout_id`, a payout of `tenant`'s waiting for its answer."""
    records: list[tuple[str, bytes, list[Any]]] = []
    bases = {
        topics.TRANSACTIONS.name: lambda: fuzzing.valid_transaction(tenant),
        topics.TOPUPS.name: lambda: fuzzing.valid_topup(tenant, student),
        topics.SELFCHECK.name: fuzzing.valid_selfcheck,
        topics.PAYOUT_RESULTS.name: lambda: fuzzing.valid_payout_result(
            tenant, payout_id, f"{PAYOUT_AMOUNT}"
        ),
    }
    headers = st.lists(
        st.tuples(
            st.sampled_from(["saku-tenant", "X-Request-ID", "other"]), st.binary(max_size=80)
        ),
        max_size=2,
    )
    for kind in KINDS:
        _draw_records(kind, bases[kind], headers, records)
        # huge values, whatever the generator drew: one valid-looking message each
        huge = bases[kind]()
        text = "x" * fuzzing.KAFKA_HUGE_BYTES
        if kind == topics.TRANSACTIONS.name:  # remittance information: Max140Text
            huge["FIToFICstmrCdtTrf"]["RmtInf"]["Ustrd"] = text
        else:
            huge[HUGE_FIELD[kind]] = text
        records.append((kind, json.dumps(huge).encode(), []))
    records.append((topics.TRANSACTIONS.name, b"\xff" * fuzzing.KAFKA_HUGE_BYTES, []))
    for edge in fuzzing.payout_result_edges(tenant, other_tenant, payout_id):
        records.append((topics.PAYOUT_RESULTS.name, edge, []))
    return records


async def _committed_reach_the_end(settings: Settings, partitions: list[TopicPartition]) -> bool:
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.resolved_kafka_bootstrap(),
        group_id=settings.consumer_group,
        enable_auto_commit=False,
    )
    await reader.start()
    try:
        ends = await reader.end_offsets(partitions)
        for partition in partitions:
            if (await reader.committed(partition) or 0) < ends[partition]:
                return False
        return True
    finally:
        await reader.stop()


async def _dead_letters(settings: Settings) -> list[Any]:
    """Every record on the dead-letter topic, to its end as it stands now (once committed
    offsets have reached the end of every partition read, everything refused is there)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.resolved_kafka_bootstrap(),
        enable_auto_commit=False,
        group_id=None,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        partitions = [
            TopicPartition(settings.topic(topics.DEAD_LETTER.name), p)
            for p in range(topics.DEAD_LETTER.partitions)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + 60
        behind = list(partitions)
        while behind and time.monotonic() < deadline:
            batch = await consumer.getmany(*behind, timeout_ms=500)
            records += [r for tp, rs in batch.items() for r in rs if r.offset < ends[tp]]
            behind = [p for p in behind if await consumer.position(p) < ends[p]]
    finally:
        await consumer.stop()
    return records


async def _payout(world: World) -> str:
    """A student of the world leaves with PAYOUT_AMOUNT in their wallet: the payout, waiting
    for the bank's answer."""
    student = await world.student()
    await world.top_up(student, f"{PAYOUT_AMOUNT}")
    return await leaves(world, student)


async def test_every_consumer_takes_generated_records_without_stalling(
    processes: Settings,
    stack: Settings,
    pool: Pool,
    client: httpx.AsyncClient,
    bystander: tuple[str, dict[str, tuple[int, str]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = await build_world(stack, pool, client)
    student = await world.student()
    # the bank answers three payouts: one before the fuzz, one fuzzed, one as a sentinel
    before, fuzzed, after = [await _payout(world) for _ in range(3)]
    payouts = dict.fromkeys((before, fuzzed, after), PAYOUT_AMOUNT)
    started = time.monotonic()
    records = await asyncio.to_thread(
        _generate_records, world.tenant, student, fuzzed, bystander[0]
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=processes.resolved_kafka_bootstrap(),
        max_request_size=32 * 1024 * 1024,
    )
    await producer.start()
    sent: dict[tuple[str, int, int], tuple[str, bytes]] = {}
    results = processes.topic(topics.PAYOUT_RESULTS.name)

    def paid(payout_id: str) -> bytes:
        body = {"payoutId": payout_id, "tenantId": world.tenant, "outcome": "paid"}
        return json.dumps(body | {"bankReference": f"OK-{payout_id[-8:]}"}).encode()

    try:
        # a good answer first, which the bad ones must not keep from being taken
        await producer.send_and_wait(results, paid(before), key=before.encode())
        for kind, value, headers in records:
            metadata = await producer.send_and_wait(
                processes.topic(kind), value, headers=headers or None
            )
            sent[(metadata.topic, metadata.partition, metadata.offset)] = (kind, value)
        # the sentinels, last: a whole payment (one key: one partition, in order), a top-up,
        # a self-check and a payout's answer, each valid
        payment = financial_transaction(tenant_id=world.tenant, amount=7_500.0)
        key = payment.pacs002["FIToFIPmtSts"]["TxInfAndSts"]["OrgnlEndToEndId"].encode()
        for message in payment:
            await producer.send_and_wait(
                processes.topic(topics.TRANSACTIONS.name), json.dumps(message).encode(), key=key
            )
        topup = fuzzing.valid_topup(world.tenant, student)
        await producer.send_and_wait(
            processes.topic(topics.TOPUPS.name), json.dumps(topup).encode()
        )
        check = fuzzing.valid_selfcheck()
        await producer.send_and_wait(
            processes.topic(topics.SELFCHECK.name), json.dumps(check).encode()
        )
        await producer.send_and_wait(results, paid(after), key=after.encode())
    finally:
        await producer.stop()
    produced = time.monotonic()

    msg_id = payment.pacs002["FIToFIPmtSts"]["GrpHdr"]["MsgId"]

    async def sentinels_handed_on() -> bool:
        async with pool.connection() as conn:
            evaluated = await (
                await conn.execute(
                    "SELECT 1 FROM evaluations WHERE tenant_id = %s AND msg_id = %s",
                    (world.tenant, msg_id),
                )
            ).fetchone()
            credited = await (
                await conn.execute(
                    "SELECT 1 FROM topups WHERE tenant_id = %s AND id = %s",
                    (world.tenant, topup["topupId"]),
                )
            ).fetchone()
            checked = await (
                await conn.execute(
                    "SELECT 1 FROM selfchecks WHERE check_id = %s", (check["check_id"],)
                )
            ).fetchone()
            answered = await (
                await conn.execute(
                    "SELECT 1 FROM payouts WHERE tenant_id = %s AND id = %s AND status = 'paid'",
                    (world.tenant, after),
                )
            ).fetchone()
        return None not in (evaluated, credited, checked, answered)

    handed_on = await eventually(
        sentinels_handed_on, timeout=fuzzing.SENTINEL_TIMEOUT_S, interval=0.5
    )
    sentinel_s = time.monotonic() - produced
    partitions = [
        TopicPartition(processes.topic(t.name), p)
        for t in (topics.TRANSACTIONS, topics.TOPUPS, topics.SELFCHECK, topics.PAYOUT_RESULTS)
        for p in range(t.partitions)
    ]
    caught_up = await eventually(
        lambda: _committed_reach_the_end(processes, partitions), timeout=30, interval=1
    )
    must_reject = {
        where
        for where, (kind, value) in sent.items()
        if (
            fuzzing.payout_result_refused(value, world.tenant, payouts)
            if kind == topics.PAYOUT_RESULTS.name
            else not fuzzing.locally_valid(kind, value, world.tenant)
        )
    }
    letters = await _dead_letters(processes)
    lettered: dict[tuple[str, int, int], str] = {}
    for letter in letters:
        header = {k: v.decode(errors="replace") for k, v in letter.headers}
        where = (
            header.get("saku-source-topic", ""),
            int(header.get("saku-source-partition", "-1")),
            int(header.get("saku-source-offset", "-1")),
        )
        lettered[where] = header.get("saku-reason", "")
    per_topic = Counter(kind for kind, _ in sent.values())
    lettered_per_topic = Counter(where[0].rsplit(".", 1)[-1] for where in lettered)
    with capsys.disabled():
        print("\nfuzz: Kafka records per topic (sent / dead-lettered)")
        for kind in KINDS:
            print(f"  {kind:<14} {per_topic[kind]:>5} / {lettered_per_topic[kind]}")
        print(
            f"  dead-lettered {len(lettered)} (refused whatever the order: {len(must_reject)});"
            f" sentinels handed on in {sentinel_s:.1f} s: {handed_on}; committed offsets at the"
            f" end: {caught_up}; in {time.monotonic() - started:.0f} s"
        )
    assert handed_on, "the consumer did not reach the sentinels (a stall)"
    assert caught_up, "committed offsets did not reach the end of every partition (a stall)"
    missing = sorted(must_reject - set(lettered))
    assert not missing, f"refused records not dead-lettered: {missing[:10]}"
    without_reason = [where for where, reason in lettered.items() if not reason]
    assert not without_reason, f"dead letters without a saku-reason: {without_reason[:10]}"
    assert set(lettered) <= set(sent), "a dead letter of a record this test did not send"
    await _assert_payouts_answered_once(pool, world.tenant, before, fuzzed, sent, lettered)
    await assert_untouched(pool, bystander)


async def _assert_payouts_answered_once(
    pool: Pool,
    tenant: str,
    before: str,
    fuzzed: str,
    sent: dict[tuple[str, int, int], tuple[str, bytes]],
    lettered: dict[tuple[str, int, int], str],
) -> None:
    """The good answer sent before the fuzz was taken; the fuzzed payout took at most one
    answer, and every answer about it that was not dead-lettered is that answer (taken, or
    the same again)."""
    store = Payouts(pool)
    first = await store.get(tenant, before)
    assert first is not None and first.status == "paid", first
    assert first.bank_reference == f"OK-{before[-8:]}"
    taken = {
        (answer.outcome, answer.bank_reference)
        for where, (kind, value) in sent.items()
        if kind == topics.PAYOUT_RESULTS.name
        and where not in lettered
        and (answer := fuzzing.payout_answer(value)) is not None
        and (answer.tenant_id, answer.payout_id) == (tenant, fuzzed)
    }
    found = await store.get(tenant, fuzzed)
    assert found is not None
    if taken:
        assert taken == {(found.status, found.bank_reference)}, (taken, found)
    else:
        assert found.status in ("requested", "sent"), found
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT count(*) AS n FROM postings WHERE tenant_id = %s AND kind = 'payout_paid'",
                (tenant,),
            )
        ).fetchone()
    assert row is not None
    assert row["n"] == 2 + (found.status == "paid"), "a payout paid more than once"
