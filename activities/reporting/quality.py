"""Great Expectations checks, run in code with an ephemeral context: on the ingested
transactions (amounts positive, currencies known, timestamps sane, ids unique, references
resolve) and on the marts (canteen sales reconcile with the ledger to the cent).

A failure is pinned on the tenants whose rows fail: each check runs again without the
tenants found so far until it passes, so every other tenant's data is known to be good (and
its retention can go ahead). The report names each failing tenant with a few of its
offending rows (their ids and values), never more than a handful.

Run as `python -m activities.reporting.quality`: Great Expectations takes seconds to import
and is heavy, so the worker runs it in a child process and reads its JSON verdict.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from core.currencies import ISO_4217
from core.settings import Settings, get_settings

# the one list intake validates against (core.currencies): what it lets in passes here
KNOWN_CURRENCIES = sorted(ISO_4217)

INGESTED = """SELECT tenant_id, msg_id, amount, currency, created_at FROM transaction_edges"""
# An evaluation's message may be in the archive already: retention moves messages and
# evaluations by their own timestamps, and a message is received before it is evaluated.
ORPHAN_EVALUATIONS = """SELECT e.tenant_id, e.msg_id,
        CASE WHEN r.msg_id IS NULL AND a.msg_id IS NULL THEN 1 ELSE 0 END AS orphan
    FROM evaluations e
    LEFT JOIN raw_messages r ON r.tenant_id = e.tenant_id AND r.msg_id = e.msg_id
    LEFT JOIN archive.raw_messages a ON a.tenant_id = e.tenant_id AND a.msg_id = e.msg_id"""
SALES_VS_LEDGER = """SELECT coalesce(s.tenant_id, l.tenant_id) AS tenant_id,
        coalesce(s.net, 0) - coalesce(l.net, 0) AS difference
    FROM (SELECT tenant_id, sum(net_sales) AS net FROM reporting.daily_canteen_sales
          GROUP BY tenant_id) s
    FULL JOIN (SELECT e.tenant_id, sum(e.amount) AS net FROM ledger_entries e
               JOIN ledger_accounts a ON a.tenant_id = e.tenant_id AND a.id = e.account_id
               WHERE a.kind = 'merchant_settlement' GROUP BY e.tenant_id) l
      ON l.tenant_id = s.tenant_id"""

SAMPLE = 20  # offending rows Great Expectations returns per failed expectation and run
SHOWN = 5  # offending rows named per tenant and check
MAX_RUNS = 25  # runs of one suite while pinning its failures on tenants


@dataclass(frozen=True)
class Suite:
    name: str
    query: str
    row_ids: list[str]  # the columns that name a row, its tenant first
    expectations: Callable[[Any], list[Any]]  # given `gx.expectations`


SUITES = [
    Suite(
        "ingested transactions",
        INGESTED,
        ["tenant_id", "msg_id"],
        lambda e: [
            e.ExpectColumnValuesToBeBetween(column="amount", min_value=0, strict_min=True),
            e.ExpectColumnValuesToBeInSet(column="currency", value_set=KNOWN_CURRENCIES),
            e.ExpectColumnValuesToBeBetween(
                column="created_at", min_value="2000-01-01", max_value="2100-01-01"
            ),
            e.ExpectCompoundColumnsToBeUnique(column_list=["tenant_id", "msg_id"]),
        ],
    ),
    Suite(
        "evaluations resolve to their messages",
        ORPHAN_EVALUATIONS,
        ["tenant_id", "msg_id"],
        lambda e: [e.ExpectColumnValuesToBeBetween(column="orphan", min_value=0, max_value=0)],
    ),
    Suite(
        "canteen sales reconcile with the ledger",
        SALES_VS_LEDGER,
        ["tenant_id"],
        lambda e: [
            e.ExpectColumnValuesToBeBetween(column="difference", min_value=0, max_value=0),
        ],
    ),
]


@dataclass
class QualityReport:
    ok: bool
    checked: int = 0
    failures: list[str] = field(default_factory=list)
    failing_tenants: list[str] = field(default_factory=list)  # their purge is held
    # a failure no tenant could be named for (or the checks did not run): no tenant's data
    # is known to be good, so every purge is held
    unattributed: bool = False


def _without(query: str, tenants: list[str]) -> str:
    if not tenants:
        return query
    quoted = ", ".join("'" + tenant.replace("'", "''") + "'" for tenant in tenants)
    return f"SELECT * FROM ({query}) AS checked WHERE tenant_id NOT IN ({quoted})"


def _describe(row: dict[str, Any], row_ids: list[str]) -> str:
    ids = " ".join(f"{key} {str(row[key])[:64]}" for key in row_ids[1:] if key in row)
    values = ", ".join(f"{k} {str(v)[:40]!r}" for k, v in row.items() if k not in row_ids)
    return f"{ids} ({values})" if ids else values


def _checks(settings: Settings) -> QualityReport:
    import great_expectations as gx  # heavy: only in the child process

    url = settings.resolved_database_url().replace("postgresql://", "postgresql+psycopg://", 1)
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_postgres("saku", connection_string=url)
    numbers = itertools.count()

    def validate(suite: Suite, excluded: list[str]) -> list[Any]:
        number = next(numbers)
        asset = source.add_query_asset(f"asset-{number}", query=_without(suite.query, excluded))
        batch = asset.add_batch_definition_whole_table("all")
        expectations = suite.expectations(gx.expectations)
        checks = context.suites.add(
            gx.ExpectationSuite(name=f"suite-{number}", expectations=expectations)
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"validate-{number}", data=batch, suite=checks)
        )
        result_format = {
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLE,
            "unexpected_index_column_names": suite.row_ids,
        }
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"checkpoint-{number}",
                validation_definitions=[definition],
                result_format=result_format,
            )
        )
        return [r for run in checkpoint.run().run_results.values() for r in run.results]

    report = QualityReport(ok=True)
    for suite in SUITES:
        bad: dict[str, Any] = {}  # check -> how many rows failed it
        found: dict[str, dict[str, list[dict[str, Any]]]] = {}  # check -> tenant -> rows
        excluded: list[str] = []
        for run in range(MAX_RUNS):
            results = validate(suite, excluded)
            if run == 0:
                report.checked += len(results)
            failed = [r for r in results if not r.success]
            if not failed:
                break
            named: set[str] = set()
            for result in failed:
                config = result.expectation_config
                assert config is not None
                column = config.kwargs.get("column") or config.kwargs.get("column_list")
                check = f"{suite.name}: {config.type} on {column}"
                bad.setdefault(check, result.result.get("unexpected_count", "?"))
                for row in result.result.get("partial_unexpected_index_list") or []:
                    tenant = str(row[suite.row_ids[0]])
                    found.setdefault(check, {}).setdefault(tenant, []).append(row)
                    if tenant not in excluded:
                        named.add(tenant)
            if not named:
                report.unattributed = True
                break
            excluded.extend(sorted(named))
        else:
            report.unattributed = True
        for check, count in bad.items():
            tenants = found.get(check, {})
            named_rows = "; ".join(
                f"tenant {tenant}: "
                + ", ".join(_describe(row, suite.row_ids) for row in rows[:SHOWN])
                + (f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else "")
                for tenant, rows in sorted(tenants.items())
            )
            report.failures.append(f"{check} ({count} bad): {named_rows or 'no tenant named'}")
        report.failing_tenants = sorted(set(report.failing_tenants) | set(excluded))
    report.ok = not report.failures
    return report


def run_checks(settings: Settings, timeout_s: float = 900) -> QualityReport:
    """The checkpoint, in a child process with these settings."""
    done = subprocess.run(
        [sys.executable, "-m", "activities.reporting.quality"],
        env=settings.as_environment(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = f"the checks did not run: {done.stderr.strip()[-300:]}"
        return QualityReport(False, 0, [reason], unattributed=True)
    return QualityReport(**json.loads(lines[-1]))


if __name__ == "__main__":
    print(json.dumps(asdict(_checks(get_settings())), default=str))
