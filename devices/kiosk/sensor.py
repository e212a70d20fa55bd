"""A fingerprint sensor driven through unmodified pyfingerprint on a serial port (a real
ZhianTec-family module or Saku's simulator). Blocking calls: the agent runs them in a
thread. Every failure becomes a `SensorError` with a message a cashier can act on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pyfingerprint.pyfingerprint import PyFingerprint

BUFFER_1, BUFFER_2 = 0x01, 0x02


class SensorError(RuntimeError):
    """The sensor cannot do this now; the message says what to try (or to use the PIN)."""


@dataclass(frozen=True)
class Match:
    slot: int
    score: int


class Sensor:
    def __init__(self, port: str, *, password: int = 0, finger_wait_s: float = 10.0) -> None:
        self.port = port
        self.password = password
        self.finger_wait_s = finger_wait_s
        self._device: PyFingerprint | None = None

    def _open(self) -> PyFingerprint:
        if self._device is None:
            try:
                device = PyFingerprint(self.port, 57600, 0xFFFFFFFF, self.password)
                if not device.verifyPassword():
                    raise SensorError("the sensor refused its password: check the kiosk setup")
            except SensorError:
                raise
            except Exception as err:
                raise SensorError(
                    f"the fingerprint sensor is not answering ({err}); pay with PIN or QR"
                ) from err
            self._device = device
        return self._device

    def _capture(self, buffer: int) -> None:
        device = self._open()
        deadline = time.monotonic() + self.finger_wait_s
        try:
            while not device.readImage():
                if time.monotonic() > deadline:
                    raise SensorError("no finger on the sensor: place your finger and try again")
                time.sleep(0.05)
            device.convertImage(buffer)
        except SensorError:
            raise
        except Exception as err:
            raise SensorError(f"could not read the finger ({err}); try again") from err

    def capture_template(self, between_reads: Callable[[], None] | None = None) -> bytes:
        """Two reads of the same finger merged into a template (enrolment). Between the reads
        the finger is lifted and placed again: `between_reads` is called then (a prompt)."""
        self._capture(BUFFER_1)
        if between_reads is not None:
            between_reads()
        self._capture(BUFFER_2)
        device = self._open()
        try:
            merged = device.createTemplate()  # False (not an exception) when they differ
            template = bytes(device.downloadCharacteristics(BUFFER_1))
        except Exception as err:
            raise SensorError(f"could not make a template ({err}); enrol again") from err
        if not merged:
            raise SensorError("the two reads are not the same finger: enrol again")
        return template

    def identify(self) -> Match | None:
        """1:N: the finger on the sensor against the sensor's own library."""
        self._capture(BUFFER_1)
        slot, score = self._open().searchTemplate()
        return None if slot < 0 else Match(int(slot), int(score))

    def verify(self, template: bytes) -> int:
        """1:1: the finger on the sensor against one template, loaded into a buffer just for
        this and wiped after; nothing stays in the sensor's library. Returns the score, 0
        for no match (the module applies its own threshold)."""
        self._capture(BUFFER_1)
        device = self._open()
        try:
            device.uploadCharacteristics(BUFFER_2, list(template))
            return int(device.compareCharacteristics())
        except Exception as err:
            raise SensorError(f"could not compare the finger ({err}); try again") from err
        finally:
            try:
                device.uploadCharacteristics(BUFFER_2, [0] * len(template))
            except Exception:
                self._device = None

    def store(self, template: bytes) -> int:
        """Load a template into the library's first free slot; returns the slot."""
        device = self._open()
        try:
            device.uploadCharacteristics(BUFFER_1, list(template))  # a list: it compares back
            return int(device.storeTemplate(-1, BUFFER_1))
        except Exception as err:
            raise SensorError(f"could not load a template into the sensor ({err})") from err

    def delete(self, slot: int) -> None:
        device = self._open()
        try:
            device.deleteTemplate(slot)
        except Exception as err:
            raise SensorError(f"could not delete slot {slot} ({err})") from err
