"""The pages' words: every English text has its Bahasa Indonesia translation (and no
translation lacks its English), a missing text shows its key, and durations read well."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from api.web.i18n import CATALOGUE, duration, t

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "web" / "templates"
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
