"""Evaluations are stored once: a re-run of the persisting step (after a crash between the
write and the workflow's record of it) finds them stored, changes nothing, and stores only
those still missing."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import orjson
import pytest
import redis.asyncio as redis
from psycopg.types.json import Jsonb
from temporalio.testing import ActivityEnvironment

from activities.cases import CaseActivities
from activities.monitoring.alerts import AlertPublisher
from activities.monitoring.config_store import ConfigStore, import_bundle
from activities.monitoring.defaults import default_bundle
from activities.monitoring.evaluate import STORE_EVERY, EvaluationActivities
from activities.monitoring.history import HistoryStore, Incoming
from activities.monitoring.pipeline import MonitoringPipeline
from activities.monitoring.stored_evaluations import complete
from api.intake.messages import parse_message
from core.db import Pool
from core.monitoring.config import document
from core.monitoring.results import NO_ALERT, Adjudication, RuleResult, TypologyResult
from core.monitoring.transactions import TxType
from core.monitoring.types import Evaluation, EvaluationRequest
from saku.iso20022_samples import financial_transaction

pytestmark = pytest.mark.integration


def evaluation(tenant: str, msg_id: str, run_id: str = "run-1") -> Evaluation:
    return Evaluation(
        evaluation_id=str(uuid.uuid4()),
        tenant_id=tenant,
        msg_id=msg_id,
        end_to_end_id=f"e2e-{msg_id}",
        tx_type="pacs.002.001.12",
        network_map_cfg="1.0.0",
        route={"id": "pacs.002.001.12", "typologies": []},
        rule_results=[RuleResult("001@1.0.0", "1.0.0", ".err", 'new\taccount \\ "quoted"', 2.0)],
        adjudication=Adjudication(
            status=NO_ALERT,
            interdicted=False,
            blocked_by=None,
            overridden_by=None,
            typologies=(TypologyResult("t@1", "1", 50, 200, 250, False, False, {"v001": 50}),),
            reasons=(),
        ),
        workflow_id="wf",
        run_id=run_id,
        timings_ms={"rules_ms": 0.5},
    )


async def never_alerts(tenant: str, key: bytes, value: bytes) -> None:
    raise AssertionError("no evaluation here alerts")


async def stored(pool: Pool, tenant: str) -> dict[str, dict[str, Any]]:
    """The tenant's evaluations table rows by message id, read back whole (as the API does)."""
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT * FROM evaluations WHERE tenant_id = %s", (tenant,))
        rows = await cur.fetchall()
    await complete(ConfigStore(pool), tenant, rows)
    return {r["msg_id"]: r for r in rows}


def evaluation_activities(
    pool: Pool, history: HistoryStore, publish: AlertPublisher
) -> EvaluationActivities:
    return EvaluationActivities(MonitoringPipeline(pool, history, publish), CaseActivities(pool))


async def test_each_evaluation_is_stored_once_across_re_runs(
    pool: Pool, valkey: redis.Redis, bank: str
) -> None:
    activities = evaluation_activities(pool, HistoryStore(pool, valkey), never_alerts)
    first = [evaluation(bank, "m1"), evaluation(bank, "m2")]

    assert await activities.persist(first) == ["m1", "m2"]
    rows = await stored(pool, bank)
    assert sorted(rows) == ["m1", "m2"]
    # a reason is stored as it was given, special characters and all
    [rule] = rows["m1"]["result"]["rule_results"]
    assert rule["reason"] == 'new\taccount \\ "quoted"'

    # the same evaluations again (a re-run): nothing stored, nothing changed
    assert await activities.persist([evaluation(bank, "m1", "run-2")]) == []
    # some stored before and one new: only the new one is stored
    again = [evaluation(bank, "m2", "run-2"), evaluation(bank, "m3", "run-2")]
    assert await activities.persist(again) == ["m3"]
    rows = await stored(pool, bank)
    assert {m: row["run_id"] for m, row in rows.items()} == {
        "m1": "run-1",
        "m2": "run-1",
        "m3": "run-2",
    }


async def test_a_stored_evaluation_reads_back_whole(
    pool: Pool, valkey: redis.Redis, bank: str
) -> None:
    configs = ConfigStore(pool)
    await import_bundle(configs, bank, default_bundle())
    active = await configs.load_active(bank)
    assert active is not None
    route = active.network_map.route(TxType.PACS_002)
    assert route is not None
    account_age = active.rules[("001@1.0.0", "1.0.0")]
    made = replace(
        evaluation(bank, "m1"),
        network_map_cfg=active.network_map.cfg,
        route=document(route),
        rule_results=[
            RuleResult("001@1.0.0", "1.0.0", ".02", account_age.config.reasons[".02"], 9.0),
            RuleResult("002@1.0.0", "1.0.0", ".err", "ValueError: no history", None),
        ],
    )
    activities = evaluation_activities(pool, HistoryStore(pool, valkey), never_alerts)
    await activities.persist([made])

    expected = orjson.loads(orjson.dumps(made))  # the evaluation as JSON
    assert (await stored(pool, bank))["m1"]["result"] == expected

    # a result stored in the full shape (before results were stored compactly) reads back
    # as it was
    earlier = replace(made, evaluation_id=str(uuid.uuid4()), msg_id="m0")
    async with pool.connection() as conn:
        await conn.execute(
            """INSERT INTO evaluations (evaluation_id, tenant_id, msg_id, end_to_end_id, tx_type,
                   status, interdicted, network_map_cfg, workflow_id, run_id, result)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                earlier.evaluation_id,
                bank,
                "m0",
                earlier.end_to_end_id,
                earlier.tx_type,
                earlier.status,
                False,
                earlier.network_map_cfg,
                earlier.workflow_id,
                earlier.run_id,
                Jsonb(orjson.loads(orjson.dumps(earlier))),
            ),
        )
    assert (await stored(pool, bank))["m0"]["result"] == orjson.loads(orjson.dumps(earlier))


async def test_a_batch_stored_in_parts_survives_a_failed_part_and_its_retry(
    pool: Pool, valkey: redis.Redis, bank: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch is decided and stored a part at a time. A part that cannot be stored fails
    the activity with that part's own error; the retry stores what is missing, nothing
    twice."""
    await import_bundle(ConfigStore(pool), bank, default_bundle())
    history = HistoryStore(pool, valkey)
    payments = [financial_transaction(amount=10_000 + i, tenant_id=bank) for i in range(70)]
    await history.accept(
        [Incoming(parse_message(m, bank), json.dumps(m), "kafka") for p in payments for m in p]
    )
    status_reports = [p.pacs002["FIToFIPmtSts"]["GrpHdr"]["MsgId"] for p in payments]
    request = EvaluationRequest(bank, status_reports)
    alerted: list[bytes] = []

    async def publish(tenant: str, key: bytes, value: bytes) -> None:
        alerted.append(key)

    activities = evaluation_activities(pool, history, publish)
    assert len(request.msg_ids) > 2 * STORE_EVERY  # three parts

    store, calls = activities.pipeline.store, 0

    async def second_part_fails(evaluations: list[Evaluation]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("the database went away")
        return await store(evaluations)

    monkeypatch.setattr(activities.pipeline, "store", second_part_fails)
    with pytest.raises(ConnectionError, match="the database went away"):
        await ActivityEnvironment().run(activities.evaluate_batch, request)
    assert 0 < len(await stored(pool, bank)) < len(payments)

    monkeypatch.setattr(activities.pipeline, "store", store)
    outcome = await ActivityEnvironment().run(activities.evaluate_batch, request)
    assert sorted(outcome.evaluated) == sorted(request.msg_ids)
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT msg_id, count(*) AS n FROM evaluations WHERE tenant_id = %s GROUP BY msg_id",
            (bank,),
        )
        counts = {r["msg_id"]: r["n"] for r in await cur.fetchall()}
    assert counts == dict.fromkeys(request.msg_ids, 1)
    # and no alert is lost: each stored alert was published (at least once)
    alerts = {f"{bank}:{m}".encode() for m, status in outcome.evaluated.items() if status == "ALRT"}
    assert alerts and alerts <= set(alerted)
