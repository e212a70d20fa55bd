"""The shared floor: what several layers need and nothing above it may be imported here.

Settings, logs, security (tokens, password hashes), the database pool and migrations, the
kiosk request signature, the Kafka topics, health checks, the Temporal plumbing
(`core.temporal`), and per slice the types that cross the workflow boundary and the pure
rules: `core.monitoring` (the engine's pure core), `core.wallet` (authorisation),
`core.biometrics` (consent), `core.cases`, `core.reporting`, `core.selfcheck`.

May import: the standard library and third-party packages only (tests/unit/test_layers.py).
"""
