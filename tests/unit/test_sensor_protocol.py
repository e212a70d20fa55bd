"""Sensor packet framing: round trips, the checksum rule, and what garbled bytes become."""

from __future__ import annotations

import pytest

from devices.sensor.protocol import (
    PACKET_SIZES,
    FramingError,
    Garbled,
    Instruction,
    Packet,
    PacketReader,
    PacketType,
    ack,
    checksum,
    command,
    data_packets,
    decode,
    encode,
)

# pyfingerprint's verifyPassword with the default address and password, byte for byte.
VERIFY_PASSWORD = bytes.fromhex("EF01 FFFFFFFF 01 0007 13 00000000 001B")


def test_encode_matches_what_pyfingerprint_sends() -> None:
    assert command(Instruction.VERIFY_PASSWORD, bytes(4)) == VERIFY_PASSWORD


def test_checksum_sums_type_length_and_payload_but_not_header_or_address() -> None:
    assert checksum(PacketType.ACK, b"\x00") == 0x07 + 0x00 + 0x03 + 0x00
    packet = encode(Packet(PacketType.ACK, b"\x00", address=0x12345678))
    assert packet[-2:] == (0x0A).to_bytes(2, "big")


def test_checksum_wraps_at_16_bits() -> None:
    # Real packet types cannot overflow 16 bits; an arbitrary type byte shows the mod 65536.
    assert checksum(0xFF, b"\xff" * 256) == 0xFF + 0x01 + 0x02 + 0xFF * 256 - 65536


@pytest.mark.parametrize("payload", [b"", b"\x00", bytes(range(256))])
@pytest.mark.parametrize("kind", list(PacketType))
def test_round_trip(kind: PacketType, payload: bytes) -> None:
    packet = Packet(kind, payload, address=0xCAFEF00D)
    assert decode(encode(packet)) == packet


def test_ack_puts_the_confirmation_code_first() -> None:
    packet = decode(ack(0x09, b"\x00\x00\x00\x00"))
    assert packet.type == PacketType.ACK
    assert packet.payload == b"\x09\x00\x00\x00\x00"


def test_encode_refuses_an_oversized_payload() -> None:
    with pytest.raises(ValueError):
        encode(Packet(PacketType.DATA, bytes(257)))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (VERIFY_PASSWORD[:-1] + b"\x1c", "checksum"),
        (b"\xef\x02" + VERIFY_PASSWORD[2:], "header"),
        (VERIFY_PASSWORD[:10], "shorter"),
        (VERIFY_PASSWORD + b"\x00", "length field says"),
        (bytes.fromhex("EF01 FFFFFFFF 01 0001 0000"), "impossible length"),
    ],
)
def test_decode_rejects_defects(raw: bytes, reason: str) -> None:
    with pytest.raises(FramingError, match=reason):
        decode(raw)


@pytest.mark.parametrize("size", PACKET_SIZES)
def test_data_packets_carry_the_last_chunk_in_the_end_packet(size: int) -> None:
    data = bytes(i % 251 for i in range(512))
    reader = PacketReader()
    packets = list(reader.feed(data_packets(data, size)))
    assert all(isinstance(p, Packet) for p in packets)
    kinds = [p.type for p in packets if isinstance(p, Packet)]
    assert kinds == [PacketType.DATA] * (512 // size - 1) + [PacketType.END]
    assert b"".join(p.payload for p in packets if isinstance(p, Packet)) == data


def test_data_packets_of_a_ragged_length() -> None:
    packets = list(PacketReader().feed(data_packets(bytes(300), 128)))
    sizes = [len(p.payload) for p in packets if isinstance(p, Packet)]
    assert sizes == [128, 128, 44]


def test_data_packets_need_a_legal_size() -> None:
    with pytest.raises(ValueError):
        data_packets(bytes(10), 100)


def test_reader_reassembles_byte_by_byte() -> None:
    reader = PacketReader()
    out: list[Packet | Garbled] = []
    for b in VERIFY_PASSWORD * 2:
        out += reader.feed(bytes([b]))
    assert out == [decode(VERIFY_PASSWORD)] * 2
    assert not reader.pending


def test_reader_skips_noise_before_a_header() -> None:
    # A stray EF that is not followed by 01 must not swallow the real header after it.
    noise = b"\x55\x00\xef\x13\xef"
    assert list(PacketReader().feed(noise + VERIFY_PASSWORD)) == [decode(VERIFY_PASSWORD)]


def test_reader_keeps_a_trailing_ef_that_may_start_a_header() -> None:
    reader = PacketReader()
    assert list(reader.feed(b"\x00\x00" + VERIFY_PASSWORD[:1])) == []
    assert reader.pending
    assert list(reader.feed(VERIFY_PASSWORD[1:])) == [decode(VERIFY_PASSWORD)]


def test_reader_reports_a_bad_checksum_and_carries_on() -> None:
    broken = VERIFY_PASSWORD[:-1] + b"\x00"
    items = list(PacketReader().feed(broken + VERIFY_PASSWORD))
    assert isinstance(items[0], Garbled)
    assert "checksum" in items[0].reason
    assert items[0].address == 0xFFFFFFFF
    assert items[1] == decode(VERIFY_PASSWORD)


def test_reader_reports_an_impossible_length_at_once() -> None:
    # Waiting for a 65 kB payload that will never come would stall the link.
    reader = PacketReader()
    items = list(reader.feed(bytes.fromhex("EF01 FFFFFFFF 01 FFFF")))
    assert len(items) == 1
    assert isinstance(items[0], Garbled)
    assert not reader.pending


def test_reader_waits_for_the_rest_and_can_be_reset() -> None:
    reader = PacketReader()
    assert list(reader.feed(VERIFY_PASSWORD[:11])) == []
    assert reader.pending
    reader.reset()
    assert not reader.pending
    assert list(reader.feed(VERIFY_PASSWORD)) == [decode(VERIFY_PASSWORD)]
