"""What the evaluation workflows carry: references in, results out. No raw documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.monitoring.results import Adjudication, RuleResult
from core.monitoring.transactions import Transaction


@dataclass(frozen=True)
class EvaluationRequest:
    """Evaluate these already-accepted messages of one tenant (by reference)."""

    tenant_id: str
    msg_ids: list[str]
    # the batch activity opens the alerts' cases itself (rows and workflows); batches
    # recorded before that opened them as child workflows
    open_cases: bool = False


@dataclass(frozen=True)
class RuleStage:
    """One transaction after routing and rules: what the workflow scores and adjudicates."""

    tx: Transaction
    # the network map's route for this TxTp, as stored (the sub-map snapshot)
    route: dict[str, Any]
    results: list[RuleResult]
    # applicable event-flow conditions, as stored documents
    conditions: list[dict[str, Any]]
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Unrouted:
    """A transaction the engine could not run rules for, and why; it is still recorded."""

    tx: Transaction
    reason: str
    alert: bool  # True when it needs an operator (no active map), False when not routed


@dataclass(frozen=True)
class RuleStageBatch:
    network_map_cfg: str
    # typology configs used by any route in this batch, as stored documents
    typologies: list[dict[str, Any]]
    stages: list[RuleStage]
    unrouted: list[Unrouted] = field(default_factory=list)


@dataclass(frozen=True)
class Evaluation:
    evaluation_id: str
    tenant_id: str
    msg_id: str
    end_to_end_id: str
    tx_type: str
    network_map_cfg: str
    route: dict[str, Any]
    rule_results: list[RuleResult]
    adjudication: Adjudication
    workflow_id: str
    run_id: str
    timings_ms: dict[str, float]

    @property
    def status(self) -> str:
        return self.adjudication.status


@dataclass(frozen=True)
class EvaluationOutcome:
    """A workflow's result: a summary per message, for search and for the caller; the
    per-transaction workflow also returns its full evaluation for the operator."""

    evaluated: dict[str, str]  # msg_id -> ALRT | NALT
    interdicted: list[str]
    highest_score: float
    evaluations: list[Evaluation] = field(default_factory=list)
