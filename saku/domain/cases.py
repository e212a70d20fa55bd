"""Alert cases as their workflow sees them: references and decisions, no personal data."""

from __future__ import annotations

from dataclasses import dataclass

CASE_WORKFLOW = "AlertCase"
OPEN_CASE = "cases.open"
ESCALATE_CASE = "cases.escalate"
DECIDE_CASE = "cases.decide"
OUTCOMES = ("confirmed_fraud", "false_positive")


@dataclass(frozen=True)
class CaseRequest:
    tenant_id: str
    msg_id: str
    # True when whoever started the case stored its row already (a batch opens its cases
    # with its evaluations), so the workflow need not open it
    opened: bool = False


@dataclass(frozen=True)
class CaseDecision:
    outcome: str  # confirmed_fraud | false_positive
    operator: str
    note: str


@dataclass(frozen=True)
class DecideCase:
    case: CaseRequest
    decision: CaseDecision


def case_workflow_id(tenant: str, msg_id: str) -> str:
    return f"case-{tenant}-{msg_id}"
