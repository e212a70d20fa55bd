"""A dependency that is down gets a 503 with Retry-After from any route, never a 500."""

from __future__ import annotations

import httpx
import psycopg
import psycopg_pool
import pytest
import redis
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI
from temporalio.service import RPCError, RPCStatusCode

from api import errors


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.OperationalError("connection is lost"),
        psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec"),
        redis.ConnectionError("Error 111 connecting to 127.0.0.1:56379"),
        RPCError("tcp connect error", RPCStatusCode.UNAVAILABLE, b""),
        KafkaConnectionError("Unable to bootstrap from 127.0.0.1:59092"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_an_unavailable_dependency_is_a_503_with_retry_after(error: Exception) -> None:
    app = FastAPI()
    errors.install(app)

    @app.get("/work")
    async def work() -> None:
        raise error

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://saku.test") as client:
        response = await client.get("/work")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(errors.RETRY_AFTER_S)
    assert "try again" in response.json()["detail"]
    assert "127.0.0.1" not in response.text  # the dependency's address stays in the log
