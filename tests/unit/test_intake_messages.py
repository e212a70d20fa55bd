"""Intake of Tazama-shaped ISO 20022 messages: valid ones normalise, invalid ones say why."""

from __future__ import annotations

import contextlib
import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from api.intake.messages import (
    IntakeError,
    Pacs008,
    Pain001,
    Pain013,
    parse_message,
    validate_message,
)
from core.currencies import is_currency
from core.monitoring.transactions import Transaction, TxType
from saku.iso20022_samples import (
    account_id,
    entity_id,
    financial_transaction,
    pacs002,
    pacs008,
    pain001,
    pain013,
)

TENANT = "school-district-7"
AT = datetime(2025, 11, 23, 7, 15, 30, 250_000, tzinfo=UTC)
AT_MS = 1_763_882_130_250


def rejected(message: object, tenant_id: str = TENANT) -> str:
    with pytest.raises(IntakeError) as info:
        parse_message(message, tenant_id)
    return info.value.reason


def set_path(message: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A copy of `message` with the dotted `path` set to `value` (`Othr.0.Id` for lists)."""
    changed = copy.deepcopy(message)
    *parents, last = path.split(".")
    node: Any = changed
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value
    return changed


def drop_path(message: dict[str, Any], path: str) -> dict[str, Any]:
    changed = copy.deepcopy(message)
    *parents, last = path.split(".")
    node: Any = changed
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    del node[last]
    return changed


# --- valid messages ---------------------------------------------------------------------------


def test_pacs008_normalises_into_a_transaction() -> None:
    message = pacs008(
        "msg-008",
        "e2e-1",
        debtor="guardian_9",
        creditor="student_4",
        amount=75_000.5,
        currency="IDR",
        created_at=AT,
        description="lunch money",
        lat=-6.2,
        lon=106.8,
        debtor_birth_date="1984-02-29",
    )
    assert parse_message(message, TENANT) == Transaction(
        tenant_id=TENANT,
        msg_id="msg-008",
        tx_type=TxType.PACS_008,
        end_to_end_id="e2e-1",
        created_at_ms=AT_MS,
        amount=75_000.5,
        currency="IDR",
        debtor_account=account_id("guardian_9", "fsp001"),
        creditor_account=account_id("student_4", "fsp002"),
        debtor_entity=entity_id("guardian_9"),
        creditor_entity=entity_id("student_4"),
        description="lunch money",
        debtor_lat=-6.2,
        debtor_lon=106.8,
        debtor_birth_date="1984-02-29",
    )


def test_composite_ids_follow_tazama() -> None:
    tx = parse_message(pacs008(debtor="d", creditor="c", debtor_account="acc-d"), TENANT)
    assert tx.debtor_entity == "dTAZAMA_EID"  # Othr[0].Id + SchmeNm.Prtry
    assert tx.debtor_account == "acc-dMSISDNfsp001"  # ... + the agent's MmbId
    assert tx.creditor_account == "cMSISDNfsp002"


def test_pacs002_carries_status_and_leaves_amount_and_parties_to_the_data_cache() -> None:
    tx = parse_message(pacs002("msg-002", "e2e-1", status="RJCT", created_at=AT), TENANT)
    assert tx == Transaction(
        tenant_id=TENANT,
        msg_id="msg-002",
        tx_type=TxType.PACS_002,
        end_to_end_id="e2e-1",
        created_at_ms=AT_MS,
        amount=0.0,
        currency="",
        debtor_account="",
        creditor_account="",
        debtor_entity="",
        creditor_entity="",
        status="RJCT",
    )
    assert tx.unsuccessful


def test_pain001_normalises_into_a_transaction() -> None:
    message = pain001("msg-001", "e2e-1", "g", "s", 12_000, "IDR", AT, description="books")
    tx = parse_message(message, TENANT)
    assert (tx.msg_id, tx.tx_type, tx.end_to_end_id) == ("msg-001", TxType.PAIN_001, "e2e-1")
    assert (tx.created_at_ms, tx.amount, tx.currency) == (AT_MS, 12_000.0, "IDR")
    assert (tx.debtor_entity, tx.creditor_entity) == (entity_id("g"), entity_id("s"))
    assert tx.debtor_account == account_id("g", "fsp001")
    assert tx.creditor_account == account_id("s", "fsp002")
    assert (tx.description, tx.status) == ("books", None)
    assert (tx.debtor_lat, tx.debtor_lon) == (-6.2088, 106.8456)
    assert tx.debtor_birth_date == "1985-04-12"


def test_pain013_normalises_into_a_transaction() -> None:
    message = pain013("msg-013", "e2e-1", "g", "s", 8_500.25, "USD", AT, description=None)
    tx = parse_message(message, TENANT)
    assert (tx.msg_id, tx.tx_type, tx.end_to_end_id) == ("msg-013", TxType.PAIN_013, "e2e-1")
    assert (tx.created_at_ms, tx.amount, tx.currency) == (AT_MS, 8_500.25, "USD")
    assert tx.debtor_account == account_id("g", "fsp001")
    assert tx.creditor_entity == entity_id("s")
    assert tx.description is None  # RmtInf is optional in Tazama's pain.013


def test_a_financial_transaction_shares_one_end_to_end_id() -> None:
    payment = financial_transaction(e2e_id="e2e-ft", created_at=AT, amount=30_000)
    txs = [parse_message(message, TENANT) for message in payment]
    assert [tx.tx_type for tx in txs] == [
        TxType.PAIN_001,
        TxType.PAIN_013,
        TxType.PACS_008,
        TxType.PACS_002,
    ]
    assert {tx.end_to_end_id for tx in txs} == {"e2e-ft"} == {payment.end_to_end_id}
    assert len({tx.msg_id for tx in txs}) == 4
    assert [tx.created_at_ms for tx in txs] == sorted(tx.created_at_ms for tx in txs)
    assert all(tx.amount == 30_000 for tx in txs[:3])


def test_birth_dates_are_exposed_by_the_validated_message() -> None:
    message = validate_message(pacs008(debtor_birth_date="2012-01-31"), TENANT)
    assert isinstance(message, Pacs008)
    assert message.debtor_birth_date is not None
    assert message.debtor_birth_date.isoformat() == "2012-01-31"
    assert isinstance(validate_message(pain001(), TENANT), Pain001)
    assert isinstance(validate_message(pain013(), TENANT), Pain013)


def test_javascript_date_times_are_accepted_for_birth_dates() -> None:
    # Tazama's own samples serialise `new Date('1968-02-01')`
    message = set_path(
        pacs008(),
        "FIToFICstmrCdtTrf.CdtTrfTxInf.Dbtr.Id.PrvtId.DtAndPlcOfBirth.BirthDt",
        "1968-02-01T00:00:00.000Z",
    )
    assert parse_message(message, TENANT).debtor_birth_date == "1968-02-01"


def test_date_times_with_an_offset_are_converted_to_utc_milliseconds() -> None:
    message = pacs008(created_at="2025-11-23T14:15:30.250+07:00")
    assert parse_message(message, TENANT).created_at_ms == AT_MS


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        ("-3,1609", "38,3588", (-3.1609, 38.3588)),  # decimal comma, as in Tazama's samples
        (-3.1609, 38.3588, (-3.1609, 38.3588)),  # numbers, as Tazama's test tooling sends
        ("", "", (None, None)),  # unknown
    ],
)
def test_geolocation_forms(lat: object, lon: object, expected: tuple[float | None, ...]) -> None:
    glctn = "FIToFICstmrCdtTrf.SplmtryData.Envlp.Doc.InitgPty.Glctn"
    message = set_path(set_path(pacs008(), f"{glctn}.Lat", lat), f"{glctn}.Long", lon)
    tx = parse_message(message, TENANT)
    assert (tx.debtor_lat, tx.debtor_lon) == expected


def test_geolocation_is_optional() -> None:
    tx = parse_message(pacs008(with_geolocation=False), TENANT)
    assert (tx.debtor_lat, tx.debtor_lon) == (None, None)


def test_an_extra_unknown_field_is_tolerated() -> None:
    message = pacs008("msg-x")
    message["DataCache"] = {"dbtrId": "whatever"}  # Tazama's own test tooling sends this
    message["FIToFICstmrCdtTrf"]["CdtTrfTxInf"]["Dbtr"]["PstlAdr"] = {"TwnNm": "Bandung"}
    assert parse_message(message, TENANT).msg_id == "msg-x"


def test_a_tenant_id_equal_to_the_callers_is_accepted() -> None:
    tx = parse_message(pacs008(tenant_id=TENANT), TENANT)
    assert tx.tenant_id == TENANT


# --- rejected messages ------------------------------------------------------------------------


def test_missing_msg_id_is_rejected() -> None:
    reason = rejected(drop_path(pacs008(), "FIToFICstmrCdtTrf.GrpHdr.MsgId"))
    assert reason == "FIToFICstmrCdtTrf.GrpHdr.MsgId: field required"


def test_blank_msg_id_is_rejected() -> None:
    reason = rejected(set_path(pacs002(), "FIToFIPmtSts.GrpHdr.MsgId", "  "))
    assert reason == "FIToFIPmtSts.GrpHdr.MsgId: must not be blank"


def test_negative_amount_is_rejected() -> None:
    reason = rejected(pacs008(amount=-10.0))
    assert "FIToFICstmrCdtTrf.CdtTrfTxInf.InstdAmt.Amt.Amt: input should be greater than 0" in (
        reason
    )


def test_zero_and_non_numeric_amounts_are_rejected() -> None:
    path = "CstmrCdtTrfInitn.PmtInf.CdtTrfTxInf.Amt.InstdAmt.Amt.Amt"
    assert rejected(set_path(pain001(), path, 0)) == f"{path}: input should be greater than 0"
    assert rejected(set_path(pain001(), path, "100")) == f"{path}: input should be a valid number"
    assert rejected(set_path(pain001(), path, True)) == f"{path}: input should be a valid number"


def test_zero_charges_are_accepted() -> None:
    # fees and charges may be 0 (Tazama's own messages send 0.00)
    assert parse_message(pacs002(), TENANT).status == "ACCC"


def test_bad_currency_is_rejected() -> None:
    reason = rejected(pacs008(currency="idr"))
    assert "FIToFICstmrCdtTrf.CdtTrfTxInf.InstdAmt.Amt.Ccy: currency must be 3 uppercase" in (
        reason
    )
    assert "Ccy" in rejected(pain013(currency="RUPIAH"))


@pytest.mark.parametrize("code", ["ABC", "XXX", "RPH"])
def test_a_currency_code_iso_4217_does_not_have_is_rejected(code: str) -> None:
    reason = rejected(pacs008(currency=code))
    assert (
        "FIToFICstmrCdtTrf.CdtTrfTxInf.InstdAmt.Amt.Ccy: "
        f"currency '{code}' is not an ISO 4217 currency code"
    ) in reason.split("; ")


@pytest.mark.parametrize("code", ["IDR", "XTS", "EUR", "ZWG", "HRK"])
def test_iso_4217_currencies_are_accepted_the_test_code_xts_among_them(code: str) -> None:
    # XTS is the code ISO 4217 reserves for tests; Tazama's own sample messages use it
    assert parse_message(pacs008(currency=code), TENANT).currency == code
    assert is_currency(code)


def test_bad_date_time_is_rejected() -> None:
    reason = rejected(pacs008(created_at="2025-13-01T10:00:00Z"))
    assert reason.startswith("FIToFICstmrCdtTrf.GrpHdr.CreDtTm: not an ISO 8601 date-time")


def test_date_time_without_timezone_is_rejected() -> None:
    reason = rejected(pacs002(created_at="2025-11-23T07:15:30"))
    assert reason.startswith("FIToFIPmtSts.GrpHdr.CreDtTm: date-time needs a timezone")


def test_numeric_date_time_is_rejected() -> None:
    reason = rejected(set_path(pacs002(), "FIToFIPmtSts.GrpHdr.CreDtTm", 1_763_882_130_250))
    assert reason == "FIToFIPmtSts.GrpHdr.CreDtTm: must be an ISO 8601 date-time string"


def test_unknown_tx_tp_is_rejected() -> None:
    message = pacs008()
    message["TxTp"] = "pacs.009"
    assert rejected(message).startswith("unknown TxTp 'pacs.009'")


def test_missing_tx_tp_is_rejected() -> None:
    message = pacs008()
    del message["TxTp"]
    assert rejected(message).startswith("missing TxTp")


def test_non_string_tx_tp_is_rejected() -> None:
    message = pacs008()
    message["TxTp"] = 8
    assert rejected(message) == "TxTp must be a string, got number"


def test_wrong_tenant_id_is_rejected() -> None:
    reason = rejected(pacs008(tenant_id="other-school"))
    assert reason == f"TenantId 'other-school' does not match the caller's tenant '{TENANT}'"


@pytest.mark.parametrize(
    ("body", "kind"), [([], "array"), ("pacs.008", "string"), (None, "null"), (3, "number")]
)
def test_non_object_body_is_rejected(body: object, kind: str) -> None:
    assert rejected(body) == f"message body must be a JSON object, got {kind}"


def test_a_body_of_one_type_under_another_tx_tp_is_rejected() -> None:
    message = pacs008()
    message["TxTp"] = TxType.PACS_002
    assert rejected(message) == "FIToFIPmtSts: field required"


def test_missing_party_id_names_the_list_index() -> None:
    path = "FIToFICstmrCdtTrf.CdtTrfTxInf.Dbtr.Id.PrvtId.Othr.0.Id"
    reason = rejected(drop_path(pacs008(), path))
    assert reason == "FIToFICstmrCdtTrf.CdtTrfTxInf.Dbtr.Id.PrvtId.Othr[0].Id: field required"


def test_empty_account_id_list_is_rejected() -> None:
    path = "CdtrPmtActvtnReq.PmtInf.DbtrAcct.Id.Othr"
    assert rejected(set_path(pain013(), path, [])).startswith(f"{path}: list should have at")


def test_bad_status_is_rejected() -> None:
    reason = rejected(pacs002(status="done"))
    assert reason.startswith("FIToFIPmtSts.TxInfAndSts.TxSts: status must be a 4-letter")


def test_out_of_range_geolocation_is_rejected() -> None:
    path = "FIToFICstmrCdtTrf.SplmtryData.Envlp.Doc.InitgPty.Glctn.Lat"
    assert (
        rejected(set_path(pacs008(), path, "91")) == f"{path}: latitude must be between -90 and 90"
    )
    assert rejected(set_path(pacs008(), path, "north")).startswith(f"{path}: latitude must be")


def test_every_problem_is_listed() -> None:
    message = drop_path(pacs008(currency="usd"), "FIToFICstmrCdtTrf.GrpHdr.MsgId")
    with pytest.raises(IntakeError) as info:
        parse_message(message, TENANT)
    assert "FIToFICstmrCdtTrf.GrpHdr.MsgId: field required" in info.value.errors
    assert len(info.value.errors) == 4  # MsgId, InstdAmt/IntrBkSttlmAmt/ChrgsInf currencies
    assert isinstance(info.value, ValueError)


def test_intake_accepts_exactly_the_currencies_the_quality_gate_accepts() -> None:
    from pydantic import TypeAdapter, ValidationError

    from activities.reporting.quality import KNOWN_CURRENCIES
    from api.intake.messages.fields import Currency

    currency = TypeAdapter(Currency)  # the type of every Ccy field of the four messages
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    accepted = set()
    for code in (a + b + c for a in letters for b in letters for c in letters):
        with contextlib.suppress(ValidationError):
            accepted.add(currency.validate_python(code))
    assert accepted == set(KNOWN_CURRENCIES)
    assert "XTS" in accepted and "IDR" in accepted
