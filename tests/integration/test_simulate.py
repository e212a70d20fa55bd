"""`saku simulate` (the README's run command) on a stack of its own, with a small school:
the whole canteen day runs and ends with the ledger's invariant holding; then the dbt
project builds over that day, its own tests pass, and the marts agree with sums computed
here, independently, from the operational tables and the ledger."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest

from core.security import verify_password
from core.settings import Settings
from saku.stack import manager
from tests.stackutil import private_settings, remove_var_dir

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def day() -> Iterator[tuple[Settings, str]]:
    settings = private_settings()
    try:
        asyncio.run(manager.up(settings))  # up first: simulate then leaves it running
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "saku",
                "simulate",
                "--students",
                "40",
                "--enrol",
                "9",
                "--payments",
                "60",
                "--rate",
                "10",
                "--exit",
            ],
            env=settings.as_environment(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        yield settings, result.stdout
    finally:
        manager.down(settings)
        remove_var_dir(settings)


def test_a_small_canteen_day_runs_end_to_end(day: tuple[Settings, str]) -> None:
    settings, out = day
    for phase in (
        "enrolment: 9 students",
        "every kiosk loaded",
        "every top-up evaluated",
        "lunch rush",
        "sell offline",
        "offline sales sent for replay",
    ):
        assert phase in out, phase
    payments = re.search(r"payments\s+(\d+) approved, (\d+) declined", out)
    assert payments is not None and int(payments[1]) + int(payments[2]) == 62, out
    assert re.search(r"paid by\s+.*fingerprint \d+", out), out
    assert re.search(r"offline\s+[1-9]\d* sales replayed", out), out
    assert re.search(r"alerts\s+.*offline-cap-evasion@1.0.0 [1-9]", out), out
    # a student leaves at the end of the day, and the simulated bank pays them back
    assert "a student leaves:" in out and "the bank paid the balance back" in out, out
    assert re.search(r"payouts\s+1 requested; paid 1 \([\d,]+ IDR\)$", out, re.MULTILINE), out
    assert re.search(r"ledger\s+.*- payouts [1-9][\d,]*: OK$", out, re.MULTILINE), out
    assert re.search(r"ledger\s+.*: OK$", out, re.MULTILINE), out
    # a newcomer can click through the day: the office's address and a ready sign-in
    office = re.search(r"school office  (http://\S+/office)  staff: (\S+) / password: (\S+)", out)
    assert office is not None, out
    with psycopg.connect(settings.resolved_database_url()) as conn:
        user = conn.execute(
            "SELECT role, school_id, password_hash FROM users WHERE username = %s", (office[2],)
        ).fetchone()
    assert user is not None and user[:2] == ("school_staff", "sdn-harapan"), user
    assert verify_password(str(user[2]), office[3])


def test_the_day_ends_with_a_ready_guardian_sign_in_to_the_portal(
    day: tuple[Settings, str],
) -> None:
    settings, out = day
    portal = re.search(r"the guardian portal: (http://\S+)/guardian", out)
    assert portal is not None, out
    assert portal[1] == f"http://{settings.api_host}:{settings.api_port}"
    sign_in = re.search(r"sign in as (\S+) with password (\S+)", out)
    assert sign_in is not None, out
    with psycopg.connect(settings.resolved_database_url()) as conn:
        row = conn.execute(
            "SELECT u.role, u.password_hash, count(sg.student_id) FROM users u "
            "JOIN guardians g ON g.user_id = u.id "
            "JOIN student_guardians sg ON sg.tenant_id = g.tenant_id AND sg.guardian_id = g.id "
            "WHERE u.username = %s GROUP BY 1, 2",
            (sign_in[1],),
        ).fetchone()
    assert row is not None
    role, password_hash, children = row
    assert (role, children) == ("guardian", 2)
    assert verify_password(str(password_hash), sign_in[2])


ALERTING_TYPOLOGIES = """SELECT count(*) FROM evaluations e,
    jsonb_array_elements(e.result->'adjudication'->'typologies') x
    WHERE (x->>'review')::boolean"""


def reports_build(settings: Settings) -> subprocess.CompletedProcess[str]:
    """The nightly reporting workflow, run now the way an analyst would, on a worker."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "saku", "worker"],
        env=settings.as_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return subprocess.run(
            [sys.executable, "-m", "saku", "reports", "build"],
            env=settings.as_environment(),
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        worker.terminate()
        worker.wait(30)


def one(conn: psycopg.Connection[tuple[object, ...]], sql: str, *params: object) -> Decimal:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return Decimal(str(row[0] or 0))


def test_the_reports_build_over_the_day_and_agree_with_independent_sums(
    day: tuple[Settings, str],
) -> None:
    settings, out = day
    tenant = re.search(r"tenant (sim-[0-9a-f]+)", out)
    assert tenant is not None
    built = reports_build(settings)
    assert built.returncode == 0, built.stdout + built.stderr
    assert re.search(r"dbt build: ok in [\d.]+ s \(pass \d+, success \d+\)", built.stdout), (
        built.stdout
    )
    assert "quality checks: 6 expectations, ok" in built.stdout, built.stdout
    # a fresh day has nothing past retention: the step runs and moves nothing
    assert "retention: archived/purged raw_messages 0/0" in built.stdout, built.stdout
    with psycopg.connect(settings.resolved_database_url()) as conn:
        t = tenant[1]
        # canteen sales reconcile with the ledger to the cent: purchases less refunds
        net = one(
            conn, "SELECT sum(net_sales) FROM reporting.daily_canteen_sales WHERE tenant_id = %s", t
        )
        merchants = """SELECT sum(e.amount) FROM ledger_entries e
                       JOIN ledger_accounts a ON a.tenant_id = e.tenant_id AND a.id = e.account_id
                       WHERE e.tenant_id = %s AND a.kind = 'merchant_settlement'"""
        ledger = one(conn, merchants, t)
        assert net == ledger and net > 0
        approved = one(
            conn, "SELECT count(*) FROM payments WHERE tenant_id = %s AND status <> 'declined'", t
        )
        assert (
            one(
                conn,
                "SELECT sum(purchases) FROM reporting.daily_canteen_sales WHERE tenant_id = %s",
                t,
            )
            == approved
        )
        offline = one(
            conn,
            "SELECT count(*) FROM payments WHERE tenant_id = %s AND offline "
            "AND status <> 'declined'",
            t,
        )
        assert (
            one(
                conn,
                "SELECT sum(offline_sales) FROM reporting.kiosk_availability WHERE tenant_id = %s",
                t,
            )
            == offline
            > 0
        )
        credited = one(
            conn, "SELECT sum(amount) FROM topups WHERE tenant_id = %s AND status = 'credited'", t
        )
        by_channel = one(
            conn,
            "SELECT sum(amount) FROM reporting.topups_by_channel WHERE tenant_id = %s "
            "AND status = 'credited' AND channel = 'kafka'",
            t,
        )
        assert by_channel == credited
        enrolled = one(
            conn,
            "SELECT count(DISTINCT student_id) FROM biometric_templates WHERE tenant_id = %s",
            t,
        )
        assert (
            one(
                conn,
                "SELECT sum(enrolled) FROM reporting.enrolment_and_consent_status "
                "WHERE tenant_id = %s",
                t,
            )
            == enrolled
            == 9
        )
        alerts = one(
            conn,
            "SELECT count(*) FROM evaluations e, jsonb_array_elements("
            "e.result->'adjudication'->'typologies') x WHERE e.tenant_id = %s "
            "AND (x->>'review')::boolean",
            t,
        )
        assert (
            one(
                conn, "SELECT sum(alerts) FROM reporting.alerts_by_typology WHERE tenant_id = %s", t
            )
            == alerts
            > 0
        )
        # every stored rule result is counted once, under its rule and its outcome
        rule_results = one(
            conn,
            "SELECT count(*) FROM evaluations e, jsonb_array_elements("
            "e.result->'rule_results') r WHERE e.tenant_id = %s",
            t,
        )
        assert (
            one(conn, "SELECT sum(results) FROM reporting.rule_hit_rates WHERE tenant_id = %s", t)
            == rule_results
            > 0
        )
        assert (
            one(
                conn,
                "SELECT count(*) FROM reporting.rule_hit_rates WHERE tenant_id = %s "
                "AND (rule_id IS NULL OR outcome NOT LIKE '.%%')",
                t,
            )
            == 0
        )
        # every alerting evaluation opened one case, and the outcomes mart counts them all
        alerting = one(
            conn, "SELECT count(*) FROM evaluations WHERE tenant_id = %s AND status = 'ALRT'", t
        )
        assert one(conn, "SELECT count(*) FROM cases WHERE tenant_id = %s", t) == alerting > 0
        assert (
            one(conn, "SELECT sum(cases) FROM reporting.case_outcomes WHERE tenant_id = %s", t)
            == alerting
        )


def test_bad_data_fails_the_checkpoint_names_the_tenant_and_holds_only_its_purge(
    day: tuple[Settings, str],
) -> None:
    settings, out = day
    found = re.search(r"tenant (sim-[0-9a-f]+)", out)
    assert found is not None
    tenant = found[1]
    edge = """INSERT INTO transaction_edges (tenant_id, msg_id, end_to_end_id, tx_type,
                  source_account, destination_account, source_entity, destination_entity,
                  amount, currency, created_at)
              VALUES (%s, %s, %s, %s, 'a', 'b', 'a', 'b', %s, %s, now() - %s::interval)"""
    with psycopg.connect(settings.resolved_database_url(), autocommit=True) as conn:
        # history old enough to purge, and a record no intake would have let in (of another
        # tenant, and old enough to purge too)
        conn.execute("UPDATE raw_messages SET received_at = now() - interval '100 days'")
        aged = one(conn, "SELECT count(*) FROM raw_messages WHERE tenant_id = %s", tenant)
        conn.execute(edge, ("bad", "bad-1", "bad-1", "saku.purchase", -500, "XXX", "100 days"))
        # a payment in ISO 4217's test currency, which intake accepts: the gate does too
        conn.execute(edge, (tenant, "xts-1", "xts-1", "pacs.008.001.10", 125, "XTS", "0 days"))
        built = reports_build(settings)
        assert built.returncode == 1, built.stdout + built.stderr
        assert "quality checks: 6 expectations, FAILED (2), alert raised" in built.stdout
        # each failure names the tenant and the offending rows
        assert (
            "ingested transactions: expect_column_values_to_be_between on amount (1 bad): "
            "tenant bad: msg_id bad-1 (amount '-500.0000')"
        ) in built.stdout, built.stdout
        assert (
            "ingested transactions: expect_column_values_to_be_in_set on currency (1 bad): "
            "tenant bad: msg_id bad-1 (currency 'XXX')"
        ) in built.stdout, built.stdout
        failed = [line for line in built.stdout.splitlines() if "FAILED:" in line]
        assert len(failed) == 2 and not any(tenant in line for line in failed), failed
        # the failing tenant's purge is held, with its reason; every other tenant's goes on
        assert "retention: held for tenant bad (their data failed the quality checks" in (
            built.stdout
        )
        assert re.search(r"retention: archived/purged raw_messages (\d+)/\1", built.stdout)
        assert one(conn, "SELECT count(*) FROM transaction_edges WHERE tenant_id = 'bad'") == 1
        assert (
            one(conn, "SELECT count(*) FROM archive.transaction_edges WHERE tenant_id = 'bad'") == 0
        )
        assert one(conn, "SELECT count(*) FROM raw_messages WHERE tenant_id = %s", tenant) == 0
        assert (
            one(conn, "SELECT count(*) FROM archive.raw_messages WHERE tenant_id = %s", tenant)
            == aged
            > 0
        )
        alert = conn.execute(
            "SELECT tenants, purge_held_for_all, failures FROM data_quality_alerts"
        ).fetchall()
        assert len(alert) == 1 and alert[0][:2] == (["bad"], False), alert
        assert all("bad-1" in failure for failure in alert[0][2])
        assert (
            one(conn, "SELECT count(*) FROM retention_runs WHERE held_tenants = ARRAY['bad']") > 0
        )
        # the incremental marts, rebuilt on top of the first build, still count every alert
        alerts = one(conn, ALERTING_TYPOLOGIES)
        assert one(conn, "SELECT sum(alerts) FROM reporting.alerts_by_typology") == alerts > 0
        # the next night the tenant's evaluations find their messages in the archive
        again = reports_build(settings)
        assert "evaluations resolve to their messages" not in again.stdout, again.stdout
