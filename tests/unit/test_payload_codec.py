"""The payload codec's rules, without a server: what a sealed payload shows, what opens it,
what does not, and how the keys rotate."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import (
    DataConverter,
    DefaultPayloadConverter,
    WorkflowSerializationContext,
)
from temporalio.exceptions import ApplicationError

from api.codec import workflow_of_page
from core.temporal.codec import (
    ENCODING,
    EncryptionCodec,
    PayloadDecodeError,
    data_converter,
    decode_message,
    tenant_in,
)
from core.temporal.payload_keys import PayloadKeyError, PayloadKeys

_json = DefaultPayloadConverter()
REQUEST = {"tenant_id": "sch-1", "student_id": "stu-0042", "amount": "12345.0000"}


def payload(value: Any) -> Payload:
    return _json.to_payloads([value])[0]


def keys() -> PayloadKeys:
    return PayloadKeys({"p1": os.urandom(32)}, "p1")


def test_a_sealed_payload_shows_its_key_tenant_and_workflow_and_nothing_else() -> None:
    codec = EncryptionCodec(keys()).with_context(WorkflowSerializationContext("saku", "wf-1"))
    sealed = codec.seal(payload(REQUEST))
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata["encryption-key-id"] == b"p1"
    assert sealed.metadata["saku-tenant"] == b"sch-1"
    assert sealed.metadata["saku-workflow-id"] == b"wf-1"
    assert b"stu-0042" not in sealed.SerializeToString()
    assert b"12345" not in sealed.SerializeToString()
    assert _json.from_payloads([codec.open(sealed)])[0] == REQUEST


def test_moving_a_payload_to_another_tenant_or_workflow_breaks_it() -> None:
    codec = EncryptionCodec(keys(), workflow_id="wf-1")
    for key, value in (("saku-tenant", b"sch-2"), ("saku-workflow-id", b"wf-2")):
        sealed = codec.seal(payload(REQUEST))
        sealed.metadata[key] = value
        with pytest.raises(PayloadDecodeError, match="does not open"):
            codec.open(sealed)
    sealed = codec.seal(payload(REQUEST))
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(PayloadDecodeError):
        codec.open(sealed)


def test_plaintext_payloads_decode_as_they_are_and_sealing_twice_seals_once() -> None:
    codec = EncryptionCodec(keys())
    plain = payload(REQUEST)
    assert codec.open(plain) == plain
    sealed = codec.seal(plain)
    assert codec.seal(sealed) == sealed


def test_an_unknown_key_is_named() -> None:
    sealed = EncryptionCodec(keys()).seal(payload(REQUEST))
    with pytest.raises(PayloadDecodeError, match="'p1' is not among"):
        EncryptionCodec(PayloadKeys({"p9": os.urandom(32)}, "p9")).open(sealed)


def test_the_tenant_is_read_from_the_top_level_of_json_only() -> None:
    assert tenant_in(payload({"tenantId": "bank-1"})) == "bank-1"
    assert tenant_in(payload({"TenantId": "bank-2", "x": 1})) == "bank-2"
    assert tenant_in(payload({"inner": {"tenant_id": "x"}})) is None
    assert tenant_in(payload(["tenant_id"])) is None
    assert tenant_in(payload({"tenant_id": "x" * 65})) is None


async def test_the_data_converter_seals_values_and_failure_messages() -> None:
    converter = data_converter(keys())
    [sealed] = await converter.encode([REQUEST])
    assert sealed.metadata["encoding"] == ENCODING
    assert await converter.decode([sealed], [dict]) == [REQUEST]
    failure = Failure()
    await converter.encode_failure(ApplicationError("stu-0042 has no money"), failure)
    assert "stu-0042" not in str(failure)
    decoded = await converter.decode_failure(failure)
    assert "stu-0042 has no money" in str(decoded)


async def test_without_keys_plaintext_replays_and_ciphertext_says_why() -> None:
    plain = data_converter(None)
    assert await plain.decode([payload(REQUEST)], [dict]) == [REQUEST]
    sealed = EncryptionCodec(keys()).seal(payload(REQUEST))
    with pytest.raises(PayloadDecodeError, match="no payload keys"):
        await plain.decode([sealed], [dict])
    assert DataConverter.default.payload_codec is None  # the SDK's default stays untouched


def test_every_payload_of_a_history_event_opens_in_place() -> None:
    codec = EncryptionCodec(keys(), workflow_id="wf-1")
    event = HistoryEvent(event_id=1)
    started = event.workflow_execution_started_event_attributes
    started.input.payloads.append(codec.seal(payload(REQUEST)))
    started.memo.fields["movement"].CopyFrom(codec.seal(payload({"amount": "5"})))
    started.search_attributes.indexed_fields["SakuTenant"].CopyFrom(payload("sch-1"))
    decode_message(event, codec)
    assert _json.from_payloads([started.input.payloads[0]])[0] == REQUEST
    assert _json.from_payloads([started.memo.fields["movement"]])[0] == {"amount": "5"}
    assert _json.from_payloads([started.search_attributes.indexed_fields["SakuTenant"]]) == [
        "sch-1"
    ]


def test_keys_from_the_setting_and_their_errors() -> None:
    one, two = os.urandom(32), os.urandom(32)
    text = f"new:{base64.b64encode(one).decode()}, old:{base64.b64encode(two).decode()}"
    parsed = PayloadKeys.from_setting(text)
    assert parsed.writing == ("new", one) and parsed.key("old") == two
    for bad, reason in (
        ("", "names no key"),
        ("nocolon", "id:base64key"),
        ("k1:not base64!", "not base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "5 bytes"),
    ):
        with pytest.raises(PayloadKeyError, match=reason):
            PayloadKeys.from_setting(bad)
    with pytest.raises(PayloadKeyError, match="SAKU_PAYLOAD_KEYS"):
        parsed.rotate()


def test_the_key_file_is_created_0600_rotates_and_is_reread_for_unknown_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "secrets" / "payload-keys.json"
    first = PayloadKeys.load(path)
    assert first.ids == ["p1"] and path.stat().st_mode & 0o777 == 0o600
    sealed_before = EncryptionCodec(first).seal(payload(REQUEST))
    other = PayloadKeys.load(path)  # another process's view of the same file
    assert other.rotate() == "p2"
    sealed_after = EncryptionCodec(other).seal(payload(REQUEST))
    assert sealed_after.metadata["encryption-key-id"] == b"p2"
    # the first process meets a payload under p2: it reads the file again
    assert _json.from_payloads([EncryptionCodec(first).open(sealed_after)])[0] == REQUEST
    assert first.writing[0] == "p2"
    assert _json.from_payloads([EncryptionCodec(other).open(sealed_before)])[0] == REQUEST
    path.chmod(0o644)
    with pytest.raises(PayloadKeyError, match="chmod 600"):
        PayloadKeys.load(path)


def test_the_workflow_comes_from_the_ui_page_address() -> None:
    page = "http://127.0.0.1:58233/namespaces/saku/workflows/payment-t1-k1-tx%2F1/run-1/history"
    assert workflow_of_page(page) == "payment-t1-k1-tx/1"
    assert workflow_of_page("http://127.0.0.1:58233/") is None
    assert workflow_of_page(None) is None
