"""Signing in with a username and password at the token endpoint (the console's sign-in
page shares its limits and `api.sign_in_guard.authenticate`): bounded input, throttled
failures, a bounded number of password checks at once, and the same answer for a wrong name
as for a wrong password."""

from __future__ import annotations

from fastapi import HTTPException, Request, status

from activities.accounts import Accounts
from api.resources import Resources
from api.sign_in_guard import authenticate
from core.security import Principal

# as long as any user's can be (users.username and POST /tenants/{tenant}/users)
MAX_USERNAME = 64
MAX_PASSWORD = 256


async def sign_in(
    request: Request, username: str, password: str, resources: Resources, accounts: Accounts
) -> Principal:
    """The user's principal, or 422 (too long), 429 (throttled), 503 (busy), 401."""
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"a username is at most {MAX_USERNAME} and a password at most "
            f"{MAX_PASSWORD} characters",
        )
    user = await authenticate(
        resources.sign_in_throttle,
        resources.password_checks,
        accounts,
        username,
        password,
        request.client.host if request.client else "unknown",
    )
    return user.principal()
