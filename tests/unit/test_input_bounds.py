"""Bounds on what enters: ISO 20022 texts at the standard's lengths, self-check records that
fit in a workflow's input (found by the fuzz, tests/integration/test_fuzz.py)."""

from __future__ import annotations

import pytest

from api.intake.consumer import Rejected
from api.intake.messages import IntakeError, parse_message
from api.intake.selfcheck import parse_check
from saku.iso20022_samples import pacs008, pain001

TENANT = "bank-a"


def test_remittance_information_is_at_most_140_characters() -> None:
    message = pacs008(tenant_id=TENANT)
    message["FIToFICstmrCdtTrf"]["RmtInf"]["Ustrd"] = "x" * 140
    assert parse_message(message, TENANT).description == "x" * 140
    message["FIToFICstmrCdtTrf"]["RmtInf"]["Ustrd"] = "x" * 5_000_000
    with pytest.raises(IntakeError, match=r"RmtInf\.Ustrd: string should have at most 140"):
        parse_message(message, TENANT)


@pytest.mark.parametrize(
    ("path", "length"),
    [
        (("FIToFICstmrCdtTrf", "GrpHdr", "MsgId"), 35),
        (("FIToFICstmrCdtTrf", "CdtTrfTxInf", "PmtId", "EndToEndId"), 35),
        (("FIToFICstmrCdtTrf", "CdtTrfTxInf", "Dbtr", "Nm"), 140),
        (("FIToFICstmrCdtTrf", "CdtTrfTxInf", "DbtrAcct", "Nm"), 70),
        (("FIToFICstmrCdtTrf", "CdtTrfTxInf", "DbtrAcct", "Id", "Othr", 0, "Id"), 34),
        (("FIToFICstmrCdtTrf", "CdtTrfTxInf", "ChrgBr"), 4),
        (("FIToFICstmrCdtTrf", "RgltryRptg", "Dtls", "Cd"), 10),
    ],
)
def test_iso_texts_are_bounded_at_their_type_length(
    path: tuple[str | int, ...], length: int
) -> None:
    message = pacs008(tenant_id=TENANT)
    node = message
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = "a" * length
    parse_message(message, TENANT)
    node[path[-1]] = "a" * (length + 1)
    with pytest.raises(IntakeError, match=f"at most {length} character"):
        parse_message(message, TENANT)


def test_pain_names_are_bounded_too() -> None:
    message = pain001(tenant_id=TENANT)
    message["CstmrCdtTrfInitn"]["PmtInf"]["Dbtr"]["Nm"] = "n" * 141
    with pytest.raises(IntakeError, match=r"Dbtr\.Nm"):
        parse_message(message, TENANT)


def test_a_self_check_record_must_fit_a_workflow_input() -> None:
    assert parse_check({"check_id": "c1"}).source == "kafka"
    with pytest.raises(Rejected, match="source"):
        parse_check({"check_id": "c1", "source": "x" * 3_000_000})
    with pytest.raises(Rejected, match="check_id"):
        parse_check({"check_id": "c" * 65})
    with pytest.raises(Rejected, match="source"):
        parse_check({"check_id": "c1", "source": {"nested": 1}})
