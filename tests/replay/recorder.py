"""A pytest plugin that keeps the workflow histories of a test run: once the tests are done,
and before the session's stack goes away, every closed workflow in its namespace is written
to `$SAKU_REPLAY_RECORD` (JSON lines, one history each, in the archive's record form).

    SAKU_REPLAY_RECORD=/tmp/run.jsonl pytest -p tests.replay.recorder <tests>

It needs nothing of Saku but the session's `stack` fixture (settings with
`resolved_temporal_address()` and `temporal_namespace`), so the same file records runs of
older commits too (see tests/replay/record.py). Where the code seals payloads
(core/temporal/codec.py), they are opened with the stack's keys before they are written:
the corpus must replay without keys that leave with the stack."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client


@pytest.fixture(scope="session", autouse=True)
def _record_histories(stack: Any) -> Iterator[None]:
    target = os.environ.get("SAKU_REPLAY_RECORD")
    yield
    if not target:
        return
    address, namespace = stack.resolved_temporal_address(), stack.temporal_namespace
    failed: list[BaseException] = []

    def export() -> None:
        try:
            lines = asyncio.run(_export(address, namespace, _opener(stack)))
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{line}\n" for line in lines))
            print(f"\nrecorded {len(lines)} closed workflow histories into {path}")
        except BaseException as err:
            failed.append(err)

    # a loop of its own, in a thread: the session's loop stays as the tests left it
    thread = threading.Thread(target=export)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


def _opener(stack: Any) -> Callable[[Any], None]:
    """What opens a history's sealed payloads in place (nothing, on code without a codec)."""
    try:
        from core.temporal.client import payload_keys_for
        from core.temporal.codec import EncryptionCodec, decode_message
    except ImportError:
        return lambda history: None
    codec = EncryptionCodec(payload_keys_for(stack))

    def open_events(events: Any) -> None:
        for event in events:
            decode_message(event, codec)

    return open_events


async def _export(address: str, namespace: str, open_payloads: Callable[[Any], None]) -> list[str]:
    client = await Client.connect(address, namespace=namespace)
    lines = []
    async for execution in client.list_workflows('ExecutionStatus != "Running"'):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        open_payloads(history.events)
        assert execution.close_time is not None
        record = {
            "namespace": namespace,
            "workflow_type": execution.workflow_type,
            "workflow_id": execution.id,
            "run_id": execution.run_id,
            "close_time": execution.close_time.astimezone(UTC).isoformat(),
            "history": history.to_json_dict(),
        }
        lines.append(json.dumps(record, separators=(",", ":")))
    return lines
