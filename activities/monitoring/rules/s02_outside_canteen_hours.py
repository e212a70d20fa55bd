"""s02 Purchase outside canteen hours.

The canteen is open in [opens, closes) local minutes of the day; a window whose closing
minute is earlier than its opening minute runs past midnight, and an empty window
(opens == closes) means the canteen is closed all day. Measured: how many whole minutes the
purchase lies outside the window, counting its own minute - 0 inside, 1 for the minute just
before opening or the closing minute itself, and otherwise the distance to the nearer end of
the window (at most 720 for a non-empty window). Exits .x01 when there is no school context
or the hours or the local time are unknown.
"""

from __future__ import annotations

from activities.monitoring.rules.base import Needs, Parameters, Rule, rule_config
from core.monitoring.classify import INSUFFICIENT_HISTORY, Exit, Measurement
from core.monitoring.transactions import Features, Transaction

MINUTES_PER_DAY = 1440


def measure(tx: Transaction, features: Features, parameters: Parameters) -> Measurement:
    school = features.school
    if school is None:
        return Exit(INSUFFICIENT_HISTORY)
    opens, closes, now = (
        school.canteen_opens_minute,
        school.canteen_closes_minute,
        school.local_minute_of_day,
    )
    if opens is None or closes is None or now is None:
        return Exit(INSUFFICIENT_HISTORY)
    open_for = (closes - opens) % MINUTES_PER_DAY
    if (now - opens) % MINUTES_PER_DAY < open_for:
        return 0
    # both distances are 1..1440 so a purchase outside the window never measures 0
    after_closing = (now - closes) % MINUTES_PER_DAY + 1
    before_opening = (opens - now - 1) % MINUTES_PER_DAY + 1
    return min(after_closing, before_opening)


RULE = Rule(
    measure=measure,
    needs=frozenset({Needs.SCHOOL}),
    default_config=rule_config(
        "s02",
        "Purchase outside canteen hours",
        exits=[
            (".x00", "Unsuccessful transaction"),
            (".x01", "Insufficient data: canteen hours or local time unknown"),
        ],
        bands=[
            (None, 1, ".01", "Purchase during canteen hours"),
            (1, 30, ".02", "Purchase less than 30 minutes outside canteen hours"),
            (30, 120, ".03", "Purchase 30 minutes to 2 hours outside canteen hours"),
            (120, None, ".04", "Purchase 2 hours or more outside canteen hours"),
        ],
    ),
)
