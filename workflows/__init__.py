"""Temporal workflow definitions: orchestration only, deterministic, no I/O."""

from workflows.evaluation import EvaluateBatchWorkflow, EvaluateTransactionWorkflow
from workflows.noop import NoOpWorkflow
from workflows.selfcheck import SelfCheckWorkflow

ALL_WORKFLOWS: list[type] = [
    SelfCheckWorkflow,
    EvaluateTransactionWorkflow,
    EvaluateBatchWorkflow,
    NoOpWorkflow,
]
