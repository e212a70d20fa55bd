"""Texts in the languages Saku's screens speak: Bahasa Indonesia first, English on request.

A screen keeps its texts in a `Catalogue` (language -> key -> text, each text with named
`{placeholders}`), picks the language from the person's choice (a cookie, say) and asks for
texts by key. Every language must have every key the default language has (a test checks a
catalogue with `missing()`), so a page never shows a key instead of words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# each language named in itself: that is how a person recognises their own
LANGUAGES: dict[str, str] = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "id"


class Catalogue:
    def __init__(
        self, texts: Mapping[str, Mapping[str, str]], default: str = DEFAULT_LANGUAGE
    ) -> None:
        if default not in texts:
            raise ValueError(f"the catalogue has no texts in its default language {default!r}")
        unknown = set(texts) - set(LANGUAGES)
        if unknown:
            raise ValueError(f"languages without a name in LANGUAGES: {sorted(unknown)}")
        self.texts = texts
        self.default = default

    @property
    def languages(self) -> dict[str, str]:
        """The languages this catalogue offers (code -> name), the default first."""
        order = [self.default, *(code for code in LANGUAGES if code != self.default)]
        return {code: LANGUAGES[code] for code in order if code in self.texts}

    def language(self, wanted: str | None) -> str:
        """The language to use for a person who asked for `wanted` (None: not asked)."""
        return wanted if wanted is not None and wanted in self.texts else self.default

    def has(self, key: str) -> bool:
        return key in self.texts[self.default]

    def text(self, language: str, key: str, **values: object) -> str:
        """The text for `key`, with its placeholders filled in. An unknown key raises
        KeyError: a programming error, not something to show a person."""
        words = self.texts.get(language, {}).get(key)
        if words is None:
            words = self.texts[self.default][key]
        return words.format(**values) if values else words

    def translator(self, language: str) -> Callable[..., str]:
        """`t(key, **values)` in one language, for templates."""

        def t(key: str, **values: object) -> str:
            return self.text(language, key, **values)

        return t

    def missing(self) -> dict[str, list[str]]:
        """Per language, the default language's keys it lacks (and keys it has that the
        default lacks, which no page can ask for)."""
        keys = set(self.texts[self.default])
        found = {}
        for code, texts in self.texts.items():
            gaps = sorted(keys ^ set(texts))
            if gaps:
                found[code] = gaps
        return found
