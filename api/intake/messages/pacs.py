"""pacs.008 (FI to FI customer credit transfer) and pacs.002 (FI to FI payment status report)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from api.intake.messages.common import (
    Account,
    Agent,
    AmountBlock,
    Block,
    Charges,
    Envelope,
    GeoDocument,
    GeoParty,
    GroupHeader,
    IsoMessage,
    Party,
    Purpose,
    RegulatoryReporting,
    Remittance,
    SupplementaryData,
    epoch_ms,
    geolocation,
)
from api.intake.messages.fields import (
    Count,
    ExchangeRate,
    Identifier,
    IsoDateTime,
    Max4Text,
    Status,
)
from core.monitoring.transactions import Transaction, TxType

# --- pacs.008.001.10: FI to FI customer credit transfer ---------------------------------------


class SettlementInfo(Block):
    sttlm_mtd: Max4Text = Field(alias="SttlmMtd")  # SettlementMethod1Code


class Pacs008GroupHeader(GroupHeader):
    nb_of_txs: Count = Field(alias="NbOfTxs")
    sttlm_inf: SettlementInfo = Field(alias="SttlmInf")


class Pacs008PaymentId(Block):
    instr_id: Identifier = Field(alias="InstrId")
    end_to_end_id: Identifier = Field(alias="EndToEndId")


class Pacs008CreditTransfer(Block):
    pmt_id: Pacs008PaymentId = Field(alias="PmtId")
    intr_bk_sttlm_amt: AmountBlock = Field(alias="IntrBkSttlmAmt")
    instd_amt: AmountBlock = Field(alias="InstdAmt")
    xchg_rate: ExchangeRate = Field(default=None, alias="XchgRate")
    chrg_br: Max4Text = Field(alias="ChrgBr")  # ChargeBearerType1Code
    chrgs_inf: Charges = Field(alias="ChrgsInf")
    initg_pty: Party = Field(alias="InitgPty")
    dbtr: Party = Field(alias="Dbtr")
    dbtr_acct: Account = Field(alias="DbtrAcct")
    dbtr_agt: Agent = Field(alias="DbtrAgt")
    cdtr_agt: Agent = Field(alias="CdtrAgt")
    cdtr: Party = Field(alias="Cdtr")
    cdtr_acct: Account = Field(alias="CdtrAcct")
    purp: Purpose = Field(alias="Purp")


# The top-level `SplmtryData`: where the initiating party is, and the expiry.
class Pacs008Document(GeoDocument[GeoParty]):
    xprtn: IsoDateTime = Field(alias="Xprtn")


class Pacs008Envelope(Envelope[Pacs008Document]): ...


class Pacs008SupplementaryData(SupplementaryData[Pacs008Envelope]): ...


class FIToFICustomerCreditTransfer(Block):
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
        lat, lon = geolocation(supplementary.envlp.doc.initg_pty if supplementary else None)
        return Transaction(
            tenant_id=tenant_id,
            msg_id=doc.grp_hdr.msg_id,
            tx_type=self.TX_TYPE,
            end_to_end_id=tx.pmt_id.end_to_end_id,
            created_at_ms=epoch_ms(doc.grp_hdr.cre_dt_tm),
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


class Pacs002GroupHeader(GroupHeader): ...


class TransactionStatus(Block):
    orgnl_instr_id: Identifier = Field(alias="OrgnlInstrId")
    orgnl_end_to_end_id: Identifier = Field(alias="OrgnlEndToEndId")
    tx_sts: Status = Field(alias="TxSts")
    chrgs_inf: list[Charges] = Field(alias="ChrgsInf", max_length=10)
    accptnc_dt_tm: IsoDateTime = Field(alias="AccptncDtTm")
    instg_agt: Agent = Field(alias="InstgAgt")
    instd_agt: Agent = Field(alias="InstdAgt")


class FIToFIPaymentStatus(Block):
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
            created_at_ms=epoch_ms(doc.grp_hdr.cre_dt_tm),
            amount=0.0,
            currency="",
            debtor_account="",
            creditor_account="",
            debtor_entity="",
            creditor_entity="",
            status=doc.tx_inf_and_sts.tx_sts,
        )
