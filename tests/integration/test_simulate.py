"""`saku simulate` (the README's run command) on a stack of its own, with a small school: the
whole canteen day runs and ends with the ledger's invariant holding."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from saku.stack import manager
from tests.stackutil import private_settings, remove_var_dir

pytestmark = pytest.mark.integration


def test_a_small_canteen_day_runs_end_to_end() -> None:
    settings = private_settings()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "saku", "simulate", "--students", "40", "--enrol", "9",
             "--payments", "60", "--rate", "10", "--exit"],
            env=settings.as_environment(), capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    finally:
        manager.down(settings)
        remove_var_dir(settings)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for phase in ("enrolment: 9 students", "every kiosk loaded", "every top-up evaluated",
                  "lunch rush", "sell offline", "offline sales sent for replay"):  # fmt: skip
        assert phase in out, phase
    payments = re.search(r"payments\s+(\d+) approved, (\d+) declined", out)
    assert payments is not None and int(payments[1]) + int(payments[2]) == 62, out
    assert re.search(r"paid by\s+.*fingerprint \d+", out), out
    assert re.search(r"offline\s+[1-9]\d* sales replayed", out), out
    assert re.search(r"alerts\s+.*offline-cap-evasion@1.0.0 [1-9]", out), out
    assert re.search(r"ledger\s+.*: OK$", out, re.MULTILINE), out
