"""The pure parts of the alert hand-off: CEF escaping and layout, the syslog message and its
framing, severities, the webhook's signature, sealed secrets, syslog collector addresses."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidTag

from activities.alert_handoff.cef import (
    Alert,
    Typology,
    cef_event,
    escape_extension,
    escape_header,
    frame,
    severity,
    syslog_message,
    syslog_severity,
    webhook_body,
)
from activities.alert_handoff.sealed import SecretBox
from activities.alert_handoff.signing import signature, verify
from activities.wallet.webhook_targets import WebhookPolicy, WebhookTargetRefused

AT = datetime(2026, 12, 24, 3, 4, 5, 678000, tzinfo=UTC)
SECRET = "siem-secret-" + "s" * 24


def typology(score: float, interdiction: float | None = 350.0, id: str = "t@1") -> Typology:
    return Typology(
        id=id,
        cfg="1.0.0",
        score=score,
        alert_threshold=200.0,
        interdiction_threshold=interdiction,
        review=score >= 200,
        interdiction=interdiction is not None and score >= interdiction,
    )


def alert(*typologies: Typology, interdicted: bool = False) -> Alert:
    return Alert(
        tenant_id="bank-a",
        msg_id="msg-1",
        evaluation_id="0193c0de-0000-7000-8000-000000000001",
        end_to_end_id="e2e-1",
        tx_type="pacs.002.001.12",
        interdicted=interdicted,
        typologies=typologies,
        blocked_by=None,
        overridden_by=None,
        evaluated_at=AT,
        workflow_id="evaluation-bank-a-msg-1",
        case_workflow_id="case-bank-a-msg-1",
    )


# --- CEF escaping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain", "plain"),
        ("a|b", "a\\|b"),
        ("back\\slash", "back\\\\slash"),
        ("both\\|", "both\\\\\\|"),
        ("eq=is fine here", "eq=is fine here"),
        ("two\nlines\r\n", "two lines  "),
        ("tab\tbell\x07", "tab bell "),
    ],
)
def test_header_fields_escape_pipes_and_backslashes_and_stay_on_one_line(
    raw: str, escaped: str
) -> None:
    assert escape_header(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain value", "plain value"),
        ("k=v", "k\\=v"),
        ("back\\slash", "back\\\\slash"),
        ("\\=", "\\\\\\="),
        ("pipe|is fine here", "pipe|is fine here"),
        ("line\nbreak", "line\\nbreak"),
        ("crlf\r\nend", "crlf\\nend"),
        ("cr\rend", "cr\\rend"),
        ("nul\x00", "nul "),
    ],
)
def test_extension_values_escape_equals_backslashes_and_line_breaks(raw: str, escaped: str) -> None:
    assert escape_extension(raw) == escaped


def _unescape_extension(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), value)


def _split_event(line: str) -> tuple[list[str], dict[str, str]]:
    """A CEF event read as a SIEM's parser reads it: seven header fields split on unescaped
    pipes, then key=value pairs split before each unescaped `key=`."""
    fields = re.split(r"(?<!\\)\|", line, maxsplit=7)
    assert len(fields) == 8, fields
    pairs = re.findall(r"(\w+)=((?:\\.|[^\\=])*?)(?=\s+\w+=|$)", fields[7])
    return fields[:7], {key: _unescape_extension(value) for key, value in pairs}


def test_a_cef_event_reads_back_as_it_was_meant_whatever_the_ids_hold() -> None:
    nasty = replace(
        alert(typology(400, id="odd|typ\\o=gy\nx")),
        end_to_end_id="e2e=1|\\x\ny",
        tenant_id="bank a",
    )
    line = cef_event(nasty)
    assert "\n" not in line and "\r" not in line
    header, extension = _split_event(line)
    assert header[:4] == ["CEF:0", "Saku", "Saku transaction monitoring", "1.0"]
    assert header[4] == "saku:alert"
    assert header[5] == "Transaction alerted: typology odd\\|typ\\\\o=gy x@1.0.0"
    assert header[6] == "9"  # at or past the interdiction threshold, not interdicted
    assert extension["cs3Label"] == "endToEndId"
    assert extension["cs3"] == "e2e=1|\\x\ny"
    assert extension["cs1"] == "bank a"
    assert extension["cs4"] == "odd|typ\\o=gy\nx@1.0.0:400"
    assert extension["externalId"] == "msg-1"
    assert extension["act"] == "alerted"
    assert extension["rt"] == str(int(AT.timestamp() * 1000))
    assert extension["cfp1"] == "400"


def test_the_event_carries_ids_and_scores_and_no_personal_data() -> None:
    line = cef_event(alert(typology(250.5)))
    _, extension = _split_event(line)
    assert set(extension) == {
        "rt",
        "act",
        "cat",
        "externalId",
        *(f"cs{i}{label}" for i in range(1, 7) for label in ("", "Label")),
        "cfp1Label",
        "cfp1",
    }
    assert extension["cs4"] == "t@1@1.0.0:250.5"


def test_a_long_typology_list_is_cut_to_keep_the_event_small() -> None:
    many = [typology(300 - i, id=f"typology-{i:03}-" + "x" * 40) for i in range(100)]
    line = syslog_message(alert(*many), "saku-worker-1", AT)
    assert len(line) <= 2048
    _, extension = _split_event(line.decode().split(" ", 7)[7])
    assert extension["cs4"].startswith("typology-000-")
    assert extension["cs4"].endswith(",...")


# --- severity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typologies", "interdicted", "expected"),
    [
        ((typology(400),), True, 10),
        ((typology(350),), False, 9),  # at the interdiction threshold, interdiction lifted
        ((typology(200),), False, 7),  # at the alert threshold: 200/350 of the way
        ((typology(10),), False, 5),
        ((typology(200), typology(340)), False, 9),  # the highest counts
        ((typology(300, interdiction=None),), False, 6),  # nothing to measure it by
        ((), False, 6),  # a blocking condition, an unrouted message
    ],
)
def test_severity_follows_the_score_and_the_interdiction(
    typologies: tuple[Typology, ...], interdicted: bool, expected: int
) -> None:
    assert severity(alert(*typologies, interdicted=interdicted)) == expected


def test_syslog_severity_is_critical_for_interdictions_and_never_below_notice() -> None:
    assert [syslog_severity(s) for s in range(11)] == [5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 2]


# --- the syslog message -----------------------------------------------------------------------

RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<host>\S{1,255}) "
    r"(?P<app>\S{1,48}) (?P<procid>\S{1,128}) (?P<msgid>\S{1,32}) (?P<sd>-|\[.*?\]) "
    r"(?P<msg>CEF:0\|.*)$"
)


def test_the_syslog_message_is_rfc_5424_with_the_cef_event_as_its_message() -> None:
    message = syslog_message(alert(typology(400), interdicted=True), "saku worker\n1", AT)
    match = RFC5424.match(message.decode())
    assert match is not None, message
    assert match["pri"] == str(4 * 8 + 2)  # security/authorization, critical
    assert match["ts"] == "2026-12-24T03:04:05.678Z"
    assert match["host"] == "sakuworker1"  # printable ASCII without spaces
    assert (match["app"], match["procid"], match["msgid"], match["sd"]) == (
        "saku",
        "-",
        "alert",
        "-",
    )
    assert match["msg"] == cef_event(alert(typology(400), interdicted=True))


def test_framing_per_transport() -> None:
    message = b"<34>1 - - saku - alert - CEF:0|x"
    assert frame(message, "udp") == message
    assert frame(message, "tcp") == b"%d " % len(message) + message
    assert frame(message, "tcp-lf") == message + b"\n"
    with pytest.raises(ValueError, match="unknown syslog transport"):
        frame(message, "carrier-pigeon")


def test_the_webhook_body_names_no_one() -> None:
    body = webhook_body(alert(typology(400), interdicted=True))
    assert body["alertId"] == "0193c0de-0000-7000-8000-000000000001"
    assert (body["severity"], body["interdicted"], body["highestScore"]) == (10, True, 400.0)
    assert body["typologies"][0]["interdictionThreshold"] == 350.0
    assert set(body) == {
        "alertId",
        "tenantId",
        "msgId",
        "endToEndId",
        "txTp",
        "status",
        "interdicted",
        "severity",
        "highestScore",
        "typologies",
        "blockedBy",
        "overriddenBy",
        "evaluatedAt",
        "workflowId",
        "caseWorkflowId",
    }


# --- the webhook's signature -----------------------------------------------------------------


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    body = b'{"alertId":"a"}'
    expected = hmac.new(SECRET.encode(), b"1767225600." + body, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1767225600, body) == f"v1={expected}"


def test_a_receiver_verifies_the_signature_and_refuses_tampering_and_replays() -> None:
    body = b'{"alertId":"a"}'
    sent = signature(SECRET, 1000, body)
    assert verify(SECRET, "1000", sent, body, now=1010, tolerance_s=300)
    assert not verify(SECRET, "1000", sent, body + b" ", now=1010, tolerance_s=300)
    assert not verify("another-secret-" + "x" * 20, "1000", sent, body, 1010, 300)
    assert not verify(SECRET, "1001", sent, body, now=1010, tolerance_s=300)  # moved timestamp
    assert not verify(SECRET, "1000", sent, body, now=2000, tolerance_s=300)  # stale: a replay
    assert not verify(SECRET, "soon", sent, body, now=1010, tolerance_s=300)


# --- sealed secrets ----------------------------------------------------------------------------


def test_a_sealed_secret_opens_for_its_tenant_only_and_under_its_key_only() -> None:
    box = SecretBox("k" * 32)
    sealed = box.seal("bank-a", SECRET)
    assert SECRET.encode() not in sealed
    assert box.seal("bank-a", SECRET) != sealed  # a fresh nonce each time
    assert box.open("bank-a", sealed) == SECRET
    with pytest.raises(InvalidTag):
        box.open("bank-b", sealed)
    with pytest.raises(InvalidTag):
        SecretBox("j" * 32).open("bank-a", sealed)
    with pytest.raises(ValueError, match="not a sealed"):
        box.open("bank-a", b"plaintext")
    with pytest.raises(ValueError, match="at least 32"):
        SecretBox("short")


# --- syslog collector addresses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port", "reason"),
    [
        ("127.0.0.1", 514, "loopback"),
        ("10.0.0.5", 514, "private"),
        ("169.254.169.254", 80, "link-local"),
        ("localhost", 514, "local name"),
        ("siem.bank.internal", 514, "local name"),
        ("siem.example/path", 514, "not a host name"),
        ("user@siem.example", 514, "not a host name"),
        ("", 514, "not a host name"),
        ("siem\x00.example", 514, "not a host name"),
        ("siem .example", 514, "not a host name"),
        ("siem.example", 0, "not in 1-65535"),
        ("siem.example", 70000, "not in 1-65535"),
    ],
)
def test_a_syslog_collector_must_be_public(host: str, port: int, reason: str) -> None:
    with pytest.raises(WebhookTargetRefused, match=reason):
        WebhookPolicy().check_host(host, port)


def test_allow_listed_collectors_may_be_local() -> None:
    WebhookPolicy().check_host("siem.example", 6514)
    WebhookPolicy().check_host("93.184.215.14", 514)
    WebhookPolicy(["127.0.0.1"]).check_host("127.0.0.1", 5514)
    WebhookPolicy(["127.0.0.1:5514"]).check_host("127.0.0.1", 5514)
    with pytest.raises(WebhookTargetRefused, match="loopback"):
        WebhookPolicy(["127.0.0.1:5514"]).check_host("127.0.0.1", 5515)


async def test_resolving_gives_the_checked_address_to_connect_to() -> None:
    assert await WebhookPolicy(["127.0.0.1"]).resolve_host("127.0.0.1", 514) == "127.0.0.1"
    with pytest.raises(WebhookTargetRefused, match="loopback"):
        await WebhookPolicy().resolve_host("127.0.0.1", 514)
