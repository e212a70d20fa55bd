"""The school office's pure parts: amounts as a school reads them, the guardian a leaver's
balance goes back to, and the payout request the bank reads."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from activities.wallet.directory import Conflict, DirectoryError, NotFound
from activities.wallet.payouts import Payout, _payee, payout_request
from api.web.office import rupiah


def test_amounts_read_as_rupiah_in_each_language() -> None:
    assert rupiah(Decimal("12500.0000"), "id") == "Rp 12.500"
    assert rupiah(Decimal("12500.0000"), "en") == "Rp 12,500"
    assert rupiah(Decimal("1234.5"), "id") == "Rp 1.234,50"
    assert rupiah(Decimal("1234.5"), "en") == "Rp 1,234.50"
    assert rupiah(Decimal(0), "id") == "Rp 0"
    assert rupiah(None, "id") == "-"


def test_the_balance_goes_to_the_named_or_only_guardian() -> None:
    one = {"g-1": "Ibu Sari"}
    two = {"g-1": "Ibu Sari", "g-2": "Pak Budi"}
    assert _payee(one, None, "s") == ("g-1", "Ibu Sari")
    assert _payee(two, "g-2", "s") == ("g-2", "Pak Budi")
    with pytest.raises(DirectoryError, match="name the one to pay back"):
        _payee(two, None, "s")
    with pytest.raises(NotFound):
        _payee(two, "g-3", "s")
    with pytest.raises(Conflict, match="no guardian"):
        _payee({}, None, "s")


def test_the_payout_request_names_what_the_bank_needs() -> None:
    at = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    payout = Payout("po-1", "stu-1", "g-1", "Ibu Sari", Decimal("15000"), "moved", "sent", at, None)
    assert payout_request("t", payout) == {
        "type": "payout.requested",
        "payoutId": "po-1",
        "tenantId": "t",
        "studentId": "stu-1",
        "guardianId": "g-1",
        "guardianName": "Ibu Sari",
        "amount": "15000",
        "currency": "IDR",
        "reason": "moved",
        "requestedAt": "2026-12-07T05:00:00+00:00",
    }
