"""Search attributes Saku registers in its namespace, defined once.

Operators find evaluations and payments in the Temporal UI by these. They carry no personal
data: tenant and school ids, message types, statuses, scores and message ids only.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.common import SearchAttributeKey

TENANT = SearchAttributeKey.for_keyword("SakuTenant")
SCHOOL = SearchAttributeKey.for_keyword("SakuSchool")
KIND = SearchAttributeKey.for_keyword("SakuKind")
MESSAGE_TYPE = SearchAttributeKey.for_keyword("SakuMessageType")
MESSAGE_ID = SearchAttributeKey.for_keyword("SakuMessageId")
STATUS = SearchAttributeKey.for_keyword("SakuStatus")
SCORE = SearchAttributeKey.for_float("SakuScore")

ALL: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    TENANT,
    SCHOOL,
    KIND,
    MESSAGE_TYPE,
    MESSAGE_ID,
    STATUS,
    SCORE,
)

# The names Temporal's CLI uses for each indexed value type.
_CLI_TYPE_NAMES = {
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD: "Keyword",
    IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE: "Double",
    IndexedValueType.INDEXED_VALUE_TYPE_INT: "Int",
    IndexedValueType.INDEXED_VALUE_TYPE_TEXT: "Text",
    IndexedValueType.INDEXED_VALUE_TYPE_BOOL: "Bool",
    IndexedValueType.INDEXED_VALUE_TYPE_DATETIME: "Datetime",
    IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST: "KeywordList",
}


def cli_definitions() -> dict[str, str]:
    """name -> CLI type name, e.g. {"SakuTenant": "Keyword"}."""
    return {
        key.name: _CLI_TYPE_NAMES[IndexedValueType.ValueType(key.indexed_value_type)] for key in ALL
    }
