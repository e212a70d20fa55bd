"""How an evaluation is stored, and how it is read back whole.

The stored `result` holds only what nothing else says:
- not the fields the evaluations table has as columns (ids, message type, network map
  `cfg`, workflow and run);
- not the sub-map the evaluation used: configurations never change once stored (a change is
  a new `cfg`), so the network map's `cfg` names it;
- not the reason of a rule result that landed on a configured outcome (a rule config
  defines each outcome once); only `.err` results keep theirs, which says what failed;
- each rule result as an array, `[id, cfg, sub_rule_ref, indpdnt_varbl, prcg_tm_ms]` with
  the reason after them for `.err`, not an object repeating its keys 35 times.
So the database parses and compresses much less for every evaluation; `complete` puts it
all back when an evaluation is looked up, and the reports'
staging model expands the arrays. Results stored before in the full shape read back as they
are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from activities.monitoring.config_store import ConfigStore, Key
from core.db import Pool
from core.monitoring.config import ERROR_OUTCOME, NetworkMap, RuleConfig, document
from core.monitoring.results import RuleResult
from core.monitoring.types import Evaluation

# the stored result's fields that are the evaluations table's columns
_COLUMNS = (
    "evaluation_id",
    "tenant_id",
    "msg_id",
    "end_to_end_id",
    "tx_type",
    "network_map_cfg",
    "workflow_id",
    "run_id",
)
_RULE_RESULT_FIELDS = ("id", "cfg", "sub_rule_ref", "indpdnt_varbl", "prcg_tm_ms", "reason")


def _stored_rule_result(result: RuleResult) -> list[Any]:
    stored = [result.id, result.cfg, result.sub_rule_ref, result.indpdnt_varbl, result.prcg_tm_ms]
    if result.sub_rule_ref == ERROR_OUTCOME:
        stored.append(result.reason)
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
                    "rule_results": [_stored_rule_result(r) for r in e.rule_results],
                    # dataclasses: orjson serialises them as they are, without building dicts
                    "adjudication": e.adjudication,
                    "timings_ms": e.timings_ms,
                },
            }
            for e in evaluations
        ]
    ).decode()


def _rule_result(stored: list[Any] | dict[str, Any]) -> dict[str, Any]:
    if isinstance(stored, dict):  # stored in the full shape
        return stored
    return dict(zip(_RULE_RESULT_FIELDS, stored, strict=False))


async def complete(configs: ConfigStore, tenant: str, rows: Sequence[dict[str, Any]]) -> None:
    """Make each row's stored `result` (one tenant's rows of the evaluations table) whole
    again, in place: its columns, its sub-map and its rule results with their reasons; each
    result then holds everything the evaluation decided with."""
    if not rows:
        return
    used = {row["network_map_cfg"] for row in rows}
    maps = {
        cfg: NetworkMap.model_validate(doc)
        for cfg, doc in (await configs.network_map_documents(tenant)).items()
        if cfg in used
    }
    for row in rows:
        result = row["result"]
        result |= {column: row[column] for column in _COLUMNS}
        result["evaluation_id"] = str(row["evaluation_id"])
        result["rule_results"] = [_rule_result(r) for r in result["rule_results"]]
    keys: set[Key] = {(r["id"], r["cfg"]) for row in rows for r in row["result"]["rule_results"]}
    rules = await configs.rule_configs(tenant, keys)
    for row in rows:
        result = row["result"]
        network_map = maps.get(result["network_map_cfg"])
        route = network_map.route(result["tx_type"]) if network_map else None
        # none when there was no active map, or it routes no messages of this type
        result["route"] = document(route) if route else {}
        for rule_result in result["rule_results"]:
            if "reason" not in rule_result:
                rule = rules.get((rule_result["id"], rule_result["cfg"]))
                reasons = rule.config.reasons if rule else {}
                rule_result["reason"] = reasons.get(rule_result["sub_rule_ref"], "")


@dataclass(frozen=True)
class StoredEvaluation:
    """An evaluation as it was decided, read back whole (`result` completed)."""

    evaluation_id: str
    tenant_id: str
    msg_id: str
    end_to_end_id: str
    tx_type: str
    status: str
    interdicted: bool
    network_map_cfg: str
    workflow_id: str
    run_id: str
    evaluated_at: datetime
    result: dict[str, Any]


_SELECT = (
    "SELECT evaluation_id, tenant_id, msg_id, end_to_end_id, tx_type, status, interdicted, "
    "network_map_cfg, workflow_id, run_id, evaluated_at, result FROM evaluations "
)


def _stored(row: dict[str, Any]) -> StoredEvaluation:
    return StoredEvaluation(**row | {"evaluation_id": str(row["evaluation_id"])})


class StoredEvaluations:
    """Evaluations looked up by the message that triggered them or the payment they were of."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.configs = ConfigStore(pool)

    async def of_message(self, tenant: str, msg_id: str) -> StoredEvaluation | None:
        """The evaluation of this message; None if it has not been evaluated (yet)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                _SELECT + "WHERE tenant_id = %s AND msg_id = %s", (tenant, msg_id)
            )
            row = await cur.fetchone()
        if row is None:
            return None
        await complete(self.configs, tenant, [row])
        return _stored(row)

    async def of_payment(self, tenant: str, end_to_end_id: str) -> list[StoredEvaluation]:
        """Every evaluation of messages about this payment (its end-to-end id), oldest first."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                _SELECT + "WHERE tenant_id = %s AND end_to_end_id = %s ORDER BY evaluated_at",
                (tenant, end_to_end_id),
            )
            rows = await cur.fetchall()
        await complete(self.configs, tenant, rows)
        return [_stored(row) for row in rows]

    async def rules_used(self, evaluation: StoredEvaluation) -> dict[Key, RuleConfig]:
        """The rule configs the evaluation ran, by (id, cfg): their bands explain it."""
        keys = {(r["id"], r["cfg"]) for r in evaluation.result.get("rule_results", ())}
        return await self.configs.rule_configs(evaluation.tenant_id, keys)
