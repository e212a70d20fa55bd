"""Tazama-shaped ISO 20022 intake: field-by-field validation and normalisation.

Saku accepts the messages Tazama's transaction monitoring service (TMS) accepts: abridged
ISO 20022 JSON with two extra top-level fields, `TxTp` (the message type) and `TenantId`.
The models below follow Tazama's JSON schemas (tazama-lf/tms-service, `src/schemas/*.json`):
every field those schemas require is required here, with the same names and nesting, and
unknown fields are kept (`extra="allow"`), as Tazama tolerates extra data. Saku is stricter
about values than Tazama's schemas, which only check JSON types: identifiers must be
non-blank, amounts finite and positive (charges and fees may be 0), currencies three
uppercase letters, date-times ISO 8601 with a timezone, and numbers must be JSON numbers and
strings JSON strings (no coercion). Two relaxations, both deliberate:

* the top-level `SplmtryData` that carries the initiating party's geolocation is optional
  (Tazama requires it); when present it is validated as Tazama's schema says, and `Lat` /
  `Long` may be strings (Tazama's schema), numbers (what Tazama's own test tooling sends) or
  use a decimal comma (Tazama's sample data); an empty string means "unknown".
* a `TenantId` in the body is accepted when it equals the authenticated caller's tenant
  (Tazama's schemas forbid the field outright and set it from the token).

Identities follow Tazama's composite keys, so history built from the same messages lines up:
an entity is `Othr[0].Id + Othr[0].SchmeNm.Prtry` of the party's private id, an account is
`Othr[0].Id + Othr[0].SchmeNm.Prtry + <agent's ClrSysMmbId.MmbId>`. The amount is the
instructed amount (`InstdAmt`), as Tazama records on its transaction edges.

A pacs.002 status report carries no amount, currency or parties: its `Transaction` has
amount 0.0, currency "" and empty account/entity ids. The engine fills them in from the
pacs.008 stored under the same (tenant, end-to-end id), Tazama's "data cache".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    StringConstraints,
    ValidationError,
)

from saku.domain.transactions import Transaction, TxType

__all__ = [
    "IntakeError",
    "IsoMessage",
    "Pacs002",
    "Pacs008",
    "Pain001",
    "Pain013",
    "parse_message",
    "validate_message",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_LISTED_ERRORS = 10


class IntakeError(ValueError):
    """A message Saku will never accept; `reason` says why, naming the offending fields."""

    def __init__(self, reason: str, errors: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors if errors is not None else [reason]


# --- value types ------------------------------------------------------------------------------


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _currency(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValueError(f"currency must be 3 uppercase letters (ISO 4217), got {value[:8]!r}")
    return value


def _status(value: str) -> str:
    if len(value) != 4 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValueError(
            f"status must be a 4-letter ISO 20022 code such as ACCC, got {value[:8]!r}"
        )
    return value


def _iso_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {value[:40]!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"date-time needs a timezone (Z or ±hh:mm): {value[:40]!r}")
    return parsed


def _iso_date(value: object) -> date:
    # A date, or a date-time (JavaScript serialises Date objects, which Tazama's own samples
    # use for BirthDt, as full date-times); only the calendar date is kept.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date string")
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value).date()
    except ValueError:
        raise ValueError(f"not an ISO 8601 date: {value[:40]!r}") from None


def _number(name: str, *, allow_blank: bool) -> Callable[[object], float | None]:
    def validate(value: object) -> float | None:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be a number or a numeric string")
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            text = value.strip()
            if not text:
                if allow_blank:
                    return None
                raise ValueError(f"{name} must not be blank")
            try:
                number = float(text.replace(",", ".", 1) if text.count(",") == 1 else text)
            except ValueError:
                raise ValueError(f"{name} must be numeric, got {value[:20]!r}") from None
        else:
            raise ValueError(f"{name} must be a number or a numeric string")
        if not math.isfinite(number):
            raise ValueError(f"{name} must be finite")
        return number

    return validate


def _in_range(name: str, limit: float) -> Callable[[float | None], float | None]:
    def validate(value: float | None) -> float | None:
        if value is not None and not -limit <= value <= limit:
            raise ValueError(f"{name} must be between -{limit:g} and {limit:g}")
        return value

    return validate


def _positive(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ValueError("exchange rate must be greater than 0")
    return value


Identifier = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=256), AfterValidator(_not_blank)
]
Text = Annotated[str, Strict()]
Currency = Annotated[str, Strict(), AfterValidator(_currency)]
Status = Annotated[str, Strict(), AfterValidator(_status)]
PositiveAmount = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
NonNegativeAmount = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=1)]
IsoDateTime = Annotated[datetime, PlainValidator(_iso_datetime)]
IsoDate = Annotated[date, PlainValidator(_iso_date)]
Latitude = Annotated[
    float | None,
    PlainValidator(_number("latitude", allow_blank=True)),
    AfterValidator(_in_range("latitude", 90)),
]
Longitude = Annotated[
    float | None,
    PlainValidator(_number("longitude", allow_blank=True)),
    AfterValidator(_in_range("longitude", 180)),
]
ExchangeRate = Annotated[
    float | None,
    PlainValidator(_number("exchange rate", allow_blank=False)),
    AfterValidator(_positive),
]


class _Block(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=False)


# --- building blocks shared by the four messages ----------------------------------------------


class SchemeName(_Block):
    prtry: Identifier = Field(alias="Prtry")


class GenericId(_Block):
    """`Othr`: an identifier and the (proprietary) scheme it belongs to."""

    id: Identifier = Field(alias="Id")
    schme_nm: SchemeName = Field(alias="SchmeNm")

    @property
    def key(self) -> str:
        return f"{self.id}{self.schme_nm.prtry}"


class DateAndPlaceOfBirth(_Block):
    birth_dt: IsoDate = Field(alias="BirthDt")
    city_of_birth: Text = Field(alias="CityOfBirth")
    ctry_of_birth: Text = Field(alias="CtryOfBirth")


class PrivateId(_Block):
    dt_and_plc_of_birth: DateAndPlaceOfBirth = Field(alias="DtAndPlcOfBirth")
    othr: list[GenericId] = Field(alias="Othr", min_length=1)


class PartyId(_Block):
    prvt_id: PrivateId = Field(alias="PrvtId")


class ContactDetails(_Block):
    mob_nb: Text = Field(alias="MobNb")


class Party(_Block):
    """A person (`Dbtr`, `Cdtr`, `InitgPty`)."""

    nm: Text = Field(alias="Nm")
    id: PartyId = Field(alias="Id")
    ctct_dtls: ContactDetails = Field(alias="CtctDtls")

    @property
    def entity_id(self) -> str:
        return self.id.prvt_id.othr[0].key

    @property
    def birth_date(self) -> date:
        return self.id.prvt_id.dt_and_plc_of_birth.birth_dt


class AccountId(_Block):
    othr: list[GenericId] = Field(alias="Othr", min_length=1)


class Account(_Block):
    """`DbtrAcct` / `CdtrAcct`."""

    id: AccountId = Field(alias="Id")
    nm: Text = Field(alias="Nm")

    def account_id(self, agent: Agent) -> str:
        return f"{self.id.othr[0].key}{agent.member_id}"


class ClearingSystemMemberId(_Block):
    mmb_id: Identifier = Field(alias="MmbId")


class FinancialInstitutionId(_Block):
    clr_sys_mmb_id: ClearingSystemMemberId = Field(alias="ClrSysMmbId")


class Agent(_Block):
    """`DbtrAgt`, `CdtrAgt`, `InstgAgt`, `InstdAgt`: a financial service provider."""

    fin_instn_id: FinancialInstitutionId = Field(alias="FinInstnId")

    @property
    def member_id(self) -> str:
        return self.fin_instn_id.clr_sys_mmb_id.mmb_id


class Amount(_Block):
    amt: PositiveAmount = Field(alias="Amt")
    ccy: Currency = Field(alias="Ccy")


class FeeAmount(_Block):
    amt: NonNegativeAmount = Field(alias="Amt")
    ccy: Currency = Field(alias="Ccy")


class AmountBlock(_Block):
    """`{"Amt": {"Amt": 10.5, "Ccy": "IDR"}}`, Tazama's shape for a currency and amount."""

    amt: Amount = Field(alias="Amt")


class FeeBlock(_Block):
    amt: FeeAmount = Field(alias="Amt")


class Charges(_Block):
    amt: FeeAmount = Field(alias="Amt")
    agt: Agent = Field(alias="Agt")


class Purpose(_Block):
    cd: Text = Field(alias="Cd")


class RegulatoryDetails(_Block):
    tp: Text = Field(alias="Tp")
    cd: Text = Field(alias="Cd")


class RegulatoryReporting(_Block):
    dtls: RegulatoryDetails = Field(alias="Dtls")


class Remittance(_Block):
    ustrd: Text = Field(alias="Ustrd")


class Geolocation(_Block):
    lat: Latitude = Field(alias="Lat")
    long: Longitude = Field(alias="Long")


class GeoParty(_Block):
    glctn: Geolocation = Field(alias="Glctn")


class PaymentId(_Block):
    end_to_end_id: Identifier = Field(alias="EndToEndId")


# --- the common interface ---------------------------------------------------------------------


class IsoMessage(_Block):
    """A validated message: `TxTp`, an optional `TenantId`, and one ISO 20022 document."""

    TX_TYPE: ClassVar[str]
    tenant_id: Text | None = Field(default=None, alias="TenantId")

    def to_transaction(self, tenant_id: str) -> Transaction:
        raise NotImplementedError

    @property
    def debtor_birth_date(self) -> date | None:
        return None

    @property
    def creditor_birth_date(self) -> date | None:
        return None


def _epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _geolocation(envelope: GeoParty | None) -> tuple[float | None, float | None]:
    if envelope is None:
        return None, None
    return envelope.glctn.lat, envelope.glctn.long


# --- pacs.008.001.10: FI to FI customer credit transfer ---------------------------------------


class SettlementInfo(_Block):
    sttlm_mtd: Text = Field(alias="SttlmMtd")


class Pacs008GroupHeader(_Block):
    msg_id: Identifier = Field(alias="MsgId")
    cre_dt_tm: IsoDateTime = Field(alias="CreDtTm")
    nb_of_txs: Count = Field(alias="NbOfTxs")
    sttlm_inf: SettlementInfo = Field(alias="SttlmInf")


class Pacs008PaymentId(_Block):
    instr_id: Identifier = Field(alias="InstrId")
    end_to_end_id: Identifier = Field(alias="EndToEndId")


class Pacs008CreditTransfer(_Block):
    pmt_id: Pacs008PaymentId = Field(alias="PmtId")
    intr_bk_sttlm_amt: AmountBlock = Field(alias="IntrBkSttlmAmt")
    instd_amt: AmountBlock = Field(alias="InstdAmt")
    xchg_rate: ExchangeRate = Field(default=None, alias="XchgRate")
    chrg_br: Text = Field(alias="ChrgBr")
    chrgs_inf: Charges = Field(alias="ChrgsInf")
    initg_pty: Party = Field(alias="InitgPty")
    dbtr: Party = Field(alias="Dbtr")
    dbtr_acct: Account = Field(alias="DbtrAcct")
    dbtr_agt: Agent = Field(alias="DbtrAgt")
    cdtr_agt: Agent = Field(alias="CdtrAgt")
    cdtr: Party = Field(alias="Cdtr")
    cdtr_acct: Account = Field(alias="CdtrAcct")
    purp: Purpose = Field(alias="Purp")


class Pacs008Document(_Block):
    initg_pty: GeoParty = Field(alias="InitgPty")
    xprtn: IsoDateTime = Field(alias="Xprtn")


class Pacs008Envelope(_Block):
    doc: Pacs008Document = Field(alias="Doc")


class Pacs008SupplementaryData(_Block):
    envlp: Pacs008Envelope = Field(alias="Envlp")


class FIToFICustomerCreditTransfer(_Block):
    grp_hdr: Pacs008GroupHeader = Field(alias="GrpHdr")
    cdt_trf_tx_inf: Pacs008CreditTransfer = Field(alias="CdtTrfTxInf")
    rgltry_rptg: RegulatoryReporting = Field(alias="RgltryRptg")
    rmt_inf: Remittance = Field(alias="RmtInf")
    splmtry_data: Pacs008SupplementaryData | None = Field(default=None, alias="SplmtryData")


class Pacs008(IsoMessage):
    TX_TYPE: ClassVar[str] = TxType.PACS_008
    tx_tp: Literal["pacs.008.001.10"] = Field(alias="TxTp")
    document: FIToFICustomerCreditTransfer = Field(alias="FIToFICstmrCdtTrf")

    def to_transaction(self, tenant_id: str) -> Transaction:
        doc = self.document
        tx = doc.cdt_trf_tx_inf
        supplementary = doc.splmtry_data
        lat, lon = _geolocation(supplementary.envlp.doc.initg_pty if supplementary else None)
        return Transaction(
            tenant_id=tenant_id,
            msg_id=doc.grp_hdr.msg_id,
            tx_type=self.TX_TYPE,
            end_to_end_id=tx.pmt_id.end_to_end_id,
            created_at_ms=_epoch_ms(doc.grp_hdr.cre_dt_tm),
            amount=tx.instd_amt.amt.amt,
            currency=tx.instd_amt.amt.ccy,
            debtor_account=tx.dbtr_acct.account_id(tx.dbtr_agt),
            creditor_account=tx.cdtr_acct.account_id(tx.cdtr_agt),
            debtor_entity=tx.dbtr.entity_id,
            creditor_entity=tx.cdtr.entity_id,
            description=doc.rmt_inf.ustrd or None,
            debtor_lat=lat,
            debtor_lon=lon,
            debtor_birth_date=tx.dbtr.birth_date.isoformat(),
        )

    @property
    def debtor_birth_date(self) -> date | None:
        return self.document.cdt_trf_tx_inf.dbtr.birth_date

    @property
    def creditor_birth_date(self) -> date | None:
        return self.document.cdt_trf_tx_inf.cdtr.birth_date


# --- pacs.002.001.12: FI to FI payment status report ------------------------------------------


class Pacs002GroupHeader(_Block):
    msg_id: Identifier = Field(alias="MsgId")
    cre_dt_tm: IsoDateTime = Field(alias="CreDtTm")


class TransactionStatus(_Block):
    orgnl_instr_id: Identifier = Field(alias="OrgnlInstrId")
    orgnl_end_to_end_id: Identifier = Field(alias="OrgnlEndToEndId")
    tx_sts: Status = Field(alias="TxSts")
    chrgs_inf: list[Charges] = Field(alias="ChrgsInf")
    accptnc_dt_tm: IsoDateTime = Field(alias="AccptncDtTm")
    instg_agt: Agent = Field(alias="InstgAgt")
    instd_agt: Agent = Field(alias="InstdAgt")


class FIToFIPaymentStatus(_Block):
    grp_hdr: Pacs002GroupHeader = Field(alias="GrpHdr")
    tx_inf_and_sts: TransactionStatus = Field(alias="TxInfAndSts")


class Pacs002(IsoMessage):
    TX_TYPE: ClassVar[str] = TxType.PACS_002
    tx_tp: Literal["pacs.002.001.12"] = Field(alias="TxTp")
    document: FIToFIPaymentStatus = Field(alias="FIToFIPmtSts")

    def to_transaction(self, tenant_id: str) -> Transaction:
        """Amount, currency and parties are left empty for the engine's data-cache lookup."""
        doc = self.document
        return Transaction(
            tenant_id=tenant_id,
            msg_id=doc.grp_hdr.msg_id,
            tx_type=self.TX_TYPE,
            end_to_end_id=doc.tx_inf_and_sts.orgnl_end_to_end_id,
            created_at_ms=_epoch_ms(doc.grp_hdr.cre_dt_tm),
            amount=0.0,
            currency="",
            debtor_account="",
            creditor_account="",
            debtor_entity="",
            creditor_entity="",
            status=doc.tx_inf_and_sts.tx_sts,
        )


# --- pain.001.001.11 and pain.013.001.09: initiation and request to pay -----------------------


class InitiationGroupHeader(_Block):
    msg_id: Identifier = Field(alias="MsgId")
    cre_dt_tm: IsoDateTime = Field(alias="CreDtTm")
    nb_of_txs: Count = Field(alias="NbOfTxs")
    initg_pty: Party = Field(alias="InitgPty")


class DebitAdvice(_Block):
    cd: Text = Field(alias="Cd")
    prtry: Text = Field(alias="Prtry")


class RequestedAdviceType(_Block):
    dbt_advc: DebitAdvice = Field(alias="DbtAdvc")


class CategoryPurpose(_Block):
    prtry: Text = Field(alias="Prtry")


class PaymentTypeInfo(_Block):
    ctgy_purp: CategoryPurpose = Field(alias="CtgyPurp")


class ExchangeRateInfo(_Block):
    unit_ccy: Currency | None = Field(default=None, alias="UnitCcy")
    xchg_rate: ExchangeRate = Field(default=None, alias="XchgRate")


class EquivalentAmount(_Block):
    amt: Amount = Field(alias="Amt")
    ccy_of_trf: Currency = Field(alias="CcyOfTrf")
    xchg_rate_inf: ExchangeRateInfo | None = Field(default=None, alias="XchgRateInf")


class InitiationAmount(_Block):
    instd_amt: AmountBlock = Field(alias="InstdAmt")
    eqvt_amt: EquivalentAmount = Field(alias="EqvtAmt")


class DateTimeOnly(_Block):
    dt_tm: IsoDateTime = Field(alias="DtTm")


class DateAndDateTime(_Block):
    dt: IsoDate = Field(alias="Dt")
    dt_tm: IsoDateTime = Field(alias="DtTm")


class InitiationGeoParty(GeoParty):
    initr_tp: Text = Field(alias="InitrTp")


class Pain001GeoDocument(_Block):
    initg_pty: InitiationGeoParty = Field(alias="InitgPty")


class Pain001GeoEnvelope(_Block):
    doc: Pain001GeoDocument = Field(alias="Doc")


class Pain001GeoData(_Block):
    envlp: Pain001GeoEnvelope = Field(alias="Envlp")


class Pain013GeoDocument(_Block):
    initg_pty: GeoParty = Field(alias="InitgPty")


class Pain013GeoEnvelope(_Block):
    doc: Pain013GeoDocument = Field(alias="Doc")


class Pain013GeoData(_Block):
    envlp: Pain013GeoEnvelope = Field(alias="Envlp")


class SupplementaryName(_Block):
    frst_nm: Text = Field(alias="FrstNm")
    mddl_nm: Text = Field(alias="MddlNm")
    last_nm: Text = Field(alias="LastNm")
    mrchnt_clssfctn_cd: Text = Field(alias="MrchntClssfctnCd")


class Pain001TxDocument(_Block):
    dbtr: SupplementaryName = Field(alias="Dbtr")
    cdtr: SupplementaryName = Field(alias="Cdtr")
    dbtr_fin_svcs_prvdr_fees: FeeAmount = Field(alias="DbtrFinSvcsPrvdrFees")
    xprtn: IsoDateTime = Field(alias="Xprtn")


class Pain001TxEnvelope(_Block):
    doc: Pain001TxDocument = Field(alias="Doc")


class Pain001TxData(_Block):
    envlp: Pain001TxEnvelope = Field(alias="Envlp")


class Pain013TxDocument(_Block):
    pyee_rcv_amt: FeeBlock = Field(alias="PyeeRcvAmt")
    pyee_fin_svcs_prvdr_fee: FeeBlock = Field(alias="PyeeFinSvcsPrvdrFee")
    pyee_fin_svcs_prvdr_comssn: FeeBlock = Field(alias="PyeeFinSvcsPrvdrComssn")


class Pain013TxEnvelope(_Block):
    doc: Pain013TxDocument = Field(alias="Doc")


class Pain013TxData(_Block):
    envlp: Pain013TxEnvelope = Field(alias="Envlp")


class _InitiationCreditTransfer(_Block):
    pmt_id: PaymentId = Field(alias="PmtId")
    pmt_tp_inf: PaymentTypeInfo = Field(alias="PmtTpInf")
    amt: InitiationAmount = Field(alias="Amt")
    chrg_br: Text = Field(alias="ChrgBr")
    cdtr_agt: Agent = Field(alias="CdtrAgt")
    cdtr: Party = Field(alias="Cdtr")
    cdtr_acct: Account = Field(alias="CdtrAcct")
    purp: Purpose = Field(alias="Purp")
    rgltry_rptg: RegulatoryReporting = Field(alias="RgltryRptg")


class Pain001CreditTransfer(_InitiationCreditTransfer):
    rmt_inf: Remittance = Field(alias="RmtInf")
    splmtry_data: Pain001TxData = Field(alias="SplmtryData")


class Pain013CreditTransfer(_InitiationCreditTransfer):
    # Not in Tazama's pain.013 schema, but in its sample messages and in ISO 20022.
    rmt_inf: Remittance | None = Field(default=None, alias="RmtInf")
    splmtry_data: Pain013TxData = Field(alias="SplmtryData")


class _InitiationPaymentInfo(_Block):
    pmt_inf_id: Identifier = Field(alias="PmtInfId")
    pmt_mtd: Text = Field(alias="PmtMtd")
    reqd_advc_tp: RequestedAdviceType = Field(alias="ReqdAdvcTp")
    dbtr: Party = Field(alias="Dbtr")
    dbtr_acct: Account = Field(alias="DbtrAcct")
    dbtr_agt: Agent = Field(alias="DbtrAgt")


class Pain001PaymentInfo(_InitiationPaymentInfo):
    reqd_exctn_dt: DateAndDateTime = Field(alias="ReqdExctnDt")
    cdt_trf_tx_inf: Pain001CreditTransfer = Field(alias="CdtTrfTxInf")


class Pain013PaymentInfo(_InitiationPaymentInfo):
    reqd_exctn_dt: DateTimeOnly = Field(alias="ReqdExctnDt")
    xpry_dt: DateTimeOnly = Field(alias="XpryDt")
    cdt_trf_tx_inf: Pain013CreditTransfer = Field(alias="CdtTrfTxInf")


class CustomerCreditTransferInitiation(_Block):
    grp_hdr: InitiationGroupHeader = Field(alias="GrpHdr")
    pmt_inf: Pain001PaymentInfo = Field(alias="PmtInf")
    splmtry_data: Pain001GeoData | None = Field(default=None, alias="SplmtryData")


class CreditorPaymentActivationRequest(_Block):
    grp_hdr: InitiationGroupHeader = Field(alias="GrpHdr")
    pmt_inf: Pain013PaymentInfo = Field(alias="PmtInf")
    splmtry_data: Pain013GeoData | None = Field(default=None, alias="SplmtryData")


def _initiation_transaction(
    tenant_id: str,
    tx_type: str,
    header: InitiationGroupHeader,
    info: Pain001PaymentInfo | Pain013PaymentInfo,
    geo: GeoParty | None,
) -> Transaction:
    tx = info.cdt_trf_tx_inf
    lat, lon = _geolocation(geo)
    return Transaction(
        tenant_id=tenant_id,
        msg_id=header.msg_id,
        tx_type=tx_type,
        end_to_end_id=tx.pmt_id.end_to_end_id,
        created_at_ms=_epoch_ms(header.cre_dt_tm),
        amount=tx.amt.instd_amt.amt.amt,
        currency=tx.amt.instd_amt.amt.ccy,
        debtor_account=info.dbtr_acct.account_id(info.dbtr_agt),
        creditor_account=tx.cdtr_acct.account_id(tx.cdtr_agt),
        debtor_entity=info.dbtr.entity_id,
        creditor_entity=tx.cdtr.entity_id,
        description=(tx.rmt_inf.ustrd or None) if tx.rmt_inf is not None else None,
        debtor_lat=lat,
        debtor_lon=lon,
        debtor_birth_date=info.dbtr.birth_date.isoformat(),
    )


class Pain001(IsoMessage):
    TX_TYPE: ClassVar[str] = TxType.PAIN_001
    tx_tp: Literal["pain.001.001.11"] = Field(alias="TxTp")
    document: CustomerCreditTransferInitiation = Field(alias="CstmrCdtTrfInitn")

    def to_transaction(self, tenant_id: str) -> Transaction:
        doc = self.document
        geo = doc.splmtry_data.envlp.doc.initg_pty if doc.splmtry_data else None
        return _initiation_transaction(tenant_id, self.TX_TYPE, doc.grp_hdr, doc.pmt_inf, geo)

    @property
    def debtor_birth_date(self) -> date | None:
        return self.document.pmt_inf.dbtr.birth_date

    @property
    def creditor_birth_date(self) -> date | None:
        return self.document.pmt_inf.cdt_trf_tx_inf.cdtr.birth_date


class Pain013(IsoMessage):
    TX_TYPE: ClassVar[str] = TxType.PAIN_013
    tx_tp: Literal["pain.013.001.09"] = Field(alias="TxTp")
    document: CreditorPaymentActivationRequest = Field(alias="CdtrPmtActvtnReq")

    def to_transaction(self, tenant_id: str) -> Transaction:
        doc = self.document
        geo = doc.splmtry_data.envlp.doc.initg_pty if doc.splmtry_data else None
        return _initiation_transaction(tenant_id, self.TX_TYPE, doc.grp_hdr, doc.pmt_inf, geo)

    @property
    def debtor_birth_date(self) -> date | None:
        return self.document.pmt_inf.dbtr.birth_date

    @property
    def creditor_birth_date(self) -> date | None:
        return self.document.pmt_inf.cdt_trf_tx_inf.cdtr.birth_date


# --- entry points -----------------------------------------------------------------------------

MODELS: Mapping[str, type[IsoMessage]] = {
    model.TX_TYPE: model for model in (Pacs008, Pacs002, Pain001, Pain013)
}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "(message)"


def _describe(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        message = "field required"
    elif kind == "value_error":
        message = str(error.get("ctx", {}).get("error", error.get("msg", "")))
    else:
        message = str(error.get("msg", ""))
        message = message[:1].lower() + message[1:]
    return f"{_path(tuple(error.get('loc', ())))}: {message}"


def _reason(errors: list[str]) -> str:
    shown = "; ".join(errors[:_MAX_LISTED_ERRORS])
    hidden = len(errors) - _MAX_LISTED_ERRORS
    return f"{shown}; and {hidden} more" if hidden > 0 else shown


def validate_message(data: object, tenant_id: str) -> IsoMessage:
    """Check the envelope (`TxTp`, `TenantId`) and validate the body with the model for `TxTp`.

    Raises `IntakeError` with a reason naming the offending fields.
    """
    if not tenant_id:
        raise IntakeError("the caller's tenant id is empty")
    if not isinstance(data, dict):
        raise IntakeError(f"message body must be a JSON object, got {_json_type(data)}")
    if "TxTp" not in data:
        raise IntakeError(f"missing TxTp: expected one of {', '.join(sorted(MODELS))}")
    tx_tp = data["TxTp"]
    if not isinstance(tx_tp, str):
        raise IntakeError(f"TxTp must be a string, got {_json_type(tx_tp)}")
    model = MODELS.get(tx_tp)
    if model is None:
        expected = ", ".join(sorted(MODELS))
        raise IntakeError(f"unknown TxTp {tx_tp[:40]!r}: expected one of {expected}")
    body_tenant = data.get("TenantId")
    if body_tenant is not None and body_tenant != tenant_id:
        shown = body_tenant[:64] if isinstance(body_tenant, str) else body_tenant
        raise IntakeError(f"TenantId {shown!r} does not match the caller's tenant {tenant_id!r}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [_describe(error) for error in exc.errors(include_url=False)]
        raise IntakeError(_reason(errors), errors) from None


def parse_message(data: object, tenant_id: str) -> Transaction:
    """Validate a Tazama-shaped ISO 20022 message and normalise it into a `Transaction`.

    `tenant_id` is the authenticated caller's tenant; a `TenantId` in the body must equal it
    (a missing one means the caller's tenant). Field paths read, per `TxTp`:

    * pacs.008.001.10, under `FIToFICstmrCdtTrf`: `GrpHdr.MsgId`, `GrpHdr.CreDtTm`,
      `CdtTrfTxInf.PmtId.EndToEndId`, `CdtTrfTxInf.InstdAmt.Amt.{Amt,Ccy}`, parties
      `CdtTrfTxInf.{Dbtr,Cdtr}.Id.PrvtId.Othr[0]`, accounts `CdtTrfTxInf.{DbtrAcct,CdtrAcct}.
      Id.Othr[0]` with `CdtTrfTxInf.{DbtrAgt,CdtrAgt}.FinInstnId.ClrSysMmbId.MmbId`,
      `RmtInf.Ustrd`, `SplmtryData.Envlp.Doc.InitgPty.Glctn.{Lat,Long}`,
      `CdtTrfTxInf.Dbtr.Id.PrvtId.DtAndPlcOfBirth.BirthDt`.
    * pacs.002.001.12, under `FIToFIPmtSts`: `GrpHdr.MsgId`, `GrpHdr.CreDtTm`,
      `TxInfAndSts.OrgnlEndToEndId`, `TxInfAndSts.TxSts`. It carries no amount or parties:
      the `Transaction` has amount 0.0, currency "" and empty account and entity ids, and the
      engine fills them in from the stored pacs.008 of the same end-to-end id (Tazama's
      "data cache").
    * pain.001.001.11 under `CstmrCdtTrfInitn` and pain.013.001.09 under `CdtrPmtActvtnReq`:
      `GrpHdr.MsgId`, `GrpHdr.CreDtTm`, `PmtInf.CdtTrfTxInf.PmtId.EndToEndId`,
      `PmtInf.CdtTrfTxInf.Amt.InstdAmt.Amt.{Amt,Ccy}`, debtor `PmtInf.{Dbtr,DbtrAcct,DbtrAgt}`,
      creditor `PmtInf.CdtTrfTxInf.{Cdtr,CdtrAcct,CdtrAgt}`, `PmtInf.CdtTrfTxInf.RmtInf.Ustrd`,
      `SplmtryData.Envlp.Doc.InitgPty.Glctn.{Lat,Long}`,
      `PmtInf.Dbtr.Id.PrvtId.DtAndPlcOfBirth.BirthDt`.

    Raises `IntakeError` (a `ValueError`) with a concise reason naming the offending fields.
    """
    return validate_message(data, tenant_id).to_transaction(tenant_id)
