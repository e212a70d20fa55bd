"""The key-encryption keys (KEKs) that wrap every student's data key, kept outside the
database: in production a KMS/HSM; in the embedded stack a key file with mode 0600
(`SAKU_BIOMETRIC_KEK_FILE`, default var/secrets/biometric-kek.json).

Versions let `saku keys rotate` add a KEK, re-wrap the data keys under it, then drop the old
one: rotation touches only the wrapped keys, never a template.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path


class KeyRingError(RuntimeError):
    pass


class KeyRing:
    def __init__(self, path: Path, keys: dict[int, bytes], current: int) -> None:
        self.path = path
        self._keys = keys
        self.current = current

    @classmethod
    def load(cls, path: Path, *, create: bool = True) -> KeyRing:
        if not path.exists():
            if not create:
                raise KeyRingError(f"no key-encryption key file at {path}")
            cls(path, {1: secrets.token_bytes(32)}, 1).save(exclusive=True)
            return cls.load(path, create=False)  # whoever created it first, all use that
        if path.stat().st_mode & 0o077:
            raise KeyRingError(f"{path} must be readable by its owner only (chmod 600)")
        invalid = KeyRingError(f"{path} is not a valid key file (32-byte keys, a current one)")
        try:
            data = json.loads(path.read_text())
            keys = {int(v): base64.b64decode(k) for v, k in data["keys"].items()}
            current = int(data["current"])
        except (ValueError, TypeError, KeyError, AttributeError):
            # not JSON, or not this shape: said plainly, not as a traceback
            raise invalid from None
        if any(len(k) != 32 for k in keys.values()) or current not in keys:
            raise invalid
        return cls(path, keys, current)

    def key(self, version: int) -> bytes:
        try:
            return self._keys[version]
        except KeyError:
            raise KeyRingError(
                f"key-encryption key version {version} is not in {self.path}"
            ) from None

    @property
    def versions(self) -> list[int]:
        return sorted(self._keys)

    def rotate(self) -> int:
        """Add a new current version (the old ones stay until `retire`)."""
        self.current = max(self._keys) + 1
        self._keys[self.current] = secrets.token_bytes(32)
        self.save()
        return self.current

    def retire(self, keep: set[int]) -> list[int]:
        """Drop versions no data key is wrapped with any more; returns those dropped."""
        dropped = [v for v in self._keys if v not in keep and v != self.current]
        for version in dropped:
            del self._keys[version]
        self.save()
        return dropped

    def save(self, *, exclusive: bool = False) -> None:
        """Write the file atomically; `exclusive`: only if there is none yet (processes
        starting together must not each make a first key and overwrite each other's)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "current": self.current,
            "keys": {str(v): base64.b64encode(k).decode() for v, k in self._keys.items()},
        }
        draft = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        if not exclusive:
            os.replace(draft, self.path)  # atomic: a crash never leaves half a key file
            return
        try:
            os.link(draft, self.path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()

    def __repr__(self) -> str:  # never print key material
        return f"<KeyRing {self.path} versions={self.versions} current={self.current}>"
