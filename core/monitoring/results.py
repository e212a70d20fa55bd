"""What each stage of an evaluation produces; plain dataclasses that cross workflow bounds."""

from __future__ import annotations

from dataclasses import dataclass, field


# Not frozen: every rule of every transaction makes one, and a frozen dataclass costs much
# more to construct (each field is set through object.__setattr__). Nothing changes one
# after it is made.
@dataclass(slots=True)
class RuleResult:
    """Tazama's rule result: the outcome, why, and the measured (independent) variable."""

    id: str
    cfg: str
    sub_rule_ref: str
    reason: str
    indpdnt_varbl: float | str | None = None
    prcg_tm_ms: float = 0.0


@dataclass(frozen=True)
class TypologyResult:
    id: str
    cfg: str
    score: float
    alert_threshold: float
    interdiction_threshold: float | None
    review: bool
    interdiction: bool
    # termId -> weight contributed, for the operator
    terms: dict[str, float] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class ConditionHit:
    id: str
    cond_type: str
    perspective: str
    subject_kind: str
    reason: str


ALERT = "ALRT"
NO_ALERT = "NALT"


@dataclass(frozen=True)
class Adjudication:
    status: str  # ALRT | NALT
    interdicted: bool
    blocked_by: ConditionHit | None
    overridden_by: ConditionHit | None
    typologies: tuple[TypologyResult, ...]
    reasons: tuple[str, ...]
