"""`saku reports build` (the nightly reporting workflow, now, with progress) and
`saku reports docs` (the dbt documentation, served locally)."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from core.settings import Settings
from saku.cli.temporal_access import START_A_WORKER, client_with_worker
from saku.stack.process import StackError


def register(commands: Any) -> None:
    reports = commands.add_parser("reports", help="dbt reports on Saku's data")
    sub = reports.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser(
        "build", help="run the reporting workflow now, showing its progress"
    ).set_defaults(handler=build)
    docs = sub.add_parser("docs", help="generate and serve the dbt documentation")
    docs.add_argument("--port", type=int, default=58081)
    docs.set_defaults(handler=serve_docs)


def build(settings: Settings, args: argparse.Namespace) -> int:
    from temporalio.service import RPCError

    from core.reporting import ReportingRequest, ReportingSummary
    from workflows.reporting import ReportingWorkflow

    queue = settings.task_queue

    async def run() -> ReportingSummary:
        client = await client_with_worker(settings)
        handle = await client.start_workflow(
            ReportingWorkflow.run,
            ReportingRequest("manual"),
            id=f"reporting-manual-{int(time.time())}",
            task_queue=queue,
        )
        print(f"reporting workflow {handle.id} (see it in the Temporal UI)")
        shown = 0
        result = asyncio.ensure_future(handle.result())
        while not result.done():
            try:
                steps = await handle.query(ReportingWorkflow.progress)
            except RPCError:
                # The server remembers a stopped worker for a while: a query nobody
                # answers is how one that went away shows.
                result.cancel()
                raise StackError(
                    f"no worker answered on the task queue {queue!r}; the workflow "
                    f"{handle.id} goes on when one does: {START_A_WORKER}"
                ) from None
            for step in steps[shown:]:
                print(f"  {step}")
            shown = len(steps)
            await asyncio.wait([result], timeout=1)
        summary = result.result()
        for step in summary.steps[shown:]:
            print(f"  {step}")
        return summary

    summary = asyncio.run(run())
    failures = summary.dbt.failures + (summary.quality.failures if summary.quality else [])
    for failure in failures:
        print(f"  FAILED: {failure}")
    return 0 if summary.dbt.ok and summary.quality is not None and summary.quality.ok else 1


def serve_docs(settings: Settings, args: argparse.Namespace) -> int:
    from activities.reporting.dbt import run_dbt, serve_dbt_docs

    generated = run_dbt(settings, "docs", "generate")
    if not generated.ok:
        print(generated.tail())
        return 1
    print(f"dbt documentation on http://127.0.0.1:{args.port} (Ctrl-C stops it)", flush=True)
    return serve_dbt_docs(settings, args.port)
