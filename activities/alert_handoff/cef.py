"""An alert as a SIEM reads it: the webhook's JSON body, and a CEF event in an RFC 5424
syslog message.

Both carry identifiers and scores only: the tenant, the message, evaluation and end-to-end
ids, the workflows, the typologies with their scores and thresholds, and the ids of the
event-flow conditions that applied. Never names, accounts, amounts, free text (a condition's
reason is typed by an operator) or biometric data.

CEF (ArcSight's Common Event Format, version 0): `CEF:0|vendor|product|version|signature
id|name|severity|extension`. In the header a backslash and a pipe are escaped with a
backslash; in the extension (`key=value` pairs separated by spaces) a backslash and an equals
sign are, and a line break is written `\\n` (`\\r`), so one event is always one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

VENDOR = "Saku"
PRODUCT = "Saku transaction monitoring"
CEF_VERSION = "1.0"  # of this event's layout: a SIEM's parser can key on it
# RFC 5424: facility 4 is "security/authorization messages"
FACILITY = 4
APP_NAME = "saku"
MSG_ID = "alert"
# Receivers must take 480 bytes over UDP and should take 2048 (RFC 5426); the typology
# list is what grows, so it is cut to keep an event within this
MAX_TYPOLOGIES_CHARS = 1024
MAX_TYPOLOGIES = 50  # in the webhook's body; a network map routes far fewer to a message
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Typology:
    id: str
    cfg: str
    score: float
    alert_threshold: float
    interdiction_threshold: float | None
    review: bool
    interdiction: bool


@dataclass(frozen=True)
class Alert:
    """What is handed off of an alerting evaluation (read back from its stored row)."""

    tenant_id: str
    msg_id: str
    evaluation_id: str
    end_to_end_id: str
    tx_type: str
    interdicted: bool
    typologies: tuple[Typology, ...]
    blocked_by: str | None  # the event-flow condition's id, if one applied
    overridden_by: str | None
    evaluated_at: datetime
    workflow_id: str  # the evaluation's
    case_workflow_id: str

    @property
    def highest_score(self) -> float:
        return max((t.score for t in self.typologies), default=0.0)


def severity(alert: Alert) -> int:
    """CEF severity (0-10): 10 for an interdicted transaction; otherwise 5-9 by how close
    the highest-scoring typology came to its interdiction threshold (an alert at the alert
    threshold of 200 with interdiction at 350 is 7; one at or past the threshold whose
    interdiction an override lifted, 9); 6 for an alert no threshold measures (a blocking
    condition, a message no network map routes)."""
    if alert.interdicted:
        return 10
    ratios = [
        t.score / t.interdiction_threshold
        for t in alert.typologies
        if t.interdiction_threshold is not None and t.interdiction_threshold > 0
    ]
    if not ratios:
        return 6
    return 5 + round(4 * min(max(max(ratios), 0.0), 1.0))


def syslog_severity(cef_severity: int) -> int:
    """RFC 5424 severity for a CEF severity: critical, error, warning or notice."""
    if cef_severity >= 9:
        return 2
    if cef_severity >= 7:
        return 3
    if cef_severity >= 4:
        return 4
    return 5


def escape_header(value: str) -> str:
    """A CEF header field: `\\` and `|` escaped; a line break (which the header may not hold)
    and other control characters become spaces."""
    return _CONTROL.sub(" ", value.replace("\\", "\\\\").replace("|", "\\|"))


def escape_extension(value: str) -> str:
    """A CEF extension value: `\\` and `=` escaped, line breaks written as `\\n` and `\\r`,
    other control characters become spaces."""
    escaped = value.replace("\\", "\\\\").replace("=", "\\=")
    escaped = escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")
    return _CONTROL.sub(" ", escaped)


def _score(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _typologies_text(alert: Alert) -> str:
    """`id@cfg:score` for each typology, highest score first, cut to fit an event."""
    parts: list[str] = []
    length = 0
    for t in sorted(alert.typologies, key=lambda t: -t.score):
        part = f"{t.id}@{t.cfg}:{_score(t.score)}"
        if length + len(part) + 1 > MAX_TYPOLOGIES_CHARS:
            parts.append("...")
            break
        parts.append(part)
        length += len(part) + 1
    return ",".join(parts)


def cef_event(alert: Alert) -> str:
    """The alert as one CEF line."""
    level = severity(alert)
    top = max(alert.typologies, key=lambda t: t.score, default=None)
    signature = "interdiction" if alert.interdicted else "alert"
    name = f"Transaction {'interdicted' if alert.interdicted else 'alerted'}"
    if top is not None:
        name += f": typology {top.id}@{top.cfg}"
    header = "|".join(
        escape_header(field)
        for field in (VENDOR, PRODUCT, CEF_VERSION, f"saku:{signature}", name, str(level))
    )
    extension: list[tuple[str, str]] = [
        ("rt", str(int(alert.evaluated_at.timestamp() * 1000))),
        ("act", "interdicted" if alert.interdicted else "alerted"),
        ("cat", alert.tx_type),
        ("externalId", alert.msg_id),
        ("cs1Label", "tenant"),
        ("cs1", alert.tenant_id),
        ("cs2Label", "evaluationId"),
        ("cs2", alert.evaluation_id),
        ("cs3Label", "endToEndId"),
        ("cs3", alert.end_to_end_id),
        ("cs4Label", "typologies"),
        ("cs4", _typologies_text(alert)),
        ("cs5Label", "caseWorkflowId"),
        ("cs5", alert.case_workflow_id),
        ("cs6Label", "evaluationWorkflowId"),
        ("cs6", alert.workflow_id),
        ("cfp1Label", "highestScore"),
        ("cfp1", _score(alert.highest_score)),
    ]
    if alert.blocked_by is not None:
        extension += [("flexString1Label", "blockedBy"), ("flexString1", alert.blocked_by)]
    if alert.overridden_by is not None:
        extension += [("flexString2Label", "overriddenBy"), ("flexString2", alert.overridden_by)]
    pairs = " ".join(f"{key}={escape_extension(value)}" for key, value in extension)
    return f"CEF:0|{header}|{pairs}"


def _syslog_token(value: str, limit: int) -> str:
    """An RFC 5424 header field: printable ASCII without spaces, at most `limit` long."""
    token = "".join(c for c in value if "!" <= c <= "~")[:limit]
    return token or "-"


def syslog_message(alert: Alert, hostname: str, now: datetime) -> bytes:
    """The CEF event as an RFC 5424 message: `<PRI>1 TIMESTAMP HOST APP - MSGID - MSG`."""
    priority = FACILITY * 8 + syslog_severity(severity(alert))
    timestamp = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    header = " ".join(
        (
            f"<{priority}>1",
            timestamp,
            _syslog_token(hostname, 255),
            APP_NAME,
            "-",  # PROCID
            MSG_ID,
            "-",  # no structured data: the CEF event carries it all
        )
    )
    return f"{header} {cef_event(alert)}".encode()


def frame(message: bytes, transport: str) -> bytes:
    """A message as it goes on the wire: a UDP datagram as it is; over TCP with octet
    counting (RFC 6587 3.4.1, `LEN SP MSG`) or, for receivers that read lines, ended by a
    line feed (`tcp-lf`; the message holds none)."""
    if transport == "udp":
        return message
    if transport == "tcp":
        return b"%d %s" % (len(message), message)
    if transport == "tcp-lf":
        return message + b"\n"
    raise ValueError(f"unknown syslog transport {transport!r}")


def webhook_body(alert: Alert) -> dict[str, Any]:
    """The webhook's JSON body."""
    return {
        "alertId": alert.evaluation_id,
        "tenantId": alert.tenant_id,
        "msgId": alert.msg_id,
        "endToEndId": alert.end_to_end_id,
        "txTp": alert.tx_type,
        "status": "ALRT",
        "interdicted": alert.interdicted,
        "severity": severity(alert),
        "highestScore": alert.highest_score,
        "typologies": [
            {
                "id": t.id,
                "cfg": t.cfg,
                "score": t.score,
                "alertThreshold": t.alert_threshold,
                "interdictionThreshold": t.interdiction_threshold,
                "review": t.review,
                "interdiction": t.interdiction,
            }
            for t in sorted(alert.typologies, key=lambda t: -t.score)[:MAX_TYPOLOGIES]
        ],
        "blockedBy": alert.blocked_by,
        "overriddenBy": alert.overridden_by,
        "evaluatedAt": alert.evaluated_at.astimezone(UTC).isoformat(),
        "workflowId": alert.workflow_id,
        "caseWorkflowId": alert.case_workflow_id,
    }
