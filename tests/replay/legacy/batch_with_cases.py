"""Recording scenario for commits before a patch (see tests/replay/record.py): a micro-batch
with two alerts and one quiet payment, through that commit's intake and workflows, and both
alerts' cases decided by an operator, so every workflow of it closes.

Written against the code of 42d41e3^ and a03ef8b^ (module paths of that time); record.py
copies it into a scratch clone as tests/integration/test_replay_scenario.py. Not collected
here."""

# ruff: noqa: I001  (the modules of that commit are not in this tree to sort by)
from __future__ import annotations

import json

import httpx
import redis.asyncio as redis
from temporalio.client import Client

from activities.monitoring.history import HistoryStore, Incoming
from api.intake.messages.validation import parse_message
from api.intake.samples import financial_transaction
from api.intake.service import Intake
from saku.db import Pool
from saku.domain.cases import case_workflow_id
from saku.settings import Settings
from tests.integration.test_monitoring import (  # noqa: F401 (fixtures)
    REPORTABLE,
    client,
    msg_id,
    operator,
    tenant,
)


async def test_a_batch_with_two_alerts_and_their_cases_decided(
    client: httpx.AsyncClient,  # noqa: F811
    processes: Settings,
    tenant: str,  # noqa: F811
    pool: Pool,
    valkey: redis.Redis,
    temporal: Client,
) -> None:
    payments = [
        financial_transaction(amount=REPORTABLE, tenant_id=tenant),
        financial_transaction(amount=REPORTABLE, tenant_id=tenant),
        financial_transaction(amount=1_000.0, tenant_id=tenant),
    ]
    intake = Intake(pool, HistoryStore(pool, valkey), temporal, processes.task_queue)
    incoming = [
        Incoming(parse_message(m, tenant), json.dumps(m), "kafka") for p in payments for m in p
    ]
    receipts = await intake.submit(incoming, micro_batch=True)
    ids = [msg_id(p.pacs002) for p in payments]
    [batch_id] = {r.workflow_id for r in receipts if r.msg_id in ids}
    batch = await temporal.get_workflow_handle(batch_id).result()
    assert batch["evaluated"] == {ids[0]: "ALRT", ids[1]: "ALRT", ids[2]: "NALT"}
    staff = operator(processes, tenant)
    for alert_id in ids[:2]:
        case = temporal.get_workflow_handle(case_workflow_id(tenant, alert_id))
        await case.describe()  # started by the batch
        decided = await client.post(
            f"/tenants/{tenant}/cases/{alert_id}/decision",
            json={"outcome": "false_positive", "note": "recorded for the replay corpus"},
            headers=staff,
        )
        assert decided.status_code == 202, decided.text
        assert await case.result() == "false_positive"
