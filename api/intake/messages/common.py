"""Building blocks shared by the four messages, and `IsoMessage`, their common interface."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from api.intake.messages.fields import (
    AccountIdentifier,
    CountryCode,
    Currency,
    Identifier,
    IsoDate,
    IsoDateTime,
    Latitude,
    Longitude,
    Max4Text,
    Max10Text,
    Max35Text,
    Max70Text,
    Max140Text,
    NonNegativeAmount,
    PositiveAmount,
    TenantText,
)
from core.monitoring.transactions import Transaction

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Block(BaseModel):
    # Unknown fields are accepted, not copied onto the model: the message is stored verbatim
    # anyway, and copying them would slow every validation.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=False)


class GroupHeader(Block):
    """`GrpHdr`: what every message starts with."""

    msg_id: Identifier = Field(alias="MsgId")
    cre_dt_tm: IsoDateTime = Field(alias="CreDtTm")


# --- parties, accounts and agents -------------------------------------------------------------


class SchemeName(Block):
    prtry: Identifier = Field(alias="Prtry")


class GenericId(Block):
    """`Othr`: an identifier and the (proprietary) scheme it belongs to."""

    id: Identifier = Field(alias="Id")
    schme_nm: SchemeName = Field(alias="SchmeNm")

    @property
    def key(self) -> str:
        return f"{self.id}{self.schme_nm.prtry}"


class DateAndPlaceOfBirth(Block):
    birth_dt: IsoDate = Field(alias="BirthDt")
    city_of_birth: Max35Text = Field(alias="CityOfBirth")
    ctry_of_birth: CountryCode = Field(alias="CtryOfBirth")


class PrivateId(Block):
    dt_and_plc_of_birth: DateAndPlaceOfBirth = Field(alias="DtAndPlcOfBirth")
    othr: list[GenericId] = Field(alias="Othr", min_length=1, max_length=10)


class PartyId(Block):
    prvt_id: PrivateId = Field(alias="PrvtId")


class ContactDetails(Block):
    mob_nb: Max35Text = Field(alias="MobNb")  # PhoneNumber: +ccc-nnn..., 35 at most


class Party(Block):
    """A person (`Dbtr`, `Cdtr`, `InitgPty`)."""

    nm: Max140Text = Field(alias="Nm")
    id: PartyId = Field(alias="Id")
    ctct_dtls: ContactDetails = Field(alias="CtctDtls")

    @property
    def entity_id(self) -> str:
        return self.id.prvt_id.othr[0].key

    @property
    def birth_date(self) -> date:
        return self.id.prvt_id.dt_and_plc_of_birth.birth_dt


class AccountGenericId(GenericId):
    """An account's `Othr`: its id is Max34Text (GenericAccountIdentification1)."""

    id: AccountIdentifier = Field(alias="Id")


class AccountId(Block):
    othr: list[AccountGenericId] = Field(alias="Othr", min_length=1, max_length=10)


class Account(Block):
    """`DbtrAcct` / `CdtrAcct`."""

    id: AccountId = Field(alias="Id")
    nm: Max70Text = Field(alias="Nm")

    def account_id(self, agent: Agent) -> str:
        return f"{self.id.othr[0].key}{agent.member_id}"


class ClearingSystemMemberId(Block):
    mmb_id: Identifier = Field(alias="MmbId")


class FinancialInstitutionId(Block):
    clr_sys_mmb_id: ClearingSystemMemberId = Field(alias="ClrSysMmbId")


class Agent(Block):
    """`DbtrAgt`, `CdtrAgt`, `InstgAgt`, `InstdAgt`: a financial service provider."""

    fin_instn_id: FinancialInstitutionId = Field(alias="FinInstnId")

    @property
    def member_id(self) -> str:
        return self.fin_instn_id.clr_sys_mmb_id.mmb_id


# --- amounts and the details around them ------------------------------------------------------


class Amount(Block):
    amt: PositiveAmount = Field(alias="Amt")
    ccy: Currency = Field(alias="Ccy")


class FeeAmount(Block):
    amt: NonNegativeAmount = Field(alias="Amt")
    ccy: Currency = Field(alias="Ccy")


class AmountBlock(Block):
    """`{"Amt": {"Amt": 10.5, "Ccy": "IDR"}}`, Tazama's shape for a currency and amount."""

    amt: Amount = Field(alias="Amt")


class FeeBlock(Block):
    amt: FeeAmount = Field(alias="Amt")


class Charges(Block):
    amt: FeeAmount = Field(alias="Amt")
    agt: Agent = Field(alias="Agt")


class Purpose(Block):
    cd: Max4Text = Field(alias="Cd")  # ExternalPurpose1Code


class RegulatoryDetails(Block):
    tp: Max35Text = Field(alias="Tp")
    cd: Max10Text = Field(alias="Cd")


class RegulatoryReporting(Block):
    dtls: RegulatoryDetails = Field(alias="Dtls")


class Remittance(Block):
    ustrd: Max140Text = Field(alias="Ustrd")


class PaymentId(Block):
    end_to_end_id: Identifier = Field(alias="EndToEndId")


# --- supplementary data: `{"Envlp": {"Doc": {...}}}` ------------------------------------------
# A validation error names the model it expected ("... or instance of Pain001GeoEnvelope"), so
# each message subclasses these with a name of its own rather than using `Envelope[...]` inline.


class Geolocation(Block):
    lat: Latitude = Field(alias="Lat")
    long: Longitude = Field(alias="Long")


class GeoParty(Block):
    glctn: Geolocation = Field(alias="Glctn")


DocumentT = TypeVar("DocumentT", bound=Block)
EnvelopeT = TypeVar("EnvelopeT", bound=Block)
GeoPartyT = TypeVar("GeoPartyT", bound=GeoParty)


class Envelope(Block, Generic[DocumentT]):
    doc: DocumentT = Field(alias="Doc")


class SupplementaryData(Block, Generic[EnvelopeT]):
    envlp: EnvelopeT = Field(alias="Envlp")


class GeoDocument(Block, Generic[GeoPartyT]):
    """The document of the top-level `SplmtryData`: where the initiating party is."""

    initg_pty: GeoPartyT = Field(alias="InitgPty")


def geolocation(party: GeoParty | None) -> tuple[float | None, float | None]:
    if party is None:
        return None, None
    return party.glctn.lat, party.glctn.long


# --- the common interface ---------------------------------------------------------------------


class IsoMessage(Block):
    """A validated message: `TxTp`, an optional `TenantId`, and one ISO 20022 document."""

    TX_TYPE: ClassVar[str]
    tenant_id: TenantText | None = Field(default=None, alias="TenantId")

    def to_transaction(self, tenant_id: str) -> Transaction:
        raise NotImplementedError

    @property
    def debtor_birth_date(self) -> date | None:
        return None

    @property
    def creditor_birth_date(self) -> date | None:
        return None


def epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)
