"""A simulated ZhianTec-family fingerprint sensor (ZFM-20/60, R30x, AS608) on a pseudo-terminal.

`pyfingerprint`, unmodified, drives it exactly as it drives the real module, so the kiosk
agent, its tests and demos need no hardware. The protocol facts it follows are in
docs/fingerprint-sensor.md.
"""

from devices.sensor.simulator import SensorSimulator

__all__ = ["SensorSimulator"]
