"""Builders for rule unit tests: a transaction, history edges, features, and running a rule."""

from __future__ import annotations

from typing import Any

from activities.monitoring.rules.base import Rule, run_rule
from core.monitoring.config import RuleConfig
from core.monitoring.results import RuleResult
from core.monitoring.transactions import (
    MS_PER_DAY,
    AccountHistory,
    Edge,
    EntityProfile,
    Features,
    SchoolContext,
    Transaction,
    TxType,
)

NOW = 1_763_856_000_000  # 2025-11-23T00:00:00Z, a fixed clock for every rule test
HOUR = 3_600_000


def tx(**overrides: Any) -> Transaction:
    values: dict[str, Any] = {
        "tenant_id": "DEFAULT",
        "msg_id": "msg-1",
        "tx_type": TxType.PACS_002,
        "end_to_end_id": "e2e-1",
        "created_at_ms": NOW,
        "amount": 100.0,
        "currency": "IDR",
        "debtor_account": "acc-debtor",
        "creditor_account": "acc-creditor",
        "debtor_entity": "ent-debtor",
        "creditor_entity": "ent-creditor",
        "status": "ACCC",
    }
    values.update(overrides)
    return Transaction(**values)


def edge(
    days_ago: float = 1,
    amount: float = 100.0,
    counterparty: str = "acc-other",
    **overrides: Any,
) -> Edge:
    values: dict[str, Any] = {
        "at_ms": int(NOW - days_ago * MS_PER_DAY),
        "amount": amount,
        "currency": "IDR",
        "counterparty_account": counterparty,
        "counterparty_entity": f"ent-{counterparty}",
        "tx_type": TxType.PACS_008,
        "status": "ACCC",
    }
    values.update(overrides)
    return Edge(**values)


def features(
    *,
    debtor_outgoing: tuple[Edge, ...] | list[Edge] = (),
    debtor_incoming: tuple[Edge, ...] | list[Edge] = (),
    creditor_incoming: tuple[Edge, ...] | list[Edge] = (),
    creditor_outgoing: tuple[Edge, ...] | list[Edge] = (),
    debtor_first_seen_ms: int | None = None,
    creditor_first_seen_ms: int | None = None,
    debtor_accounts: int = 1,
    creditor_accounts: int = 1,
    debtor_birth_date: str | None = None,
    school: SchoolContext | None = None,
) -> Features:
    def newest_first(edges: tuple[Edge, ...] | list[Edge]) -> tuple[Edge, ...]:
        return tuple(sorted(edges, key=lambda e: e.at_ms, reverse=True))

    return Features(
        debtor=AccountHistory(
            "acc-debtor",
            debtor_first_seen_ms,
            newest_first(debtor_outgoing),
            newest_first(debtor_incoming),
        ),
        creditor=AccountHistory(
            "acc-creditor",
            creditor_first_seen_ms,
            newest_first(creditor_outgoing),
            newest_first(creditor_incoming),
        ),
        debtor_entity=EntityProfile("ent-debtor", debtor_accounts, debtor_birth_date),
        creditor_entity=EntityProfile("ent-creditor", creditor_accounts),
        school=school,
    )


def school(**overrides: Any) -> SchoolContext:
    values: dict[str, Any] = {"student_id": "stu-1", "student_school_id": "sch-1"}
    values.update(overrides)
    return SchoolContext(**values)


def run(
    rule: Rule,
    transaction: Transaction | None = None,
    feats: Features | None = None,
    config: RuleConfig | None = None,
) -> RuleResult:
    return run_rule(rule, config or rule.default_config, transaction or tx(), feats or features())


def with_parameters(rule: Rule, **parameters: Any) -> RuleConfig:
    body = rule.default_config.config.model_copy(
        update={"parameters": {**rule.default_config.config.parameters, **parameters}}
    )
    return rule.default_config.model_copy(update={"config": body})
