"""Helpers of the fuzz tests (test_fuzz.py): the budget, a bystander tenant whose rows must
not change, requests built from schemathesis cases (tokens, kiosk signatures), and Kafka
records built by hypothesis."""

from __future__ import annotations

import json
import os
import random
import traceback
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import strategies as st
from pydantic import ValidationError

from api.intake.consumer import Rejected
from api.intake.messages import IntakeError, parse_message
from api.intake.payout_results import parse as parse_payout_result
from api.intake.selfcheck import parse_check
from api.intake.topups import TopUpIn
from core.db import Pool
from core.kiosk_signing import sign_request
from core.security import Role
from core.wallet.payouts import PayoutAnswer
from saku.iso20022_samples import financial_transaction
from tests.integration.wallet_world import World

# --- the budget: CI runs the defaults (about 3 minutes in all on 2 cores); raise them locally ---


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


# seconds of generated HTTP requests, shared equally by the routes
HTTP_SECONDS = _env_number("SAKU_FUZZ_HTTP_SECONDS", 50)
# most generated requests per route (a route also stops at its share of the seconds)
HTTP_EXAMPLES = int(_env_number("SAKU_FUZZ_HTTP_EXAMPLES", 50))
# generated records per topic
KAFKA_RECORDS = int(_env_number("SAKU_FUZZ_KAFKA_RECORDS", 60))
# the size of the "huge" Kafka records (a few of them are sent per run)
KAFKA_HUGE_BYTES = int(_env_number("SAKU_FUZZ_KAFKA_HUGE_BYTES", 3_000_000))
# how long the consumer may take to reach the sentinel after the fuzz records
SENTINEL_TIMEOUT_S = _env_number("SAKU_FUZZ_SENTINEL_TIMEOUT_S", 90)

# what a 4xx must never carry: PostgreSQL's and the driver's own words
DATABASE_WORDS = (
    "invalid input syntax",
    "violates",
    "Key (",
    "psycopg",
    'relation "',
    "DETAIL:",
    "out of range for type",
    "numeric field overflow",
)


# --- the bystander: a tenant the fuzz never addresses, whose rows must stay as they were -------


async def tenant_tables(pool: Pool) -> list[str]:
    async with pool.connection() as conn:
        rows = await (
            await conn.execute(
                """SELECT table_name FROM information_schema.columns
                   WHERE table_schema = 'public' AND column_name = 'tenant_id'
                   ORDER BY table_name"""
            )
        ).fetchall()
    # the outbox's delivery state is the worker's to change (retries), whatever happens
    return [r["table_name"] for r in rows if r["table_name"] != "notification_outbox"]


async def snapshot(pool: Pool, tenant: str) -> dict[str, tuple[int, str]]:
    """Per table: the tenant's row count and a digest of its rows."""
    result = {}
    async with pool.connection() as conn:
        for table in await tenant_tables(pool):
            row = await (
                await conn.execute(
                    f"""SELECT count(*) AS n,
                               md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))
                                 AS digest
                        FROM {table} t WHERE tenant_id = %s""",
                    (tenant,),
                )
            ).fetchone()
            assert row is not None
            result[table] = (int(row["n"]), str(row["digest"]))
    return result


# --- HTTP: requests from schemathesis cases ----------------------------------------------------


@dataclass
class Known:
    """Ids that exist in the fuzzed tenant: path parameters are often set to them, so the
    fuzz reaches past the 404s."""

    values: dict[str, str]
    key_kiosk: str  # the kiosk whose keys the key routes may rotate and revoke


def token_for(world: World, role: Role | None, student: str) -> dict[str, str]:
    if role is None:
        return {}
    if role is Role.SCHOOL_STAFF:
        return world.token(role, school=world.school)
    if role is Role.GUARDIAN:
        return world.token(role, students=(student,))
    return world.token(role)


def build_request(
    client: httpx.AsyncClient,
    case: Any,
    headers: dict[str, str],
    *,
    world: World | None,
) -> httpx.Request:
    """The case as an httpx request; kiosk routes signed with the world's kiosk key when
    `world` is given (over the exact path, query and body bytes sent)."""
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url))
    request_headers = {str(k): str(v) for k, v in (kwargs.get("headers") or {}).items()}
    request_headers.pop("Authorization", None)
    request_headers.update(headers)
    content: bytes | None = None
    if "json" in kwargs:
        content = json.dumps(kwargs["json"]).encode()
        request_headers.setdefault("Content-Type", "application/json")
    elif "data" in kwargs:
        data = kwargs["data"]
        if isinstance(data, dict):
            content = urlencode(data, doseq=True).encode()
        elif isinstance(data, str):
            content = data.encode()
        elif isinstance(data, bytes):
            content = data
    request = client.build_request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=request_headers,
        content=content,
    )
    if world is not None:
        path = request.url.raw_path.decode("latin-1")
        signed = sign_request(
            world.kiosk.private_key,
            world.tenant,
            world.kiosk.id,
            world.kiosk.key_id,
            request.method,
            path,
            content or b"",
        )
        request.headers.update(signed)
    return request


def error_shape_problem(status: int, body: bytes) -> str | None:
    """What is wrong with a 4xx body, measured against the one error schema (None: fine)."""
    try:
        data = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(data, dict) or "detail" not in data:
        return "no detail"
    detail = data["detail"]
    if status == 422:
        if not isinstance(detail, list) or not detail:
            return "a 422 whose detail is not a list of problems"
        for issue in detail:
            if not (
                isinstance(issue, dict)
                and isinstance(issue.get("loc"), list)
                and isinstance(issue.get("msg"), str)
                and isinstance(issue.get("type"), str)
            ):
                return f"a 422 problem without loc, msg and type: {str(issue)[:200]}"
        text = " ".join(issue["msg"] for issue in detail)
    else:
        if not isinstance(detail, str):
            return "a 4xx (not 422) whose detail is not a string"
        text = detail
    leaked = [word for word in DATABASE_WORDS if word in text]
    return f"database words in the reason: {leaked}: {text[:200]}" if leaked else None


@dataclass
class HttpTally:
    by_route: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[str] = field(default_factory=list)
    unsendable: int = 0

    def record(self, route: str, request: httpx.Request, response: httpx.Response) -> None:
        status = response.status_code
        self.by_route[route][f"{status // 100}xx"] += 1
        where = f"{route} -> {status}: {request.method} {str(request.url)[:200]}"
        if status >= 500:
            self.failures.append(f"{where}\n    body sent: {request.content[:300]!r}")
        elif status >= 400:
            problem = error_shape_problem(status, response.content)
            if problem:
                self.failures.append(f"{where}\n    {problem}")

    def crashed(self, route: str, request: httpx.Request, err: Exception) -> None:
        self.by_route[route]["5xx"] += 1
        frames = traceback.extract_tb(err.__traceback__)
        ours = [f for f in frames if "/.venv/" not in f.filename] or frames
        at = f"{ours[-1].filename}:{ours[-1].lineno}" if ours else "?"
        self.failures.append(
            f"{route} -> unhandled {type(err).__name__} at {at}: {str(err)[:200]}: "
            f"{request.method} {str(request.url)[:200]}\n    body sent: {request.content[:300]!r}"
        )

    def summary(self) -> str:
        lines = ["fuzz: HTTP requests per route and status class"]
        total: Counter[str] = Counter()
        for route in sorted(self.by_route):
            counts = self.by_route[route]
            total.update(counts)
            shown = "  ".join(f"{k} {counts[k]}" for k in sorted(counts))
            lines.append(f"  {route:<70} {shown}")
        shown = "  ".join(f"{k} {total[k]}" for k in sorted(total))
        lines.append(f"  {'all ' + str(sum(total.values())) + ' requests':<70} {shown}")
        lines.append(f"  responses >= 500: {total['5xx']}; cases not sendable: {self.unsendable}")
        return "\n".join(lines)


# --- Kafka: records built by hypothesis --------------------------------------------------------

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def valid_transaction(tenant: str) -> dict[str, Any]:
    """One of a payment's four messages, with fresh ids (a fuzz never resends a message id)."""
    payment = financial_transaction(tenant_id=tenant, amount=12_500.0)
    return dict(payment.pacs008)


def valid_topup(tenant: str, student: str) -> dict[str, Any]:
    return {
        "topupId": f"fz-{uuid.uuid4().hex[:16]}",
        "tenantId": tenant,
        "studentId": student,
        "amount": "15000",
        "currency": "IDR",
        "payerAccount": "bca-0123456789",
        "payerName": "Ibu Sari",
        "createdAt": "2026-11-23T06:05:00+07:00",
    }


def valid_selfcheck() -> dict[str, Any]:
    return {"check_id": uuid.uuid4().hex, "source": "fuzz"}


def valid_payout_result(tenant: str, payout_id: str, amount: str) -> dict[str, Any]:
    """The bank's answer to the payout: paid under one of two references, or rejected (so
    that, once one answer is taken, the others are the same answer again or refused)."""
    outcome, reference = random.choice([("paid", "FZ-1"), ("paid", "FZ-2"), ("rejected", "FZ-3")])
    answer = {
        "payoutId": payout_id,
        "tenantId": tenant,
        "outcome": outcome,
        "bankReference": reference,
        "amount": amount,
        "currency": "IDR",
        "answeredAt": "2026-12-07T10:00:00+07:00",
    }
    return answer | ({"reason": "rekening ditutup"} if outcome == "rejected" else {})


def payout_result_edges(tenant: str, other_tenant: str, payout_id: str) -> list[bytes]:
    """Answers at the edges the generated ones rarely reach: unknown ids, another tenant's,
    boundary and mistyped amounts, ids one character too long, wrong types."""

    def answer(**changes: Any) -> bytes:
        body: dict[str, Any] = {
            "payoutId": payout_id,
            "tenantId": tenant,
            "outcome": "paid",
            "bankReference": "FZ-EDGE",
        }
        return json.dumps(body | changes).encode()

    amounts: list[Any] = [
        0,
        "0",
        -1,
        "-0.0001",
        "0.00001",  # below the smallest unit
        "1",  # valid, but not the payout's amount
        100_000_000,  # the largest any answer may carry: not this payout's
        "100000000.0001",
        10**40,
        1e308,
        "1e400",
        "NaN",
        "Infinity",
        "12,500",
        "Rp 12.500",
        True,
        [],
        {"value": 1},
    ]
    edges = [answer(amount=amount) for amount in amounts]
    edges += [
        answer(payoutId="po-nobody"),  # no such payout
        answer(tenantId=f"fz-nobody-{uuid.uuid4().hex[:6]}"),  # no such tenant
        answer(tenantId=other_tenant),  # another tenant's: for it, no such payout
        answer(payoutId="p" * 65),
        answer(tenantId="t" * 65),
        answer(bankReference="r" * 65),
        answer(bankReference=""),
        answer(payoutId=12345),
        answer(tenantId=None),
        answer(outcome=["paid"]),
        answer(outcome="PAID"),
        answer(outcome="rejected"),  # no reason
        answer(outcome="rejected", reason=" "),
        answer(outcome="rejected", reason="x" * 301),
        answer(reason="a paid payout has none"),
        answer(currency="USD"),
        answer(answeredAt="2026-12-07T10:00:00"),  # no timezone
        answer(answeredAt="yesterday"),
        answer(answeredAt=1_700_000_000_000_000),
    ]
    return edges


def payout_answer(value: bytes) -> PayoutAnswer | None:
    """The answer as the consumer reads it (None: Saku's own validation refuses it)."""
    try:
        return parse_payout_result(_record(value))
    except (Rejected, ValidationError, ValueError):
        return None


def payout_result_refused(value: bytes, tenant: str, payouts: dict[str, Decimal]) -> bool:
    """Whether an answer must be dead-lettered whatever order the consumer reads answers
    in: one Saku's own validation refuses, or one for another tenant than the world's (whose
    payouts are `payouts`: id -> amount), for an unknown payout, or for another amount than
    the payout's. (An answer for a payout answered otherwise before is refused too, but
    which answer comes first depends on the order.)"""
    answer = payout_answer(value)
    if answer is None:
        return True
    known = payouts.get(answer.payout_id)
    return (
        answer.tenant_id != tenant
        or known is None
        or (answer.amount is not None and answer.amount != known)
    )


def _record(value: bytes) -> Any:
    from aiokafka import ConsumerRecord

    return ConsumerRecord("t", 0, 0, 0, 0, None, value, None, 0, len(value), [])


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, *, delete: bool = False) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    if not rest and delete:
        del copy[head]
    else:
        copy[head] = _replace(copy[head], rest, new, delete=delete)
    return copy


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    """A valid message with some of its fields deleted, retyped, emptied or made huge."""
    message: Any = base
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(message)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["delete", "retype", "blank", "long", "number", "nest"]))
        if kind == "delete":
            message = _replace(message, path, None, delete=True)
        elif kind == "retype":
            message = _replace(message, path, draw(json_value))
        elif kind == "blank":
            message = _replace(message, path, draw(st.sampled_from(["", " ", "\t", "0"])))
        elif kind == "long":
            message = _replace(message, path, "x" * draw(st.integers(36, 20_000)))
        elif kind == "number":
            number = draw(st.sampled_from([0, -1, 1e308, -1e308, 10**40, 1e-12, 2**63]))
            message = _replace(message, path, number)
        else:  # deep but within what JSON parsers take: stored verbatim if unknown
            depth = draw(st.integers(2, 200))
            nested: Any = "leaf"
            for _ in range(depth):
                nested = {"n": nested}
            message = _replace(message, path, nested)
    return json.dumps(message).encode()


@st.composite
def malformed(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    """Bytes that are not a JSON object: random, truncated, deeply nested, not UTF-8..."""
    kind = draw(
        st.sampled_from(["bytes", "truncated", "scalar", "deep", "latin1", "nul", "surrogate"])
    )
    text = json.dumps(base)
    if kind == "bytes":
        return draw(st.binary(max_size=2_000))
    if kind == "truncated":
        return text[: draw(st.integers(0, len(text) - 1))].encode()
    if kind == "scalar":
        return json.dumps(draw(json_leaf | st.lists(json_leaf, max_size=3))).encode()
    if kind == "deep":
        depth = draw(st.integers(1_000, 200_000))
        return ("[" * depth + "]" * depth).encode()
    if kind == "latin1":
        return json.dumps({**base, "note": "caf\u00e9"}, ensure_ascii=False).encode("latin-1")
    if kind == "nul":
        return json.dumps({**base, "note": "a\u0000b"}).encode()
    return text.replace('"', '"\\ud800', 1).encode()  # a lone surrogate


def locally_valid(kind: str, value: bytes, tenant: str) -> bool:
    """Whether Saku's own validation (no database) accepts the record: a record it refuses
    must be dead-lettered."""
    from api.intake.consumer import decode_json

    record = _record(value)
    try:
        data = decode_json(record)
        if kind == "transactions":
            body_tenant = data.get("TenantId")
            parse_message(
                data, body_tenant if isinstance(body_tenant, str) and body_tenant else tenant
            )
        elif kind == "topups":
            TopUpIn.model_validate(data).request(str(data.get("tenantId")), "kafka")
        elif kind == "payout-results":
            parse_payout_result(record)
        else:
            parse_check(data)
    except (Rejected, IntakeError, ValidationError, ValueError):
        return False
    return True
