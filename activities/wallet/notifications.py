"""Guardian notifications: queued in an outbox, delivered by a signed webhook (and kept in
each guardian's portal inbox, `guardian_inbox`, read or unread).

`notify_guardians` writes the notification in the caller's transaction, so a notification
exists exactly when what caused it was committed. `WebhookSender` delivers the outbox:

* claiming is a lease: due rows are picked with FOR UPDATE SKIP LOCKED, their attempt is
  counted and their next_attempt_at pushed past the HTTP timeout, and the claim commits
  before any POST. Several senders never pick the same row, no transaction stays open
  during HTTP, and a sender that dies mid-delivery leaves the row due again once the lease
  runs out (delivery is at least once; receivers dedupe on X-Saku-Delivery).
* a result is recorded only if the row still carries the attempt this sender claimed, so a
  sender whose lease ran out cannot overwrite a newer attempt's outcome.
* a failure is retried with exponential backoff and jitter; after `max_attempts` attempts
  the row is dead: kept for operators, logged as a warning.

The outbox payload is `{"studentId": ..., "payload": <the caller's payload>}` because the
table has no student column; the webhook body is built from it at delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any, Protocol

import psycopg
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from activities.wallet.webhook_targets import WebhookPolicy, WebhookTargetRefused
from core.db import Pool

log = logging.getLogger(__name__)

# Keys that would carry biometric data; guardians are told about money, never about fingers.
_BIOMETRIC_KEYS = ("template", "biometric", "fingerprint")
# The lease must outlast the request (bounded by the timeout) plus recording its result.
_LEASE_MARGIN_S = 60.0
_MAX_ERROR_CHARS = 200


def backoff_delay(
    attempt: int,
    *,
    base_s: float = 2.0,
    cap_s: float = 3600.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): base·2^(n-1), capped,
    then jittered into [ceiling/2, ceiling] so receivers that come back are not stampeded."""
    # the exponent is bounded first: 2**n of a large n would overflow a float
    ceiling = min(cap_s, base_s * 2.0 ** min(max(attempt, 1) - 1, 64))
    return ceiling / 2 + ceiling / 2 * rand()


def _check_payload(value: Any, path: str = "payload") -> Any:
    """The payload as JSON-ready data: Decimals become strings; floats (amounts lose cents),
    bytes and biometric-looking keys are refused."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: keys must be strings")
            if any(word in key.lower() for word in _BIOMETRIC_KEYS):
                raise ValueError(f"{path}.{key}: notifications never carry biometric data")
            out[key] = _check_payload(item, f"{path}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_check_payload(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, float):
        raise ValueError(f"{path}: amounts are sent as strings, not floats")
    if value is None or isinstance(value, str | int | bool):
        return value
    raise ValueError(f"{path}: {type(value).__name__} is not JSON")


async def notify_guardians(
    conn: psycopg.AsyncConnection[DictRow],
    tenant: str,
    student_id: str,
    kind: str,
    payload: dict[str, Any],
    dedup_key: str,
) -> int:
    """Queue a notification for every guardian of the student who has a webhook, in the
    caller's transaction; returns how many were queued (0 for an already queued dedup_key).
    Every guardian of the student (webhook or not) finds it in their portal's inbox too."""
    checked = _check_payload(payload)
    stored = {"studentId": student_id, "payload": checked}
    await conn.execute(
        """INSERT INTO guardian_inbox (tenant_id, guardian_id, student_id, kind, payload,
                                       dedup_key)
           SELECT sg.tenant_id, sg.guardian_id, sg.student_id, %s, %s, %s
             FROM student_guardians sg
            WHERE sg.tenant_id = %s AND sg.student_id = %s
           ON CONFLICT (tenant_id, guardian_id, dedup_key) DO NOTHING""",
        (kind, Jsonb(checked), dedup_key, tenant, student_id),
    )
    cur = await conn.execute(
        """INSERT INTO notification_outbox (tenant_id, guardian_id, kind, payload, dedup_key)
           SELECT sg.tenant_id, sg.guardian_id, %s, %s, %s
             FROM student_guardians sg
             JOIN guardians g ON g.tenant_id = sg.tenant_id AND g.id = sg.guardian_id
            WHERE sg.tenant_id = %s AND sg.student_id = %s AND g.webhook_url IS NOT NULL
           ON CONFLICT (tenant_id, guardian_id, dedup_key) DO NOTHING""",
        (kind, Jsonb(stored), dedup_key, tenant, student_id),
    )
    return cur.rowcount


def sign(secret: str, body: bytes) -> str:
    """The X-Saku-Signature value: receivers recompute it over the raw body to trust it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Response(Protocol):
    @property
    def status_code(self) -> int: ...


class HttpClient(Protocol):
    """What the sender needs of an HTTP client; httpx.AsyncClient fits."""

    async def post(
        self,
        url: str,
        *,
        content: bytes,
        headers: Mapping[str, str],
        timeout: float,
        extensions: dict[str, Any],
    ) -> Response: ...


class WebhookSender:
    def __init__(
        self,
        pool: Pool,
        http: HttpClient,
        *,
        secret: str,
        max_attempts: int,
        timeout_s: float,
        policy: WebhookPolicy,
        backoff: Callable[[int], float] = backoff_delay,
        idle_s: float = 1.0,
    ) -> None:
        self.pool = pool
        self.http = http
        self._secret = secret
        self.max_attempts = max_attempts
        self.timeout_s = timeout_s
        self.policy = policy
        self.backoff = backoff
        self.idle_s = idle_s

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; the batch in flight is finished first."""
        while not stop.is_set():
            try:
                busy = await self.deliver_due() > 0
            except Exception:
                # the database may be briefly away: keep the sender alive and try again
                log.exception("webhook delivery round failed")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.idle_s)

    async def deliver_due(self, limit: int = 50) -> int:
        """Claim up to `limit` due rows and deliver them concurrently; returns how many were
        claimed (a non-zero result means there may be more)."""
        rows = await self._claim(limit)
        await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def _claim(self, limit: int) -> list[DictRow]:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                """WITH due AS (
                       SELECT id FROM notification_outbox
                        WHERE status = 'pending' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at
                        LIMIT %s
                          FOR UPDATE SKIP LOCKED)
                   UPDATE notification_outbox o
                      SET attempts = o.attempts + 1,
                          next_attempt_at = now() + make_interval(secs => %s)
                     FROM due, guardians g
                    WHERE o.id = due.id
                      AND g.tenant_id = o.tenant_id AND g.id = o.guardian_id
                   RETURNING o.id, o.tenant_id, o.guardian_id, o.kind, o.payload,
                             o.attempts, o.created_at, g.webhook_url""",
                (limit, self.timeout_s + _LEASE_MARGIN_S),
            )
            return await cur.fetchall()

    async def _deliver(self, row: DictRow) -> None:
        if row["webhook_url"] is None:
            # the guardian removed the webhook after the notification was queued
            await self._failed(row, "guardian has no webhook", final=True)
            return
        body = json.dumps(
            {
                "id": str(row["id"]),
                "kind": row["kind"],
                "tenant": row["tenant_id"],
                "studentId": row["payload"]["studentId"],
                "payload": row["payload"]["payload"],
                "createdAt": row["created_at"].astimezone(UTC).isoformat(),
            },
            separators=(",", ":"),
        ).encode()
        try:
            target = await self.policy.resolve(row["webhook_url"])
        except WebhookTargetRefused as err:
            # never sent: a guardian's URL that points inside (or was made to resolve inside)
            await self._failed(row, f"refused: {err}", final=True)
            return
        except OSError:
            await self._failed(row, "cannot resolve the webhook's host", final=False)
            return
        headers = {
            "Content-Type": "application/json",
            "Host": target.host_header,
            "X-Saku-Signature": sign(self._secret, body),
            "X-Saku-Delivery": str(row["id"]),
        }
        # TLS names the host, not the address connected to: SNI and the certificate check
        extensions = {"sni_hostname": target.tls_hostname} if target.tls_hostname else {}
        try:
            # httpx's timeout is per phase; this bounds the whole request, within the lease
            async with asyncio.timeout(self.timeout_s):
                response = await self.http.post(
                    target.url,
                    content=body,
                    headers=headers,
                    timeout=self.timeout_s,
                    extensions=extensions,
                )
        except TimeoutError:
            error = "timeout"
        except Exception as exc:
            # only the class name: messages can carry the URL, and URLs can carry tokens
            error = type(exc).__name__
        else:
            if 200 <= response.status_code < 300:
                await self._sent(row)
                return
            error = f"HTTP {response.status_code}"
        await self._failed(row, error, final=row["attempts"] >= self.max_attempts)

    async def _sent(self, row: DictRow) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                """UPDATE notification_outbox SET status = 'sent', sent_at = now(),
                          last_error = NULL
                    WHERE id = %s AND status = 'pending' AND attempts = %s""",
                (row["id"], row["attempts"]),
            )

    async def _failed(self, row: DictRow, error: str, *, final: bool) -> None:
        error = error[:_MAX_ERROR_CHARS]
        delay = 0.0 if final else self.backoff(row["attempts"])
        async with self.pool.connection() as conn:
            await conn.execute(
                """UPDATE notification_outbox
                      SET status = CASE WHEN %s THEN 'dead' ELSE 'pending' END,
                          last_error = %s,
                          next_attempt_at = now() + make_interval(secs => %s)
                    WHERE id = %s AND status = 'pending' AND attempts = %s""",
                (final, error, delay, row["id"], row["attempts"]),
            )
        if final:
            log.warning(
                "webhook notification dead-lettered",
                extra={
                    "outbox_id": row["id"],
                    "tenant": row["tenant_id"],
                    "guardian": row["guardian_id"],
                    "kind": row["kind"],
                    "attempts": row["attempts"],
                    "error": error,
                },
            )
