from __future__ import annotations

from dataclasses import asdict

import orjson

from activities.monitoring.stored_evaluations import evaluation_rows
from core.monitoring.results import Adjudication, ConditionHit, RuleResult, TypologyResult
from core.monitoring.types import Evaluation
from tests.unit.rules.factory import tx


def test_the_stored_result_leaves_out_only_what_the_configuration_says() -> None:
    t = tx()
    evaluation = Evaluation(
        evaluation_id="01890000-0000-7000-8000-000000000000",
        tenant_id=t.tenant_id,
        msg_id=t.msg_id,
        end_to_end_id=t.end_to_end_id,
        tx_type=t.tx_type,
        network_map_cfg="1.0.0",
        route={"id": "004@1.0.0", "typologies": []},
        rule_results=[
            RuleResult("001@1.0.0", "1.0.0", ".01", "new", 12.0, 0.1),
            RuleResult("002@1.0.0", "1.0.0", ".err", "KeyError: 'maxQueryRange'", None, 0.2),
        ],
        adjudication=Adjudication(
            status="ALRT",
            interdicted=True,
            blocked_by=ConditionHit("c1", "overridable-block", "debtor", "account", "fraud"),
            overridden_by=None,
            typologies=(TypologyResult("t@1", "1", 300, 200, 250, True, True, {"v001": 300}),),
            reasons=("blocked: fraud",),
        ),
        workflow_id="wf",
        run_id="run",
        timings_ms={"rules_ms": 1.0},
    )
    [row] = orjson.loads(evaluation_rows([evaluation]))

    # the evaluations table's columns, not repeated in the result
    assert {
        k: row[k]
        for k in (
            "evaluation_id",
            "msg_id",
            "end_to_end_id",
            "tx_type",
            "network_map_cfg",
            "workflow_id",
            "run_id",
        )
    } == {
        "evaluation_id": evaluation.evaluation_id,
        "msg_id": t.msg_id,
        "end_to_end_id": t.end_to_end_id,
        "tx_type": t.tx_type,
        "network_map_cfg": "1.0.0",
        "workflow_id": "wf",
        "run_id": "run",
    }
    assert (row["tenant_id"], row["status"], row["interdicted"]) == (t.tenant_id, "ALRT", True)
    expected = asdict(evaluation)
    expected["adjudication"]["typologies"] = list(expected["adjudication"]["typologies"])
    expected["adjudication"]["reasons"] = list(expected["adjudication"]["reasons"])
    # the sub-map is the stored network map's route (network_map_cfg names it), and a
    # configured outcome's reason is its rule config's: both are put back on lookup; what
    # failed is kept, as no configuration says it
    assert row["result"] == {
        "rule_results": [
            ["001@1.0.0", "1.0.0", ".01", 12.0, 0.1],
            ["002@1.0.0", "1.0.0", ".err", None, 0.2, "KeyError: 'maxQueryRange'"],
        ],
        "adjudication": expected["adjudication"],
        "timings_ms": {"rules_ms": 1.0},
    }
