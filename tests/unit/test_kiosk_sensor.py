"""The kiosk's sensor driver against the simulator: enrolment needs two reads of one finger,
identify finds stored fingers only, and failures say what to do next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.kiosk.sensor import Sensor, SensorError
from devices.sensor.simulator import SensorSimulator


@pytest.fixture
def simulator() -> Iterator[SensorSimulator]:
    with SensorSimulator(seed=3) as sensor:
        yield sensor


def test_two_reads_of_different_fingers_do_not_make_a_template(
    simulator: SensorSimulator,
) -> None:
    sensor = Sensor(simulator.port, finger_wait_s=1)
    simulator.place_finger("budi-left-thumb")
    with pytest.raises(SensorError, match="not the same finger"):
        sensor.capture_template(lambda: simulator.place_finger("someone-else"))


def test_a_stored_template_is_identified_and_deleting_it_forgets_the_finger(
    simulator: SensorSimulator,
) -> None:
    sensor = Sensor(simulator.port, finger_wait_s=1)
    simulator.place_finger("ani-right-index")
    slot = sensor.store(sensor.capture_template())
    match = sensor.identify()
    assert match is not None and match.slot == slot and match.score >= simulator.threshold
    sensor.delete(slot)
    assert sensor.identify() is None


def test_no_finger_on_the_glass_says_so(simulator: SensorSimulator) -> None:
    sensor = Sensor(simulator.port, finger_wait_s=0.3)
    with pytest.raises(SensorError, match="place your finger"):
        sensor.identify()
