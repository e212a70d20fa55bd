"""The sensor module's command handling, without I/O: one packet in, the reply bytes out.

Volatile state (image buffer, the two characteristic buffers, the password session) is lost
on power-off; the template library and the system parameters live in "flash" and survive.
Confirmation codes follow docs/fingerprint-sensor.md; where it is silent (an
invalid buffer number, a page out of range) the module answers 0x01, as real modules do for
malformed commands.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from devices.sensor import templates
from devices.sensor.protocol import (
    DEFAULT_ADDRESS,
    DEFAULT_PASSWORD,
    PACKET_SIZES,
    Confirm,
    Garbled,
    Instruction,
    Packet,
    PacketType,
    SystemParameter,
    ack,
    data_packets,
)

log = logging.getLogger(__name__)

SYSTEM_ID = 0x0009
MAX_CAPACITY = 1024  # the template index has 4 pages of 256 slots
DEFAULT_BAUD_FACTOR = 6  # 6 x 9600 = 57600 baud
# Codes a failed capture reports from convertImage rather than from readImage.
CONVERT_FAILURES = frozenset({Confirm.MESSY_IMAGE, Confirm.FEW_FEATURES, Confirm.INVALID_IMAGE})

Handler = Callable[[bytes], bytes]


@dataclass(frozen=True)
class _Image:
    finger_id: str
    seed: int  # this capture's placement and skin noise


@dataclass
class _Upload:
    buffer: int
    data: bytearray


class SensorModule:
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
    ) -> None:
        if not 1 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity must be 1-{MAX_CAPACITY}")
        if security_level not in templates.THRESHOLDS:
            raise ValueError("security level must be 1-5")
        if not 0 <= packet_size_code < len(PACKET_SIZES):
            raise ValueError("packet size code must be 0-3")
        for name, word in (("password", password), ("address", address)):
            if not 0 <= word <= 0xFFFFFFFF:
                raise ValueError(f"{name} must fit in 4 bytes")
        self.capacity = capacity
        self.password = password
        self.address = address
        self.security_level = security_level
        self.packet_size_code = packet_size_code
        self.baud_factor = DEFAULT_BAUD_FACTOR
        self.library: dict[int, bytes] = {}
        self._rng = random.Random(seed)
        self.matcher = templates.Matcher(key, seed=None if seed is None else f"{seed}/matcher")
        # The physical world and the test harness, not module state: kept across power cycles.
        self.finger: str | None = None
        self.fingers_seen: list[str] = []
        self.capture_failure: int | None = None
        self.command_failures: dict[int, int] = {}
        self._handlers: dict[int, tuple[int, Handler]] = {
            Instruction.VERIFY_PASSWORD: (4, self._verify_password),
            Instruction.SET_PASSWORD: (4, self._set_password),
            Instruction.SET_ADDRESS: (4, self._set_address),
            Instruction.SET_SYSTEM_PARAMETER: (2, self._set_system_parameter),
            Instruction.GET_SYSTEM_PARAMETERS: (0, self._get_system_parameters),
            Instruction.TEMPLATE_INDEX: (1, self._template_index),
            Instruction.TEMPLATE_COUNT: (0, self._template_count),
            Instruction.READ_IMAGE: (0, self._read_image),
            Instruction.DOWNLOAD_IMAGE: (0, self._download_image),
            Instruction.CONVERT_IMAGE: (1, self._convert_image),
            Instruction.CREATE_TEMPLATE: (0, self._create_template),
            Instruction.STORE_TEMPLATE: (3, self._store_template),
            Instruction.SEARCH: (5, self._search),
            Instruction.LOAD_TEMPLATE: (3, self._load_template),
            Instruction.DELETE_TEMPLATE: (4, self._delete_template),
            Instruction.CLEAR_DATABASE: (0, self._clear_database),
            Instruction.COMPARE: (0, self._compare),
            Instruction.UPLOAD_CHARACTERISTICS: (1, self._upload_characteristics),
            Instruction.DOWNLOAD_CHARACTERISTICS: (1, self._download_characteristics),
            Instruction.GENERATE_RANDOM: (0, self._generate_random),
        }
        self.power_on()

    def power_on(self) -> None:
        self.buffers = [bytes(templates.TEMPLATE_LEN), bytes(templates.TEMPLATE_LEN)]
        self.image: _Image | None = None
        self.upload: _Upload | None = None
        # A module with the default password needs no handshake; any other must see it first.
        self.verified = self.password == DEFAULT_PASSWORD

    def abort_transfer(self) -> None:
        self.upload = None

    @property
    def threshold(self) -> int:
        return templates.THRESHOLDS[self.security_level]

    def place_finger(self, finger_id: str) -> None:
        self.finger = finger_id
        if finger_id not in self.fingers_seen:
            self.fingers_seen.append(finger_id)

    def handle(self, item: Packet | Garbled) -> bytes:
        """The bytes to send back: nothing for upload data packets, else exactly one reply."""
        if isinstance(item, Garbled):
            log.debug("garbled packet: %s", item.reason)
            self.upload = None
            return self._ack(Confirm.COMMUNICATION)
        if item.address != self.address:
            self.upload = None
            return self._ack(Confirm.WRONG_ADDRESS)
        if item.type in (PacketType.DATA, PacketType.END) and self.upload is not None:
            return self._receive(item)
        self.upload = None
        if item.type != PacketType.COMMAND or not item.payload:
            return self._ack(Confirm.COMMUNICATION)
        instruction, args = item.payload[0], item.payload[1:]
        entry = self._handlers.get(instruction)
        if entry is None or len(args) != entry[0]:
            log.debug("unknown instruction or bad arguments: 0x%02x %d B", instruction, len(args))
            return self._ack(Confirm.COMMUNICATION)
        if not self.verified and instruction != Instruction.VERIFY_PASSWORD:
            return self._ack(Confirm.VERIFY_PASSWORD_FIRST)
        if instruction in self.command_failures:
            return self._ack(self.command_failures.pop(instruction))
        reply = entry[1](args)
        log.debug("instruction 0x%02x -> 0x%02x", instruction, reply[9])
        return reply

    def _ack(self, code: int, data: bytes = b"") -> bytes:
        return ack(code, data, self.address)

    def _receive(self, packet: Packet) -> bytes:
        assert self.upload is not None
        room = templates.TEMPLATE_LEN - len(self.upload.data)
        self.upload.data += packet.payload[:room]
        if packet.type == PacketType.END:
            self.buffers[self.upload.buffer] = bytes(self.upload.data).ljust(
                templates.TEMPLATE_LEN, b"\x00"
            )
            self.upload = None
        return b""  # the host expects no acknowledgement for data packets

    @staticmethod
    def _buffer_index(number: int) -> int | None:
        return number - 1 if number in (1, 2) else None

    # -- handshake and parameters -------------------------------------------------------

    def _verify_password(self, args: bytes) -> bytes:
        if int.from_bytes(args, "big") != self.password:
            return self._ack(Confirm.WRONG_PASSWORD)
        self.verified = True
        return self._ack(Confirm.OK)

    def _set_password(self, args: bytes) -> bytes:
        self.password = int.from_bytes(args, "big")
        return self._ack(Confirm.OK)

    def _set_address(self, args: bytes) -> bytes:
        # The reply already comes from the new address, as on R30x modules.
        self.address = int.from_bytes(args, "big")
        return self._ack(Confirm.OK)

    def _set_system_parameter(self, args: bytes) -> bytes:
        number, value = args
        if number == SystemParameter.BAUD_RATE and 1 <= value <= 12:
            # A pty has no line speed; the factor is only remembered and reported.
            self.baud_factor = value
        elif number == SystemParameter.SECURITY_LEVEL and value in templates.THRESHOLDS:
            self.security_level = value
        elif number == SystemParameter.PACKET_SIZE and 0 <= value < len(PACKET_SIZES):
            self.packet_size_code = value
        else:
            return self._ack(Confirm.INVALID_REGISTER)
        return self._ack(Confirm.OK)

    def _get_system_parameters(self, _: bytes) -> bytes:
        status = (0b100 if self.verified else 0) | (0b1000 if self.image else 0)
        words = (status, SYSTEM_ID, self.capacity, self.security_level)
        data = b"".join(w.to_bytes(2, "big") for w in words)
        data += self.address.to_bytes(4, "big")
        data += self.packet_size_code.to_bytes(2, "big") + self.baud_factor.to_bytes(2, "big")
        return self._ack(Confirm.OK, data)

    def _template_index(self, args: bytes) -> bytes:
        page = args[0]
        if page > 3:
            return self._ack(Confirm.COMMUNICATION)
        bits = bytearray(32)
        for slot in self.library:
            if page * 256 <= slot < (page + 1) * 256:
                offset = slot - page * 256
                bits[offset // 8] |= 1 << (offset % 8)  # LSB first
        return self._ack(Confirm.OK, bytes(bits))

    def _template_count(self, _: bytes) -> bytes:
        return self._ack(Confirm.OK, len(self.library).to_bytes(2, "big"))

    # -- capture --------------------------------------------------------------------------

    def _read_image(self, _: bytes) -> bytes:
        failure = self.capture_failure
        if failure is not None and failure not in CONVERT_FAILURES:
            self.capture_failure = None
            self.image = None
            return self._ack(failure)
        if self.finger is None:
            self.image = None
            return self._ack(Confirm.NO_FINGER)
        self.image = _Image(self.finger, self._rng.getrandbits(64))
        return self._ack(Confirm.OK)

    def _download_image(self, _: bytes) -> bytes:
        if self.image is None:
            return self._ack(Confirm.DOWNLOAD_IMAGE)
        pixels = templates.render_image(self.image.finger_id, random.Random(self.image.seed))
        return self._ack(Confirm.OK) + self._data(pixels)

    def _convert_image(self, args: bytes) -> bytes:
        index = self._buffer_index(args[0])
        if index is None:
            return self._ack(Confirm.COMMUNICATION)
        if self.capture_failure in CONVERT_FAILURES:
            code, self.capture_failure = self.capture_failure, None
            return self._ack(code)
        if self.image is None:
            return self._ack(Confirm.INVALID_IMAGE)
        # The image fixes the features: converting the same image twice gives the same file.
        noise = random.Random(self.image.seed)
        minutiae = templates.capture_minutiae(self.image.finger_id, noise)
        chars = templates.encode_characteristics(minutiae, noise.randbytes(8), self.matcher.key)
        self.buffers[index] = chars.ljust(templates.TEMPLATE_LEN, b"\x00")
        return self._ack(Confirm.OK)

    def _create_template(self, _: bytes) -> bytes:
        first, second = (b[: templates.CHAR_FILE_LEN] for b in self.buffers)
        if self.matcher.score(first, second) < templates.MERGE_THRESHOLD:
            return self._ack(Confirm.MERGE_FAILED)
        merged = templates.merge_template(first, second)
        self.buffers = [merged, merged]
        return self._ack(Confirm.OK)

    # -- library --------------------------------------------------------------------------

    def _slot_args(self, args: bytes) -> tuple[int | None, int]:
        return self._buffer_index(args[0]), int.from_bytes(args[1:3], "big")

    def _store_template(self, args: bytes) -> bytes:
        index, slot = self._slot_args(args)
        if index is None:
            return self._ack(Confirm.COMMUNICATION)
        if slot >= self.capacity:
            return self._ack(Confirm.INVALID_POSITION)
        self.library[slot] = self.buffers[index]
        return self._ack(Confirm.OK)

    def _load_template(self, args: bytes) -> bytes:
        index, slot = self._slot_args(args)
        if index is None:
            return self._ack(Confirm.COMMUNICATION)
        if slot >= self.capacity:
            return self._ack(Confirm.INVALID_POSITION)
        if slot not in self.library:
            return self._ack(Confirm.LOAD_TEMPLATE)
        self.buffers[index] = self.library[slot]
        return self._ack(Confirm.OK)

    def _search(self, args: bytes) -> bytes:
        index, start = self._slot_args(args)
        count = int.from_bytes(args[3:5], "big")
        if index is None:
            return self._ack(Confirm.COMMUNICATION)
        if start >= self.capacity:
            return self._ack(Confirm.INVALID_POSITION)
        window = {s: t for s, t in self.library.items() if start <= s < start + count}
        found = self.matcher.search(self.buffers[index], window, self.threshold)
        if found is None:
            return self._ack(Confirm.NOT_FOUND, bytes(4))
        slot, score = found
        return self._ack(
            Confirm.OK, slot.to_bytes(2, "big") + min(score, 0xFFFF).to_bytes(2, "big")
        )

    def _delete_template(self, args: bytes) -> bytes:
        start, count = int.from_bytes(args[:2], "big"), int.from_bytes(args[2:], "big")
        if start >= self.capacity or start + count > self.capacity:
            return self._ack(Confirm.DELETE_TEMPLATE)
        for slot in range(start, start + count):
            self.library.pop(slot, None)
        return self._ack(Confirm.OK)

    def _clear_database(self, _: bytes) -> bytes:
        self.library.clear()
        return self._ack(Confirm.OK)

    def _compare(self, _: bytes) -> bytes:
        score = self.matcher.compare(self.buffers[0], self.buffers[1], self.threshold)
        if score is None:
            return self._ack(Confirm.NOT_MATCHING, bytes(2))
        return self._ack(Confirm.OK, min(score, 0xFFFF).to_bytes(2, "big"))

    # -- transfers and misc ---------------------------------------------------------------

    def _data(self, data: bytes) -> bytes:
        return data_packets(data, PACKET_SIZES[self.packet_size_code], self.address)

    def _upload_characteristics(self, args: bytes) -> bytes:
        index = self._buffer_index(args[0])
        if index is None:
            return self._ack(Confirm.UPLOAD_CHARACTERISTICS)
        self.upload = _Upload(index, bytearray())
        return self._ack(Confirm.OK)

    def _download_characteristics(self, args: bytes) -> bytes:
        index = self._buffer_index(args[0])
        if index is None:
            return self._ack(Confirm.DOWNLOAD_CHARACTERISTICS)
        return self._ack(Confirm.OK) + self._data(self.buffers[index])

    def _generate_random(self, _: bytes) -> bytes:
        return self._ack(Confirm.OK, self._rng.getrandbits(32).to_bytes(4, "big"))
