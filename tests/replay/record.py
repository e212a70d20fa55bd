"""Record the replay corpus (tests/replay/corpus/) from real runs of the test stack.

    uv run --frozen python -m tests.replay.record

1. Runs a few integration tests and tests/replay/scenarios.py on a private stack, with the
   recorder plugin (tests/replay/recorder.py), which keeps every closed history: every
   workflow type of the current code.
2. For each commit in LEGACY (the commit before a patch): a scratch clone of it under a
   temporary folder, the scenario of tests/replay/legacy/ copied in, its own `uv sync`, the
   same recording. Those histories take the patches' old branches.
3. Keeps the smallest history of each (workflow type, patch branches taken) and writes them,
   compressed, in the archive's format (`saku dr replay --dir tests/replay/corpus` reads it).

It refuses to write a corpus that misses a workflow type or a patch branch of the code, or
one that the current code does not replay. Needs git, uv, and a few minutes; the stacks
are private (free ports, temporary folders) and removed afterwards (`--reuse-legacy`: step 2
takes the older commits' histories from the corpus as it is, in a minute or two). Refresh it when a
workflow type or a patch is added, and commit the corpus with the change.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from activities.dr.history_archive import ArchivedHistory, read_archive, write_archive_file
from saku.replay import replay_archive, workflow_types
from tests.replay.branches import ROOT, activity_types, branches, patch_ids_in_code

CORPUS = ROOT / "tests" / "replay" / "corpus"
CURRENT_TESTS = [
    # SelfCheck
    "tests/integration/test_roundtrips.py::test_temporal_round_trip_through_worker_and_stores",
    # EvaluateTransaction, and the case it opens as a child (decided)
    "tests/integration/test_monitoring.py::test_an_alert_opens_a_case_an_operator_decides",
    # EvaluateBatch, and the case it opens itself (decided)
    "tests/integration/test_monitoring.py::test_a_micro_batch_opens_each_alerts_case_once",
    # AlertCase through four-eyes: a decision confirmed by a second person, and one that
    # closes its case alone
    "tests/integration/test_case_console.py::test_four_eyes_through_the_json_api",
    "tests/integration/test_case_console.py::"
    "test_a_case_not_interdicted_closes_on_the_decision_alone",
    # a case that hands its alert off to a webhook and a syslog collector (decided)
    "tests/integration/test_alert_handoff.py::"
    "test_an_alert_reaches_the_webhook_signed_and_syslog_as_cef_over_udp",
    # TopUp, KioskPayment (their outcome as search attributes: wallet-search-attributes new)
    "tests/integration/test_wallet.py::test_top_up_then_pay_moves_the_balance_exactly",
    # OfflineSync
    "tests/integration/test_kiosk_offline.py::"
    "test_offline_sales_replay_once_with_debt_and_a_cap_evasion_alert",
    # Payout (a leaver's balance paid back to a guardian)
    "tests/integration/test_school_office.py::"
    "test_a_student_leaving_through_the_api_is_paid_back_once",
    # DistributeTemplate, EraseBiometrics
    "tests/integration/test_biometrics_flow.py::"
    "test_consent_enrolment_distribution_and_erasure_everywhere",
    # NoOp, Reporting, HistoryArchive
    "tests/replay/scenarios.py",
    # Backup
    "tests/integration/test_dr_backups.py::test_backup_then_list",
    # RestoreDrill
    "tests/integration/test_dr_drill.py::"
    "test_drill_restores_checks_and_records_and_fails_on_a_changed_row",
]
SCENARIO = ROOT / "tests" / "replay" / "legacy" / "batch_with_cases.py"
# (commit, what it is before, its tests): each records the old branches of the patches
# introduced by the next commit
LEGACY = [
    (
        "42d41e3^",
        "before 42d41e3 (evaluate-batch-locally, open-case-locally; cases one after another)",
        [
            "tests/integration/test_replay_scenario.py",
            "tests/integration/test_monitoring.py::test_an_alert_opens_a_case_an_operator_decides",
        ],
    ),
    (
        "a03ef8b^",
        "before a03ef8b (batch-opens-its-cases)",
        ["tests/integration/test_replay_scenario.py"],
    ),
    (
        "a0f1167",
        "before 4b1cec8 (alert-hand-off) and c1f6082 (wallet-search-attributes)",
        [
            "tests/integration/test_monitoring.py::test_an_alert_opens_a_case_an_operator_decides",
            "tests/integration/test_wallet.py::test_top_up_then_pay_moves_the_balance_exactly",
        ],
    ),
]


def _pytest(checkout: Path, tests: list[str], target: Path) -> None:
    # the checkout's own environment, not this one's
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["SAKU_REPLAY_RECORD"] = str(target)
    command = ["uv", "run", "--frozen", "pytest", "-p", "tests.replay.recorder", "-q", *tests]
    print(f"recording in {checkout}: {' '.join(tests)}", flush=True)
    subprocess.run(command, cwd=checkout, env=env, check=True)


def _record_legacy(commit: str, tests: list[str], scratch: Path, target: Path) -> None:
    checkout = scratch / commit.replace("^", "-parent")
    subprocess.run(["git", "clone", "-q", "--shared", str(ROOT), str(checkout)], check=True)
    subprocess.run(["git", "checkout", "-q", commit], cwd=checkout, check=True)
    shutil.copy(SCENARIO, checkout / "tests" / "integration" / "test_replay_scenario.py")
    (checkout / "tests" / "replay").mkdir(exist_ok=True)
    (checkout / "tests" / "replay" / "__init__.py").touch()
    shutil.copy(ROOT / "tests" / "replay" / "recorder.py", checkout / "tests" / "replay")
    subprocess.run(["uv", "sync", "--frozen", "-q"], cwd=checkout, check=True)
    _pytest(checkout, tests, target)


def _legacy_in(corpus: Path) -> list[ArchivedHistory]:
    """The corpus's histories recorded at LEGACY's commits (their notes say which)."""
    commits = tuple(f"recorded at {commit}," for commit, _, _ in LEGACY)
    return [e for _, e in read_archive(corpus) if (e.note or "").startswith(commits)]


def _recorded(path: Path, note: str) -> Iterator[ArchivedHistory]:
    for line in path.read_text().splitlines():
        yield ArchivedHistory(**json.loads(line), note=note)


Key = tuple[str, frozenset[str], frozenset[str], frozenset[str]]


def select(recorded: list[tuple[ArchivedHistory, bool]]) -> dict[Key, ArchivedHistory]:
    """One history of each (workflow type, patch branches taken, kinds of event, activities
    run): the current code's rather than an older commit's, then the smallest."""
    chosen: dict[Key, tuple[tuple[bool, int], ArchivedHistory]] = {}
    for entry, legacy in recorded:
        taken = frozenset(branches(entry.workflow_type, entry.history))
        kinds = frozenset(e["eventType"] for e in entry.history["events"])
        steps = frozenset(activity_types(entry.history))
        key = (entry.workflow_type, taken, kinds, steps)
        rank = (legacy, len(entry.line()))
        if key not in chosen or rank < chosen[key][0]:
            chosen[key] = (rank, entry)
    return {key: entry for key, (_, entry) in chosen.items()}


def missing(chosen: dict[Key, ArchivedHistory]) -> list[str]:
    types = {t for t, _, _, _ in chosen}
    taken = {b for _, bs, _, _ in chosen for b in bs}
    gaps = [f"workflow type {t}" for t in workflow_types() if t not in types]
    for patch in sorted(patch_ids_in_code()):
        gaps += [f"patch branch {patch} {b}" for b in ("new", "old") if f"{patch} {b}" not in taken]
    return gaps


def write_corpus(chosen: dict[Key, ArchivedHistory], into: Path) -> None:
    """A file per workflow type and patch branches taken."""
    shutil.rmtree(into, ignore_errors=True)
    files: dict[Path, list[ArchivedHistory]] = {}
    for (workflow_type, taken, _, _), entry in sorted(chosen.items(), key=_order):
        label = "-".join(sorted(b.replace(" ", "-") for b in taken)) or "plain"
        path = into / entry.namespace / workflow_type / f"{label}.jsonl.gz"
        files.setdefault(path, []).append(entry)
    for path, entries in files.items():
        write_archive_file(path, entries)


def _order(item: tuple[Key, ArchivedHistory]) -> tuple[str, list[str], str]:
    (workflow_type, taken, _, _), entry = item
    return workflow_type, sorted(taken), entry.run_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--into", type=Path, default=CORPUS)
    parser.add_argument(
        "--reuse-legacy",
        action="store_true",
        help="take the older commits' histories from the corpus as it is instead of recording "
        "them again (they never change): only the current code's are recorded",
    )
    args = parser.parse_args()
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    recorded: list[tuple[ArchivedHistory, bool]] = []
    with tempfile.TemporaryDirectory(prefix="saku-replay-") as scratch_dir:
        scratch = Path(scratch_dir)
        # an older commit's PostgreSQL, run as its system user, must reach the clone's venv
        scratch.chmod(0o711)
        _pytest(ROOT, CURRENT_TESTS, scratch / "current.jsonl")
        recorded += [
            (e, False) for e in _recorded(scratch / "current.jsonl", f"recorded at {head}")
        ]
        if args.reuse_legacy:
            recorded += [(e, True) for e in _legacy_in(args.into)]
        else:
            for commit, what, tests in LEGACY:
                target = scratch / f"{commit}.jsonl"
                _record_legacy(commit, tests, scratch, target)
                note = f"recorded at {commit}, {what}"
                recorded += [(e, True) for e in _recorded(target, note)]
    chosen = select(recorded)
    gaps = missing(chosen)
    if gaps:
        print("the recorded runs miss: " + "; ".join(gaps), file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="saku-corpus-") as draft_dir:
        draft = Path(draft_dir) / "corpus"
        write_corpus(chosen, draft)
        report = asyncio.run(replay_archive(draft))
        for failure in report.failures:
            print(failure.line(), file=sys.stderr)
        if report.failures:
            return 1
        shutil.rmtree(args.into, ignore_errors=True)
        shutil.copytree(draft, args.into)
    size = sum(p.stat().st_size for p in args.into.rglob("*") if p.is_file())
    for (workflow_type, taken, _, _), entry in sorted(chosen.items(), key=_order):
        print(f"{workflow_type:20} {', '.join(sorted(taken)) or '-':70} {entry.note}")
    print(f"{report.summary}; {len(chosen)} histories, {size:,} bytes in {args.into}")
    return 0


if __name__ == "__main__":
    # leave at once: the Temporal SDK can crash during interpreter teardown
    code = main()
    sys.stdout.flush()
    os._exit(code)
