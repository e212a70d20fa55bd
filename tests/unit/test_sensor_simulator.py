"""The sensor simulator, driven by unmodified pyfingerprint over its pseudo-terminal, plus
the synthetic characteristics it is built on and raw-serial checks pyfingerprint cannot make.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import serial
from PIL import Image
from pyfingerprint.pyfingerprint import PyFingerprint

from devices.sensor import SensorSimulator, simulator, templates
from devices.sensor.protocol import (
    Confirm,
    Instruction,
    Packet,
    PacketReader,
    PacketType,
    SystemParameter,
    command,
    encode,
)

DEFAULT_ADDRESS = 0xFFFFFFFF


@pytest.fixture
def sim() -> Iterator[SensorSimulator]:
    with SensorSimulator(seed=7) as simulator:
        yield simulator


def connect(sim: SensorSimulator, password: int = 0, address: int = DEFAULT_ADDRESS) -> Any:
    return PyFingerprint(sim.port, 57600, address, password)


@pytest.fixture
def fp(sim: SensorSimulator) -> Any:
    return connect(sim)


def capture(fp: Any, sim: SensorSimulator, finger: str, buffer: int = 1) -> None:
    sim.place_finger(finger)
    assert fp.readImage()
    assert fp.convertImage(buffer)


def enroll(fp: Any, sim: SensorSimulator, finger: str, slot: int = -1) -> int:
    capture(fp, sim, finger, 1)
    capture(fp, sim, finger, 2)
    assert fp.createTemplate()
    position: int = fp.storeTemplate(slot)
    return position


def identify(fp: Any, sim: SensorSimulator, finger: str) -> tuple[int, int]:
    capture(fp, sim, finger, 1)
    found: tuple[int, int] = fp.searchTemplate()
    return found


# -- handshake and parameters ----------------------------------------------------------


def test_verify_password(sim: SensorSimulator, fp: Any) -> None:
    assert fp.verifyPassword() is True
    assert connect(sim, password=0x1234).verifyPassword() is False


def test_set_password_then_power_cycle_needs_the_handshake(sim: SensorSimulator, fp: Any) -> None:
    assert fp.setPassword(0xBEEF)
    assert connect(sim).verifyPassword() is False
    assert fp.getTemplateCount() == 0  # the session that set it stays verified
    sim.unplug()
    sim.plug()
    fresh = connect(sim, password=0xBEEF)
    with pytest.raises(Exception, match="0x21"):  # verify the password first
        fresh.getTemplateCount()
    assert fresh.verifyPassword() is True
    assert fresh.getTemplateCount() == 0


def test_set_address(sim: SensorSimulator, fp: Any) -> None:
    assert fp.setAddress(0x12345678)
    assert fp.getSystemParameters()[4] == 0x12345678
    with pytest.raises(Exception, match="address is wrong"):
        connect(sim).verifyPassword()
    assert connect(sim, address=0x12345678).verifyPassword()


def test_system_parameters(sim: SensorSimulator, fp: Any) -> None:
    fp.verifyPassword()
    status, system_id, capacity, level, address, size_code, baud = fp.getSystemParameters()
    assert (system_id, capacity, level, address, size_code, baud) == (
        9,
        1000,
        3,
        DEFAULT_ADDRESS,
        2,
        6,
    )
    assert status & 0b100  # password verified
    assert fp.getStorageCapacity() == 1000
    assert fp.getSecurityLevel() == 3
    assert fp.getMaxPacketSize() == 128
    assert fp.getBaudRate() == 57600


def test_set_system_parameters(sim: SensorSimulator, fp: Any) -> None:
    fp.setSecurityLevel(5)
    assert fp.getSecurityLevel() == 5
    assert sim.security_level == 5
    assert sim.threshold == templates.THRESHOLDS[5]
    fp.setBaudRate(115200)
    assert fp.getBaudRate() == 115200
    fp.setMaxPacketSize(32)
    assert fp.getMaxPacketSize() == 32
    enroll(fp, sim, "alice", 0)
    # Transfers now run in 32-byte packets both ways.
    data = fp.downloadCharacteristics(1)
    assert len(data) == 512
    assert fp.uploadCharacteristics(2, data)


def test_capacity_is_configurable() -> None:
    with SensorSimulator(capacity=150) as small:
        assert connect(small).getStorageCapacity() == 150


def test_template_index_and_count(sim: SensorSimulator, fp: Any) -> None:
    enroll(fp, sim, "alice", 0)
    for slot in (9, 300, 999):
        assert fp.storeTemplate(slot) == slot
    assert fp.getTemplateCount() == 4
    page0, page1, page3 = fp.getTemplateIndex(0), fp.getTemplateIndex(1), fp.getTemplateIndex(3)
    assert len(page0) == 256
    assert [i for i, used in enumerate(page0) if used] == [0, 9]
    assert [i for i, used in enumerate(page1) if used] == [300 - 256]
    assert [i for i, used in enumerate(page3) if used] == [999 - 768]


# -- capture -------------------------------------------------------------------------------


def test_read_image_needs_a_finger(sim: SensorSimulator, fp: Any) -> None:
    assert fp.readImage() is False
    sim.place_finger("alice")
    assert fp.readImage() is True
    sim.remove_finger()
    assert fp.readImage() is False


def test_convert_without_an_image_fails(fp: Any) -> None:
    with pytest.raises(Exception, match="image is invalid"):
        fp.convertImage(1)


def test_download_image(sim: SensorSimulator, fp: Any, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Could not download image"):
        fp.downloadImage(str(tmp_path / "none.png"))
    sim.place_finger("alice")
    assert fp.readImage()
    target = tmp_path / "finger.png"
    fp.downloadImage(str(target))
    with Image.open(target) as image:
        assert image.size == (256, 288)
        assert image.mode == "L"
        low, high = cast(tuple[int, int], image.getextrema())
    assert low < 60 and high == 255  # dark ridges on a white background


def test_create_template_needs_the_same_finger(sim: SensorSimulator, fp: Any) -> None:
    capture(fp, sim, "alice", 1)
    capture(fp, sim, "bob", 2)
    assert fp.createTemplate() is False
    capture(fp, sim, "alice", 2)
    assert fp.createTemplate() is True


def test_fail_next_capture(sim: SensorSimulator, fp: Any) -> None:
    sim.place_finger("alice")
    sim.fail_next_capture(Confirm.READ_IMAGE)
    with pytest.raises(Exception, match="Could not read image"):
        fp.readImage()
    assert fp.readImage()
    for code, message in [
        (Confirm.MESSY_IMAGE, "too messy"),
        (Confirm.FEW_FEATURES, "too few feature points"),
        (Confirm.INVALID_IMAGE, "image is invalid"),
    ]:
        sim.fail_next_capture(code)
        assert fp.readImage()  # image-quality failures show at conversion
        with pytest.raises(Exception, match=message):
            fp.convertImage(1)
        assert fp.convertImage(1)


def test_fail_next_command(sim: SensorSimulator, fp: Any) -> None:
    capture(fp, sim, "alice")
    sim.fail_next_command(Instruction.STORE_TEMPLATE, Confirm.FLASH)
    with pytest.raises(Exception, match="Error writing to flash"):
        fp.storeTemplate(0)
    assert fp.storeTemplate(0) == 0


# -- library -------------------------------------------------------------------------------


def test_store_at_a_position_and_at_the_first_free_slot(sim: SensorSimulator, fp: Any) -> None:
    assert enroll(fp, sim, "alice", 7) == 7
    assert enroll(fp, sim, "bob") == 0
    assert enroll(fp, sim, "carol", -1) == 1
    assert sim.stored_slots() == {0: "bob", 1: "carol", 7: "alice"}


def test_search(sim: SensorSimulator, fp: Any) -> None:
    enroll(fp, sim, "alice", 3)
    enroll(fp, sim, "bob", 4)
    slot, score = identify(fp, sim, "alice")
    assert slot == 3
    assert score >= sim.threshold
    assert identify(fp, sim, "bob")[0] == 4
    assert identify(fp, sim, "carol") == (-1, -1)


def test_search_an_empty_library(sim: SensorSimulator, fp: Any) -> None:
    assert identify(fp, sim, "alice") == (-1, -1)


def test_load_template_and_compare(sim: SensorSimulator, fp: Any) -> None:
    enroll(fp, sim, "alice", 0)
    capture(fp, sim, "alice", 1)
    assert fp.loadTemplate(0, 2)
    assert fp.compareCharacteristics() >= sim.threshold
    capture(fp, sim, "bob", 1)
    assert fp.compareCharacteristics() == 0
    with pytest.raises(Exception, match="could not be read"):
        fp.loadTemplate(1, 2)


def test_delete_and_clear(sim: SensorSimulator, fp: Any) -> None:
    enroll(fp, sim, "alice", 0)
    for slot in (1, 2, 3):
        fp.storeTemplate(slot)
    assert fp.deleteTemplate(1)
    assert fp.getTemplateCount() == 3
    assert fp.deleteTemplate(2, 2)
    assert sorted(sim.stored_slots()) == [0]
    assert fp.deleteTemplate(5)  # an empty slot: nothing to do, not an error
    assert fp.clearDatabase()
    assert fp.getTemplateCount() == 0
    assert sim.stored_slots() == {}


def test_characteristics_round_trip(sim: SensorSimulator, fp: Any) -> None:
    enroll(fp, sim, "alice", 0)
    assert fp.loadTemplate(0, 1)
    template = fp.downloadCharacteristics(1)
    assert len(template) == 512
    assert template[:2] == [3, 1] and template[256:258] == [3, 1]
    assert fp.clearDatabase()
    capture(fp, sim, "bob", 1)  # overwrite the buffer, so only the upload can put alice back
    assert fp.uploadCharacteristics(1, template) is True  # it reads the buffer back to check
    assert fp.storeTemplate(10) == 10
    slot, score = identify(fp, sim, "alice")
    assert (slot, score >= sim.threshold) == (10, True)
    assert sim.stored_slots() == {10: "alice"}


def test_a_template_moves_to_another_sensor(sim: SensorSimulator, fp: Any) -> None:
    """Enrolment happens on one kiosk; the template is distributed to the others."""
    enroll(fp, sim, "alice", 0)
    fp.loadTemplate(0, 1)
    template = fp.downloadCharacteristics(1)
    with SensorSimulator(seed=8) as other:
        kiosk = connect(other)
        assert kiosk.uploadCharacteristics(1, template)
        assert kiosk.storeTemplate(42) == 42
        assert identify(kiosk, other, "alice")[0] == 42
        assert identify(kiosk, other, "bob") == (-1, -1)


def test_generate_random_number(fp: Any) -> None:
    numbers = {fp.generateRandomNumber() for _ in range(5)}
    assert len(numbers) == 5
    assert all(0 <= n < 2**32 for n in numbers)


# -- faults ----------------------------------------------------------------------------------


def test_latency(sim: SensorSimulator, fp: Any) -> None:
    sim.set_latency(0.3)
    started = time.monotonic()
    assert fp.verifyPassword()
    assert 0.3 <= time.monotonic() - started < 1.0
    with pytest.raises(ValueError):
        sim.set_latency(-1)


def test_unplugged_sensor_is_silent(sim: SensorSimulator) -> None:
    with serial.Serial(sim.port, 57600, timeout=0.3) as port:
        sim.unplug()
        port.write(command(Instruction.VERIFY_PASSWORD, bytes(4)))
        assert port.read(12) == b""
        sim.plug()
        port.write(command(Instruction.VERIFY_PASSWORD, bytes(4)))
        assert port.read(12)[9] == Confirm.OK


def test_unplugged_sensor_fails_pyfingerprint(sim: SensorSimulator, fp: Any) -> None:
    sim.unplug()
    # pyfingerprint waits 12 reads of 2 s each; shorten its serial timeout, not its logic.
    fp._PyFingerprint__serial.timeout = 0.05
    with pytest.raises(Exception, match="valid header"):
        fp.verifyPassword()
    sim.plug()
    fp._PyFingerprint__serial.timeout = 2
    assert fp.verifyPassword()


def test_power_cycle_clears_the_buffers_but_keeps_the_library(
    sim: SensorSimulator, fp: Any
) -> None:
    enroll(fp, sim, "alice", 0)
    sim.unplug()
    sim.plug()
    assert fp.downloadCharacteristics(1) == [0] * 512
    assert fp.getTemplateCount() == 1


# -- raw serial: what pyfingerprint never sends -----------------------------------------


def read_packet(port: Any) -> Packet:
    """One whole reply packet: the 9-byte prefix says how much follows."""
    prefix = port.read(9)
    assert len(prefix) == 9, "no reply"
    rest = port.read(int.from_bytes(prefix[7:9], "big"))
    (packet,) = PacketReader().feed(prefix + rest)
    assert isinstance(packet, Packet)
    return packet


def exchange(sim: SensorSimulator, raw: bytes, replies: int = 1) -> list[Packet]:
    """Send raw bytes; return the expected number of replies, and check nothing else comes."""
    with serial.Serial(sim.port, 57600, timeout=1) as port:
        port.write(raw)
        packets = [read_packet(port) for _ in range(replies)]
        port.timeout = 0.05
        assert port.read(1) == b"", "stray bytes after the reply"
    return packets


def codes(packets: list[Packet]) -> list[int]:
    assert all(p.type == PacketType.ACK for p in packets)
    return [p.payload[0] for p in packets]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (command(Instruction.VERIFY_PASSWORD, bytes(4))[:-1] + b"\x00", Confirm.COMMUNICATION),
        (command(0x55), Confirm.COMMUNICATION),  # no such instruction
        (command(Instruction.VERIFY_PASSWORD, bytes(2)), Confirm.COMMUNICATION),  # short args
        (encode(Packet(PacketType.DATA, bytes(8))), Confirm.COMMUNICATION),  # out of context
        (command(Instruction.VERIFY_PASSWORD, bytes(4), address=1), Confirm.WRONG_ADDRESS),
        (command(Instruction.SET_SYSTEM_PARAMETER, bytes([7, 1])), Confirm.INVALID_REGISTER),
        (
            command(Instruction.SET_SYSTEM_PARAMETER, bytes([SystemParameter.SECURITY_LEVEL, 6])),
            Confirm.INVALID_REGISTER,
        ),
        (command(Instruction.TEMPLATE_INDEX, b"\x04"), Confirm.COMMUNICATION),
        (command(Instruction.STORE_TEMPLATE, bytes([1, 0x07, 0xD0])), Confirm.INVALID_POSITION),
        (command(Instruction.STORE_TEMPLATE, bytes([3, 0, 0])), Confirm.COMMUNICATION),
        (command(Instruction.LOAD_TEMPLATE, bytes([1, 0x03, 0xE8])), Confirm.INVALID_POSITION),
        (command(Instruction.DELETE_TEMPLATE, bytes([0x03, 0xE7, 0, 2])), Confirm.DELETE_TEMPLATE),
        (command(Instruction.SEARCH, bytes([1, 0, 0, 0x03, 0xE8])), Confirm.NOT_FOUND),
        (command(Instruction.COMPARE), Confirm.NOT_MATCHING),  # empty buffers
        (command(Instruction.CREATE_TEMPLATE), Confirm.MERGE_FAILED),  # empty buffers
        (command(Instruction.UPLOAD_CHARACTERISTICS, b"\x03"), Confirm.UPLOAD_CHARACTERISTICS),
        (command(Instruction.DOWNLOAD_CHARACTERISTICS, b"\x00"), Confirm.DOWNLOAD_CHARACTERISTICS),
    ],
)
def test_error_replies(sim: SensorSimulator, raw: bytes, code: int) -> None:
    assert codes(exchange(sim, raw)) == [code]


def test_not_found_and_not_matching_still_carry_their_fields(sim: SensorSimulator) -> None:
    (found,) = exchange(sim, command(Instruction.SEARCH, bytes([1, 0, 0, 0x03, 0xE8])))
    assert found.payload == bytes([Confirm.NOT_FOUND, 0, 0, 0, 0])
    (compared,) = exchange(sim, command(Instruction.COMPARE))
    assert compared.payload == bytes([Confirm.NOT_MATCHING, 0, 0])


def test_noise_gets_no_reply_and_each_command_exactly_one(sim: SensorSimulator) -> None:
    verify = command(Instruction.VERIFY_PASSWORD, bytes(4))
    count = command(Instruction.TEMPLATE_COUNT)
    noisy = b"\x55\xef\x00" + verify + b"\x00\x00" + count
    assert codes(exchange(sim, noisy, replies=2)) == [Confirm.OK, Confirm.OK]


def test_a_stale_half_packet_is_dropped(
    sim: SensorSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulator, "STALE_AFTER_S", 0.2)
    verify = command(Instruction.VERIFY_PASSWORD, bytes(4))
    with serial.Serial(sim.port, 57600, timeout=1) as port:
        port.write(verify[:7])
        time.sleep(0.5)  # longer than the module waits for the rest of a packet
        port.write(verify)
        assert codes([read_packet(port)]) == [Confirm.OK]
        port.timeout = 0.05
        assert port.read(1) == b""


# -- synthetic characteristics ---------------------------------------------------------------


def _capture(finger: str, rng: random.Random, key: bytes = templates.DEFAULT_KEY) -> bytes:
    minutiae = templates.capture_minutiae(finger, rng)
    return templates.encode_characteristics(minutiae, rng.randbytes(8), key)


def test_characteristic_files_have_the_real_shape_and_never_repeat() -> None:
    rng = random.Random(1)
    first, second = _capture("student-17", rng), _capture("student-17", rng)
    for chars in (first, second):
        assert len(chars) == 256
        assert chars[:2] == b"\x03\x01"
        assert chars.endswith(bytes(16))  # zero padded
        assert b"student-17" not in chars
    assert first != second
    template = templates.merge_template(first, second)
    assert len(template) == 512
    assert template[:2] == template[256:258] == b"\x03\x01"
    assert len(templates.render_image("student-17", rng)) == templates.IMAGE_BYTES == 36_864


def test_the_identity_is_sealed_under_the_key() -> None:
    rng = random.Random(2)
    chars = _capture("alice", rng)
    assert templates.decode_characteristics(chars) is not None
    assert templates.decode_characteristics(chars, key=b"another sensor model") is None
    corrupted = chars[:20] + bytes([chars[20] ^ 1]) + chars[21:]
    assert templates.decode_characteristics(corrupted) is None
    assert templates.score(chars, _capture("alice", rng)) >= templates.THRESHOLDS[5]
    assert templates.score(chars, bytes(512)) == 0


def test_scores_separate_fingers() -> None:
    rng = random.Random(3)
    fingers = [f"student-{i}" for i in range(40)]
    enrolled = {f: templates.merge_template(_capture(f, rng), _capture(f, rng)) for f in fingers}
    for finger in fingers:
        probe = _capture(finger, rng)
        scores = {other: templates.score(probe, t) for other, t in enrolled.items()}
        genuine = scores.pop(finger)
        assert 60 <= genuine <= 250
        assert max(scores.values()) < templates.THRESHOLDS[1]


def test_error_rates_are_validated() -> None:
    with pytest.raises(ValueError):
        templates.Matcher(false_reject=1.5)
    with SensorSimulator() as sim, pytest.raises(ValueError):
        sim.set_error_rates(false_accept=-0.1)


# -- statistics over the wire --------------------------------------------------------------


def reject_rate(fp: Any, sim: SensorSimulator, fingers: list[str]) -> float:
    """Share of comparisons against alice's template (slot 0, in buffer 2) that fail."""
    assert fp.loadTemplate(0, 2)
    rejected = 0
    for finger in fingers:
        capture(fp, sim, finger, 1)
        rejected += fp.compareCharacteristics() == 0
    return rejected / len(fingers)


def test_default_rates_accept_the_finger_and_nobody_else(sim: SensorSimulator, fp: Any) -> None:
    enroll(fp, sim, "alice", 0)
    assert reject_rate(fp, sim, ["alice"] * 200) <= 0.01
    assert reject_rate(fp, sim, [f"impostor-{i}" for i in range(200)]) == 1.0


def test_configured_false_reject_rate(sim: SensorSimulator, fp: Any) -> None:
    enroll(fp, sim, "alice", 0)
    sim.set_error_rates(false_reject=0.3)
    assert 0.2 <= reject_rate(fp, sim, ["alice"] * 200) <= 0.4


def test_configured_false_accept_rate(sim: SensorSimulator, fp: Any) -> None:
    enroll(fp, sim, "alice", 0)
    sim.set_error_rates(false_accept=0.2)
    accepted = 1 - reject_rate(fp, sim, [f"impostor-{i}" for i in range(200)])
    assert 0.1 <= accepted <= 0.3
    # A false accept in a search names a stored slot with a score at the threshold.
    sim.set_error_rates(false_accept=1.0)
    slot, score = identify(fp, sim, "mallory")
    assert slot == 0 and score >= sim.threshold
