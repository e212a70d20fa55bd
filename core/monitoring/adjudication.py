"""Event-flow conditions and the final decision (Tazama's EFRuP and TADP, in one pure step).

Precedence: a non-overridable block beats an override, which beats an overridable block. A
block interdicts at once; an override suppresses typology interdictions (alerts remain).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.monitoring.config import EventFlowCondition
from core.monitoring.results import ALERT, NO_ALERT, Adjudication, ConditionHit, TypologyResult
from core.monitoring.transactions import Transaction

_PRECEDENCE = ("non-overridable-block", "override", "overridable-block")


def _applies(condition: EventFlowCondition, tx: Transaction) -> bool:
    if not condition.active_at(tx.created_at_ms) or condition.tenant_id != tx.tenant_id:
        return False
    if condition.event_types and tx.tx_type not in condition.event_types:
        return False
    subjects: set[str] = set()
    if condition.perspective in ("debtor", "both"):
        subjects.add(tx.debtor_account if condition.subject_kind == "account" else tx.debtor_entity)
    if condition.perspective in ("creditor", "both"):
        subjects.add(
            tx.creditor_account if condition.subject_kind == "account" else tx.creditor_entity
        )
    return condition.subject_id in subjects


def _hit(condition: EventFlowCondition) -> ConditionHit:
    return ConditionHit(
        condition.id,
        condition.cond_type,
        condition.perspective,
        condition.subject_kind,
        condition.reason,
    )


def adjudicate(
    tx: Transaction,
    typologies: Sequence[TypologyResult],
    conditions: Iterable[EventFlowCondition],
) -> Adjudication:
    applicable = [c for c in conditions if _applies(c, tx)]
    strongest = {
        kind: next((c for c in applicable if c.cond_type == kind), None) for kind in _PRECEDENCE
    }
    blocked_by = overridden_by = None
    if strongest["non-overridable-block"] is not None:
        blocked_by = _hit(strongest["non-overridable-block"])
    elif strongest["override"] is not None:
        overridden_by = _hit(strongest["override"])
    elif strongest["overridable-block"] is not None:
        blocked_by = _hit(strongest["overridable-block"])

    reasons: list[str] = []
    if blocked_by is not None:
        reasons.append(f"blocked: {blocked_by.reason}")
    interdicting = [t for t in typologies if t.interdiction]
    if interdicting and overridden_by is not None:
        reasons.append(f"typology interdiction overridden: {overridden_by.reason}")
    elif interdicting:
        reasons += [
            f"typology {t.id} scored {t.score:g} >= {t.interdiction_threshold:g}"
            for t in interdicting
        ]
    reviewing = [t for t in typologies if t.review]
    reasons += [
        f"typology {t.id} under review: score {t.score:g} >= {t.alert_threshold:g}"
        for t in reviewing
        if t not in interdicting
    ]
    interdicted = blocked_by is not None or (bool(interdicting) and overridden_by is None)
    status = ALERT if interdicted or reviewing else NO_ALERT
    return Adjudication(
        status=status,
        interdicted=interdicted,
        blocked_by=blocked_by,
        overridden_by=overridden_by,
        typologies=tuple(typologies),
        reasons=tuple(reasons),
    )
