from __future__ import annotations

import random

import pytest

from activities.monitoring.rules.r007_outgoing_transfer_similarity_descriptions import (
    RULE,
    edit_distance,
)
from core.monitoring.transactions import Edge
from tests.unit.rules.factory import edge, features, run, tx


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("", "", 0), ("abc", "", 3), ("", "abc", 3), ("kitten", "sitting", 3), ("book", "back", 2)],
)
def test_edit_distance_is_levenshtein(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def _edit_distance_by_table(a: str, b: str) -> int:
    """The textbook dynamic programme, cell by cell: the oracle for the fast version."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            substitution = previous[j - 1] + (char_a != char_b)
            current.append(min(previous[j] + 1, current[j - 1] + 1, substitution))
        previous = current
    return previous[-1]


def test_edit_distance_agrees_with_the_table_on_random_strings() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        # few distinct characters, so strings share a lot and every kind of edit occurs
        alphabet = "ab cé"[: rng.randint(1, 5)]
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert edit_distance(a, b) == _edit_distance_by_table(a, b), (a, b)
    long_a = "".join(rng.choice("lunch money") for _ in range(140))  # a full Ustrd line
    long_b = "".join(rng.choice("lunch money") for _ in range(140))
    assert edit_distance(long_a, long_b) == _edit_distance_by_table(long_a, long_b)


@pytest.mark.parametrize(
    ("description", "expected_distance", "expected"),
    [
        ("lunch money", 0, ".01"),
        ("lunch monex", 1, ".02"),  # lower limit inclusive
        ("lunch mxxxx", 4, ".02"),
        ("lunch xxxxx", 5, ".03"),
        ("school trip deposit", 16, ".03"),
    ],
)
def test_bands_by_edit_distance_to_a_recent_description(
    description: str, expected_distance: int, expected: str
) -> None:
    history = [edge(1, description="lunch money")]
    result = run(RULE, tx(description=description), features(debtor_outgoing=history))
    assert result.sub_rule_ref == expected
    assert result.indpdnt_varbl == expected_distance


def test_case_and_whitespace_do_not_make_descriptions_differ() -> None:
    history = [edge(1, description="Lunch Money")]
    result = run(RULE, tx(description="  lunch   MONEY "), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".01", 0)


def test_the_closest_of_the_most_recent_descriptions_counts() -> None:
    history = [
        edge(1, description="book fair"),
        edge(2, description="lunch monet"),
        edge(3, description="bus fare"),
        edge(4, description="lunch money"),  # 4th most recent: not compared
    ]
    result = run(RULE, tx(description="lunch money"), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 1)


def test_failed_transfers_and_transfers_outside_the_query_range_do_not_count() -> None:
    history = [
        edge(1, description="lunch money", status="RJCT"),
        edge(30.01, description="lunch money"),
        edge(30, description="lunch mxxxx"),  # exactly 30 days ago: in range
    ]
    result = run(RULE, tx(description="lunch money"), features(debtor_outgoing=history))
    assert (result.sub_rule_ref, result.indpdnt_varbl) == (".02", 4)


@pytest.mark.parametrize(
    ("description", "history"),
    [
        (None, [edge(1, description="lunch money")]),
        ("   ", [edge(1, description="lunch money")]),
        ("lunch money", []),
        ("lunch money", [edge(1), edge(2, description=" ")]),
        ("lunch money", [edge(31, description="lunch money")]),
    ],
)
def test_nothing_to_compare_is_insufficient_history(
    description: str | None, history: list[Edge]
) -> None:
    result = run(RULE, tx(description=description), features(debtor_outgoing=history))
    assert result.sub_rule_ref == ".x01"


def test_unsuccessful_transaction_exits() -> None:
    history = [edge(1, description="lunch money")]
    result = run(
        RULE, tx(status="RJCT", description="lunch money"), features(debtor_outgoing=history)
    )
    assert result.sub_rule_ref == ".x00"
    assert result.indpdnt_varbl is None
