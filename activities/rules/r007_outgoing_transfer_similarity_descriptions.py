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

from activities.rules._helpers_a import most_recent
from activities.rules.base import Needs, Parameters, Rule, rule_config
from saku.domain.transactions import MS_PER_DAY, Features, Transaction
from saku.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement


def normalise(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest single-character inserts, deletes or substitutions.

    Bit-parallel (Myers 1999, in Hyyrö's form for the distance between whole strings): one
    column of the edit-distance table per character of the longer string, held as the
    vertical +1/-1 steps in two integers, so a payment's 140-character description costs
    140 steps instead of 140 x 140 cells (about 50 us instead of 2.5 ms each)."""
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    positions: dict[str, int] = {}  # character -> the bits of its positions in b
    for i, char in enumerate(b):
        positions[char] = positions.get(char, 0) | (1 << i)
    mask = (1 << m) - 1
    last = 1 << (m - 1)
    plus, minus, distance = mask, 0, m  # column 0: every vertical step is +1
    for char in a:
        equal = positions.get(char, 0)
        vertical = equal | minus
        horizontal = (((equal & plus) + plus) ^ plus) | equal
        h_plus = minus | (~(horizontal | plus) & mask)
        h_minus = plus & horizontal
        if h_plus & last:
            distance += 1
        elif h_minus & last:
            distance -= 1
        h_plus = ((h_plus << 1) | 1) & mask  # row 0 grows by one per column
        h_minus = (h_minus << 1) & mask
        plus = h_minus | (~(vertical | h_plus) & mask)
        minus = h_plus & vertical
    return distance


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
