"""The case workflow's hand-off activities: one alert to the tenant's webhook, one to its
syslog collector, and the record of a delivery that failed for good.

Each try reads the tenant's receiver as it is now (an admin's fix reaches the retries),
checks its address as guardian webhooks are checked (public only, unless allow-listed; the
connection goes to the address checked), and records its outcome in `alert_deliveries`. A
failed try raises, so Temporal retries it by the workflow's policy; a refused address is not
retried. The webhook follows no redirect, and its answer's body is never read. Delivery is
at least once: a try whose receiver took the alert but whose completion was lost (a worker
dying just then) is tried again, so receivers dedupe on X-Saku-Alert-Id (or CEF `cs2`)."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.alert_handoff.cef import Alert, frame, syslog_message, webhook_body
from activities.alert_handoff.signing import (
    ALERT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)
from activities.alert_handoff.store import HandOffStore
from activities.wallet.webhook_targets import WebhookPolicy, WebhookTargetRefused
from core.alert_handoff import REFUSED, AlertDelivery

# the largest webhook body sent: an alert is a few KB (typologies are capped)
MAX_BODY_BYTES = 64 * 1024


class DeliveryFailed(Exception):
    """A try that failed; the message says why (never the receiver's URL or answer)."""


class HandOffActivities:
    def __init__(
        self,
        store: HandOffStore,
        policy: WebhookPolicy,
        *,
        timeout_s: float,
        hostname: str | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.timeout_s = timeout_s
        self.hostname = hostname or socket.gethostname()
        self._tls: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext:
        # made once: loading the CA bundle costs milliseconds of CPU
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls

    @activity.defn(name="alert_handoff.webhook")
    async def webhook(self, delivery: AlertDelivery) -> None:
        """POST the alert, signed, to the tenant's webhook."""
        receiver = await self.store.webhook(delivery.tenant_id)
        if receiver is None:
            await self.store.record(delivery, "skipped", _attempt(), "the webhook was removed")
            return
        alert = await self._alert(delivery)
        body = json.dumps(webhook_body(alert), separators=(",", ":")).encode()
        if len(body) > MAX_BODY_BYTES:  # cannot happen with capped typologies; never send it
            raise ApplicationError("the alert's body is too large", non_retryable=True)
        await self._try(delivery, self._post(receiver.url, receiver.secret, alert, body))

    @activity.defn(name="alert_handoff.syslog")
    async def syslog(self, delivery: AlertDelivery) -> None:
        """Send the alert's CEF event to the tenant's syslog collector."""
        receiver = await self.store.syslog(delivery.tenant_id)
        if receiver is None:
            await self.store.record(delivery, "skipped", _attempt(), "the collector was removed")
            return
        alert = await self._alert(delivery)
        message = frame(syslog_message(alert, self.hostname, datetime.now(UTC)), receiver.transport)
        await self._try(
            delivery, self._send(receiver.host, receiver.port, receiver.transport, message)
        )

    @activity.defn(name="alert_handoff.failed")
    async def failed(self, delivery: AlertDelivery) -> None:
        """Record that a delivery failed for good (its tries ran out, or it was refused)."""
        await self.store.record(delivery, "failed", 0, delivery.error or "failed")

    async def _alert(self, delivery: AlertDelivery) -> Alert:
        alert = await self.store.alert(delivery.tenant_id, delivery.msg_id)
        if alert is None:
            raise ApplicationError(
                f"message {delivery.msg_id} has no alerting evaluation", non_retryable=True
            )
        return alert

    async def _try(self, delivery: AlertDelivery, sending: Coroutine[Any, Any, None]) -> None:
        attempt = _attempt()
        try:
            async with asyncio.timeout(self.timeout_s):
                await sending
        except WebhookTargetRefused as err:
            await self.store.record(delivery, "failed", attempt, f"refused: {err}")
            raise ApplicationError(f"refused: {err}", type=REFUSED, non_retryable=True) from None
        except TimeoutError:
            error = "timeout"
        except DeliveryFailed as err:
            error = str(err)
        except OSError as err:
            # the class only: messages can carry addresses
            error = f"cannot reach the receiver ({type(err).__name__})"
        except httpx.HTTPError as err:
            error = type(err).__name__
        else:
            await self.store.record(delivery, "delivered", attempt)
            return
        await self.store.record(delivery, "pending", attempt, error)
        raise ApplicationError(f"{delivery.channel} delivery failed: {error}")

    async def _post(self, url: str, secret: str, alert: Alert, body: bytes) -> None:
        target = await self.policy.resolve(url)
        now = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Host": target.host_header,
            "User-Agent": "Saku-alerts/1",
            TIMESTAMP_HEADER: str(now),
            SIGNATURE_HEADER: signature(secret, now, body),
            ALERT_ID_HEADER: alert.evaluation_id,
        }
        # TLS names the host, not the address connected to: SNI and the certificate check
        extensions = {"sni_hostname": target.tls_hostname} if target.tls_hostname else {}
        async with httpx.AsyncClient(
            verify=self._tls_context(), follow_redirects=False, timeout=self.timeout_s
        ) as client:
            request = client.build_request(
                "POST", target.url, content=body, headers=headers, extensions=extensions
            )
            response = await client.send(request, stream=True)
            await response.aclose()  # the answer's body is not read: only its status counts
        if 300 <= response.status_code < 400:
            raise DeliveryFailed(f"HTTP {response.status_code} (redirects are not followed)")
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code}")

    async def _send(self, host: str, port: int, transport: str, message: bytes) -> None:
        address = await self.policy.resolve_host(host, port)
        loop = asyncio.get_running_loop()
        if transport == "udp":
            # A datagram is sent, not delivered: only what the operating system reports on
            # sending (no route; a refused port reported by an earlier datagram) fails a try.
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)
                sock.connect((address, port))
                await loop.sock_sendall(sock, message)
            return
        _, writer = await asyncio.open_connection(address, port)
        try:
            writer.write(message)
            await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()


def _attempt() -> int:
    return activity.info().attempt
