"""Domain errors as HTTP answers with their reasons."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, status

from activities.wallet.directory import Conflict, DirectoryError, NotFound


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
