"""Realistic sample messages in Tazama's ISO 20022 JSON shape, for tests, demos and benchmarks.

Every builder returns a fresh dict shaped like the bodies Tazama's TMS accepts (see
`api.intake.messages`): the four messages of one payment are `pain001`, `pain013`, `pacs008`
and `pacs002`, and `financial_transaction` builds all four sharing one end-to-end id.

A party is named by one string (`debtor="alice"`): it becomes the party's private id
(`Othr[0].Id`, scheme `TAZAMA_EID`) and, unless an account is given, its account id too
(scheme `MSISDN`). Saku normalises them to Tazama's composite keys; `entity_id(...)` and
`account_id(...)` give the ids the resulting `Transaction` will carry.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from core.monitoring.transactions import TxType

ENTITY_SCHEME = "TAZAMA_EID"
ACCOUNT_SCHEME = "MSISDN"
DEBTOR_AGENT = "fsp001"
CREDITOR_AGENT = "fsp002"
# Jakarta, where Saku's first schools are
DEFAULT_LAT = -6.2088
DEFAULT_LON = 106.8456

Message = dict[str, Any]
When = datetime | str | None


def entity_id(party: str, scheme: str = ENTITY_SCHEME) -> str:
    """The `Transaction.debtor_entity` / `creditor_entity` of a party built here."""
    return f"{party}{scheme}"


def account_id(account: str, agent: str, scheme: str = ACCOUNT_SCHEME) -> str:
    """The `Transaction.debtor_account` / `creditor_account` of an account held at `agent`."""
    return f"{account}{scheme}{agent}"


def end_to_end_id(message: Message) -> str:
    """The payment a message belongs to: key Kafka records by it, so that one payment's
    messages stay in one partition and arrive in order."""
    for root, path in (
        ("FIToFICstmrCdtTrf", ("CdtTrfTxInf", "PmtId", "EndToEndId")),
        ("FIToFIPmtSts", ("TxInfAndSts", "OrgnlEndToEndId")),
        ("CstmrCdtTrfInitn", ("PmtInf", "CdtTrfTxInf", "PmtId", "EndToEndId")),
        ("CdtrPmtActvtnReq", ("PmtInf", "CdtTrfTxInf", "PmtId", "EndToEndId")),
    ):
        if root in message:
            node = message[root]
            for step in path:
                node = node[step]
            return str(node)
    raise KeyError("not a message Saku knows")


def new_id() -> str:
    return uuid.uuid4().hex


def iso(moment: When) -> str:
    """An ISO 8601 UTC date-time with milliseconds, as Tazama's clients send it."""
    if moment is None:
        moment = datetime.now(UTC)
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- shared blocks ----------------------------------------------------------------------------


def _agent(member_id: str) -> Message:
    return {"FinInstnId": {"ClrSysMmbId": {"MmbId": member_id}}}


def _party(party: str, name: str | None, birth_date: str) -> Message:
    return {
        "Nm": name or party.replace("_", " ").title(),
        "Id": {
            "PrvtId": {
                "DtAndPlcOfBirth": {
                    "BirthDt": birth_date,
                    "CityOfBirth": "Jakarta",
                    "CtryOfBirth": "ID",
                },
                "Othr": [{"Id": party, "SchmeNm": {"Prtry": ENTITY_SCHEME}}],
            }
        },
        "CtctDtls": {"MobNb": "+62-811000000"},
    }


def _account(account: str, name: str | None) -> Message:
    return {
        "Id": {"Othr": [{"Id": account, "SchmeNm": {"Prtry": ACCOUNT_SCHEME}}]},
        "Nm": name or account,
    }


def _amount(amount: float, currency: str) -> Message:
    return {"Amt": {"Amt": amount, "Ccy": currency}}


def _geo(lat: float | None, lon: float | None) -> Message:
    # Tazama's schema types Lat/Long as strings.
    return {
        "Glctn": {"Lat": "" if lat is None else str(lat), "Long": "" if lon is None else str(lon)}
    }


def _regulatory() -> Message:
    return {"Dtls": {"Tp": "BALANCE OF PAYMENTS", "Cd": "100"}}


def _supplementary(document: Message) -> Message:
    """`SplmtryData`: a document in an envelope."""
    return {"Envlp": {"Doc": document}}


def _envelope(msg: Message, tenant_id: str | None) -> Message:
    if tenant_id is not None:
        msg["TenantId"] = tenant_id
    return msg


# --- the four messages ------------------------------------------------------------------------


def pacs008(
    msg_id: str | None = None,
    e2e_id: str | None = None,
    debtor: str = "guardian_1",
    creditor: str = "student_1",
    amount: float = 50_000.0,
    currency: str = "IDR",
    created_at: When = None,
    *,
    debtor_account: str | None = None,
    creditor_account: str | None = None,
    debtor_agent: str = DEBTOR_AGENT,
    creditor_agent: str = CREDITOR_AGENT,
    settlement_amount: float | None = None,
    settlement_currency: str | None = None,
    description: str = "pocket money",
    lat: float | None = DEFAULT_LAT,
    lon: float | None = DEFAULT_LON,
    with_geolocation: bool = True,
    debtor_birth_date: str = "1985-04-12",
    creditor_birth_date: str = "2013-08-30",
    tenant_id: str | None = None,
) -> Message:
    """A pacs.008.001.10 FI-to-FI customer credit transfer."""
    created = iso(created_at)
    document: Message = {
        "GrpHdr": {
            "MsgId": msg_id or new_id(),
            "CreDtTm": created,
            "NbOfTxs": 1,
            "SttlmInf": {"SttlmMtd": "CLRG"},
        },
        "CdtTrfTxInf": {
            "PmtId": {"InstrId": new_id(), "EndToEndId": e2e_id or new_id()},
            "IntrBkSttlmAmt": _amount(
                amount if settlement_amount is None else settlement_amount,
                settlement_currency or currency,
            ),
            "InstdAmt": _amount(amount, currency),
            "XchgRate": 1.0,
            "ChrgBr": "DEBT",
            "ChrgsInf": {"Amt": {"Amt": 0.0, "Ccy": currency}, "Agt": _agent(debtor_agent)},
            "InitgPty": _party(debtor, None, debtor_birth_date),
            "Dbtr": _party(debtor, None, debtor_birth_date),
            "DbtrAcct": _account(debtor_account or debtor, None),
            "DbtrAgt": _agent(debtor_agent),
            "CdtrAgt": _agent(creditor_agent),
            "Cdtr": _party(creditor, None, creditor_birth_date),
            "CdtrAcct": _account(creditor_account or creditor, None),
            "Purp": {"Cd": "MP2P"},
        },
        "RgltryRptg": _regulatory(),
        "RmtInf": {"Ustrd": description},
    }
    if with_geolocation:
        document["SplmtryData"] = _supplementary({"Xprtn": created, "InitgPty": _geo(lat, lon)})
    return _envelope({"TxTp": TxType.PACS_008, "FIToFICstmrCdtTrf": document}, tenant_id)


def pacs002(
    msg_id: str | None = None,
    e2e_id: str | None = None,
    status: str = "ACCC",
    created_at: When = None,
    *,
    debtor_agent: str = DEBTOR_AGENT,
    creditor_agent: str = CREDITOR_AGENT,
    currency: str = "IDR",
    tenant_id: str | None = None,
) -> Message:
    """A pacs.002.001.12 payment status report for the pacs.008 of `e2e_id`."""
    created = iso(created_at)
    charge = {"Amt": {"Amt": 0.0, "Ccy": currency}, "Agt": _agent(debtor_agent)}
    return _envelope(
        {
            "TxTp": TxType.PACS_002,
            "FIToFIPmtSts": {
                "GrpHdr": {"MsgId": msg_id or new_id(), "CreDtTm": created},
                "TxInfAndSts": {
                    "OrgnlInstrId": new_id(),
                    "OrgnlEndToEndId": e2e_id or new_id(),
                    "TxSts": status,
                    "ChrgsInf": [
                        charge,
                        charge,
                        {"Amt": {"Amt": 0.0, "Ccy": currency}, "Agt": _agent(creditor_agent)},
                    ],
                    "AccptncDtTm": created,
                    "InstgAgt": _agent(debtor_agent),
                    "InstdAgt": _agent(creditor_agent),
                },
            },
        },
        tenant_id,
    )


def _initiation_transfer(
    e2e_id: str | None,
    creditor: str,
    creditor_account: str | None,
    creditor_agent: str,
    creditor_birth_date: str,
    amount: float,
    currency: str,
) -> Message:
    return {
        "PmtId": {"EndToEndId": e2e_id or new_id()},
        "PmtTpInf": {"CtgyPurp": {"Prtry": "TRANSFER"}},
        "Amt": {
            "InstdAmt": _amount(amount, currency),
            "EqvtAmt": {**_amount(amount, currency), "CcyOfTrf": currency},
        },
        "ChrgBr": "DEBT",
        "CdtrAgt": _agent(creditor_agent),
        "Cdtr": _party(creditor, None, creditor_birth_date),
        "CdtrAcct": _account(creditor_account or creditor, None),
        "Purp": {"Cd": "MP2P"},
        "RgltryRptg": _regulatory(),
    }


def _initiation_payment_info(
    debtor: str,
    debtor_account: str | None,
    debtor_agent: str,
    debtor_birth_date: str,
) -> Message:
    return {
        "PmtInfId": new_id(),
        "PmtMtd": "TRA",
        "ReqdAdvcTp": {"DbtAdvc": {"Cd": "ADWD", "Prtry": "Advice with transaction details"}},
        "Dbtr": _party(debtor, None, debtor_birth_date),
        "DbtrAcct": _account(debtor_account or debtor, None),
        "DbtrAgt": _agent(debtor_agent),
    }


def _initiation_document(
    msg_id: str | None,
    created: str,
    debtor: str,
    debtor_birth_date: str,
    info: Message,
    geo: Message | None,
) -> Message:
    """A pain.001 or pain.013 document around its `PmtInf`, with the initiating party's `geo`
    location (no top-level `SplmtryData` when it is None)."""
    document: Message = {
        "GrpHdr": {
            "MsgId": msg_id or new_id(),
            "CreDtTm": created,
            "NbOfTxs": 1,
            # the debtor initiates; in a pain.013 too, as in Tazama's sample (the payer asked)
            "InitgPty": _party(debtor, None, debtor_birth_date),
        },
        "PmtInf": info,
    }
    if geo is not None:
        document["SplmtryData"] = _supplementary({"InitgPty": geo})
    return document


def _names(party: str) -> Message:
    first, _, last = party.replace("_", " ").title().partition(" ")
    return {"FrstNm": first, "MddlNm": "", "LastNm": last, "MrchntClssfctnCd": "BLANK"}


def pain001(
    msg_id: str | None = None,
    e2e_id: str | None = None,
    debtor: str = "guardian_1",
    creditor: str = "student_1",
    amount: float = 50_000.0,
    currency: str = "IDR",
    created_at: When = None,
    *,
    debtor_account: str | None = None,
    creditor_account: str | None = None,
    debtor_agent: str = DEBTOR_AGENT,
    creditor_agent: str = CREDITOR_AGENT,
    description: str = "pocket money",
    lat: float | None = DEFAULT_LAT,
    lon: float | None = DEFAULT_LON,
    with_geolocation: bool = True,
    debtor_birth_date: str = "1985-04-12",
    creditor_birth_date: str = "2013-08-30",
    tenant_id: str | None = None,
) -> Message:
    """A pain.001.001.11 customer credit transfer initiation (the debtor asks to pay)."""
    created = iso(created_at)
    transfer = _initiation_transfer(
        e2e_id, creditor, creditor_account, creditor_agent, creditor_birth_date, amount, currency
    )
    transfer["RmtInf"] = {"Ustrd": description}
    transfer["SplmtryData"] = _supplementary(
        {
            "Dbtr": _names(debtor),
            "Cdtr": _names(creditor),
            "DbtrFinSvcsPrvdrFees": {"Ccy": currency, "Amt": 0.0},
            "Xprtn": created,
        }
    )
    info = _initiation_payment_info(debtor, debtor_account, debtor_agent, debtor_birth_date)
    info["ReqdExctnDt"] = {"Dt": created[:10], "DtTm": created}
    info["CdtTrfTxInf"] = transfer
    geo = {"InitrTp": "CONSUMER", **_geo(lat, lon)} if with_geolocation else None
    document = _initiation_document(msg_id, created, debtor, debtor_birth_date, info, geo)
    return _envelope({"TxTp": TxType.PAIN_001, "CstmrCdtTrfInitn": document}, tenant_id)


def pain013(
    msg_id: str | None = None,
    e2e_id: str | None = None,
    debtor: str = "guardian_1",
    creditor: str = "student_1",
    amount: float = 50_000.0,
    currency: str = "IDR",
    created_at: When = None,
    *,
    debtor_account: str | None = None,
    creditor_account: str | None = None,
    debtor_agent: str = DEBTOR_AGENT,
    creditor_agent: str = CREDITOR_AGENT,
    description: str | None = "pocket money",
    expires_in: timedelta = timedelta(minutes=5),
    lat: float | None = DEFAULT_LAT,
    lon: float | None = DEFAULT_LON,
    with_geolocation: bool = True,
    debtor_birth_date: str = "1985-04-12",
    creditor_birth_date: str = "2013-08-30",
    tenant_id: str | None = None,
) -> Message:
    """A pain.013.001.09 creditor payment activation request (request to pay)."""
    moment = datetime.now(UTC) if created_at is None else created_at
    created = iso(moment)
    expiry = iso(moment + expires_in) if isinstance(moment, datetime) else created
    transfer = _initiation_transfer(
        e2e_id, creditor, creditor_account, creditor_agent, creditor_birth_date, amount, currency
    )
    if description is not None:
        transfer["RmtInf"] = {"Ustrd": description}
    transfer["SplmtryData"] = _supplementary(
        {
            "PyeeRcvAmt": _amount(amount, currency),
            "PyeeFinSvcsPrvdrFee": _amount(0.0, currency),
            "PyeeFinSvcsPrvdrComssn": _amount(0.0, currency),
        }
    )
    info = _initiation_payment_info(debtor, debtor_account, debtor_agent, debtor_birth_date)
    info["ReqdExctnDt"] = {"DtTm": created}
    info["XpryDt"] = {"DtTm": expiry}
    info["CdtTrfTxInf"] = transfer
    geo = _geo(lat, lon) if with_geolocation else None
    document = _initiation_document(msg_id, created, debtor, debtor_birth_date, info, geo)
    return _envelope({"TxTp": TxType.PAIN_013, "CdtrPmtActvtnReq": document}, tenant_id)


class FinancialTransaction(NamedTuple):
    """The four messages of one payment, in the order they are sent."""

    pain001: Message
    pain013: Message
    pacs008: Message
    pacs002: Message

    @property
    def end_to_end_id(self) -> str:
        return end_to_end_id(self.pacs008)


def financial_transaction(
    e2e_id: str | None = None,
    debtor: str = "guardian_1",
    creditor: str = "student_1",
    amount: float = 50_000.0,
    currency: str = "IDR",
    created_at: datetime | None = None,
    status: str = "ACCC",
    *,
    step: timedelta = timedelta(milliseconds=250),
    debtor_agent: str = DEBTOR_AGENT,
    creditor_agent: str = CREDITOR_AGENT,
    description: str = "pocket money",
    lat: float | None = DEFAULT_LAT,
    lon: float | None = DEFAULT_LON,
    debtor_birth_date: str = "1985-04-12",
    tenant_id: str | None = None,
) -> FinancialTransaction:
    """pain.001, pain.013, pacs.008 and pacs.002 of one payment, `step` apart, one e2e id."""
    e2e = e2e_id or new_id()
    start = created_at or datetime.now(UTC) - 3 * step
    common: dict[str, Any] = {
        "e2e_id": e2e,
        "debtor": debtor,
        "creditor": creditor,
        "amount": amount,
        "currency": currency,
        "debtor_agent": debtor_agent,
        "creditor_agent": creditor_agent,
        "description": description,
        "lat": lat,
        "lon": lon,
        "debtor_birth_date": debtor_birth_date,
        "tenant_id": tenant_id,
    }
    return FinancialTransaction(
        pain001=pain001(created_at=start, **common),
        pain013=pain013(created_at=start + step, **common),
        pacs008=pacs008(created_at=start + 2 * step, **common),
        pacs002=pacs002(
            e2e_id=e2e,
            status=status,
            created_at=start + 3 * step,
            debtor_agent=debtor_agent,
            creditor_agent=creditor_agent,
            currency=currency,
            tenant_id=tenant_id,
        ),
    )
