"""A refusal: something Saku will not do, said in English words (the JSON API's reason, the
logs') with a stable code and the values those words name, by which a page says it in its
own language (api/web/i18n.py, `coded`)."""

from __future__ import annotations


class Refusal(ValueError):
    """The message says why, in English; `code` (with `values`) says it for pages to word
    in their language ("" for a refusal no page shows)."""

    def __init__(self, message: str, code: str = "", **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.values = values
