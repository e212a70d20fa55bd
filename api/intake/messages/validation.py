"""The entry points: pick the model for `TxTp`, validate, and say concisely what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from api.intake.messages.common import IsoMessage
from api.intake.messages.pacs import Pacs002, Pacs008
from api.intake.messages.pain import Pain001, Pain013
from core.monitoring.transactions import Transaction

_MAX_LISTED_ERRORS = 10


class IntakeError(ValueError):
    """A message Saku will never accept; `reason` says why, naming the offending fields."""

    def __init__(self, reason: str, errors: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors if errors is not None else [reason]


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
