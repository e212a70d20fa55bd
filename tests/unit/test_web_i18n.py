"""The pages' words: every English text has its Bahasa Indonesia translation (and no
translation lacks its English), a missing text shows its key, durations read well, and
every reason other parts of Saku give in English (declines, refusals, consent) reaches a
page in its language by a stable code."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from activities.wallet.portal import PortalRefused
from api.web.guardian import refusal_text, told
from api.web.i18n import CATALOGUE, coded, duration, t
from core.biometrics import consent

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "api" / "web" / "templates"
_T = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
# names that read the same in both languages
SAME_IN_BOTH = {"saku"}


def test_both_languages_have_the_same_texts() -> None:
    english, indonesian = set(CATALOGUE["en"]), set(CATALOGUE["id"])
    assert english - indonesian - SAME_IN_BOTH == set()
    assert indonesian - english == set()


def test_translations_take_the_same_values() -> None:
    fields = re.compile(r"\{(\w+)\}")
    for key, text in CATALOGUE["id"].items():
        assert set(fields.findall(text)) == set(fields.findall(CATALOGUE["en"][key])), key


def test_every_text_the_templates_name_is_in_the_catalogue() -> None:
    # literal keys only (`t("status_" ~ s)` builds its key from a value)
    named = re.compile(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""")
    missing = {
        (path.name, key)
        for path in TEMPLATES.rglob("*.html")
        for key in named.findall(path.read_text())
        if key not in CATALOGUE["en"]
    }
    assert missing == set()


def test_a_missing_text_shows_its_key_and_values_fill_in() -> None:
    assert t("no-such-text", "id") == "no-such-text"
    assert t("queue_intro", "id", count=3) == "Kasus yang belum diputuskan, 3 ditampilkan."
    assert t("sign_out", "xx") == "Sign out"  # an unknown language falls back to English


def test_durations_read_to_two_units() -> None:
    assert duration(timedelta(seconds=45)) == "45 s"
    assert duration(timedelta(hours=3, minutes=10, seconds=5)) == "3 h 10 min"
    assert duration(timedelta(days=2, hours=5, minutes=1)) == "2 d 5 h"
    assert duration(timedelta(days=1)) == "1 d"
    assert duration(timedelta(hours=-2)) == "2 h"
    assert duration(timedelta(minutes=5), "id") == "5 mnt"


def _codes(path: str, call: str, position: int) -> set[str]:
    """The string given as argument `position` of every `call(...)` in a source file."""
    return {
        str(node.args[position].value)
        for node in ast.walk(ast.parse((ROOT / path).read_text()))
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) == call
        and len(node.args) > position
        and isinstance(node.args[position], ast.Constant)
    }


def test_every_reason_a_page_shows_has_a_text_by_its_code() -> None:
    declines = _codes("core/wallet/authorisation.py", "Decline", 0) | _codes(
        "activities/wallet/payments.py", "Decline", 0
    )
    assert {"insufficient_funds", "category_blocked", "balance_cap", "kiosk_inactive"} <= declines
    assert sorted(c for c in declines if f"told_{c}" not in CATALOGUE["id"]) == []
    refusals = _codes("activities/wallet/portal.py", "PortalRefused", 1)
    assert {"same_child", "insufficient_funds", "sibling_cap"} <= refusals
    assert sorted(c for c in refusals if f"refused_{c}" not in CATALOGUE["id"]) == []
    codes = {v for k, v in vars(consent).items() if k.isupper() and isinstance(v, str)}
    assert len(codes) == 5
    assert sorted(c for c in codes if f"consent_{c}" not in CATALOGUE["id"]) == []


def test_words_written_in_english_elsewhere_read_in_the_pages_language() -> None:
    assert coded("told_daily_limit", "id", "Daily limit reached.") == "Batas harian tercapai."
    # English pages show the words as the child was told them
    assert coded("told_daily_limit", "en", "Daily limit reached!") == "Daily limit reached!"
    # a code the catalogue does not know, or a value it lacks: the words, never the key
    assert coded("told_no_such_code", "id", "Something new.") == "Something new."
    assert told("category_blocked", "Snacks is blocked.", "id", None) == "Snacks is blocked."
    assert told("category_blocked", "Snacks is blocked.", "id", "Snacks") == (
        "Snacks diblokir oleh orang tua."
    )
    refused = PortalRefused(
        "the sibling's wallet would pass its limit of 2,000,000",
        "sibling_cap",
        cap=Decimal(2_000_000),
    )
    assert (
        refusal_text(refused, "id")
        == "dompet saudaranya akan melewati batasnya sebesar Rp 2.000.000"
    )
    assert refusal_text(refused, "en") == str(refused)


def test_the_consent_reason_reads_the_same_in_english_as_the_api_says_it() -> None:
    for events, guardians in (
        ([], 0),
        ([consent.ConsentEvent("guardian:a", consent.Decision.CONSENT, _T)], 1),
    ):
        status = consent.status(events, ["a"])
        assert t(f"consent_{status.code}", "en", n=status.guardians) == status.reason
        assert t(f"consent_{status.code}", "id", n=status.guardians) != status.reason
        assert status.guardians == guardians
