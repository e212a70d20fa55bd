"""Framing of the sensor's serial protocol: pure functions and constants, no I/O.

Packet: EF 01 · address (4 B BE) · type (1 B) · length (2 B BE) · payload · checksum (2 B BE),
where length = len(payload) + 2 and checksum = (type + both length bytes + payload bytes)
mod 65536 (header and address are not summed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

HEADER = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
DEFAULT_PASSWORD = 0x00000000
# Bytes before the payload: header (2) + address (4) + type (1) + length (2).
PREFIX_LEN = 9
# The longest legal payload is a 256-byte data packet; anything longer is a garbled length
# field, and waiting for 65 kB that will never come would stall the link.
MAX_PAYLOAD = 256
# Data payload sizes for packet-size codes 0-3 (system parameter 6).
PACKET_SIZES = (32, 64, 128, 256)


class PacketType(IntEnum):
    COMMAND = 0x01
    DATA = 0x02
    ACK = 0x07
    END = 0x08


class Instruction(IntEnum):
    READ_IMAGE = 0x01
    CONVERT_IMAGE = 0x02
    COMPARE = 0x03
    SEARCH = 0x04
    CREATE_TEMPLATE = 0x05
    STORE_TEMPLATE = 0x06
    LOAD_TEMPLATE = 0x07
    DOWNLOAD_CHARACTERISTICS = 0x08  # module → host ("upload" in the datasheet)
    UPLOAD_CHARACTERISTICS = 0x09  # host → module ("download" in the datasheet)
    DOWNLOAD_IMAGE = 0x0A
    DELETE_TEMPLATE = 0x0C
    CLEAR_DATABASE = 0x0D
    SET_SYSTEM_PARAMETER = 0x0E
    GET_SYSTEM_PARAMETERS = 0x0F
    SET_PASSWORD = 0x12
    VERIFY_PASSWORD = 0x13
    GENERATE_RANDOM = 0x14
    SET_ADDRESS = 0x15
    TEMPLATE_COUNT = 0x1D
    TEMPLATE_INDEX = 0x1F


class Confirm(IntEnum):
    OK = 0x00
    COMMUNICATION = 0x01  # garbled packet, unknown instruction, bad arguments
    NO_FINGER = 0x02
    READ_IMAGE = 0x03
    MESSY_IMAGE = 0x06
    FEW_FEATURES = 0x07
    NOT_MATCHING = 0x08
    NOT_FOUND = 0x09
    MERGE_FAILED = 0x0A
    INVALID_POSITION = 0x0B
    LOAD_TEMPLATE = 0x0C
    DOWNLOAD_CHARACTERISTICS = 0x0D
    UPLOAD_CHARACTERISTICS = 0x0E
    DOWNLOAD_IMAGE = 0x0F
    DELETE_TEMPLATE = 0x10
    CLEAR_DATABASE = 0x11
    WRONG_PASSWORD = 0x13
    INVALID_IMAGE = 0x15
    FLASH = 0x18
    INVALID_REGISTER = 0x1A
    WRONG_ADDRESS = 0x20
    VERIFY_PASSWORD_FIRST = 0x21


class SystemParameter(IntEnum):
    BAUD_RATE = 4  # value x 9600 baud, 1-12
    SECURITY_LEVEL = 5  # 1-5
    PACKET_SIZE = 6  # code 0-3, see PACKET_SIZES


class FramingError(ValueError):
    """A byte sequence that is not a well-formed packet."""


@dataclass(frozen=True)
class Packet:
    type: int
    payload: bytes
    address: int = DEFAULT_ADDRESS


@dataclass(frozen=True)
class Garbled:
    """A packet-shaped run of bytes that failed a check; the module answers it with 0x01."""

    reason: str
    address: int = DEFAULT_ADDRESS


def checksum(packet_type: int, payload: bytes) -> int:
    length = len(payload) + 2
    return (packet_type + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF


def encode(packet: Packet) -> bytes:
    if not 0 <= packet.type <= 0xFF:
        raise ValueError(f"packet type out of range: {packet.type}")
    if len(packet.payload) > MAX_PAYLOAD:
        raise ValueError(f"payload too long: {len(packet.payload)} bytes")
    length = len(packet.payload) + 2
    return (
        HEADER
        + packet.address.to_bytes(4, "big")
        + bytes([packet.type])
        + length.to_bytes(2, "big")
        + packet.payload
        + checksum(packet.type, packet.payload).to_bytes(2, "big")
    )


def ack(code: int, data: bytes = b"", address: int = DEFAULT_ADDRESS) -> bytes:
    """An acknowledgement: confirmation code first, then the instruction's result bytes."""
    return encode(Packet(PacketType.ACK, bytes([code]) + data, address))


def command(instruction: int, args: bytes = b"", address: int = DEFAULT_ADDRESS) -> bytes:
    return encode(Packet(PacketType.COMMAND, bytes([instruction]) + args, address))


def data_packets(data: bytes, chunk: int, address: int = DEFAULT_ADDRESS) -> bytes:
    """A transfer: data packets of `chunk` bytes, the last chunk in the end-of-data packet.

    Real modules (and pyfingerprint when it sends) carry the last chunk in the end packet
    rather than sending an empty one after the data.
    """
    if chunk not in PACKET_SIZES:
        raise ValueError(f"chunk size must be one of {PACKET_SIZES}")
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [b""]
    out = bytearray()
    for i, part in enumerate(chunks):
        kind = PacketType.END if i == len(chunks) - 1 else PacketType.DATA
        out += encode(Packet(kind, part, address))
    return bytes(out)


def decode(raw: bytes) -> Packet:
    """Exactly one packet; raises FramingError on any defect."""
    if len(raw) < PREFIX_LEN + 2:
        raise FramingError("shorter than the smallest packet")
    if raw[:2] != HEADER:
        raise FramingError("no EF01 header")
    length = int.from_bytes(raw[7:9], "big")
    if length < 2 or length - 2 > MAX_PAYLOAD:
        raise FramingError(f"impossible length field {length}")
    if len(raw) != PREFIX_LEN + length:
        raise FramingError(f"length field says {PREFIX_LEN + length} bytes, got {len(raw)}")
    packet_type = raw[6]
    payload = bytes(raw[PREFIX_LEN : PREFIX_LEN + length - 2])
    if int.from_bytes(raw[-2:], "big") != checksum(packet_type, payload):
        raise FramingError("checksum mismatch")
    return Packet(packet_type, payload, int.from_bytes(raw[2:6], "big"))


class PacketReader:
    """Reassembles packets from a byte stream that arrives in arbitrary pieces.

    Bytes before an EF01 header are line noise and are dropped without a reply (there is
    nothing to reply to). A packet-shaped run that fails a check becomes `Garbled`.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> bool:
        """Part of a packet is waiting for more bytes."""
        return bool(self._buf)

    def reset(self) -> None:
        self._buf.clear()

    def feed(self, data: bytes) -> Iterator[Packet | Garbled]:
        self._buf += data
        while True:
            start = self._buf.find(HEADER)
            if start < 0:
                # Keep a trailing EF: it may be the first half of a header.
                del self._buf[: len(self._buf) - (1 if self._buf.endswith(b"\xef") else 0)]
                return
            del self._buf[:start]
            if len(self._buf) < PREFIX_LEN:
                return
            address = int.from_bytes(self._buf[2:6], "big")
            length = int.from_bytes(self._buf[7:9], "big")
            if length < 2 or length - 2 > MAX_PAYLOAD:
                del self._buf[:PREFIX_LEN]
                yield Garbled(f"impossible length field {length}", address)
                continue
            end = PREFIX_LEN + length
            if len(self._buf) < end:
                return
            raw = bytes(self._buf[:end])
            del self._buf[:end]
            try:
                yield decode(raw)
            except FramingError as exc:
                yield Garbled(str(exc), address)
