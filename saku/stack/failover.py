"""The embedded PostgreSQL and its streaming standby as a pair: start the standby, fail
over to it, rejoin the former primary as the new primary's standby, stop the standby.

The two servers are the `postgres` and `postgres-replica` components; which of them is the
primary changes with each failover, so every step asks the servers (pg_is_in_recovery)
rather than assuming. Commits are synchronous while a standby streams (the primary waits
until the standby has flushed a commit's WAL before answering), so a payment acknowledged
by the API is on both servers, and a failover loses none of them (RPO 0).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from activities.dr.replica import (
    STANDBY_NAME,
    ReplicaError,
    in_recovery,
    promote,
    rewind,
    set_synchronous_standby,
    standbys,
)
from core.settings import Settings
from saku.stack.components import Postgres, PostgresReplica
from saku.stack.manager import _check_ports, _wait_ready
from saku.stack.process import StackError, wait_until

STREAMING_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Pair:
    primary: Postgres
    standby: Postgres


def _servers(settings: Settings) -> tuple[Postgres, PostgresReplica]:
    if settings.database_url:
        raise StackError(
            "the standby is the embedded PostgreSQL's: DATABASE_URL is set, so PostgreSQL is "
            "not embedded (use your provider's replication)"
        )
    if settings.pg_replica_port is None:
        raise StackError(
            "set SAKU_PG_REPLICA_PORT (e.g. 55433) for every Saku process: then their "
            "database URL names both servers and follows a failover"
        )
    return Postgres(settings), PostgresReplica(settings)


def _url(server: Postgres) -> str:
    return server.superuser_url("postgres")


def _role(server: Postgres) -> str:
    state = in_recovery(_url(server))
    return "down" if state is None else "standby" if state else "primary"


def _wait_streaming(primary: Postgres) -> None:
    def streaming() -> bool:
        return any(
            s.application_name == STANDBY_NAME and s.state == "streaming"
            for s in standbys(_url(primary))
        )

    if not wait_until(streaming, STREAMING_TIMEOUT_S, interval=0.1):
        raise StackError(
            f"the standby did not start streaming from {primary.name} in "
            f"{STREAMING_TIMEOUT_S:.0f} s; see the logs under {primary.var / 'log'}"
        )


def _start(server: Postgres) -> None:
    if server.process.has_stale_pid_file():
        server.process.clear_pid_file()
    _check_ports(server)
    server.start()
    try:
        asyncio.run(_wait_ready(server))
    except BaseException:
        server.stop()
        raise


def replica_up(settings: Settings) -> Pair:
    """Clone the primary into a standby if there is none yet, start it, wait until it
    streams, then make the primary commit synchronously to it. Idempotent."""
    primary, replica = _servers(settings)
    if _role(primary) != "primary":
        raise StackError(
            f"the primary ({primary.name} on port {primary.port}) is not running: "
            "start the stack with `saku stack up`"
        )
    if replica.process.running_pid() is None:
        _start(replica)
    if _role(replica) != "standby":
        raise StackError(
            f"{replica.name} on port {replica.port} answers but is not a standby: after a "
            "failover, rejoin the former primary with `saku dr replica rejoin`"
        )
    _wait_streaming(primary)
    set_synchronous_standby(_url(primary), STANDBY_NAME)
    return Pair(primary, replica)


def replica_down(settings: Settings) -> Postgres | None:
    """Stop the standby (whichever server it is since the last failover); the primary first
    stops waiting for it, or every commit would wait forever. Returns the one stopped."""
    first, second = _servers(settings)
    roles = {server.name: _role(server) for server in (first, second)}
    standby = next((s for s in (first, second) if roles[s.name] == "standby"), None)
    if standby is None:
        return None
    primary = second if standby is first else first
    if roles[primary.name] == "primary":
        set_synchronous_standby(_url(primary), None)
    return standby if standby.stop() else None


@dataclass(frozen=True)
class Failover:
    promoted: Postgres
    fenced: Postgres
    old_primary_stopped: bool
    seconds: float


def failover(settings: Settings) -> Failover:
    """Promote the standby. The former primary is fenced first (stopped if it still runs,
    and marked so that nothing starts it as a primary again) so there are never two."""
    began = time.perf_counter()
    first, second = _servers(settings)
    roles = {server.name: _role(server) for server in (first, second)}
    standby = next((s for s in (first, second) if roles[s.name] == "standby"), None)
    if standby is None:
        raise StackError(
            "no standby is running to fail over to "
            f"({', '.join(f'{name}: {role}' for name, role in roles.items())}); "
            "start one with `saku dr replica up`"
        )
    old = second if standby is first else first
    old.fence_file.write_text("failed over to " + standby.name + "\n")
    stopped = old.stop()
    try:
        promote(_url(standby))
        # it has no standby of its own yet: waiting for one would stall every commit
        set_synchronous_standby(_url(standby), None)
    except (ReplicaError, OSError) as err:
        raise StackError(f"promotion of {standby.name} failed: {err}") from None
    return Failover(standby, old, stopped, time.perf_counter() - began)


def rejoin(settings: Settings) -> Pair:
    """Rewind the fenced former primary into a standby of the current primary, start it,
    wait until it streams, and make the primary commit synchronously to it."""
    first, second = _servers(settings)
    fenced = next((s for s in (first, second) if s.fence_file.exists()), None)
    if fenced is None:
        raise StackError("no former primary to rejoin: `saku dr failover` fences one")
    primary = second if fenced is first else first
    if _role(primary) != "primary":
        raise StackError(f"the current primary ({primary.name}) is not running")
    if fenced.process.running_pid() is not None:
        raise StackError(f"{fenced.name} is running: a server is rewound only when stopped")
    try:
        rewind(settings, fenced.data_dir, _url(primary))
    except ReplicaError as err:
        raise StackError(f"cannot rejoin {fenced.name}: {err}") from None
    fenced.fence_file.unlink()
    _start(fenced)
    _wait_streaming(primary)
    set_synchronous_standby(_url(primary), STANDBY_NAME)
    return Pair(primary, fenced)
