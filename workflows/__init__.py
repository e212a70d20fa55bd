"""Temporal workflow definitions: orchestration only, deterministic, no I/O.

The list a worker registers is in `workflows.registry`."""
