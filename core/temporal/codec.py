"""Workflow payloads encrypted before they reach Temporal, defined once for every client,
worker and replayer.

Each payload (workflow inputs and results, activity arguments and results, signals, queries,
updates, memos, and failures' messages and stack traces) is sealed with AES-256-GCM under
the writing payload key (`core.temporal.payload_keys`) into a payload of encoding
`binary/encrypted`, whose metadata names the key, and where known the tenant and the
workflow it belongs to. Those three are bound to the ciphertext as associated data: moving
a payload to another tenant's name makes it undecryptable. Search attributes and headers
are not payloads the codec sees; they stay readable and carry no personal data.

A payload without that encoding decodes as it is: histories recorded before encryption (and
the committed replay corpus) stay readable.

The codec endpoint (`POST /codec/decode`) uses the same codec, so the Temporal UI and CLI
can show decoded payloads to whoever the API lets decode.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)

from core.temporal.payload_keys import PayloadKeys

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
TENANT = "saku-tenant"
WORKFLOW = "saku-workflow-id"
_NONCE_BYTES = 12
# a JSON payload's top-level field naming its tenant (Saku's types say `tenant_id`; the
# bank's messages `TenantId`)
_TENANT_FIELDS = ("tenant_id", "tenant", "tenantId", "TenantId")
_MAX_TENANT = 64


class PayloadDecodeError(ValueError):
    """A payload this codec cannot open: an unknown key, or changed since it was sealed."""


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """AES-256-GCM over whole serialized payloads. The SDK hands each encode the workflow
    it is for (`with_context`), which goes into the metadata."""

    def __init__(self, keys: PayloadKeys, *, workflow_id: str | None = None) -> None:
        self.keys = keys
        self.workflow_id = workflow_id

    def with_context(self, context: SerializationContext) -> EncryptionCodec:
        workflow_id = getattr(context, "workflow_id", None) or None
        if workflow_id == self.workflow_id:
            return self
        return EncryptionCodec(self.keys, workflow_id=workflow_id)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload, *, tenant: str | None = None) -> Payload:
        if is_encrypted(payload):
            return payload
        key_id, key = self.keys.writing
        metadata = {KEY_ID: key_id.encode()}
        tenant = tenant or tenant_in(payload)
        if tenant:
            metadata[TENANT] = tenant.encode()
        if self.workflow_id:
            metadata[WORKFLOW] = self.workflow_id.encode()
        metadata["encoding"] = ENCODING
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, payload.SerializeToString(), _bound(metadata))
        return Payload(metadata=metadata, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if not is_encrypted(payload):
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        key = self.keys.key(key_id)
        if key is None:
            raise PayloadDecodeError(f"payload key {key_id!r} is not among this codec's keys")
        data = payload.data
        try:
            plain = AESGCM(key).decrypt(
                data[:_NONCE_BYTES], data[_NONCE_BYTES:], _bound(dict(payload.metadata))
            )
        except InvalidTag:
            raise PayloadDecodeError(
                f"payload under key {key_id!r} does not open: changed since it was sealed, "
                "or its metadata was"
            ) from None
        opened = Payload()
        opened.ParseFromString(plain)
        return opened


def is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding") == ENCODING


def tenant_in(payload: Payload) -> str | None:
    """The tenant a JSON payload names at its top level, if any (tenant ids are not personal
    data; the rest of the payload stays sealed)."""
    if payload.metadata.get("encoding") != b"json/plain" or b"enant" not in payload.data:
        return None
    try:
        value = json.loads(payload.data)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    for field in _TENANT_FIELDS:
        tenant = value.get(field)
        if isinstance(tenant, str) and 0 < len(tenant) <= _MAX_TENANT and tenant.isprintable():
            return tenant
    return None


def sealed_for(payload: Payload) -> tuple[str | None, str | None]:
    """(tenant, workflow id) a sealed payload's metadata names."""
    tenant = payload.metadata.get(TENANT)
    workflow = payload.metadata.get(WORKFLOW)
    return (
        tenant.decode(errors="replace") if tenant else None,
        workflow.decode(errors="replace") if workflow else None,
    )


def _bound(metadata: dict[str, bytes]) -> bytes:
    """The associated data: what the metadata says the payload is, sealed with it."""
    parts = (metadata.get(name, b"") for name in (KEY_ID, TENANT, WORKFLOW))
    return b"saku-payload-v1\x00" + b"\x00".join(parts)


def payload_keys(key_file: Path, setting: str | None = None, *, create: bool = True) -> PayloadKeys:
    """The process's payload keys: from the setting if given, else the key file. One object
    per source, so that a rotation seen by one client is seen by all of the process's."""
    if setting:
        return _from_setting(setting)
    return _from_file(key_file.resolve(), create)


@cache
def _from_setting(setting: str) -> PayloadKeys:
    return PayloadKeys.from_setting(setting)


@cache
def _from_file(path: Path, create: bool) -> PayloadKeys:
    return PayloadKeys.load(path, create=create)


def data_converter(keys: PayloadKeys | None) -> DataConverter:
    """Saku's data converter: JSON payloads sealed by the codec, failures' messages and stack
    traces moved into a payload so they are sealed too. Without keys (replaying histories
    kept in plaintext), payloads pass as they are and an encrypted one fails, saying why."""
    codec: PayloadCodec = PlaintextOnlyCodec() if keys is None else EncryptionCodec(keys)
    return DataConverter(
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


class PlaintextOnlyCodec(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if any(is_encrypted(p) for p in payloads):
            raise PayloadDecodeError("an encrypted payload, and no payload keys to open it")
        return list(payloads)


def decode_message(message: Message, codec: EncryptionCodec) -> None:
    """Open, in place, every payload anywhere in a Temporal message (a history, an event):
    what `temporal workflow show --codec-endpoint` shows, for keeping histories readable
    without the keys (the replay corpus)."""
    for payload in payloads_in(message):
        payload.CopyFrom(codec.open(payload))


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every payload anywhere in a Temporal message."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            if value_field.message_type is not None:
                for item in value.values():
                    yield from payloads_in(item)
        elif field.is_repeated:
            for item in value:
                yield from payloads_in(item)
        else:
            yield from payloads_in(value)
