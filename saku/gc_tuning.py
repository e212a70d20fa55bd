"""Tuning shared by Saku's long-running processes (worker, consumer, API, benchmark)."""

from __future__ import annotations

import gc

# Collect the youngest generation after this many net allocations (Python's default: 700).
# A young collection walks what is still alive of the generation, which under a stream is
# mostly the batch in hand, however long the interval: a longer one walks it fewer times.
# Only cyclic garbage waits for them (refcounting frees the rest).
YOUNG_GENERATION_THRESHOLD = 200_000


def settle_garbage_collector() -> None:
    """Freeze what start-up allocated and run the cyclic collector less often.

    A collection walks every tracked object of the generations it collects. After imports
    and set-up, the oldest generation holds over a hundred thousand objects (modules, pydantic
    schemas, the Temporal SDK) that live as long as the process, and every full collection
    walked them all; the default threshold ran young collections every 700 allocations, so
    objects still in use by a batch were promoted and later walked again. Frozen objects are
    never collected: call this once, after start-up, not per request.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, 10, 10)
