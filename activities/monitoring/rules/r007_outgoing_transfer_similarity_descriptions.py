"""007 Outgoing transfer similarity - descriptions.

Identical or near-identical payment descriptions across a debtor's transfers suggest
scripted (automated or coached) payments rather than a person's everyday spending.
Measured: the smallest Levenshtein edit distance, in characters, between this transaction's
description and the descriptions of the debtor's `maxQueryLimit` most recent earlier
successful outgoing transfers within `maxQueryRange` (ms). Descriptions are compared
case-folded with whitespace collapsed, so "Lunch  money" equals "lunch money". No
description on this transaction, or none on the recent transfers, is insufficient
history (.x01).
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from activities.monitoring.rules._recent_transfers import most_recent
from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import MS_PER_DAY, Features, Transaction


def normalise(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest single-character inserts, deletes or substitutions.

    RapidFuzz's, in C: it runs for several pairs of descriptions in most payments."""
    return Levenshtein.distance(a, b)


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    mine = normalise(tx.description)
    recent = most_recent(features.debtor.outgoing, tx.created_at_ms, parameters)
    theirs = [d for d in (normalise(e.description) for e in recent) if d]
    if not mine or not theirs:
        return Exit(INSUFFICIENT_HISTORY)
    return min(edit_distance(mine, d) for d in theirs)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.DEBTOR_OUTGOING}),
    default_config=rule_config(
        "007",
        "Outgoing transfer similarity - descriptions",
        parameters={"maxQueryLimit": 3, "maxQueryRange": 30 * MS_PER_DAY},
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient transaction history (no descriptions to compare)"),
        ],
        bands=[
            (None, 1, ".01", "Description identical to one of the debtor's recent transfers"),
            (1, 5, ".02", "Description similar (1-4 edits) to a recent transfer's"),
            (5, None, ".03", "Description differs from the debtor's recent transfers"),
        ],
    ),
)
