"""May a student's fingerprint be processed? The strictest rules Saku follows
(docs/biometric-data.md): at least one guardian consents in writing, no
guardian objects, the child has not refused; consent can be withdrawn at any time.

Decisions are an append-only list of events; the status is derived from each party's
latest event, so the history of who said what, and when, is never lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Decision(StrEnum):
    CONSENT = "consent"  # a guardian agrees, in writing
    OBJECT = "object"  # a guardian objects, in writing
    WITHDRAW = "withdraw"  # a guardian takes back an earlier consent
    REFUSE = "refuse"  # the child refuses (overrides every guardian's consent, at any age)
    ACCEPT = "accept"  # the child takes back an earlier refusal


GUARDIAN_DECISIONS = frozenset({Decision.CONSENT, Decision.OBJECT, Decision.WITHDRAW})
STUDENT_DECISIONS = frozenset({Decision.REFUSE, Decision.ACCEPT})


@dataclass(frozen=True)
class ConsentEvent:
    party: str  # "guardian:<id>" or "student"
    decision: Decision
    at: datetime


@dataclass(frozen=True)
class ConsentStatus:
    allowed: bool
    reason: str  # why (not), in English: for the API, staff screens and the audit trail
    # the same reason for pages to say in their own language: a stable code, and how many
    # guardians it counts (consenting or objecting; 0 where it counts none)
    code: str
    guardians: int = 0


# the reasons' codes (`ConsentStatus.code`)
STUDENT_REFUSES = "student_refuses"
GUARDIANS_OBJECT = "guardians_object"
CONSENT_WITHDRAWN = "consent_withdrawn"
NO_CONSENT = "no_consent"
GUARDIANS_CONSENT = "guardians_consent"


def status(events: Iterable[ConsentEvent], guardians: Iterable[str]) -> ConsentStatus:
    """The consent status from every event so far and the student's current guardians."""
    latest: dict[str, Decision] = {}
    for event in sorted(events, key=lambda e: e.at):
        latest[event.party] = event.decision
    if latest.get("student") == Decision.REFUSE:
        return ConsentStatus(False, "the student refuses", STUDENT_REFUSES)
    parties = [f"guardian:{g}" for g in guardians]
    objecting = [p for p in parties if latest.get(p) == Decision.OBJECT]
    if objecting:
        return ConsentStatus(
            False, f"{len(objecting)} guardian(s) object", GUARDIANS_OBJECT, len(objecting)
        )
    consenting = [p for p in parties if latest.get(p) == Decision.CONSENT]
    if not consenting:
        if any(latest.get(p) == Decision.WITHDRAW for p in parties):
            return ConsentStatus(False, "consent was withdrawn", CONSENT_WITHDRAWN)
        return ConsentStatus(False, "no guardian has consented", NO_CONSENT)
    return ConsentStatus(
        True,
        f"{len(consenting)} guardian(s) consent, none object",
        GUARDIANS_CONSENT,
        len(consenting),
    )
