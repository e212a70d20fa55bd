"""Domain errors as HTTP answers with their reasons, and the one error schema every 4xx has.

Every 4xx body is `{"detail": ...}`: a 422 always carries FastAPI's list of validation
issues (`HTTPValidationError`: each with `loc`, `msg` and `type`), whether pydantic or a
route found the problem; every other 4xx carries a plain reason (`ErrorMessage`). The
OpenAPI document says so for every route (`document_errors`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

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

from activities.wallet.directory import Conflict, DirectoryError, NotFound


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


def install(app: FastAPI) -> None:
    """One error schema: every 4xx as the module docstring says (see `document_errors`)."""
    app.add_exception_handler(StarletteHTTPException, _http_error)


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
