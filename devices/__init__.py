"""What runs at the canteen: the kiosk agent (`devices.kiosk`) and the fingerprint sensor
simulator (`devices.sensor`). Kiosks talk to Saku over signed HTTP only.

May import: `core` (tests/unit/test_layers.py).
"""
