"""pain.001 (customer credit transfer initiation) and pain.013 (request to pay).

The two share their group header, payment information and credit transfer but for a few
fields, and are read the same way; the shared parts are the `_Initiation*` bases, which keep
the fields each message declares in the order Tazama's schemas list them (validation reports
errors in field order).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar, Generic, Literal, TypeVar

from pydantic import Field

from api.intake.messages.common import (
    Account,
    Agent,
    Amount,
    AmountBlock,
    Block,
    Envelope,
    FeeAmount,
    FeeBlock,
    GeoDocument,
    GeoParty,
    GroupHeader,
    IsoMessage,
    Party,
    PaymentId,
    Purpose,
    RegulatoryReporting,
    Remittance,
    SupplementaryData,
    epoch_ms,
    geolocation,
)
from api.intake.messages.fields import (
    Count,
    Currency,
    ExchangeRate,
    Identifier,
    IsoDate,
    IsoDateTime,
    Max4Text,
    Max35Text,
    Max140Text,
)
from core.monitoring.transactions import Transaction, TxType

# --- shared by pain.001.001.11 and pain.013.001.09 --------------------------------------------


class InitiationGroupHeader(GroupHeader):
    nb_of_txs: Count = Field(alias="NbOfTxs")
    initg_pty: Party = Field(alias="InitgPty")


class DebitAdvice(Block):
    cd: Max4Text = Field(alias="Cd")  # AdviceType1Code
    prtry: Max35Text = Field(alias="Prtry")


class RequestedAdviceType(Block):
    dbt_advc: DebitAdvice = Field(alias="DbtAdvc")


class CategoryPurpose(Block):
    prtry: Max35Text = Field(alias="Prtry")


class PaymentTypeInfo(Block):
    ctgy_purp: CategoryPurpose = Field(alias="CtgyPurp")


class ExchangeRateInfo(Block):
    unit_ccy: Currency | None = Field(default=None, alias="UnitCcy")
    xchg_rate: ExchangeRate = Field(default=None, alias="XchgRate")


class EquivalentAmount(Block):
    amt: Amount = Field(alias="Amt")
    ccy_of_trf: Currency = Field(alias="CcyOfTrf")
    xchg_rate_inf: ExchangeRateInfo | None = Field(default=None, alias="XchgRateInf")


class InitiationAmount(Block):
    instd_amt: AmountBlock = Field(alias="InstdAmt")
    eqvt_amt: EquivalentAmount = Field(alias="EqvtAmt")


class DateTimeOnly(Block):
    dt_tm: IsoDateTime = Field(alias="DtTm")


class DateAndDateTime(Block):
    dt: IsoDate = Field(alias="Dt")
    dt_tm: IsoDateTime = Field(alias="DtTm")


class InitiationGeoParty(GeoParty):
    initr_tp: Max35Text = Field(alias="InitrTp")


TxDataT = TypeVar("TxDataT", bound=Block)


class _InitiationCreditTransfer(Block, Generic[TxDataT]):
    pmt_id: PaymentId = Field(alias="PmtId")
    pmt_tp_inf: PaymentTypeInfo = Field(alias="PmtTpInf")
    amt: InitiationAmount = Field(alias="Amt")
    chrg_br: Max4Text = Field(alias="ChrgBr")  # ChargeBearerType1Code
    cdtr_agt: Agent = Field(alias="CdtrAgt")
    cdtr: Party = Field(alias="Cdtr")
    cdtr_acct: Account = Field(alias="CdtrAcct")
    purp: Purpose = Field(alias="Purp")
    rgltry_rptg: RegulatoryReporting = Field(alias="RgltryRptg")
    # Required in pain.001. In pain.013 not in Tazama's schema, but in its sample messages and
    # in ISO 20022.
    rmt_inf: Remittance | None = Field(default=None, alias="RmtInf")
    splmtry_data: TxDataT = Field(alias="SplmtryData")


class _InitiationPaymentInfo(Block):
    pmt_inf_id: Identifier = Field(alias="PmtInfId")
    pmt_mtd: Max4Text = Field(alias="PmtMtd")  # PaymentMethod3Code
    reqd_advc_tp: RequestedAdviceType = Field(alias="ReqdAdvcTp")
    dbtr: Party = Field(alias="Dbtr")
    dbtr_acct: Account = Field(alias="DbtrAcct")
    dbtr_agt: Agent = Field(alias="DbtrAgt")


PaymentInfoT = TypeVar("PaymentInfoT", bound=_InitiationPaymentInfo)
GeoDataT = TypeVar("GeoDataT", bound=Block)


class _InitiationDocument(Block, Generic[PaymentInfoT, GeoDataT]):
    grp_hdr: InitiationGroupHeader = Field(alias="GrpHdr")
    pmt_inf: PaymentInfoT = Field(alias="PmtInf")
    splmtry_data: GeoDataT | None = Field(default=None, alias="SplmtryData")


# --- pain.001.001.11: customer credit transfer initiation -------------------------------------


class SupplementaryName(Block):
    frst_nm: Max140Text = Field(alias="FrstNm")
    mddl_nm: Max140Text = Field(alias="MddlNm")
    last_nm: Max140Text = Field(alias="LastNm")
    # Tazama's own field (its samples say "BLANK"), not ISO's four-digit code
    mrchnt_clssfctn_cd: Max35Text = Field(alias="MrchntClssfctnCd")


# `PmtInf.CdtTrfTxInf.SplmtryData`: names, the debtor's fees and the expiry.
class Pain001TxDocument(Block):
    dbtr: SupplementaryName = Field(alias="Dbtr")
    cdtr: SupplementaryName = Field(alias="Cdtr")
    dbtr_fin_svcs_prvdr_fees: FeeAmount = Field(alias="DbtrFinSvcsPrvdrFees")
    xprtn: IsoDateTime = Field(alias="Xprtn")


class Pain001TxEnvelope(Envelope[Pain001TxDocument]): ...


class Pain001TxData(SupplementaryData[Pain001TxEnvelope]): ...


class Pain001CreditTransfer(_InitiationCreditTransfer[Pain001TxData]):
    rmt_inf: Remittance = Field(alias="RmtInf")


class Pain001PaymentInfo(_InitiationPaymentInfo):
    reqd_exctn_dt: DateAndDateTime = Field(alias="ReqdExctnDt")
    cdt_trf_tx_inf: Pain001CreditTransfer = Field(alias="CdtTrfTxInf")


# The top-level `SplmtryData`: where the initiating party is (and, in a pain.001, what it is).
class Pain001GeoDocument(GeoDocument[InitiationGeoParty]): ...


class Pain001GeoEnvelope(Envelope[Pain001GeoDocument]): ...


class Pain001GeoData(SupplementaryData[Pain001GeoEnvelope]): ...


class CustomerCreditTransferInitiation(_InitiationDocument[Pain001PaymentInfo, Pain001GeoData]): ...


# --- pain.013.001.09: creditor payment activation request -------------------------------------


# `PmtInf.CdtTrfTxInf.SplmtryData`: what the payee receives, and pays its provider.
class Pain013TxDocument(Block):
    pyee_rcv_amt: FeeBlock = Field(alias="PyeeRcvAmt")
    pyee_fin_svcs_prvdr_fee: FeeBlock = Field(alias="PyeeFinSvcsPrvdrFee")
    pyee_fin_svcs_prvdr_comssn: FeeBlock = Field(alias="PyeeFinSvcsPrvdrComssn")


class Pain013TxEnvelope(Envelope[Pain013TxDocument]): ...


class Pain013TxData(SupplementaryData[Pain013TxEnvelope]): ...


class Pain013CreditTransfer(_InitiationCreditTransfer[Pain013TxData]): ...


class Pain013PaymentInfo(_InitiationPaymentInfo):
    reqd_exctn_dt: DateTimeOnly = Field(alias="ReqdExctnDt")
    xpry_dt: DateTimeOnly = Field(alias="XpryDt")
    cdt_trf_tx_inf: Pain013CreditTransfer = Field(alias="CdtTrfTxInf")


# The top-level `SplmtryData`: where the initiating party is.
class Pain013GeoDocument(GeoDocument[GeoParty]): ...


class Pain013GeoEnvelope(Envelope[Pain013GeoDocument]): ...


class Pain013GeoData(SupplementaryData[Pain013GeoEnvelope]): ...


class CreditorPaymentActivationRequest(_InitiationDocument[Pain013PaymentInfo, Pain013GeoData]): ...


# --- the two messages -------------------------------------------------------------------------


class _InitiationMessage(IsoMessage):
    """Reads pain.001 and pain.013 alike: the debtor under `PmtInf`, the rest of the payment
    under `PmtInf.CdtTrfTxInf`."""

    if TYPE_CHECKING:
        # Declared by each message, after its `tx_tp`, with its own alias (field order matters).
        document: CustomerCreditTransferInitiation | CreditorPaymentActivationRequest

    def to_transaction(self, tenant_id: str) -> Transaction:
        doc = self.document
        header, info = doc.grp_hdr, doc.pmt_inf
        tx = info.cdt_trf_tx_inf
        lat, lon = geolocation(doc.splmtry_data.envlp.doc.initg_pty if doc.splmtry_data else None)
        return Transaction(
            tenant_id=tenant_id,
            msg_id=header.msg_id,
            tx_type=self.TX_TYPE,
            end_to_end_id=tx.pmt_id.end_to_end_id,
            created_at_ms=epoch_ms(header.cre_dt_tm),
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

    @property
    def debtor_birth_date(self) -> date | None:
        return self.document.pmt_inf.dbtr.birth_date

    @property
    def creditor_birth_date(self) -> date | None:
        return self.document.pmt_inf.cdt_trf_tx_inf.cdtr.birth_date


class Pain001(_InitiationMessage):
    TX_TYPE: ClassVar[str] = TxType.PAIN_001
    tx_tp: Literal["pain.001.001.11"] = Field(alias="TxTp")
    document: CustomerCreditTransferInitiation = Field(alias="CstmrCdtTrfInitn")


class Pain013(_InitiationMessage):
    TX_TYPE: ClassVar[str] = TxType.PAIN_013
    tx_tp: Literal["pain.013.001.09"] = Field(alias="TxTp")
    document: CreditorPaymentActivationRequest = Field(alias="CdtrPmtActvtnReq")
