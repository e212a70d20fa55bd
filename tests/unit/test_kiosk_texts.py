"""The kiosk screen's words: every text in both languages, every decline Saku or the agent
can give translated, and amounts read and written the way each language writes them."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from core.i18n import Catalogue
from devices.kiosk.screen import Problem, Sale, check_sale, parse_amount, rupiah
from devices.kiosk.texts import TEXTS

ROOT = Path(__file__).resolve().parents[2]


def _codes(path: str, call: str) -> set[str]:
    """The first string argument of every `call(...)` in a source file."""
    found = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) == call
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def _keywords(path: str, keyword: str) -> set[str]:
    """Every string given as `keyword=` in a source file."""
    found = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if (
            isinstance(node, ast.keyword)
            and node.arg == keyword
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found.add(node.value.value)
    return found


def test_every_text_is_in_both_languages() -> None:
    assert TEXTS.missing() == {}
    assert list(TEXTS.languages) == ["id", "en"]


def test_every_decline_saku_or_the_agent_gives_has_words_for_the_child() -> None:
    saku = _codes("core/wallet/authorisation.py", "Decline") | _codes(
        "activities/wallet/payments.py", "Decline"
    )
    saku.discard("balance_cap")  # a top-up's decline: the bank sees it, never a kiosk
    agent = _keywords("devices/kiosk/agent.py", "code") | {"wrong_pin", "pin_locked", "no_pin"}
    assert {"insufficient_funds", "category_blocked", "kiosk_inactive"} <= saku
    assert {"not_recognised", "offline_limit", "approved_offline"} <= agent
    untranslated = sorted(c for c in saku | agent if not TEXTS.has(f"reason.{c}"))
    assert untranslated == []


def test_a_category_decline_names_the_category() -> None:
    assert TEXTS.text("id", "reason.category_blocked", category="Jajanan") == (
        "Jajanan diblokir oleh orang tuamu."
    )
    assert TEXTS.text("en", "reason.category_limit", category="Snacks") == (
        "Daily limit for Snacks reached."
    )


def test_a_catalogue_falls_back_to_its_default_and_knows_what_is_missing() -> None:
    texts = Catalogue({"id": {"hi": "Halo {name}", "bye": "Dah"}, "en": {"hi": "Hello {name}"}})
    assert texts.language("en") == "en"
    assert texts.language("fr") == "id"  # not offered: the default
    assert texts.language(None) == "id"
    assert texts.text("en", "hi", name="Budi") == "Hello Budi"
    assert texts.text("en", "bye") == "Dah"
    assert texts.missing() == {"en": ["bye"]}
    with pytest.raises(KeyError):
        texts.text("id", "no-such-key")
    with pytest.raises(ValueError, match="default language"):
        Catalogue({"en": {}})


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("5000", Decimal(5000)), ("5.000", Decimal(5000)), ("Rp 12,500", Decimal(12500))],
)
def test_amounts_are_read_with_or_without_separators(typed: str, amount: Decimal) -> None:
    assert parse_amount(typed) == amount


@pytest.mark.parametrize("typed", ["", "0", "abc", "-5", "1e3", "12.5x", "5²", "٣٠٠"])
def test_an_amount_that_is_not_one_asks_for_the_amount(typed: str) -> None:
    assert parse_amount(typed) == Problem("amount_missing", "amount")


def test_an_amount_above_what_saku_accepts_is_refused_at_the_screen() -> None:
    assert parse_amount("10000000") == Decimal(10_000_000)
    assert parse_amount("10000001") == Problem("amount_too_large", "amount")


def test_rupiah_are_written_as_each_language_writes_them() -> None:
    assert rupiah("21000.0000", "id") == "Rp 21.000"
    assert rupiah(Decimal(1234567), "en") == "Rp 1,234,567"
    assert rupiah(None, "id") == "Rp 0"


@pytest.mark.parametrize(
    ("sale", "pin", "problem"),
    [
        (Sale(method="fingerprint"), "", None),
        (Sale(category="Snacks!"), "", Problem("unknown_category", "amount")),
        (Sale(method="qr"), "", Problem("student_missing", "student")),
        (Sale(method="qr", student="stu 1"), "", Problem("student_invalid", "student")),
        (Sale(method="qr", student="stu-1"), "", None),
        (Sale(method="qr_finger"), "", Problem("student_missing", "student")),
        (Sale(method="qr_finger", student="stu-1"), "", None),
        (Sale(method="pin", student="stu-1"), "", Problem("pin_missing", "pin")),
        (Sale(method="pin", student="stu-1"), "12a4", Problem("pin_invalid", "pin")),
        (Sale(method="pin", student="stu-1"), "2468", None),
        (
            Sale(method="override", student="stu-1", staff="x" * 65),
            "",
            Problem("staff_invalid", "staff"),
        ),
    ],
)
def test_a_sale_saku_would_refuse_as_malformed_is_explained_at_the_screen(
    sale: Sale, pin: str, problem: Problem | None
) -> None:
    assert check_sale(sale, pin) == problem
    if problem is not None:
        assert TEXTS.has(f"reason.{problem.code}")
