"""Temporal workflow definitions: orchestration only, deterministic, no I/O."""

from workflows.selfcheck import SelfCheckWorkflow

ALL_WORKFLOWS: list[type] = [SelfCheckWorkflow]
