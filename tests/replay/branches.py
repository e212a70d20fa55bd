"""Which patch branches a recorded history went through.

A `workflow.patched(id)` (or `moved_to_local(id)`) call leaves a marker in histories
recorded by code with the patch: those took the new branch. A history recorded before the
patch has no marker and shows the old branch in its events, which is what a replay of it
needs the old branch for. The corpus must hold both kinds for every patch still in the code.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_PATCH_CALL = re.compile(r'\b(?:patched|moved_to_local)\(\s*"([^"]+)"')


def patch_ids_in_code() -> set[str]:
    """Every patch id the workflow code still checks."""
    return {
        m
        for path in (ROOT / "workflows").rglob("*.py")
        for m in _PATCH_CALL.findall(path.read_text())
    }


def _events(history: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in history["events"] if e["eventType"] == kind]


def markers(history: dict[str, Any]) -> set[str]:
    """The patch ids a history's markers name (the new branches it took)."""
    found = set()
    for event in _events(history, "EVENT_TYPE_MARKER_RECORDED"):
        attributes = event["markerRecordedEventAttributes"]
        if attributes["markerName"] != "core_patch":
            continue
        [payload] = attributes["details"]["patch-data"]["payloads"]
        found.add(json.loads(base64.b64decode(payload["data"]))["id"])
    return found


def activity_types(history: dict[str, Any]) -> list[str]:
    """The regular activities a history scheduled, by type, in order."""
    return [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in _events(history, "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED")
    ]


def _children(history: dict[str, Any]) -> int:
    return len(_events(history, "EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED"))


def _children_one_after_another(history: dict[str, Any]) -> bool:
    """Several children, each started by a workflow task of its own."""
    started = _events(history, "EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED")
    tasks = {
        e["startChildWorkflowExecutionInitiatedEventAttributes"]["workflowTaskCompletedEventId"]
        for e in started
    }
    return len(started) > 1 and len(tasks) == len(started)


# a case's steps after which it sets its status (escalated, awaiting confirmation, decided)
_CASE_STATUS_STEPS = {"cases.escalate", "cases.decide", "cases.record_decision"}

# patch id -> whether a history without its marker shows the old branch
OLD_BRANCH: dict[str, Callable[[str, dict[str, Any]], bool]] = {
    # the batch as a regular activity
    "evaluate-batch-locally": lambda t, h: "monitoring.evaluate_batch" in activity_types(h),
    # the case row opened by a regular activity
    "open-case-locally": lambda t, h: "cases.open" in activity_types(h),
    # the batch's workflow starting its cases as children
    "batch-opens-its-cases": lambda t, h: t == "EvaluateBatch" and _children(h) > 0,
    # several cases started one after another
    "open-cases-together": lambda t, h: _children_one_after_another(h),
    # a decision that closed its case at once, whatever the transaction
    "four-eyes": lambda t, h: "cases.decide" in activity_types(h),
    # a case that opened itself by the step that said nothing of handing its alert off
    "alert-hand-off": lambda t, h: (
        t == "AlertCase"
        and ("cases.open" in activity_types(h) or "open-case-locally" in markers(h))
    ),
    # a payment's or top-up's outcome not set as its search attributes
    "wallet-search-attributes": lambda t, h: t in ("KioskPayment", "TopUp"),
    # a case escalated or decided, or an offline journal synced, without its status set
    "status-search-attributes": lambda t, h: (
        (t == "OfflineSync" and bool(_events(h, "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED")))
        or (t == "AlertCase" and bool(_CASE_STATUS_STEPS & set(activity_types(h))))
    ),
}


def branches(workflow_type: str, history: dict[str, Any]) -> set[str]:
    """ "<patch id> new" and "<patch id> old" for each patch branch the history took."""
    new = markers(history)
    old = {p for p, took in OLD_BRANCH.items() if p not in new and took(workflow_type, history)}
    return {f"{p} new" for p in new} | {f"{p} old" for p in old}
