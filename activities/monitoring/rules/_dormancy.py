"""Account dormancy, shared by rules 003 (creditor) and 004 (debtor).

Convention: an account's history holds only *earlier* transactions, never the one being
evaluated.
"""

from __future__ import annotations

from activities.monitoring.rules.base import successful
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import AccountHistory


def dormancy(account: AccountHistory, now_ms: int) -> Measurement:
    """Milliseconds since the account's latest successful transaction in either direction
    (failed attempts do not wake a dormant account); insufficient history when there is none."""
    times = [e.at_ms for e in successful([*account.outgoing, *account.incoming])]
    times = [t for t in times if t <= now_ms]
    return now_ms - max(times) if times else Exit(INSUFFICIENT_HISTORY)
