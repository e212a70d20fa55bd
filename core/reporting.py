"""The nightly reporting run's inputs and results (small: counts, never data)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReportingRequest:
    trigger: str  # schedule | manual


@dataclass(frozen=True)
class DbtSummary:
    ok: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)  # status -> nodes (pass, error…)
    failures: list[str] = field(default_factory=list)  # the nodes that failed, by name


@dataclass(frozen=True)
class QualityVerdict:
    ok: bool
    checked: int
    failures: list[str]  # each failed check, with the tenants and a few rows that failed it
    failing_tenants: list[str] = field(default_factory=list)  # their purge is held
    # a failure pinned on no tenant (or checks that did not run): every purge is held
    unattributed: bool = False

    @property
    def purge_held_for_all(self) -> bool:
        return not self.ok and (self.unattributed or not self.failing_tenants)


@dataclass(frozen=True)
class RetentionRequest:
    trigger: str
    held_tenants: list[str] = field(default_factory=list)  # nothing of theirs moves tonight


@dataclass(frozen=True)
class RetentionCounts:
    data_class: str
    archived: int
    purged: int


@dataclass(frozen=True)
class ReportingSummary:
    dbt: DbtSummary
    quality: QualityVerdict | None  # None when the build failed first
    retention: list[RetentionCounts]  # empty when skipped
    steps: list[str]
