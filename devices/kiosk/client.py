"""The kiosk's side of Saku's API: every request signed with the kiosk's Ed25519 key."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.kiosk_signing import sign_request


@dataclass(frozen=True)
class KioskIdentity:
    tenant: str
    kiosk_id: str
    key_id: str
    private_key: Ed25519PrivateKey


class SakuError(RuntimeError):
    """Saku refused or could not answer; the message carries its reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason


class KioskClient:
    def __init__(self, http: httpx.AsyncClient, identity: KioskIdentity) -> None:
        self.http = http
        self.identity = identity
        # did Saku answer the last request? None before the first; False when it could
        # not be reached or answered 5xx (the kiosk then sells offline)
        self.reachable: bool | None = None

    async def _send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        content = b"" if body is None else json.dumps(body).encode()
        me = self.identity
        headers = sign_request(
            me.private_key, me.tenant, me.kiosk_id, me.key_id, method, path, content
        )
        headers["Content-Type"] = "application/json"
        try:
            response = await self.http.request(method, path, content=content, headers=headers)
        except httpx.TransportError:
            self.reachable = False
            raise
        self.reachable = response.status_code < 500
        if response.status_code >= 400:
            try:
                reason = str(response.json().get("detail", response.text))
            except ValueError:
                reason = response.text
            raise SakuError(response.status_code, reason)
        return response

    async def pay(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = (await self._send("POST", "/v1/kiosk/payments", body)).json()
        return result

    async def enrol(self, student_id: str, finger: int, template: bytes, operator: str) -> None:
        body = {
            "student_id": student_id,
            "finger": finger,
            "template": base64.b64encode(template).decode(),
            "operator_id": operator,
        }
        await self._send("POST", "/v1/kiosk/enrolments", body)

    async def sensor_commands(self) -> list[dict[str, Any]]:
        commands: list[dict[str, Any]] = (
            await self._send("GET", "/v1/kiosk/sensor/commands")
        ).json()
        return commands

    async def command_done(self, command_id: int) -> None:
        await self._send("POST", f"/v1/kiosk/sensor/commands/{command_id}/done")

    async def config(self, unsynced: tuple[int, Decimal] | None = None) -> dict[str, Any]:
        """The kiosk's config; `unsynced` reports the journal's unsynced sales and amount
        (the school office shows them)."""
        path = "/v1/kiosk/config"
        if unsynced is not None:
            path += f"?unsynced={unsynced[0]}&unsynced_amount={unsynced[1]:f}"
        result: dict[str, Any] = (await self._send("GET", path)).json()
        return result

    async def roster(self) -> dict[str, Any]:
        """The display names of the school's students, and the roster's version."""
        result: dict[str, Any] = (await self._send("GET", "/v1/kiosk/roster")).json()
        return result

    async def offline_sales(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        sent = await self._send("POST", "/v1/kiosk/offline-sales", {"sales": entries})
        result: dict[str, Any] = sent.json()
        return result

    async def missing_sales(self, kiosk_tx_ids: list[str]) -> list[str]:
        """Which of these synced sales Saku does not hold."""
        body = {"kiosk_tx_ids": kiosk_tx_ids}
        found = (await self._send("POST", "/v1/kiosk/offline-sales/missing", body)).json()
        return [str(t) for t in found["missing"]]

    async def templates(self, student_id: str) -> list[bytes]:
        """One student's templates, for verify (1:1) mode."""
        found = (await self._send("GET", f"/v1/kiosk/students/{student_id}/templates")).json()
        return [base64.b64decode(t["template"]) for t in found]
