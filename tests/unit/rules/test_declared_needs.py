"""Every rule declares the history it reads (`Rule.needs`): the feature loader fetches only
that, so a rule reading anything undeclared would silently see nothing. Each rule runs here
on rich features in which every undeclared part refuses to be read."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from activities.monitoring.rules.base import Needs, Rule
from activities.monitoring.rules.catalogue import RULES
from core.monitoring.transactions import TxType
from tests.unit.rules.factory import HOUR, NOW, edge, features, school, tx


class Undeclared:
    """Stands in for a part of the features the rule did not declare."""

    def __init__(self, what: str) -> None:
        self.what = what

    def _refuse(self, *_: object) -> NoReturn:
        raise AssertionError(f"reads {self.what} without declaring it in Rule.needs")

    __iter__ = __len__ = __getitem__ = __bool__ = _refuse

    def __getattr__(self, name: str) -> NoReturn:
        self._refuse()


class GuardedHistory:
    def __init__(self, real: Any, side: str, needs: frozenset[Needs]) -> None:
        self.account_id = real.account_id
        self.first_seen_ms = (
            real.first_seen_ms if Needs.ACCOUNT_AGE in needs else Undeclared("first_seen_ms")
        )
        for direction in ("outgoing", "incoming"):
            need = Needs(f"{side}.{direction}")
            value = getattr(real, direction) if need in needs else Undeclared(need.value)
            setattr(self, direction, value)


def guarded(rule: Rule) -> Any:
    edges = [
        edge(
            days_ago=d,
            amount=1000 + 37 * d,
            counterparty=f"acc-{d % 5}",
            channel=f"kiosk-{d % 2}",
            category="snacks",
            auth_method="fingerprint",
            lat=-6.2 + d / 100,
            lon=106.8,
        )
        for d in range(1, 40)
    ]
    real = features(
        debtor_outgoing=edges,
        debtor_incoming=edges,
        creditor_incoming=edges,
        creditor_outgoing=edges,
        debtor_first_seen_ms=NOW - 400 * 24 * HOUR,
        creditor_first_seen_ms=NOW - 3 * 24 * HOUR,
        debtor_birth_date="2014-05-01",
        school=school(
            daily_limit=20_000.0,
            weekly_limit=80_000.0,
            spent_today=5_000.0,
            canteen_opens_minute=390,
            canteen_closes_minute=900,
            local_minute_of_day=600,
            kiosk_school_id="sch-1",
            offline_cap=50_000.0,
            balance_cap=2_000_000.0,
        ),
    )

    class Guarded:
        debtor = GuardedHistory(real.debtor, "debtor", rule.needs)
        creditor = GuardedHistory(real.creditor, "creditor", rule.needs)
        debtor_entity = (
            real.debtor_entity if Needs.ENTITIES in rule.needs else Undeclared("entities")
        )
        creditor_entity = (
            real.creditor_entity if Needs.ENTITIES in rule.needs else Undeclared("entities")
        )
        school = real.school if Needs.SCHOOL in rule.needs else Undeclared("school")

    return Guarded()


TRANSACTIONS = {
    "bank payment": tx(debtor_lat=-6.9, debtor_lon=107.6),
    "kiosk purchase": tx(
        tx_type=TxType.KIOSK_PURCHASE,
        school_id="sch-1",
        kiosk_id="kiosk-0",
        category="snacks",
        auth_method="pin",
        match_score=80,
        operator_id="staff-1",
        offline=True,
        status=None,
    ),
    "top-up": tx(tx_type=TxType.TOP_UP, school_id="sch-1", status=None),
}


@pytest.mark.parametrize("code", sorted(RULES))
@pytest.mark.parametrize("kind", sorted(TRANSACTIONS))
def test_a_rule_reads_only_the_history_it_declares(code: str, kind: str) -> None:
    rule = RULES[code]
    parameters = rule.default_config.config.parameters
    rule.measure(TRANSACTIONS[kind], guarded(rule), parameters)
