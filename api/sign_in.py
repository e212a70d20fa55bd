"""Signing in with a username and password, defined once for every way in (the token
endpoint, the codec's sign-in page): bounded input, throttled failures, a bounded number of
password checks at once, and the same answer for a wrong name as for a wrong password."""

from __future__ import annotations

from fastapi import HTTPException, Request, status

from activities.accounts import Accounts
from api.resources import Resources
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
    address = request.client.host if request.client else "unknown"
    await resources.sign_in_throttle.check(username, address)
    user = await accounts.find_user(username)
    matches = await resources.password_checks.verify(user.password_hash if user else None, password)
    if user is None or user.disabled or not matches:
        await resources.sign_in_throttle.failed(username, address)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    await resources.sign_in_throttle.succeeded(username)
    return user.principal()
