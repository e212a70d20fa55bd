"""Routes call stores, never SQL: no module under api/routes/ or api/web/ (nor the kiosk
signature check, which every kiosk route runs) opens a connection, a cursor or executes a
statement, or reaches for the pool to build a store of its own. Stores come as dependencies
from api/deps.py."""

from __future__ import annotations

import ast
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "api"
ROUTE_MODULES = [
    *sorted((API / "routes").glob("*.py")),
    *sorted((API / "web").glob("*.py")),
    API / "kiosk_auth.py",
]
SQL_CALLS = {"execute", "executemany", "cursor", "connection", "transaction"}


def sql_in(source: str) -> list[str]:
    """Each `x.execute(…)`, `x.cursor(…)`, `x.connection(…)`, … call and each `x.pool`, by
    line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        ):
            found.append(f"line {node.lineno}: .{node.func.attr}(")
        elif isinstance(node, ast.Attribute) and node.attr == "pool":
            found.append(f"line {node.lineno}: .pool")
    return found


def test_the_check_finds_sql_and_pools() -> None:
    source = (
        "async def route(resources):\n"
        "    async with resources.pool.connection() as conn:\n"
        "        cur = await conn.execute('SELECT 1')\n"
        "        async with conn.cursor() as c:\n"
        "            pass\n"
    )
    assert sorted(sql_in(source)) == [
        "line 2: .connection(",
        "line 2: .pool",
        "line 3: .execute(",
        "line 4: .cursor(",
    ]
    assert sql_in("async def route(directory):\n    return await directory.controls('t')\n") == []


def test_routes_run_no_sql_and_build_no_stores() -> None:
    assert len(ROUTE_MODULES) > 10  # the glob found the routes
    offenders = {
        str(path.relative_to(API.parent)): found
        for path in ROUTE_MODULES
        if (found := sql_in(path.read_text()))
    }
    assert offenders == {}, (
        "routes call stores (activities/…) taken as dependencies from api/deps.py; "
        f"move this SQL into the store that owns it: {offenders}"
    )
