"""Counts shared by the debtor/creditor twin rules: distinct payers (002/016), transactions
within the query range (044/045 successful ones, 901/902 all attempts) and the accounts an
entity holds (083/084).

Convention: an account's history holds only *earlier* transactions, never the one being
evaluated; counts that include it add it explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable

from activities.monitoring.rules.base import Parameters, param, successful, within
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Edge, EntityProfile


def distinct_payers(
    incoming: Iterable[Edge], now_ms: int, parameters: Parameters, *, current: str | None = None
) -> int:
    """Distinct accounts that paid successfully within `maxQueryRange` before now, plus the
    `current` transaction's payer when this transaction pays into the account."""
    range_ms = param(parameters, "maxQueryRange")
    payers = {e.counterparty_account for e in successful(within(incoming, now_ms, range_ms))}
    return len(payers if current is None else payers | {current})


def transactions_with_current(
    edges: Iterable[Edge], now_ms: int, parameters: Parameters, *, only_successful: bool
) -> int:
    """Transactions within `maxQueryRange` before now (successful ones only, or every attempt),
    plus 1 for the transaction being evaluated."""
    history = within(edges, now_ms, param(parameters, "maxQueryRange"))
    return len(successful(history) if only_successful else history) + 1


def accounts_held(entity: EntityProfile) -> Measurement:
    """The number of accounts linked to the entity; below 1 means they were not loaded (a
    party holds at least the account of this transaction): insufficient history."""
    count = entity.account_count
    return Exit(INSUFFICIENT_HISTORY) if count < 1 else count
