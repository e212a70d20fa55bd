"""Alert cases as their workflow sees them: references and decisions, no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.alert_handoff import HandOff

CASE_WORKFLOW = "AlertCase"
DECIDE_SIGNAL = "decide"  # the operator's decision, signalled to the case workflow
# a supervisor's confirmation of a decision on an interdicted transaction (four-eyes)
CONFIRM_SIGNAL = "confirm"
OUTCOMES = ("confirmed_fraud", "false_positive")
# an undecided case is escalated this long after it was opened (and an unconfirmed decision
# this long after it was made)
SERVICE_LEVEL = timedelta(hours=24)


@dataclass(frozen=True)
class CaseRequest:
    tenant_id: str
    msg_id: str
    # True when whoever started the case stored its row already (a batch opens its cases
    # with its evaluations), so the workflow need not open it
    opened: bool = False
    # seconds from the case's start to its escalation (a field, so that tests can shorten it)
    service_level_s: int = int(SERVICE_LEVEL.total_seconds())
    # where the alert is handed off beyond Saku, when whoever started the case opened it and
    # the tenant has receivers (None: nowhere, or the workflow finds out when it opens it)
    hand_off: HandOff | None = None


@dataclass(frozen=True)
class CaseOpening:
    """What opening a case found: whether its message alerted, and where its alert goes."""

    opened: bool
    hand_off: HandOff | None = None


@dataclass(frozen=True)
class CaseDecision:
    outcome: str  # confirmed_fraud | false_positive
    operator: str
    note: str
    role: str = "operator"  # the decider's role, for the audit trail


@dataclass(frozen=True)
class DecideCase:
    case: CaseRequest
    decision: CaseDecision


@dataclass(frozen=True)
class CaseConfirmation:
    """A supervisor agrees with the decision on an interdicted transaction."""

    supervisor: str
    note: str
    role: str = "supervisor"


@dataclass(frozen=True)
class ConfirmCase:
    case: CaseRequest
    decision: CaseDecision
    confirmation: CaseConfirmation


def case_workflow_id(tenant: str, msg_id: str) -> str:
    return f"case-{tenant}-{msg_id}"
