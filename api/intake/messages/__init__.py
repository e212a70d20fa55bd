"""Tazama-shaped ISO 20022 intake: field-by-field validation and normalisation.

The package: `fields` (the value types: identifiers, amounts, currencies, date-times, ...),
`common` (the blocks the messages share and `IsoMessage`, their interface), `pacs` (pacs.008,
pacs.002), `pain` (pain.001, pain.013) and `validation` (`IntakeError`, `validate_message`,
`parse_message`).

Saku accepts the messages Tazama's transaction monitoring service (TMS) accepts: abridged
ISO 20022 JSON with two extra top-level fields, `TxTp` (the message type) and `TenantId`.
The models here follow Tazama's JSON schemas (tazama-lf/tms-service, `src/schemas/*.json`):
every field those schemas require is required here, with the same names and nesting, and
unknown fields are accepted, as Tazama tolerates extra data (the models ignore them; the
message itself is stored verbatim, unknown fields included). Saku is stricter
about values than Tazama's schemas, which only check JSON types: identifiers must be
non-blank, amounts finite and positive (charges and fees may be 0), currencies three
uppercase letters, date-times ISO 8601 with a timezone, every text at most the length of its
ISO 20022 type (`Max35Text` for identifiers, `Max140Text` for names and remittance
information, ...; Tazama's own extensions at most 35 or 140), and numbers must be JSON
numbers and strings JSON strings (no coercion). Two relaxations, both deliberate:

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

from api.intake.messages.common import IsoMessage
from api.intake.messages.pacs import Pacs002, Pacs008
from api.intake.messages.pain import Pain001, Pain013
from api.intake.messages.validation import IntakeError, parse_message, validate_message

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
