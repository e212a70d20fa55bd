"""Webhook secrets at rest: AES-256-GCM under a key from settings (SAKU_ALERT_HANDOFF_KEY,
or one generated into var/secrets/), bound to its tenant by the associated data, so a
database dump reveals no secret and a sealed secret moved to another tenant does not open."""

from __future__ import annotations

import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_FORMAT = b"\x01"  # nonce || ciphertext+tag under the key's SHA-256
_NONCE_BYTES = 12


class SecretBox:
    def __init__(self, key: str) -> None:
        if len(key) < 32:
            raise ValueError("the alert hand-off key must be at least 32 characters")
        self._aead = AESGCM(hashlib.sha256(key.encode()).digest())

    @staticmethod
    def _bound_to(tenant: str) -> bytes:
        return b"saku alert webhook secret\x00" + tenant.encode()

    def seal(self, tenant: str, secret: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT + nonce + self._aead.encrypt(nonce, secret.encode(), self._bound_to(tenant))

    def open(self, tenant: str, sealed: bytes) -> str:
        """The secret; cryptography's InvalidTag if it was sealed for another tenant or
        under another key, ValueError for what is no sealed secret at all."""
        if sealed[:1] != _FORMAT or len(sealed) < 1 + _NONCE_BYTES + 16:
            raise ValueError("not a sealed webhook secret")
        nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        return self._aead.decrypt(nonce, ciphertext, self._bound_to(tenant)).decode()
