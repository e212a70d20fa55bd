"""The HTTP API (FastAPI: `api.app`, one router per resource in `api.routes`, dependencies
declared once in `api.deps`), the intake of the bank's messages on HTTP and Kafka
(`api.intake`), and the code that starts workflows for them (`api.starters`).

May import: `core`, `activities`, `workflows` (tests/unit/test_layers.py).
"""
