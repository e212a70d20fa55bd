"""Every command a user can run is exercised by a test: the `saku` command tree, walked from
its parser, must match the list below, which names the test that runs each command (as a
user would: `python -m saku …`). A new command without a test fails here."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from saku.cli import build_parser

TESTS = Path(__file__).resolve().parents[1]

# command -> (module under tests/integration/, the test that runs it)
TESTED: dict[str, tuple[str, str]] = {
    "saku up": ("test_processes.py", "test_saku_up_brings_everything_up_and_passes_its_self_check"),
    "saku worker": ("test_processes.py", "test_processes_stop_gracefully_on_sigterm"),
    "saku api": ("test_processes.py", "test_processes_stop_gracefully_on_sigterm"),
    "saku consume": ("test_processes.py", "test_processes_stop_gracefully_on_sigterm"),
    "saku simulate": ("test_simulate.py", "test_a_small_canteen_day_runs_end_to_end"),
    "saku chaos": (
        "test_chaos.py",
        "test_a_short_scorecard_loses_and_duplicates_nothing_acknowledged",
    ),
    "saku stack up": ("test_stack_cli.py", "test_up_is_idempotent"),
    "saku stack down": ("test_stack_cli.py", "test_data_survives_down_and_up"),
    "saku stack status": (
        "test_stack_cli.py",
        "test_status_lists_four_healthy_components_with_versions",
    ),
    "saku stack logs": (
        "test_cli_commands.py",
        "test_stack_logs_shows_the_tail_of_a_component_s_log",
    ),
    "saku db migrate": (
        "test_cli_commands.py",
        "test_db_migrate_applies_each_migration_once_then_nothing",
    ),
    "saku tenants create": (
        "test_accounts_cli.py",
        "test_create_a_tenant_and_a_user_from_the_command_line",
    ),
    "saku users create": (
        "test_accounts_cli.py",
        "test_create_a_tenant_and_a_user_from_the_command_line",
    ),
    "saku config defaults": (
        "test_cli_commands.py",
        "test_config_defaults_prints_the_shipped_bundle",
    ),
    "saku config import": ("test_monitoring_config.py", "test_config_commands"),
    "saku config export": ("test_monitoring_config.py", "test_config_commands"),
    "saku config activate": ("test_monitoring_config.py", "test_config_commands"),
    "saku ledger verify": ("test_ledger.py", "test_saku_ledger_verify_reports_the_invariant"),
    "saku keys rotate": (
        "test_cli_commands.py",
        "test_keys_rotate_rewraps_every_data_key_and_templates_still_open",
    ),
    "saku keys rotate-payload": (
        "test_cli_commands.py",
        "test_keys_rotate_payload_writes_with_a_new_key_and_old_payloads_stay_readable",
    ),
    "saku reports build": (
        "test_reports_cli.py",
        "test_reports_build_without_a_worker_says_what_to_start",
    ),
    "saku dr archive": (
        "test_history_archive.py",
        "test_dr_archive_then_dr_replay_as_an_operator_runs_them",
    ),
    "saku dr replay": (
        "test_history_archive.py",
        "test_dr_replay_names_a_non_deterministic_history_and_its_first_mismatching_event",
    ),
    "saku reports docs": (
        "test_reports_cli.py",
        "test_reports_docs_serves_the_dbt_documentation_until_ctrl_c",
    ),
    "saku kiosk": (
        "test_cli_commands.py",
        "test_kiosk_serves_its_screen_while_saku_is_away_and_stops_on_sigterm",
    ),
    "saku dr backup": ("test_dr_backups.py", "test_backup_then_list"),
    "saku dr backups": ("test_dr_backups.py", "test_backup_then_list"),
    "saku dr restore": (
        "test_dr_backups.py",
        "test_restore_to_a_time_between_two_writes_restores_exactly_the_first",
    ),
    "saku dr drill": (
        "test_dr_drill.py",
        "test_drill_restores_checks_and_records_and_fails_on_a_changed_row",
    ),
    "saku dr replica up": (
        "test_failover.py",
        "test_failover_under_kiosk_payments_and_the_stream_loses_and_duplicates_nothing",
    ),
    "saku dr replica down": (
        "test_failover.py",
        "test_failover_under_kiosk_payments_and_the_stream_loses_and_duplicates_nothing",
    ),
    "saku dr replica rejoin": (
        "test_failover.py",
        "test_failover_under_kiosk_payments_and_the_stream_loses_and_duplicates_nothing",
    ),
    "saku dr failover": (
        "test_failover.py",
        "test_failover_under_kiosk_payments_and_the_stream_loses_and_duplicates_nothing",
    ),
    "saku bench stream": (
        "test_cli_commands.py",
        "test_bench_stream_prints_its_table_for_a_small_stream",
    ),
    "saku bench kiosk": (
        "test_cli_commands.py",
        "test_bench_kiosk_prints_latencies_and_refuses_a_bad_rate",
    ),
}


def commands(parser: argparse.ArgumentParser, prefix: str = "saku") -> list[str]:
    """Every runnable command: the leaves of the parser's tree of sub-commands."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        return [prefix]
    found = []
    for action in subparsers:
        for name, child in action.choices.items():
            found += commands(child, f"{prefix} {name}")
    return found


def test_every_command_is_in_the_list_of_tested_commands() -> None:
    assert sorted(commands(build_parser())) == sorted(TESTED)


def test_each_listed_test_exists_and_runs_its_command_as_a_user_would() -> None:
    for command, (module, name) in TESTED.items():
        path = f"integration/{module}"
        test = f"{path}::{name}"
        source = (TESTS / path).read_text()
        assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{command}: no {test}"
        # the command's words appear in the module (its subprocess or argv), sub-command first
        words = command.split()[1:]
        assert all(f'"{word}"' in source for word in words), f"{command}: not run in {path}"
