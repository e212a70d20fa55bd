"""The committed corpus of real histories (tests/replay/corpus/, recorded by
tests/replay/record.py) replays against the current workflow code: a change that running
workflows could not go on with fails here, naming the workflow and the first event that no
longer matches. No server needed: Temporal's Replayer runs the code against the histories."""

from __future__ import annotations

from activities.dr.history_archive import read_archive
from saku.replay import replay_archive, workflow_types
from tests.replay.branches import branches, patch_ids_in_code
from tests.replay.record import CORPUS

LARGEST_CORPUS_BYTES = 2 * 1024 * 1024


async def test_every_history_of_the_corpus_replays_on_the_current_code() -> None:
    report = await replay_archive(CORPUS)
    assert report.replayed >= len(workflow_types())
    assert not report.failures, "\n".join(f.line() for f in report.failures)


def test_the_corpus_holds_every_workflow_type_and_both_branches_of_every_patch() -> None:
    entries = [entry for _, entry in read_archive(CORPUS)]
    assert set(workflow_types()) <= {e.workflow_type for e in entries}, (
        "a workflow type without a recorded history: run tests/replay/record.py"
    )
    taken = set().union(*(branches(e.workflow_type, e.history) for e in entries))
    wanted = {f"{patch} {branch}" for patch in patch_ids_in_code() for branch in ("new", "old")}
    assert wanted <= taken, f"patch branches without a recorded history: {wanted - taken}"


def test_the_corpus_stays_small() -> None:
    size = sum(path.stat().st_size for path in CORPUS.rglob("*") if path.is_file())
    assert 0 < size < LARGEST_CORPUS_BYTES
