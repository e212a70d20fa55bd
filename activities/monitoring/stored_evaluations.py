"""How an evaluation is stored, and how it is read back whole.

Configurations never change once stored (a change is a new `cfg`), so the stored result
leaves out what they already say: the sub-map the evaluation used (the network map's `cfg`
is stored beside the result) and the reason of each rule result that landed on a configured
outcome (a rule config defines each outcome once). Only `.err` results keep their reason,
which says what failed. That halves what the database parses and compresses for every
evaluation; `complete` puts both back when an evaluation is looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from activities.monitoring.config_store import ConfigStore, Key
from saku.domain.evaluation import Evaluation
from saku.monitoring.config import ERROR_OUTCOME, NetworkMap, document
from saku.monitoring.results import RuleResult


def _stored_rule_result(result: RuleResult) -> dict[str, Any]:
    stored: dict[str, Any] = {
        "id": result.id,
        "cfg": result.cfg,
        "sub_rule_ref": result.sub_rule_ref,
        "indpdnt_varbl": result.indpdnt_varbl,
        "prcg_tm_ms": result.prcg_tm_ms,
    }
    if result.sub_rule_ref == ERROR_OUTCOME:
        stored["reason"] = result.reason
    return stored


def evaluation_rows(evaluations: Iterable[Evaluation]) -> str:
    """The evaluations table's rows as one JSON array, each with its stored `result`."""
    return orjson.dumps(
        [
            {
                "evaluation_id": e.evaluation_id,
                "tenant_id": e.tenant_id,
                "msg_id": e.msg_id,
                "end_to_end_id": e.end_to_end_id,
                "tx_type": e.tx_type,
                "status": e.status,
                "interdicted": e.adjudication.interdicted,
                "network_map_cfg": e.network_map_cfg,
                "workflow_id": e.workflow_id,
                "run_id": e.run_id,
                "result": {
                    "evaluation_id": e.evaluation_id,
                    "tenant_id": e.tenant_id,
                    "msg_id": e.msg_id,
                    "end_to_end_id": e.end_to_end_id,
                    "tx_type": e.tx_type,
                    "network_map_cfg": e.network_map_cfg,
                    "rule_results": [_stored_rule_result(r) for r in e.rule_results],
                    # dataclasses: orjson serialises them as they are, without building dicts
                    "adjudication": e.adjudication,
                    "workflow_id": e.workflow_id,
                    "run_id": e.run_id,
                    "timings_ms": e.timings_ms,
                },
            }
            for e in evaluations
        ]
    ).decode()


async def complete(configs: ConfigStore, tenant: str, results: Sequence[dict[str, Any]]) -> None:
    """Put back, in place, the sub-map and the rule reasons of stored results (one tenant's):
    each result then holds everything the evaluation decided with."""
    if not results:
        return
    used = {result["network_map_cfg"] for result in results}
    maps = {
        cfg: NetworkMap.model_validate(doc)
        for cfg, doc in (await configs.network_map_documents(tenant)).items()
        if cfg in used
    }
    keys: set[Key] = {(r["id"], r["cfg"]) for result in results for r in result["rule_results"]}
    rules = await configs.rule_configs(tenant, keys)
    for result in results:
        network_map = maps.get(result["network_map_cfg"])
        route = network_map.route(result["tx_type"]) if network_map else None
        # none when there was no active map, or it routes no messages of this type
        result["route"] = document(route) if route else {}
        for rule_result in result["rule_results"]:
            if "reason" not in rule_result:
                rule = rules.get((rule_result["id"], rule_result["cfg"]))
                reasons = rule.config.reasons if rule else {}
                rule_result["reason"] = reasons.get(rule_result["sub_rule_ref"], "")
