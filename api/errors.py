"""Domain errors as HTTP answers with their reasons, and the one error schema every 4xx has.

Every 4xx body is `{"detail": ...}`: a 422 always carries FastAPI's list of validation
issues (`HTTPValidationError`: each with `loc`, `msg` and `type`), whether pydantic or a
route found the problem; every other 4xx carries a plain reason (`ErrorMessage`). The
OpenAPI document says so for every route (`document_errors`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool
import redis
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import (
    validation_error_definition,
    validation_error_response_definition,
)
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from activities.wallet.directory import Conflict, DirectoryError, NotFound

log = logging.getLogger(__name__)

# A service Saku depends on that is down or restarting (PostgreSQL, the pool waiting for
# it, Valkey, Temporal, Kafka): the same request may well succeed shortly, so the answer is
# 503 with Retry-After, never a 500 (clients such as kiosks then ask again).
UNAVAILABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg_pool.PoolTimeout,
    redis.ConnectionError,
    redis.TimeoutError,
    RPCError,
    KafkaConnectionError,
    KafkaTimeoutError,
)
RETRY_AFTER_S = 2


class ErrorMessage(BaseModel):
    """A 4xx other than 422: what went wrong, in words."""

    detail: str = Field(description="The reason, for a person or a log")


@contextmanager
def as_http() -> Iterator[None]:
    try:
        yield
    except NotFound as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(err)) from err
    except Conflict as err:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(err)) from err
    except (DirectoryError, ValueError) as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(err)) from err


def invalid(reason: str, loc: Sequence[str | int] = ("body",), value: Any = None) -> Exception:
    """A 422 in the list form, for a check a route makes itself (raise the result)."""
    issue: dict[str, Any] = {"type": "value_error", "loc": tuple(loc), "msg": reason}
    if value is not None:
        issue["input"] = value
    return RequestValidationError([issue])


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_422_UNPROCESSABLE_CONTENT and isinstance(exc.detail, str):
        # a route's own "unprocessable" answer, in the same list form as pydantic's
        issue = {"type": "value_error", "loc": ["body"], "msg": exc.detail}
        return JSONResponse({"detail": [issue]}, status_code=422, headers=exc.headers)
    return await http_exception_handler(request, exc)


async def _unavailable(request: Request, exc: Exception) -> Response:
    # the exception's text can name hosts and ports: the log keeps it, the client gets less
    log.warning(
        "a dependency is unavailable", extra={"error": type(exc).__name__, "reason": str(exc)}
    )
    return JSONResponse(
        {"detail": "a service Saku depends on is unavailable for a moment; try again shortly"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def install(app: FastAPI) -> None:
    """One error schema: every 4xx as the module docstring says (see `document_errors`);
    an unavailable dependency is a 503 with Retry-After."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error in UNAVAILABLE:
        app.add_exception_handler(error, _unavailable)


def document_errors(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every route's 4xx answers given their schema: 422 is
    `HTTPValidationError` wherever it appears, any other 4xx (`4XX`) `ErrorMessage`."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    FastAPI.openapi(app)
    schema = app.openapi_schema
    assert schema is not None
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorMessage"] = ErrorMessage.model_json_schema()
    components.setdefault("ValidationError", validation_error_definition)
    components.setdefault("HTTPValidationError", validation_error_response_definition)
    message = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorMessage"}}}
    validation = {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    }
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if code == "422":
                    response["content"] = validation
                elif code.startswith("4"):
                    response["content"] = message
            responses.setdefault(
                "4XX",
                {
                    "description": "Refused; `detail` says why (422: which fields)",
                    "content": message,
                },
            )
    return schema
