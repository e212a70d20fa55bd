"""Every side effect Saku's workflows need, as methods of small classes given their clients."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import redis.asyncio as redis

from activities.alert_handoff.deliver import HandOffActivities
from activities.alert_handoff.store import HandOffStore
from activities.biometrics.keyring import KeyRing
from activities.biometrics.sensors import SensorCommands
from activities.biometrics.steps import BiometricActivities
from activities.biometrics.vault import TemplateVault
from activities.cases import CaseActivities
from activities.dr.history_archive import HistoryArchiveActivities
from activities.dr.steps import DrActivities
from activities.monitoring.alerts import AlertPublisher
from activities.monitoring.evaluate import EvaluationActivities
from activities.monitoring.history import HistoryStore
from activities.monitoring.pipeline import MonitoringPipeline
from activities.reporting.steps import ReportingActivities
from activities.selfcheck import SelfCheckActivities
from activities.wallet.payments import WalletActivities
from activities.wallet.payouts import PayoutActivities, Payouts
from activities.wallet.webhook_targets import WebhookPolicy
from core.db import Pool
from core.settings import Settings


def build_activities(
    pool: Pool,
    valkey: redis.Redis,
    publish_alert: AlertPublisher,
    settings: Settings,
    publish_payout: AlertPublisher | None = None,
) -> list[Callable[..., Any]]:
    """All activities, bound to the given dependencies (real ones, or fakes in unit tests).
    `publish_payout` puts payout requests on the bank's payouts topic (without it, a payout
    waits for a worker that has one)."""
    balance_cap = settings.balance_cap_decimal
    keyring = KeyRing.load(settings.resolved_kek_file())  # outside the database
    selfcheck = SelfCheckActivities(pool, valkey)
    history = HistoryStore(pool, valkey)
    cases = CaseActivities(
        pool,
        hand_off_retry=timedelta(seconds=settings.alert_handoff_retry_s),
        hand_off_timeout=timedelta(seconds=settings.webhook_timeout_s),
    )
    hand_off = HandOffActivities(
        HandOffStore.from_settings(pool, settings),
        WebhookPolicy(settings.webhook_allowed_hosts),
        timeout_s=settings.webhook_timeout_s,
    )
    monitoring = MonitoringPipeline(pool, history, publish_alert, balance_cap)
    evaluation = EvaluationActivities(monitoring, cases)
    wallet = WalletActivities(pool, monitoring.screen, balance_cap)
    payouts = PayoutActivities(Payouts(pool), publish_payout)
    biometrics = BiometricActivities(TemplateVault(pool, keyring), SensorCommands(pool))
    reporting = ReportingActivities(pool, settings, publish_alert)
    dr = DrActivities(pool, settings, keyring)
    archive = HistoryArchiveActivities(settings)
    return [
        selfcheck.record,
        evaluation.run_rules,
        evaluation.persist,
        evaluation.evaluate_batch,
        wallet.screen_payment,
        wallet.settle_payment,
        wallet.screen_topup,
        wallet.settle_topup,
        payouts.send,
        biometrics.queue_loads,
        biometrics.outstanding,
        biometrics.erase_at_rest,
        biometrics.record_erased,
        reporting.dbt_build,
        reporting.check_quality,
        reporting.apply_retention,
        cases.open,
        cases.open_case,
        cases.escalate,
        cases.decide,
        cases.record_decision,
        cases.escalate_confirmation,
        cases.confirm,
        hand_off.webhook,
        hand_off.syslog,
        hand_off.failed,
        dr.take_backup,
        dr.prune_backups,
        dr.run_drill,
        archive.archive_histories,
        archive.copy_temporal_store,
    ]
