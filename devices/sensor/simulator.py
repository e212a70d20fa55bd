"""`SensorSimulator`: the simulated module served on a pseudo-terminal, plus the controls
tests and demos use to place fingers and inject faults.

    with SensorSimulator() as sim:
        sensor = PyFingerprint(sim.port, 57600, 0xFFFFFFFF, 0x00000000)
        sim.place_finger("student-42/right-index")
        sensor.readImage()

The pty follows the rules in docs/fingerprint-sensor.md: the slave is put in raw
mode at once (echo and newline translation would corrupt packets) and stays open for the
simulator's whole life (pyfingerprint closes and reopens the port; with no slave open the
master reads EIO). The simulator never sends a byte that is not part of a reply, and writes
each reply in one go, so the host never waits between bytes.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import threading
import time
import tty
from types import TracebackType

from devices.sensor import templates
from devices.sensor.module import SensorModule
from devices.sensor.protocol import (
    DEFAULT_ADDRESS,
    DEFAULT_PASSWORD,
    Confirm,
    Garbled,
    Packet,
    PacketReader,
    ack,
)

log = logging.getLogger(__name__)

# A packet (or an upload) left unfinished this long is abandoned, as a module's UART
# receiver resets, so a host that died mid-packet cannot wedge the next one.
STALE_AFTER_S = 1.0
# A reply nobody reads for this long (the host closed the port) is dropped; the next
# host's open flushes what was already queued, so no stray bytes reach it.
WRITE_STALL_S = 1.0
# pyfingerprint gives up after 2 s without a byte; longer latency is a fault, not a delay.
MAX_LATENCY_S = 10.0
_POLL_S = 0.05


class SensorSimulator:
    def __init__(
        self,
        *,
        capacity: int = 1000,
        password: int = DEFAULT_PASSWORD,
        address: int = DEFAULT_ADDRESS,
        security_level: int = 3,
        packet_size_code: int = 2,
        seed: int | None = None,
        key: bytes = templates.DEFAULT_KEY,
        false_reject: float = 0.0,
        false_accept: float = 0.0,
    ) -> None:
        self._module = SensorModule(
            capacity=capacity,
            password=password,
            address=address,
            security_level=security_level,
            packet_size_code=packet_size_code,
            seed=seed,
            key=key,
        )
        self._module.matcher.set_rates(false_reject=false_reject, false_accept=false_accept)
        # One lock for all state: control calls come from test threads while the server
        # thread handles commands.
        self._lock = threading.Lock()
        self._latency = 0.0
        self._unplugged = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._wake: tuple[int, int] | None = None  # self-pipe: stop() interrupts select()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> SensorSimulator:
        if self._thread is not None:
            raise RuntimeError("a simulator starts once")
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="sensor-simulator", daemon=True)
        self._thread.start()
        log.debug("fingerprint sensor simulator on %s", self.port)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._wake is not None:
            os.write(self._wake[1], b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        for fd in (self._master, self._slave, *(self._wake or ())):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = self._wake = None

    def __enter__(self) -> SensorSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> str:
        """The device path to give pyfingerprint (a /dev/pts/N)."""
        if self._slave is None:
            raise RuntimeError("simulator not running")
        return os.ttyname(self._slave)

    # -- controls -------------------------------------------------------------------------

    def place_finger(self, finger_id: str) -> None:
        """Put finger `finger_id` (any stable string naming one finger) on the glass."""
        with self._lock:
            self._module.place_finger(finger_id)

    def remove_finger(self) -> None:
        with self._lock:
            self._module.finger = None

    def fail_next_capture(self, code: int) -> None:
        """Fail the next capture with this confirmation code: image-quality codes (0x06 messy,
        0x07 few features, 0x15 invalid) from the next convertImage, any other (e.g. 0x03)
        from the next readImage."""
        if not 0x01 <= code <= 0xFF:
            raise ValueError("a failure code is 0x01-0xFF")
        with self._lock:
            self._module.capture_failure = code

    def fail_next_command(self, instruction: int, code: int) -> None:
        """Answer the next `instruction` with `code` instead of running it (e.g. 0x06 store
        → 0x18 flash error)."""
        if not 0x01 <= code <= 0xFF:
            raise ValueError("a failure code is 0x01-0xFF")
        with self._lock:
            self._module.command_failures[instruction] = code

    def set_latency(self, seconds: float) -> None:
        """Delay before each reply's first byte. Up to ~1.5 s pyfingerprint waits; from 2 s
        on it reads a timeout, which makes this a fault injector."""
        if not 0.0 <= seconds <= MAX_LATENCY_S:
            raise ValueError(f"latency must be 0-{MAX_LATENCY_S} s")
        with self._lock:
            self._latency = seconds

    def unplug(self) -> None:
        """Go silent: commands are swallowed, a reply being sent is cut off."""
        with self._lock:
            self._unplugged = True

    def plug(self) -> None:
        """Power up (again, or a power cycle if it was on): buffers and the password session
        are lost, the library and system parameters (flash) are kept."""
        with self._lock:
            self._module.power_on()
            self._unplugged = False

    def set_error_rates(
        self, *, false_reject: float | None = None, false_accept: float | None = None
    ) -> None:
        with self._lock:
            self._module.matcher.set_rates(false_reject=false_reject, false_accept=false_accept)

    # -- introspection --------------------------------------------------------------------

    def stored_slots(self) -> dict[int, str | None]:
        """Occupied library slots, each with the placed finger its template belongs to (None
        for a template of a finger never placed on this simulator)."""
        with self._lock:
            library = dict(self._module.library)
            fingers = list(self._module.fingers_seen)
            matcher = self._module.matcher
            return {slot: matcher.identify(library[slot], fingers) for slot in sorted(library)}

    @property
    def security_level(self) -> int:
        with self._lock:
            return self._module.security_level

    @property
    def threshold(self) -> int:
        """The score a match needs at the current security level."""
        with self._lock:
            return self._module.threshold

    # -- serving --------------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._master is not None and self._wake is not None
        master, wake = self._master, self._wake[0]
        reader = PacketReader()
        last_rx = time.monotonic()
        while not self._stop.is_set():
            readable, _, _ = select.select([master, wake], [], [], _POLL_S)
            if master not in readable:
                if time.monotonic() - last_rx > STALE_AFTER_S and reader.pending:
                    reader.reset()
                    with self._lock:
                        self._module.abort_transfer()
                continue
            try:
                data = os.read(master, 4096)
            except OSError as exc:  # EIO only if the slave were closed; keep polling
                if exc.errno not in (errno.EIO, errno.EAGAIN):
                    raise
                time.sleep(_POLL_S)
                continue
            last_rx = time.monotonic()
            for item in reader.feed(data):
                with self._lock:
                    if self._unplugged:
                        self._module.abort_transfer()
                        continue
                    reply = self._handle(item)
                    latency = self._latency
                if reply:
                    self._send(master, reply, latency)
            if self._unplugged:
                reader.reset()  # a dead module keeps no half packets for later

    def _handle(self, item: Packet | Garbled) -> bytes:
        try:
            return self._module.handle(item)
        except Exception:
            # A simulator bug must not look like an unplugged sensor (a 24 s hang in
            # pyfingerprint): log it loudly and answer like a confused module.
            log.exception("sensor simulator failed on %r", item)
            self._module.abort_transfer()
            return ack(Confirm.COMMUNICATION, address=self._module.address)

    def _send(self, master: int, reply: bytes, latency: float) -> None:
        if latency and self._stop.wait(latency):
            return
        view = memoryview(reply)
        last_progress = time.monotonic()
        while view and not self._stop.is_set() and not self._unplugged:
            _, writable, _ = select.select([], [master], [], _POLL_S)
            if writable:
                try:
                    sent = os.write(master, view)
                except BlockingIOError:
                    sent = 0
                if sent:
                    view = view[sent:]
                    last_progress = time.monotonic()
                    continue
            if time.monotonic() - last_progress > WRITE_STALL_S:
                log.warning("host stopped reading; dropped %d reply bytes", len(view))
                return
