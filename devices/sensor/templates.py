"""Synthetic fingers, characteristic files, templates and the matcher of the simulated sensor.

A finger is a deterministic set of minutiae derived from its identity. Every capture moves,
drops and adds minutiae (placement and skin noise), so no two captures are alike, and is
encoded into a 256-byte characteristic file in the real shape (`03 01`, data, zero padding).
The minutiae are XOR-ed with a keystream keyed by a per-capture nonce and the sensor model's
key, and sealed with a keyed tag: to anyone without the key the bytes are noise, never the
identity; the simulator decodes them and scores by geometric agreement, like a real module.
A template is two characteristic files side by side (512 bytes), as on the real module.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

CHAR_FILE_LEN = 256
TEMPLATE_LEN = 512
IMAGE_WIDTH, IMAGE_HEIGHT = 256, 288
IMAGE_BYTES = IMAGE_WIDTH * IMAGE_HEIGHT // 2  # two 4-bit pixels per byte: 36,864
MAGIC = b"\x03\x01"
# One key stands for the proprietary format of a sensor model: templates move between
# kiosks of a school, so every simulated sensor shares it unless a test sets another.
DEFAULT_KEY = b"saku-sensor-simulator/format-1"

_NONCE_LEN = 8
_TAG_LEN = 4
_BODY_START = len(MAGIC) + _NONCE_LEN
_MAX_MINUTIAE = (CHAR_FILE_LEN - _BODY_START - 1 - _TAG_LEN) // 3  # 3 bytes each: 80
_ANGLES = 64  # angle quantised to 5.6 degree steps (6 bits)

# Matching grid: a minutia matches if the other print has one of the same kind within one
# cell in x, y and direction. Cells are coarse enough to absorb placement noise and fine
# enough that two different fingers agree only by chance on a few minutiae.
_CELL = 8
_GRID_X, _GRID_Y, _GRID_A = IMAGE_WIDTH // _CELL, IMAGE_HEIGHT // _CELL, 8
_SCORE_SCALE = 200
_GRID_BYTES = _GRID_X * _GRID_Y * _GRID_A * 2 // 8  # x, y, direction and kind

# Score a search or comparison must reach, per security level (1 = lenient, 5 = strict).
# Measured: same-finger scores 90-180 (median ~150), different fingers 0-21 (160,000 pairs).
THRESHOLDS = {1: 30, 2: 40, 3: 50, 4: 60, 5: 70}
# createTemplate merges two captures only if they look like the same finger.
MERGE_THRESHOLD = THRESHOLDS[1]


@dataclass(frozen=True)
class Minutia:
    x: int  # 0-255
    y: int  # 0-287
    angle: int  # 0-63
    kind: int  # 0 ridge ending, 1 bifurcation


@dataclass(frozen=True)
class Features:
    """A decoded characteristic file in the form the matcher compares (bitsets as ints)."""

    cells: int  # one bit per occupied grid cell
    near: int  # cells plus all their neighbours
    count: int  # occupied cells


def finger_minutiae(finger_id: str) -> tuple[Minutia, ...]:
    """The finger's true minutiae: a pure function of its identity, so a finger placed on
    any simulated sensor is the same finger."""
    seed = hashlib.sha256(b"saku-finger:" + finger_id.encode()).digest()
    rng = random.Random(seed)
    target = rng.randint(36, 52)
    points: list[Minutia] = []
    while len(points) < target:
        # Inside the ellipse a fingertip covers, keeping real prints' spacing (~10 px).
        x, y = rng.randint(24, 231), rng.randint(24, 263)
        if ((x - 128) / 108) ** 2 + ((y - 144) / 124) ** 2 > 1:
            continue
        if any(abs(p.x - x) < 10 and abs(p.y - y) < 10 for p in points):
            continue
        points.append(Minutia(x, y, rng.randrange(_ANGLES), rng.randrange(2)))
    return tuple(points)


def capture_minutiae(finger_id: str, rng: random.Random) -> list[Minutia]:
    """One noisy capture: the finger shifted a little, each minutia jittered, some missed,
    a few spurious ones from dirt and dry skin, in scan order rather than the finger's."""
    shift_x, shift_y = rng.gauss(0, 2), rng.gauss(0, 2)
    seen: list[Minutia] = []
    for m in finger_minutiae(finger_id):
        if rng.random() < 0.12:
            continue
        x = round(m.x + shift_x + rng.gauss(0, 1.5))
        y = round(m.y + shift_y + rng.gauss(0, 1.5))
        angle = round(m.angle + rng.gauss(0, 1)) % _ANGLES
        seen.append(Minutia(_clamp(x, IMAGE_WIDTH), _clamp(y, IMAGE_HEIGHT), angle, m.kind))
    for _ in range(rng.randint(0, 4)):
        seen.append(
            Minutia(
                rng.randrange(IMAGE_WIDTH),
                rng.randrange(IMAGE_HEIGHT),
                rng.randrange(_ANGLES),
                rng.randrange(2),
            )
        )
    seen.sort(key=lambda m: (m.y, m.x))
    return seen[:_MAX_MINUTIAE]


def encode_characteristics(
    minutiae: list[Minutia], nonce: bytes, key: bytes = DEFAULT_KEY
) -> bytes:
    """A 256-byte characteristic file: 03 01 · nonce · sealed (count, minutiae, tag) · zeros."""
    if len(nonce) != _NONCE_LEN:
        raise ValueError(f"nonce must be {_NONCE_LEN} bytes")
    if len(minutiae) > _MAX_MINUTIAE:
        raise ValueError(f"at most {_MAX_MINUTIAE} minutiae fit in a characteristic file")
    plain = bytearray([len(minutiae)])
    for m in minutiae:
        plain += (m.x << 16 | m.y << 7 | m.angle << 1 | m.kind).to_bytes(3, "big")
    plain += _tag(key, nonce, bytes(plain))
    body = bytes(a ^ b for a, b in zip(plain, _keystream(key, nonce, len(plain)), strict=True))
    return (MAGIC + nonce + body).ljust(CHAR_FILE_LEN, b"\x00")


def decode_characteristics(data: bytes, key: bytes = DEFAULT_KEY) -> list[Minutia] | None:
    """The minutiae of one 256-byte half, or None if it is not a file this key sealed."""
    if len(data) != CHAR_FILE_LEN or data[:2] != MAGIC:
        return None
    nonce = data[len(MAGIC) : _BODY_START]
    stream = _keystream(key, nonce, CHAR_FILE_LEN - _BODY_START)
    count = data[_BODY_START] ^ stream[0]
    if count > _MAX_MINUTIAE:
        return None
    end = _BODY_START + 1 + 3 * count + _TAG_LEN
    plain = bytes(a ^ b for a, b in zip(data[_BODY_START:end], stream, strict=False))
    if not hmac.compare_digest(plain[-_TAG_LEN:], _tag(key, nonce, plain[:-_TAG_LEN])):
        return None
    minutiae = []
    for i in range(1, 1 + 3 * count, 3):
        v = int.from_bytes(plain[i : i + 3], "big")
        minutiae.append(Minutia(v >> 16, (v >> 7) & 0x1FF, (v >> 1) & 0x3F, v & 1))
    return minutiae


def merge_template(first: bytes, second: bytes) -> bytes:
    """createTemplate: the two captures' files side by side, as the module's 512-byte template."""
    return first[:CHAR_FILE_LEN].ljust(CHAR_FILE_LEN, b"\x00") + second[:CHAR_FILE_LEN].ljust(
        CHAR_FILE_LEN, b"\x00"
    )


def score(a: bytes, b: bytes, key: bytes = DEFAULT_KEY) -> int:
    """How well two buffers (characteristic files or templates) agree: the best agreement of
    any half of one with any half of the other. 0 when either holds nothing decodable."""
    best = 0
    for fa in _halves(a, key):
        for fb in _halves(b, key):
            # The symmetric share of minutiae that have a partner in the other print.
            matched = min((fa.cells & fb.near).bit_count(), (fb.cells & fa.near).bit_count())
            best = max(best, round(_SCORE_SCALE * matched * matched / (fa.count * fb.count)))
    return best


def render_image(finger_id: str, rng: random.Random) -> bytes:
    """A 256x288 4-bit greyscale picture for downloadImage (36,864 bytes, two pixels a byte):
    whorled ridges around the finger's core, shifted and speckled per capture."""
    seed = random.Random(hashlib.sha256(b"saku-core:" + finger_id.encode()).digest())
    cx = seed.uniform(100, 156) + rng.gauss(0, 3)
    cy = seed.uniform(110, 170) + rng.gauss(0, 3)
    stretch = seed.uniform(0.8, 1.25)
    period = seed.uniform(7.5, 10.0)
    whorl, twist = seed.uniform(4.0, 12.0), seed.uniform(0, 2 * math.pi)
    # Ridge shade by phase, looked up rather than computed per pixel with sin().
    shades = [round(7.5 - 6.5 * math.cos(2 * math.pi * i / 32)) for i in range(32)]
    out = bytearray()
    for y in range(IMAGE_HEIGHT):
        dy2 = ((y - cy) * stretch) ** 2
        inside_y = ((y - 144) / 136) ** 2
        row = []
        for x in range(IMAGE_WIDTH):
            if ((x - 128) / 116) ** 2 + inside_y > 1:
                row.append(15)  # outside the fingertip: white
                continue
            # Distance from the core, bent by the finger's whorl so the rings become ridges.
            r = math.sqrt((x - cx) ** 2 + dy2)
            r += whorl * math.sin(2 * math.atan2(y - cy, x - cx) + twist + r / 40)
            phase = int(r * 32 / period) & 31
            row.append(max(0, min(15, shades[phase] + rng.randint(-1, 1))))
        out += bytes(row[i] << 4 | row[i + 1] for i in range(0, IMAGE_WIDTH, 2))
    return bytes(out)


def _clamp(v: int, size: int) -> int:
    return max(0, min(size - 1, v))


def _keystream(key: bytes, nonce: bytes, n: int) -> bytes:
    return hashlib.shake_256(b"stream|" + key + b"|" + nonce).digest(n)


def _tag(key: bytes, nonce: bytes, plain: bytes) -> bytes:
    return hmac.new(key, b"tag|" + nonce + plain, hashlib.sha256).digest()[:_TAG_LEN]


def _halves(buffer: bytes, key: bytes) -> list[Features]:
    halves = (buffer[:CHAR_FILE_LEN], buffer[CHAR_FILE_LEN:TEMPLATE_LEN])
    return [f for f in (_features(bytes(h), key) for h in halves) if f is not None]


# Searching compares one print with every stored template; decoding each once keeps a
# search of a full library (1000 slots) within a few milliseconds.
@lru_cache(maxsize=4096)
def _features(half: bytes, key: bytes) -> Features | None:
    minutiae = decode_characteristics(half, key)
    if not minutiae:
        return None
    bitmap = bytearray(_GRID_BYTES)
    for m in minutiae:
        bit = _cell_bit(m.x // _CELL, m.y // _CELL, m.angle * _GRID_A // _ANGLES, m.kind)
        bitmap[bit >> 3] |= 1 << (bit & 7)
    cells = int.from_bytes(bitmap, "little")
    return Features(cells, _dilate(cells), cells.bit_count())


def _dilate(cells: int) -> int:
    """Every cell next to an occupied one (same kind; direction wraps around, x and y stop at
    the edge), by shifting whole bitsets: a few big-int operations instead of 27 bit
    updates per minutia, which made a cold search of a full library take seconds."""
    a_step, y_step, x_step = 2, 2 * _GRID_A, 2 * _GRID_A * _GRID_Y
    wrap = (_GRID_A - 1) * a_step
    near = cells
    near |= ((cells << a_step) & ~_MASKS.angle_first) | ((cells >> wrap) & _MASKS.angle_first)
    near |= ((cells >> a_step) & ~_MASKS.angle_last) | ((cells << wrap) & _MASKS.angle_last)
    # Trim what a shift pushed past the last cell before the next shift brings it back.
    near &= _MASKS.grid
    near |= ((near << y_step) & ~_MASKS.y_first) | ((near >> y_step) & ~_MASKS.y_last)
    near &= _MASKS.grid
    near |= (near << x_step) | (near >> x_step)
    return near & _MASKS.grid


def _cell_bit(gx: int, gy: int, ga: int, kind: int) -> int:
    return ((gx * _GRID_Y + gy) * _GRID_A + ga) * 2 + kind


@dataclass(frozen=True)
class _GridMasks:
    grid: int  # every cell
    angle_first: int  # cells with direction 0
    angle_last: int  # cells with the last direction
    y_first: int  # cells in the first row
    y_last: int  # cells in the last row


def _grid_masks() -> _GridMasks:
    def mask(keep: Callable[[int, int, int], bool]) -> int:
        bits = bytearray(_GRID_BYTES)
        for gx in range(_GRID_X):
            for gy in range(_GRID_Y):
                for ga in range(_GRID_A):
                    if keep(gx, gy, ga):
                        for kind in (0, 1):
                            bit = _cell_bit(gx, gy, ga, kind)
                            bits[bit >> 3] |= 1 << (bit & 7)
        return int.from_bytes(bits, "little")

    return _GridMasks(
        grid=mask(lambda x, y, a: True),
        angle_first=mask(lambda x, y, a: a == 0),
        angle_last=mask(lambda x, y, a: a == _GRID_A - 1),
        y_first=mask(lambda x, y, a: y == 0),
        y_last=mask(lambda x, y, a: y == _GRID_Y - 1),
    )


_MASKS = _grid_masks()


class Matcher:
    """Match decisions as the module makes them: the score from the bytes against the
    security level's threshold, then the configured error rates on top.

    Error rates are per attempt: a genuine match is turned down with probability
    `false_reject`, an impostor attempt is let through with probability `false_accept`.
    A seeded RNG makes a run of decisions reproducible.
    """

    def __init__(
        self,
        key: bytes = DEFAULT_KEY,
        *,
        seed: int | str | None = None,
        false_reject: float = 0.0,
        false_accept: float = 0.0,
    ) -> None:
        self.key = key
        self._rng = random.Random(seed)
        self.false_reject = 0.0
        self.false_accept = 0.0
        self.set_rates(false_reject=false_reject, false_accept=false_accept)

    def set_rates(
        self, *, false_reject: float | None = None, false_accept: float | None = None
    ) -> None:
        for name, rate in (("false_reject", false_reject), ("false_accept", false_accept)):
            if rate is not None and not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        if false_reject is not None:
            self.false_reject = false_reject
        if false_accept is not None:
            self.false_accept = false_accept

    def score(self, a: bytes, b: bytes) -> int:
        return score(a, b, self.key)

    def compare(self, a: bytes, b: bytes, threshold: int) -> int | None:
        """The accepted score, or None for no match."""
        s = self.score(a, b)
        if s >= threshold:
            return None if self._rng.random() < self.false_reject else s
        return self._impostor_score(threshold) if self._rng.random() < self.false_accept else None

    def search(
        self, probe: bytes, library: dict[int, bytes], threshold: int
    ) -> tuple[int, int] | None:
        """(slot, score) of the best-scoring template, if it is accepted."""
        best: tuple[int, int] | None = None
        for slot in sorted(library):
            s = self.score(probe, library[slot])
            if best is None or s > best[1]:
                best = (slot, s)
        if best is None:
            return None
        if best[1] >= threshold:
            return None if self._rng.random() < self.false_reject else best
        if self._rng.random() < self.false_accept:
            return best[0], self._impostor_score(threshold)
        return None

    def _impostor_score(self, threshold: int) -> int:
        # A false accept is by definition a score that scraped past the threshold.
        return threshold + self._rng.randint(0, 10)

    def identify(self, template: bytes, fingers: list[str]) -> str | None:
        """Which of these fingers the bytes belong to (for introspection, no error rates)."""
        best: tuple[int, str | None] = (THRESHOLDS[5], None)
        for finger in fingers:
            ideal = encode_characteristics(
                list(finger_minutiae(finger)), bytes(_NONCE_LEN), self.key
            )
            s = self.score(ideal, template)
            if s >= best[0]:
                best = (s, finger)
        return best[1]
