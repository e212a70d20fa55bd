"""`saku tenants create` and `saku users create`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from core.security import Role
from core.settings import Settings


def register(commands: Any) -> None:
    tenants = commands.add_parser("tenants", help="tenants (a bank or school foundation)")
    t_sub = tenants.add_subparsers(dest="action", required=True, metavar="ACTION")
    t_create = t_sub.add_parser("create", help="create a tenant")
    t_create.add_argument("tenant_id")
    t_create.add_argument("--name", required=True)
    t_create.set_defaults(handler=tenants_create)

    users = commands.add_parser("users", help="people who sign in")
    u_sub = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    u_create = u_sub.add_parser(
        "create",
        help="create a user; the password is read from the terminal, or from stdin if piped",
    )
    u_create.add_argument("--tenant", required=True)
    u_create.add_argument("--username", required=True)
    u_create.add_argument("--role", required=True, choices=[r.value for r in Role])
    u_create.add_argument("--school", help="the school a school_staff user belongs to")
    u_create.add_argument(
        "--student", action="append", default=[], help="a student a guardian may see (repeat)"
    )
    u_create.set_defaults(handler=users_create)


class PasswordMismatch(ValueError):
    pass


def _read_password() -> str:
    # never from argv: command lines are visible to every user through `ps`
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise PasswordMismatch("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


async def _with_connection(settings: Settings, work: Any) -> Any:
    import psycopg

    async with await psycopg.AsyncConnection.connect(
        settings.resolved_database_url(), autocommit=True
    ) as conn:
        return await work(conn)


def tenants_create(settings: Settings, args: argparse.Namespace) -> int:
    from activities.accounts import AccountError, create_tenant

    try:
        created = asyncio.run(
            _with_connection(settings, lambda c: create_tenant(c, args.tenant_id, args.name))
        )
    except AccountError as err:
        print(f"saku: {err}", file=sys.stderr)
        return 2
    print(f"tenant {args.tenant_id}: {'created' if created else 'already exists'}")
    return 0


def users_create(settings: Settings, args: argparse.Namespace) -> int:
    from activities.accounts import AccountError, create_user

    try:
        password = _read_password()
        user = asyncio.run(
            _with_connection(
                settings,
                lambda c: create_user(
                    c,
                    tenant_id=args.tenant,
                    username=args.username,
                    password=password,
                    role=Role(args.role),
                    school_id=args.school,
                    student_ids=tuple(args.student),
                ),
            )
        )
    except (AccountError, PasswordMismatch) as err:
        print(f"saku: {err}", file=sys.stderr)
        return 2
    print(f"user {user.username} ({user.role.value}, tenant {user.tenant_id}) created: {user.id}")
    return 0
