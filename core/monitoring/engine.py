"""The engine's pure steps after the rules, shared by both modes: the per-transaction
workflow runs them in workflow code (visible in its history), the micro-batch activity runs
them next to the data (so the batch workflow carries references, not payloads)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.monitoring.adjudication import adjudicate
from core.monitoring.config import EventFlowCondition, TypologyConfig
from core.monitoring.results import ALERT, NO_ALERT, Adjudication
from core.monitoring.scoring import score_typology
from core.monitoring.types import Evaluation, RuleStage, RuleStageBatch, Unrouted

TypologyIndex = dict[tuple[str, str], TypologyConfig]


def typology_index(batch: RuleStageBatch) -> TypologyIndex:
    return {(t["id"], t["cfg"]): TypologyConfig.model_validate(t) for t in batch.typologies}


def decide(stage: RuleStage, typologies: TypologyIndex) -> Adjudication:
    results = {(r.id, r.cfg): r for r in stage.results}
    scored = [
        score_typology(typologies[(t["id"], t["cfg"])], results) for t in stage.route["typologies"]
    ]
    conditions = [EventFlowCondition.model_validate(c) for c in stage.conditions]
    return adjudicate(stage.tx, scored, conditions)


def not_evaluated(item: Unrouted) -> tuple[RuleStage, Adjudication]:
    """A transaction the rules could not run for is still recorded, with the reason."""
    decision = Adjudication(
        status=ALERT if item.alert else NO_ALERT,
        interdicted=False,
        blocked_by=None,
        overridden_by=None,
        typologies=(),
        reasons=(item.reason,),
    )
    return RuleStage(item.tx, {}, [], []), decision


def evaluations(
    batch: RuleStageBatch,
    new_id: Callable[[], str],  # a UUIDv7 from the caller's clock (deterministic in workflows)
    workflow_id: str,
    run_id: str,
    typologies: TypologyIndex | None = None,  # the batch's, when the caller has them validated
) -> list[Evaluation]:
    typologies = typologies if typologies is not None else typology_index(batch)
    decided = [(s, decide(s, typologies)) for s in batch.stages]
    decided += [not_evaluated(u) for u in batch.unrouted]
    return [
        Evaluation(
            evaluation_id=new_id(),
            tenant_id=stage.tx.tenant_id,
            msg_id=stage.tx.msg_id,
            end_to_end_id=stage.tx.end_to_end_id,
            tx_type=stage.tx.tx_type,
            network_map_cfg=batch.network_map_cfg,
            route=stage.route,
            rule_results=stage.results,
            adjudication=decision,
            workflow_id=workflow_id,
            run_id=run_id,
            timings_ms=stage.timings_ms,
        )
        for stage, decision in decided
    ]


def highest_score(items: Sequence[Evaluation]) -> float:
    return max((t.score for e in items for t in e.adjudication.typologies), default=0.0)
