"""Alert hand-off beyond Saku, as the case workflow sees it: which of the tenant's receivers
an alert goes to, and the deliveries its activities make. References only, no personal
data."""

from __future__ import annotations

from dataclasses import dataclass

WEBHOOK = "webhook"
SYSLOG = "syslog"
CHANNELS = (WEBHOOK, SYSLOG)
# the error type of a delivery that no retry can make succeed (a refused receiver address)
REFUSED = "HandOffRefused"


@dataclass(frozen=True)
class HandOff:
    """Where a case hands its alert off to (the tenant's receivers when the case opened),
    and how long each delivery is tried: a try at most `attempt_timeout_s`, retried with
    backoff for at most `retry_for_s`, then recorded as failed."""

    webhook: bool
    syslog: bool
    retry_for_s: int
    attempt_timeout_s: int

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c for c, on in ((WEBHOOK, self.webhook), (SYSLOG, self.syslog)) if on)


@dataclass(frozen=True)
class AlertDelivery:
    """One alert to one channel; `error` is set when recording that it failed for good."""

    tenant_id: str
    msg_id: str
    channel: str  # webhook | syslog
    error: str | None = None
