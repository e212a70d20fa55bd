"""Consent to fingerprints, as the strictest rules require: one guardian consents and none
objects; the child's refusal overrides; withdrawal at any time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.biometrics.consent import ConsentEvent, Decision, status

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def event(party: str, decision: Decision, minutes: int) -> ConsentEvent:
    return ConsentEvent(party, decision, T0 + timedelta(minutes=minutes))


GUARDIANS = ["ibu", "ayah"]


def test_no_decision_means_no_processing() -> None:
    result = status([], GUARDIANS)
    assert (result.allowed, result.reason) == (False, "no guardian has consented")


def test_one_guardian_consenting_and_none_objecting_allows() -> None:
    assert status([event("guardian:ibu", Decision.CONSENT, 0)], GUARDIANS).allowed


def test_one_objection_outweighs_a_consent() -> None:
    events = [
        event("guardian:ibu", Decision.CONSENT, 0),
        event("guardian:ayah", Decision.OBJECT, 1),
    ]
    result = status(events, GUARDIANS)
    assert (result.allowed, result.reason) == (False, "1 guardian(s) object")


def test_the_child_refusing_overrides_every_consent_and_can_change_their_mind() -> None:
    events = [
        event("guardian:ibu", Decision.CONSENT, 0),
        event("guardian:ayah", Decision.CONSENT, 1),
        event("student", Decision.REFUSE, 2),
    ]
    assert status(events, GUARDIANS).reason == "the student refuses"
    assert status([*events, event("student", Decision.ACCEPT, 3)], GUARDIANS).allowed


def test_withdrawal_ends_consent_and_a_later_consent_restores_it() -> None:
    events = [
        event("guardian:ibu", Decision.CONSENT, 0),
        event("guardian:ibu", Decision.WITHDRAW, 5),
    ]
    assert status(events, GUARDIANS).reason == "consent was withdrawn"
    assert status([*events, event("guardian:ibu", Decision.CONSENT, 9)], GUARDIANS).allowed


def test_only_current_guardians_count_and_order_is_by_time_not_by_list() -> None:
    late_first = [
        event("guardian:ibu", Decision.OBJECT, 10),
        event("guardian:ibu", Decision.CONSENT, 0),
    ]
    assert not status(late_first, GUARDIANS).allowed
    assert not status([event("guardian:former", Decision.CONSENT, 0)], GUARDIANS).allowed


def test_each_reason_has_a_stable_code_and_counts_the_guardians_for_the_pages() -> None:
    """Pages say the reason in their own language from its code, never from the words."""
    both = [event("guardian:ibu", Decision.CONSENT, 0), event("guardian:ayah", Decision.CONSENT, 1)]
    cases = [
        ([], ("no_consent", 0)),
        (both, ("guardians_consent", 2)),
        ([*both, event("guardian:ayah", Decision.OBJECT, 2)], ("guardians_object", 1)),
        ([*both, event("student", Decision.REFUSE, 3)], ("student_refuses", 0)),
        (
            [
                event("guardian:ibu", Decision.CONSENT, 0),
                event("guardian:ibu", Decision.WITHDRAW, 1),
            ],
            ("consent_withdrawn", 0),
        ),
    ]
    for events, expected in cases:
        result = status(events, GUARDIANS)
        assert (result.code, result.guardians) == expected, result
