"""The pages' words: every English text has its Bahasa Indonesia translation (and no
translation lacks its English), a missing text shows its key, durations read well, and
every reason other parts of Saku give in English (declines, refusals, consent, what the
stores refuse the school office) reaches a page in its language by a stable code."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from activities.wallet.directory import Conflict
from activities.wallet.kiosk_keys import KioskKeyNotFound
from activities.wallet.portal import PortalRefused
from api.web import office
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


# what the school office's pages call, and the refusals each can raise: every one of them
# reaches an office page (functions: only those, where a module has others)
OFFICE_REFUSALS: dict[str, tuple[set[str], set[str] | None]] = {
    "activities/wallet/payouts.py": ({"DirectoryError", "NotFound", "Conflict"}, None),
    "activities/wallet/refunds.py": ({"DirectoryError", "NotFound", "Conflict"}, None),
    "activities/wallet/kiosk_keys.py": (
        {"KioskKeyError", "KioskKeyNotFound", "KioskKeyConflict"},
        None,
    ),
    "activities/wallet/directory.py": (
        {"DirectoryError", "NotFound", "Conflict"},
        {"create_kiosk", "_explain"},
    ),
}
FIELDS = re.compile(r"\{(\w+)\}")


def _refusals(path: str, classes: set[str], functions: set[str] | None) -> list[ast.Call]:
    tree = ast.parse((ROOT / path).read_text())
    scopes: list[ast.AST] = (
        [tree]
        if functions is None
        else [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in functions
        ]
    )
    return [
        node
        for scope in scopes
        for node in ast.walk(scope)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in classes
    ]


def test_every_refusal_the_office_shows_has_a_text_by_its_code() -> None:
    problems = []
    codes = set()
    for path, (classes, functions) in OFFICE_REFUSALS.items():
        calls = _refusals(path, classes, functions)
        assert calls, path
        for call in calls:
            where = f"{path}:{call.lineno}"
            if len(call.args) < 2 or not isinstance(call.args[1], ast.Constant):
                problems.append(f"{where}: no code")
                continue
            code = str(call.args[1].value)
            codes.add(code)
            text = CATALOGUE["id"].get(f"office_refused_{code}")
            named = {k.arg for k in call.keywords}
            if text is None:
                problems.append(f"{where}: no text for {code!r}")
            elif not set(FIELDS.findall(text)) <= named:
                problems.append(f"{where}: {code!r} names values the refusal lacks")
            if named & {"key", "lang", "words"}:  # `coded`'s own parameters
                problems.append(f"{where}: a value named as a parameter of `coded`")
    assert problems == []
    assert {"no_payment", "payout_not_rejected", "no_key", "several_guardians"} <= codes


def test_the_office_says_its_own_refusals_from_the_catalogue() -> None:
    # a PageError's reason is "" (the status's own text) or words from the catalogue
    tree = ast.parse((ROOT / "api/web/office.py").read_text())
    worded = [
        f"line {node.lineno}: {ast.unparse(node.args[1])}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) == "PageError"
        and len(node.args) > 1
        and (
            isinstance(node.args[1], ast.JoinedStr)
            or (isinstance(node.args[1], ast.Constant) and node.args[1].value != "")
        )
    ]
    assert worded == []


def test_a_refusal_reads_in_the_office_pages_language() -> None:
    refused = Conflict(
        "payment 'tx-1' is refunded: nothing to give back",
        "payment_not_approved",
        payment="tx-1",
        payment_status="refunded",
    )
    assert office.refusal_text(refused, "id") == (
        "pembayaran 'tx-1' berstatus dikembalikan: tidak ada yang dapat dikembalikan"
    )
    assert office.refusal_text(refused, "en") == str(refused)
    missing = KioskKeyNotFound("kiosk 'k-1' has no key 'x'", "no_key", kiosk="k-1", key_id="x")
    assert office.refusal_text(missing, "id") == "kios 'k-1' tidak punya kunci 'x'"
    # a refusal without a code: the catalogue's general words, never English on a page
    assert office.refusal_text(ValueError("ledger: no"), "id") == "Ini tidak dapat dilakukan."
    assert office.refusal_text(ValueError("ledger: no"), "en") == "ledger: no"
