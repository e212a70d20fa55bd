"""`saku chaos`, short: the mixed load through the faults every push must survive, on a
private Saku of the test's own (real processes, killed and restarted); not one
acknowledged operation lost or duplicated, and the ledger holds after each fault."""

from __future__ import annotations

import subprocess
import sys

import pytest

from saku.chaos.faults import CI_FAULTS, FAULTS
from saku.chaos.run import ChaosOptions, run_chaos
from saku.chaos.tally import KIOSK, OFFLINE, STREAM, TOPUP_HTTP, TOPUP_KAFKA

pytestmark = pytest.mark.integration


async def test_a_short_scorecard_loses_and_duplicates_nothing_acknowledged() -> None:
    options = ChaosOptions(
        faults=CI_FAULTS, before_s=2, down_s=2, after_s=2, drain_s=60, students=40
    )

    card = await run_chaos(options, say=print)

    report = card.render()
    print(report)
    assert [row.fault for row in card.rows] == [FAULTS[name].what for name in CI_FAULTS]
    for row in card.rows:
        assert (row.lost, row.duplicated, row.broker_lost) == (0, 0, 0), report
        assert row.ledger == "ok", report
        # every kind of load ran through every fault, and was acknowledged
        for kind in (STREAM, TOPUP_KAFKA, TOPUP_HTTP, KIOSK):
            acknowledged, once = row.by_kind.get(kind, (0, 0))
            assert acknowledged > 0 and once == acknowledged, (kind, report)
    cut = card.rows[CI_FAULTS.index("cut-kiosks")]
    assert cut.by_kind[OFFLINE][0] > 0, report  # the kiosks sold offline and replayed
    assert not card.failed
    assert "every acknowledged operation done exactly once" in report


def test_an_unknown_fault_is_named_before_anything_starts() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "saku", "chaos", "--faults", "kill-worker,unplug-the-moon"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "unknown faults: unplug-the-moon" in result.stdout
    assert "kill-postgres" in result.stdout  # the known ones are listed
    assert "starting a private Saku" not in result.stdout
