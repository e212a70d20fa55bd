"""The composition root: the `saku` command (`saku.cli`) and everything it wires together —
the processes (`saku.wiring`), the embedded stack (`saku.stack`), the benchmarks
(`saku.bench`), the fault scorecard (`saku.chaos`) and the canteen-day simulation
(`saku.simulate`).

May import everything; nothing but tests imports it (tests/unit/test_layers.py).
"""
