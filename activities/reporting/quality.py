"""Great Expectations checks, run in code with an ephemeral context: on the ingested
transactions (amounts positive, currencies known, timestamps sane, ids unique, references
resolve) and on the marts (canteen sales reconcile with the ledger to the cent).

Run as `python -m activities.reporting.quality`: Great Expectations takes seconds to import
and is heavy, so the worker runs it in a child process and reads its JSON verdict.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from saku.settings import Settings, get_settings

# ISO 4217 codes Saku's banks and schools deal in; anything else is a data problem
KNOWN_CURRENCIES = ["IDR", "USD", "SGD", "MYR", "EUR", "JPY", "AUD", "CNY", "GBP", "THB", "PHP"]

INGESTED = """SELECT tenant_id, msg_id, amount, currency, created_at FROM transaction_edges"""
ORPHAN_EVALUATIONS = """SELECT count(*) AS orphans FROM evaluations e
    LEFT JOIN raw_messages r ON r.tenant_id = e.tenant_id AND r.msg_id = e.msg_id
    WHERE r.msg_id IS NULL"""
SALES_VS_LEDGER = """SELECT coalesce(s.tenant_id, l.tenant_id) AS tenant_id,
        coalesce(s.net, 0) - coalesce(l.net, 0) AS difference
    FROM (SELECT tenant_id, sum(net_sales) AS net FROM reporting.daily_canteen_sales
          GROUP BY tenant_id) s
    FULL JOIN (SELECT e.tenant_id, sum(e.amount) AS net FROM ledger_entries e
               JOIN ledger_accounts a ON a.tenant_id = e.tenant_id AND a.id = e.account_id
               WHERE a.kind = 'merchant_settlement' GROUP BY e.tenant_id) l
      ON l.tenant_id = s.tenant_id"""


@dataclass
class QualityReport:
    ok: bool
    checked: int = 0
    failures: list[str] = field(default_factory=list)


def _checks(settings: Settings) -> QualityReport:
    import great_expectations as gx  # heavy: only in the child process

    url = settings.resolved_database_url().replace("postgresql://", "postgresql+psycopg://", 1)
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_postgres("saku", connection_string=url)
    e = gx.expectations
    suites: dict[str, tuple[str, list[Any]]] = {
        "ingested transactions": (INGESTED, [
            e.ExpectColumnValuesToBeBetween(column="amount", min_value=0, strict_min=True),
            e.ExpectColumnValuesToBeInSet(column="currency", value_set=KNOWN_CURRENCIES),
            e.ExpectColumnValuesToBeBetween(column="created_at", min_value="2000-01-01",
                                            max_value="2100-01-01"),
            e.ExpectCompoundColumnsToBeUnique(column_list=["tenant_id", "msg_id"]),
        ]),
        "evaluations resolve to their messages": (ORPHAN_EVALUATIONS, [
            e.ExpectColumnValuesToBeBetween(column="orphans", min_value=0, max_value=0),
        ]),
        "canteen sales reconcile with the ledger": (SALES_VS_LEDGER, [
            e.ExpectColumnValuesToBeBetween(column="difference", min_value=0, max_value=0),
        ]),
    }  # fmt: skip
    report = QualityReport(ok=True)
    for number, (name, (query, expectations)) in enumerate(suites.items()):
        asset = source.add_query_asset(f"asset-{number}", query=query)
        batch = asset.add_batch_definition_whole_table("all")
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"validate-{number}", data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(name=f"checkpoint-{number}", validation_definitions=[definition])
        )
        for run in checkpoint.run().run_results.values():
            for result in run.results:
                report.checked += 1
                if not result.success:
                    config = result.expectation_config
                    assert config is not None
                    column = config.kwargs.get("column") or config.kwargs.get("column_list")
                    bad = result.result.get("unexpected_count", result.result.get("observed_value"))
                    report.failures.append(f"{name}: {config.type} on {column} ({bad} bad)")
    report.ok = not report.failures
    return report


def run_checks(settings: Settings, timeout_s: float = 900) -> QualityReport:
    """The checkpoint, in a child process with these settings."""
    done = subprocess.run(
        [sys.executable, "-m", "activities.reporting.quality"], env=settings.as_environment(),
        capture_output=True, text=True, timeout=timeout_s,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return QualityReport(False, 0, [f"the checks did not run: {done.stderr.strip()[-300:]}"])
    return QualityReport(**json.loads(lines[-1]))


if __name__ == "__main__":
    print(json.dumps(asdict(_checks(get_settings()))))
