"""May this purchase or top-up go ahead? Pure functions of the request and the facts loaded
for it, checked in the order a school office would explain them.

Reasons are written for the child at the kiosk (and the guardian reading the history):
short, plain, no jargon. Codes are stable for systems.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.wallet.types import Decline


@dataclass(frozen=True)
class StudentFacts:
    """The student, wallet and limits as they stand before this movement."""

    exists: bool
    status: str = "active"  # active | suspended | left
    school_id: str = ""
    balance: Decimal = Decimal(0)
    daily_limit: Decimal | None = None
    weekly_limit: Decimal | None = None
    spent_today: Decimal = Decimal(0)
    spent_this_week: Decimal = Decimal(0)


@dataclass(frozen=True)
class CategoryFacts:
    name: str
    blocked: bool = False
    daily_limit: Decimal | None = None
    spent_today: Decimal = Decimal(0)


UNKNOWN_STUDENT = Decline("unknown_student", "We don't know this student. Please see the office.")
INACTIVE = Decline("student_inactive", "Your wallet is not active. Please see the school office.")
OTHER_SCHOOL = Decline("other_school", "This kiosk is at another school.")
INSUFFICIENT = Decline("insufficient_funds", "Not enough money in your wallet.")
DAILY_LIMIT = Decline("daily_limit", "Daily limit reached.")
WEEKLY_LIMIT = Decline("weekly_limit", "Weekly limit reached.")
UNKNOWN_CATEGORY = Decline("unknown_category", "This item's category is not set up.")
MONITORING_HOLD = Decline("monitoring_hold", "This payment needs a check. Please see the office.")
TOPUP_HOLD = Decline("monitoring_hold", "This top-up is held for a check by the school.")


def category_blocked(category: CategoryFacts) -> Decline:
    return Decline("category_blocked", f"{category.name} is blocked by your parent.")


def category_limit(category: CategoryFacts) -> Decline:
    return Decline("category_limit", f"Daily limit for {category.name} reached.")


def effective_cap(saku_cap: Decimal, school_cap: Decimal | None) -> Decimal:
    """The e-money cap on a wallet: Saku's, or the school's if it set a lower one."""
    return saku_cap if school_cap is None else min(saku_cap, Decimal(school_cap))


def balance_cap(cap: Decimal) -> Decline:
    return Decline(
        "balance_cap", f"This top-up would take the wallet above its limit of {cap:,.0f}."
    )


def _reaches(limit: Decimal | None, spent: Decimal, amount: Decimal) -> bool:
    return limit is not None and spent + amount > limit


def authorise_purchase(
    amount: Decimal,
    kiosk_school_id: str,
    student: StudentFacts,
    category: CategoryFacts | None,
    category_given: bool,
) -> Decline | None:
    """None if the purchase may go to monitoring; otherwise the first reason it may not."""
    if not student.exists:
        return UNKNOWN_STUDENT
    if student.status != "active":
        return INACTIVE
    if student.school_id != kiosk_school_id:
        return OTHER_SCHOOL
    if category_given and category is None:
        return UNKNOWN_CATEGORY
    if category is not None and category.blocked:
        return category_blocked(category)
    if student.balance < amount:
        return INSUFFICIENT
    if _reaches(student.daily_limit, student.spent_today, amount):
        return DAILY_LIMIT
    if _reaches(student.weekly_limit, student.spent_this_week, amount):
        return WEEKLY_LIMIT
    if category is not None and _reaches(category.daily_limit, category.spent_today, amount):
        return category_limit(category)
    return None


def authorise_topup(amount: Decimal, student: StudentFacts, cap: Decimal) -> Decline | None:
    """A top-up is refused for a wallet that is closed or would exceed the e-money cap."""
    if not student.exists:
        return UNKNOWN_STUDENT
    if student.status == "left":
        return INACTIVE
    if student.balance + amount > cap:
        return balance_cap(cap)
    return None
