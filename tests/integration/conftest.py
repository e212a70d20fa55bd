"""Integration tests share the session's embedded stack; the ledger invariant must hold
after every module, whatever the module did."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from activities.wallet.ledger import Ledger
from saku.db import Pool


@pytest.fixture(scope="module", autouse=True)
async def ledger_invariant_holds(pool: Pool) -> AsyncIterator[None]:
    yield
    result = await Ledger(pool).verify()
    assert result.ok, result.problems
