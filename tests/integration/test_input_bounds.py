"""Regression tests for what the fuzz (test_fuzz.py) and the attack found over HTTP: each
answered 500, echoed the database, or broke the error schema before its fix."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.db import Pool
from core.kiosk_signing import sign_request
from core.settings import Settings
from tests.integration.wallet_world import World, build_world

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def world(stack: Settings, pool: Pool, client: httpx.AsyncClient) -> AsyncIterator[World]:
    yield await build_world(stack, pool, client)


def problems(response: httpx.Response) -> list[dict[str, Any]]:
    """A 422's problems, in the one error schema (FastAPI's list form)."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail, detail
    return detail


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/controls", {"daily_limit": 1e20}, "daily_limit"),
        ("/controls", {"weekly_limit": "3000000"}, "weekly_limit"),
        ("/controls", {"low_balance_threshold": 1e30}, "low_balance_threshold"),
        ("/controls/categories/snacks", {"daily_limit": 1e20}, "daily_limit"),
    ],
)
async def test_limits_beyond_the_e_money_cap_are_refused_with_422(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    student = await world.student()
    response = await world.client.put(
        f"/v1/students/{student}{path}", json=body, headers=world.admin
    )
    [problem] = problems(response)
    assert problem["loc"] == ["body", field]
    assert "e-money cap" in problem["msg"] or "less than or equal" in problem["msg"]
    within = await world.client.put(
        f"/v1/students/{student}{path}", json={field: "2000000"}, headers=world.admin
    )
    assert within.status_code == 200, within.text


async def test_a_school_cap_above_the_e_money_cap_is_refused(world: World) -> None:
    response = await world.client.post(
        "/v1/schools",
        json={"id": "sd-rich", "name": "x", "balance_cap": 1e25},
        headers=world.admin,
    )
    assert problems(response)[0]["loc"] == ["body", "balance_cap"]


async def test_a_guardian_user_id_that_is_not_a_uuid_is_a_422_without_database_words(
    world: World,
) -> None:
    response = await world.client.post(
        "/v1/guardians",
        json={"id": "g-abc", "display_name": "Ibu", "user_id": "abc"},
        headers=world.admin,
    )
    [problem] = problems(response)
    assert problem["loc"] == ["body", "user_id"]
    assert "invalid input syntax" not in response.text, response.text


async def test_a_missing_reference_is_named_without_the_database_message(world: World) -> None:
    student = await world.student()
    response = await world.client.put(
        f"/v1/students/{student}/controls/categories/no-such-category",
        json={"blocked": True},
        headers=world.admin,
    )
    assert response.status_code == 404, response.text
    detail = response.json()["detail"]
    assert "Key (" not in detail and "product_categories" not in detail, detail
    assert "does not exist" in detail


async def test_every_422_a_route_raises_itself_has_the_list_form(world: World) -> None:
    student = await world.student()
    response = await world.pay_raw(
        {
            "kiosk_tx_id": world.kiosk_tx(),
            "student_id": student,
            "amount": "1000",
            "auth_method": "pin",
        }
    )
    [problem] = problems(response)
    assert "pin" in problem["msg"]


@pytest.mark.parametrize(
    ("method", "path", "loc"),
    [
        ("GET", "/tenants/{tenant}/evaluations?endToEndId=e2e%00", ["query", "endToEndId"]),
        ("GET", "/tenants/{tenant}/evaluations/msg%00", ["path", "msg_id"]),
        ("DELETE", "/tenants/{tenant}/monitoring/conditions/c%00", ["path", "condition_id"]),
        ("GET", "/v1/students/s%00/wallet", ["path", "student_id"]),
        ("GET", "/v1/schools/{school}/kiosks/k%00/keys", ["path", "kiosk_id"]),
    ],
)
async def test_a_nul_character_in_the_path_or_query_is_a_422_not_a_500(
    world: World, method: str, path: str, loc: list[str]
) -> None:
    # PostgreSQL text cannot hold a NUL: the query failed, a 500, before this was refused
    url = path.format(tenant=world.tenant, school=world.school)
    response = await world.client.request(method, url, headers=world.admin)
    [problem] = problems(response)
    assert problem["loc"] == loc
    assert "NUL" in problem["msg"]
    assert "psycopg" not in response.text


async def test_deeply_nested_json_is_a_400_not_a_500(world: World) -> None:
    for depth in (2_000, 100_000):
        response = await world.client.post(
            "/v1/evaluate/iso20022/pacs.008.001.10",
            content=b"[" * depth + b"]" * depth,
            headers={**world.admin, "Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert "malformed JSON" in response.json()["detail"]


async def test_a_template_with_characters_outside_ascii_is_a_422(world: World) -> None:
    student = await world.student()
    template = "\u00d0" + base64.b64encode(b"t" * 511).decode()
    body = json.dumps(
        {"student_id": student, "finger": 1, "template": template, "operator_id": "op"},
        ensure_ascii=False,
    ).encode()
    kiosk = world.kiosk
    headers = sign_request(
        kiosk.private_key,
        world.tenant,
        kiosk.id,
        kiosk.key_id,
        "POST",
        "/v1/kiosk/enrolments",
        body,
    )
    response = await world.client.post(
        "/v1/kiosk/enrolments",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert "base64" in problems(response)[0]["msg"]


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_over_the_bound_is_refused_with_413(world: World, chunked: bool) -> None:
    big = b"x" * (world.settings.api_max_body_bytes + 1)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    response = await world.client.post(
        "/v1/schools",
        content=pieces() if chunked else big,
        headers={**world.admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert "SAKU_API_MAX_BODY_BYTES" in response.json()["detail"]


async def test_megabytes_of_remittance_information_are_refused_over_http(world: World) -> None:
    from saku.iso20022_samples import pacs008

    message = pacs008(tenant_id=world.tenant)
    message["FIToFICstmrCdtTrf"]["RmtInf"]["Ustrd"] = "x" * 500_000
    response = await world.client.post(
        "/v1/evaluate/iso20022/pacs.008.001.10", json=message, headers=world.admin
    )
    assert "at most 140 characters" in problems(response)[0]["msg"]


async def test_the_openapi_document_gives_every_4xx_its_schema(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert "ErrorMessage" in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "4XX" in responses, (method, path)
            for code, response in responses.items():
                if code.startswith("4"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    expected = "HTTPValidationError" if code == "422" else "ErrorMessage"
                    assert ref.endswith(expected), (method, path, code)
