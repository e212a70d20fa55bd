"""The school office's pure parts: amounts as a school reads them, the guardian a leaver's
balance goes back to, the payout request the bank reads, the bank's answer as the consumer
reads it, and which answer a payout takes in which state."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from activities.wallet.directory import Conflict, DirectoryError, NotFound
from activities.wallet.ledger import Entry, payout, payout_paid
from activities.wallet.payouts import Payout, PayoutActivities, _payee, payout_request
from activities.wallet.portal import Notice
from api.intake.consumer import Rejected
from api.intake.payout_results import parse
from api.web.guardian import notice_text
from api.web.office import rupiah
from core.wallet.payouts import AnswerRefused, Outcome, PayoutAnswer, PayoutState, takes
from core.wallet.types import PayoutRef


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


def record(value: Any) -> ConsumerRecord[bytes, bytes]:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return ConsumerRecord("saku.payout-results", 0, 7, 0, 0, b"po-1", raw, None, 4, len(raw), [])


PAID = {"payoutId": "po-1", "tenantId": "t", "outcome": "paid", "bankReference": "BCA-1"}


def test_the_banks_answer_reads_into_a_payout_answer() -> None:
    at = "2026-12-07T10:00:00+07:00"
    assert parse(record(PAID | {"amount": "15000", "answeredAt": at})) == PayoutAnswer(
        "t", "po-1", "paid", "BCA-1", None, Decimal(15000), datetime.fromisoformat(at)
    )
    rejected = parse(record(PAID | {"outcome": "rejected", "reason": " account closed "}))
    assert (rejected.outcome, rejected.reason, rejected.amount) == (
        "rejected",
        "account closed",
        None,
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{oops", "malformed JSON"),
        (b"[1]", "expected a JSON object"),
        ({k: v for k, v in PAID.items() if k != "payoutId"}, "payoutId: Field required"),
        (PAID | {"payoutId": "po 1/../x"}, "payoutId: String should match pattern"),
        (PAID | {"payoutId": "p" * 65}, "payoutId"),
        (PAID | {"outcome": "maybe"}, "outcome: Input should be 'paid' or 'rejected'"),
        (PAID | {"outcome": "rejected"}, "a rejected payout needs the bank's reason"),
        (PAID | {"outcome": "rejected", "reason": "   "}, "needs the bank's reason"),
        (PAID | {"outcome": "rejected", "reason": "x" * 301}, "reason"),
        (PAID | {"reason": "why not"}, "a paid payout has no reason"),
        (PAID | {"amount": "-1"}, "amount"),
        (PAID | {"amount": "1.00001"}, "amount"),
        (PAID | {"currency": "USD"}, "currency"),
        (PAID | {"answeredAt": "2026-12-07T10:00:00"}, "answeredAt needs a timezone"),
        (PAID | {"bankReference": ""}, "bankReference"),
        (PAID | {"note": "hi"}, "note: Extra inputs are not permitted"),
    ],
)
def test_a_bad_answer_is_refused_with_its_reason(value: Any, reason: str) -> None:
    with pytest.raises(Rejected) as refused:
        parse(record(value))
    assert reason in str(refused.value)


def answer_of(
    outcome: Outcome = "paid", reference: str = "BCA-1", amount: str | None = None
) -> PayoutAnswer:
    return PayoutAnswer(
        "t", "po-1", outcome, reference, None, None if amount is None else Decimal(amount), None
    )


def state(status: str, reference: str | None = None, replaced_by: str | None = None) -> PayoutState:
    return PayoutState("po-1", status, Decimal(15000), reference, replaced_by)


def test_a_payout_waiting_for_the_bank_takes_either_answer() -> None:
    for status in ("requested", "sent"):
        assert takes(state(status), answer_of("paid"))
        assert takes(state(status), answer_of("rejected"))
        assert takes(state(status), answer_of("paid", amount="15000.0000"))


def test_the_same_answer_again_changes_nothing_and_any_other_is_refused() -> None:
    assert not takes(state("paid", "BCA-1"), answer_of("paid", "BCA-1"))
    assert not takes(state("rejected", "BCA-1"), answer_of("rejected", "BCA-1"))
    with pytest.raises(AnswerRefused, match="was paid already"):
        takes(state("paid", "BCA-1"), answer_of("paid", "BCA-2"))
    with pytest.raises(AnswerRefused, match="was paid already"):
        takes(state("paid", "BCA-1"), answer_of("rejected", "BCA-1"))
    with pytest.raises(AnswerRefused, match="was rejected already"):
        takes(state("rejected", "BCA-1"), answer_of("paid", "BCA-1"))
    with pytest.raises(AnswerRefused, match="sent again as 'po-2'"):
        takes(state("rejected", "BCA-1", "po-2"), answer_of("paid", "BCA-9"))


def test_an_answer_for_another_amount_is_refused_whatever_the_state() -> None:
    for status in ("sent", "paid"):
        with pytest.raises(AnswerRefused, match="is for 15000, but the answer says 14999"):
            takes(state(status, "BCA-1"), answer_of("paid", "BCA-1", amount="14999"))


def test_a_paid_payout_leaves_payouts_pending_through_the_banks_clearing_account() -> None:
    owed = payout("wallet:s", "payouts:pending", Decimal(15000))
    paid = payout_paid("payouts:pending", "clearing:topups", Decimal(15000))
    assert paid == [
        Entry("payouts:pending", Decimal(-15000)),
        Entry("clearing:topups", Decimal(15000)),
    ]
    pending = sum(e.amount for e in owed + paid if e.account_id == "payouts:pending")
    assert pending == 0 and sum(e.amount for e in paid) == 0


class Stored:
    """The payouts store, as far as sending a request needs it."""

    def __init__(self, found: Payout) -> None:
        self.found = found
        self.marked: list[str] = []

    async def get(self, tenant: str, payout_id: str) -> Payout:
        return self.found

    async def mark_sent(self, tenant: str, payout_id: str) -> None:
        self.marked.append(payout_id)


@pytest.mark.parametrize("status", ["sent", "paid", "rejected"])
async def test_a_payout_on_the_topic_or_answered_is_never_requested_again(status: str) -> None:
    at = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    found = Payout("po-1", "stu-1", "g-1", "Ibu Sari", Decimal(1), "moved", status, at, at)
    published: list[bytes] = []

    async def publish(tenant: str, key: bytes, value: bytes) -> None:
        published.append(value)

    sender = PayoutActivities(Stored(found), publish)  # type: ignore[arg-type]
    assert await sender.send(PayoutRef("t", "po-1")) == status
    assert published == []


async def test_a_requested_payout_is_published_then_marked_sent() -> None:
    at = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    store = Stored(
        Payout("po-1", "stu-1", "g-1", "Ibu Sari", Decimal(1), "moved", "requested", at, None)
    )
    published: list[bytes] = []

    async def publish(tenant: str, key: bytes, value: bytes) -> None:
        published.append(key)

    sender = PayoutActivities(store, publish)  # type: ignore[arg-type]
    assert await sender.send(PayoutRef("t", "po-1")) == "sent"
    assert (published, store.marked) == ([b"po-1"], ["po-1"])


def test_guardians_read_what_became_of_the_payout_in_their_language() -> None:
    at = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    paid = Notice(
        1, "stu-1", "payout_paid", {"amount": "15000.0000", "payoutId": "po-1"}, at, False
    )
    assert (
        notice_text(paid, "Budi", "en")
        == "Budi: the balance of Rp 15,000 was paid back by the bank."
    )
    assert notice_text(paid, "Budi", "id") == "Budi: saldo Rp 15.000 sudah dikembalikan oleh bank."
    refused = Notice(
        2, "stu-1", "payout_rejected", {"amount": "15000", "reason": "account closed"}, at, False
    )
    assert "could not pay back Rp 15,000: account closed" in notice_text(refused, "Budi", "en")
    left = Notice(3, "stu-1", "student_left", {"amount": "15000"}, at, False)
    assert notice_text(left, "Budi", "id").startswith("Budi telah keluar dari sekolah")
