"""Replaying archived workflow histories against the current workflow code.

Temporal's `Replayer` runs each history's workflow code as Saku's worker would (the same
workflows, sandbox, data converter and interceptors) and checks every command the code
issues against the events the history recorded: a history the current code cannot replay
is one a running workflow of that shape could not go on with after a deployment.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from activities.dr.history_archive import ArchivedHistory, read_archive
from core.temporal.worker import create_replayer
from workflows.registry import ALL_WORKFLOWS

# How Temporal's core names the event it could not match ("... HistoryEvent(id: 5,
# ActivityTaskScheduled) ..."), or, for some mismatches, only its id ("... event 5 ...")
_EVENT = re.compile(r"HistoryEvent\(id: (\d+), (\w+)")
# "Activity type of scheduled event 'x' does not match activity type of activity command 'y'"
_SCHEDULED_ACTIVITY = re.compile(r"scheduled event '([^']+)'")
# "Missing associated machine for LocalActivity(1)"
_LOCAL_ACTIVITY = re.compile(r"\bLocalActivity\((\d+)\)")
# "Non-deprecated patch marker encountered for change x, but there is no ... command"
_PATCH = re.compile(r"patch marker encountered for change ([^\s,]+)")
_EVENT_ID = re.compile(r"\bevent(?: id)?:? #?(\d+)", re.I)
# the failure's own message, inside the activation failure Temporal's core reports
_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class ReplayFailure:
    workflow_id: str
    run_id: str
    workflow_type: str
    source: Path  # the archive file
    event: str  # the first event that did not match: "5 ActivityTaskScheduled"
    error: str  # Temporal's message

    def line(self) -> str:
        return (
            f"NON-DETERMINISTIC {self.workflow_type} {self.workflow_id} (run {self.run_id}): "
            f"first mismatching event {self.event} ({self.source}): {self.error}"
        )


@dataclass
class ReplayReport:
    replayed: int = 0
    failures: list[ReplayFailure] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"histories replayed {self.replayed}, non-deterministic {len(self.failures)}"


def workflow_types() -> list[str]:
    """The names of the workflow types the current code runs."""
    # `workflow.defn` keeps each class's definition on it under this name
    return sorted(getattr(w, "__temporal_workflow_definition").name for w in ALL_WORKFLOWS)


def first_mismatching_event(error: BaseException | str, history: dict[str, Any]) -> str:
    """The event a replay error is about: "<id> <type>", found in the message or, where the
    message names only the step (an activity's type, a local activity's sequence number),
    in the history; "unknown" if neither says."""
    message = str(error)
    if found := _EVENT.search(message):
        return f"{found[1]} {found[2]}"
    if found := _SCHEDULED_ACTIVITY.search(message):
        for event in history.get("events", []):
            attributes = event.get("activityTaskScheduledEventAttributes")
            if attributes and attributes["activityType"]["name"] == found[1]:
                return f"{event['eventId']} ActivityTaskScheduled ({found[1]})"
    if found := _LOCAL_ACTIVITY.search(message):
        for event in history.get("events", []):
            marker = _local_activity(event)
            if marker and marker.get("seq") == int(found[1]):
                return (
                    f"{event['eventId']} MarkerRecorded (local activity {found[1]}, "
                    f"{marker.get('activity_type')})"
                )
    if found := _PATCH.search(message):
        for event in history.get("events", []):
            if _patch_id(event) == found[1]:
                return f"{event['eventId']} MarkerRecorded (patch {found[1]})"
    if found := _EVENT_ID.search(message):
        return found[1]
    return "unknown"


def _marker_data(event: dict[str, Any], name: str, field: str) -> dict[str, Any] | None:
    attributes = event.get("markerRecordedEventAttributes")
    if not attributes or attributes.get("markerName") != name:
        return None
    try:
        [payload] = attributes["details"][field]["payloads"]
        data: dict[str, Any] = json.loads(base64.b64decode(payload["data"]))
    except (KeyError, ValueError):
        return None
    return data


def _local_activity(event: dict[str, Any]) -> dict[str, Any] | None:
    """A local activity's marker data (its sequence number, type, ...), or None."""
    return _marker_data(event, "core_local_activity", "data")


def _patch_id(event: dict[str, Any]) -> str | None:
    data = _marker_data(event, "core_patch", "patch-data")
    return None if data is None else str(data.get("id"))


def _message(error: BaseException) -> str:
    text = str(error)
    found = _MESSAGE.search(text)
    return found[1] if found else " ".join(text.split())


async def replay_histories(
    entries: Iterable[tuple[Path, ArchivedHistory]], converter: DataConverter | None = None
) -> ReplayReport:
    """Replay every history; a failure is reported, not raised. `converter`: the one with
    the payload keys, for histories archived encrypted (the committed corpus is not)."""
    replayer = create_replayer(ALL_WORKFLOWS, converter)
    report = ReplayReport()
    seen: dict[str, tuple[Path, ArchivedHistory]] = {}

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for source, entry in entries:
            seen[entry.run_id] = (source, entry)
            report.replayed += 1
            yield WorkflowHistory.from_json(entry.workflow_id, entry.history)

    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    for run_id, error in results.replay_failures.items():
        source, entry = seen[run_id]
        report.failures.append(
            ReplayFailure(
                workflow_id=entry.workflow_id,
                run_id=run_id,
                workflow_type=entry.workflow_type,
                source=source,
                event=first_mismatching_event(error, entry.history),
                error=_message(error),
            )
        )
    report.failures.sort(key=lambda f: (str(f.source), f.workflow_id))
    return report


async def replay_archive(
    directory: Path,
    *,
    since: date | None = None,
    workflow_type: str | None = None,
    converter: DataConverter | None = None,
) -> ReplayReport:
    return await replay_histories(
        read_archive(directory, since=since, workflow_type=workflow_type), converter
    )
