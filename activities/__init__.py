"""Every side effect Saku's workflows and API need, per slice (`wallet`, `monitoring`,
`biometrics`, `cases`, `reporting`, `selfcheck`, `accounts`): each slice's activity class
(methods given their dependencies in the constructor) and the stores it uses.
`activities.registry` builds every activity a worker registers.

May import: `core` (tests/unit/test_layers.py).
"""
