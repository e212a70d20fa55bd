"""Temporal workflow definitions: orchestration only, deterministic, no I/O."""

from workflows.evaluation import EvaluateBatchWorkflow, EvaluateTransactionWorkflow
from workflows.noop import NoOpWorkflow
from workflows.selfcheck import SelfCheckWorkflow
from workflows.wallet import KioskPaymentWorkflow, TopUpWorkflow

ALL_WORKFLOWS: list[type] = [
    SelfCheckWorkflow,
    EvaluateTransactionWorkflow,
    EvaluateBatchWorkflow,
    NoOpWorkflow,
    KioskPaymentWorkflow,
    TopUpWorkflow,
]
