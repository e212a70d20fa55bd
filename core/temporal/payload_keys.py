"""The keys that encrypt workflow payloads (`core.temporal.codec`), kept outside Temporal.

Several keys are readable and one writes: `saku keys rotate-payload` adds a key and makes it
the writing one, and payloads written before stay readable with the keys they name. Keys
come from the secret setting `SAKU_PAYLOAD_KEYS` (`id:base64,id:base64`, the first writes;
production takes them from its secret store), or else from a key file with mode 0600
(`SAKU_PAYLOAD_KEY_FILE`, default var/secrets/payload-keys.json), created on first use.

A process reads the file again when it meets a payload under a key it does not know, and
every few seconds for the writing key, so a rotation reaches running processes without a
restart.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import threading
import time
from pathlib import Path

KEY_BYTES = 32  # AES-256
# how often a process looks at the key file for a new writing key
RELOAD_EVERY_S = 5.0


class PayloadKeyError(RuntimeError):
    pass


class PayloadKeys:
    def __init__(self, keys: dict[str, bytes], writing: str, *, path: Path | None = None) -> None:
        if writing not in keys:
            raise PayloadKeyError(f"the writing payload key {writing!r} is not among the keys")
        if any(len(key) != KEY_BYTES for key in keys.values()):
            raise PayloadKeyError(f"payload keys are {KEY_BYTES} bytes (AES-256)")
        self._keys = dict(keys)
        self._writing = writing
        self.path = path
        self._stamp = _stamp(path) if path else None
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def from_setting(cls, text: str) -> PayloadKeys:
        """`id:base64key,id:base64key`: the first one writes."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            key_id, sep, encoded = item.partition(":")
            if not sep or not _valid_id(key_id.strip()):
                raise PayloadKeyError(
                    "SAKU_PAYLOAD_KEYS is `id:base64key,id:base64key` (ids of letters, digits, "
                    "'-' and '_'); the first key writes"
                )
            keys[key_id.strip()] = _decode_key(encoded.strip(), "SAKU_PAYLOAD_KEYS")
            order.append(key_id.strip())
        if not order:
            raise PayloadKeyError("SAKU_PAYLOAD_KEYS names no key")
        return cls(keys, order[0])

    @classmethod
    def load(cls, path: Path, *, create: bool = True) -> PayloadKeys:
        if not path.exists():
            if not create:
                raise PayloadKeyError(f"no payload key file at {path}")
            _write(path, {"p1": secrets.token_bytes(KEY_BYTES)}, "p1", exclusive=True)
        keys, writing = _read(path)
        return cls(keys, writing, path=path)

    @property
    def writing(self) -> tuple[str, bytes]:
        """The writing key's id and key (a newer one in the key file takes over)."""
        if self.path is not None and time.monotonic() - self._checked > RELOAD_EVERY_S:
            self._reload()
        return self._writing, self._keys[self._writing]

    def key(self, key_id: str) -> bytes | None:
        """The key with this id, or None if neither memory nor the key file has it."""
        key = self._keys.get(key_id)
        if key is None and self.path is not None:
            self._reload(force=True)
            key = self._keys.get(key_id)
        return key

    @property
    def ids(self) -> list[str]:
        return sorted(self._keys)

    def rotate(self) -> str:
        """A new writing key in the key file; the old ones stay readable. Returns its id."""
        if self.path is None:
            raise PayloadKeyError(
                "the payload keys come from SAKU_PAYLOAD_KEYS: put a new key first in that "
                "setting (keep the old ones after it) and restart Saku's processes"
            )
        with self._lock:
            self._keys, self._writing = _read(self.path)
            number = 1 + max((int(k[1:]) for k in self._keys if k[1:].isdigit()), default=0)
            new = f"p{number}"
            self._keys[new] = secrets.token_bytes(KEY_BYTES)
            self._writing = new
            _write(self.path, self._keys, new)
            self._stamp = _stamp(self.path)
        return new

    def _reload(self, *, force: bool = False) -> None:
        assert self.path is not None
        with self._lock:
            self._checked = time.monotonic()
            stamp = _stamp(self.path)
            if stamp == self._stamp and not force:
                return
            try:
                keys, writing = _read(self.path)
            except PayloadKeyError:
                return  # a file being replaced by hand: keep what works until it is whole
            self._keys = {**self._keys, **keys}
            self._writing = writing
            self._stamp = stamp

    def __repr__(self) -> str:  # never print key material
        return f"<PayloadKeys ids={self.ids} writing={self._writing} file={self.path}>"


def _valid_id(key_id: str) -> bool:
    return 0 < len(key_id) <= 32 and all(c.isalnum() or c in "-_" for c in key_id)


def _decode_key(encoded: str, where: object) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise PayloadKeyError(f"{where}: a key is not base64") from None
    if len(key) != KEY_BYTES:
        raise PayloadKeyError(f"{where}: a key is {len(key)} bytes, not {KEY_BYTES} (AES-256)")
    return key


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


def _read(path: Path) -> tuple[dict[str, bytes], str]:
    if path.stat().st_mode & 0o077:
        raise PayloadKeyError(f"{path} must be readable by its owner only (chmod 600)")
    invalid = PayloadKeyError(
        f"{path} is not a valid payload key file (32-byte keys, a writing one)"
    )
    try:
        data = json.loads(path.read_text())
        keys = {str(k): _decode_key(v, path) for k, v in data["keys"].items()}
        writing = str(data["writing"])
    except (ValueError, TypeError, KeyError, AttributeError):
        raise invalid from None
    if writing not in keys or not all(_valid_id(k) for k in keys):
        raise invalid
    return keys, writing


def _write(path: Path, keys: dict[str, bytes], writing: str, *, exclusive: bool = False) -> None:
    """Atomically; `exclusive`: only if there is no file yet (processes starting together
    must not each make a first key and overwrite each other's)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {"writing": writing, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}}
    draft = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    if not exclusive:
        os.replace(draft, path)  # a crash never leaves half a key file
        return
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
