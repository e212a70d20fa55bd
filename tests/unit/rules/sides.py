"""The two parties of a transaction, for tests that run a debtor rule and its creditor twin.

A `Side` builds features in which its party has the given history and entity and the other
party has what the `other_*` arguments give (no history and one account by default). The
transaction's own direction is the debtor's outgoing and the creditor's incoming history;
`along` and `against` build features for the rules that look at one direction only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from activities.monitoring.rules.base import Rule
from core.monitoring.transactions import Edge, Features
from tests.unit.rules import factory


@dataclass(frozen=True)
class Side:
    party: Literal["debtor", "creditor"]

    @property
    def other(self) -> Side:
        return CREDITOR if self.party == "debtor" else DEBTOR

    def features(
        self,
        *,
        outgoing: Sequence[Edge] = (),
        incoming: Sequence[Edge] = (),
        first_seen_ms: int | None = None,
        accounts: int = 1,
        other_outgoing: Sequence[Edge] = (),
        other_incoming: Sequence[Edge] = (),
        other_accounts: int = 1,
    ) -> Features:
        mine = {
            "outgoing": tuple(outgoing),
            "incoming": tuple(incoming),
            "first_seen_ms": first_seen_ms,
            "accounts": accounts,
        }
        theirs = {
            "outgoing": tuple(other_outgoing),
            "incoming": tuple(other_incoming),
            "accounts": other_accounts,
        }
        values: dict[str, Any] = {f"{self.party}_{k}": v for k, v in mine.items()}
        values.update({f"{self.other.party}_{k}": v for k, v in theirs.items()})
        return factory.features(**values)

    def along(self, edges: Sequence[Edge] = (), *, first_seen_ms: int | None = None) -> Features:
        """This party's history in the transaction's direction: debtor out, creditor in."""
        if self.party == "debtor":
            return self.features(outgoing=edges, first_seen_ms=first_seen_ms)
        return self.features(incoming=edges, first_seen_ms=first_seen_ms)

    def against(self, edges: Sequence[Edge] = (), *, first_seen_ms: int | None = None) -> Features:
        """This party's history in the other direction: debtor in, creditor out."""
        if self.party == "debtor":
            return self.features(incoming=edges, first_seen_ms=first_seen_ms)
        return self.features(outgoing=edges, first_seen_ms=first_seen_ms)


DEBTOR = Side("debtor")
CREDITOR = Side("creditor")


def twins(
    debtor_rule: Rule,
    creditor_rule: Rule,
    *,
    debtor: tuple[Any, ...] = (),
    creditor: tuple[Any, ...] = (),
) -> list[Any]:
    """Parameters ("rule", "side", ...) that run a test against both rules of a twin pair;
    `debtor` / `creditor` are further values (e.g. an expected measurement) for each rule."""
    return [
        pytest.param(debtor_rule, DEBTOR, *debtor, id=f"{debtor_rule.code}-debtor"),
        pytest.param(creditor_rule, CREDITOR, *creditor, id=f"{creditor_rule.code}-creditor"),
    ]
