"""Saku's settings: every component is addressed by a URL; an unset URL means the embedded one.

Values come from the environment and from a `.env` file in the working directory. The same
names are used by the compose deployment in `infra/`, so one `.env` serves both.
"""

from __future__ import annotations

import os
import secrets
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_HOST = "127.0.0.1"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # --- component URLs (unset: the embedded component is started and used) ---
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    valkey_url: str | None = Field(default=None, alias="VALKEY_URL")
    temporal_address: str | None = Field(default=None, alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="saku", alias="TEMPORAL_NAMESPACE")
    kafka_bootstrap_servers: str | None = Field(default=None, alias="KAFKA_BOOTSTRAP_SERVERS")

    # --- the embedded stack: where it lives and the (non-default) ports it listens on ---
    var_dir: Path = Field(default=Path("var"), alias="SAKU_VAR_DIR")
    pg_port: int = Field(default=55432, alias="SAKU_PG_PORT")
    valkey_port: int = Field(default=56379, alias="SAKU_VALKEY_PORT")
    temporal_port: int = Field(default=57233, alias="SAKU_TEMPORAL_PORT")
    temporal_ui_port: int = Field(default=58233, alias="SAKU_TEMPORAL_UI_PORT")
    kafka_port: int = Field(default=59092, alias="SAKU_KAFKA_PORT")
    # the system user that owns the embedded PostgreSQL when Saku runs as root
    pg_system_user: str = Field(default="saku-postgres", alias="SAKU_PG_SYSTEM_USER")
    # the embedded PostgreSQL's streaming hot standby (`saku dr replica up`): when set,
    # Saku's database URL names both servers and connects to whichever one is the primary
    pg_replica_port: int | None = Field(default=None, alias="SAKU_PG_REPLICA_PORT")

    # --- processes ---
    api_host: str = Field(default="127.0.0.1", alias="SAKU_API_HOST")
    api_port: int = Field(default=58080, alias="SAKU_API_PORT")
    task_queue: str = Field(default="saku-main", alias="SAKU_TASK_QUEUE")
    # the API process also runs a worker, so the workflows it starts start eagerly
    api_worker: bool = Field(default=True, alias="SAKU_API_WORKER")
    consumer_group: str = Field(default="saku-consumer", alias="SAKU_CONSUMER_GROUP")
    topic_prefix: str = Field(default="saku", alias="SAKU_TOPIC_PREFIX")
    # a poll of at least this many transactions is evaluated as one micro-batch workflow;
    # smaller polls get a workflow per transaction
    micro_batch_from: int = Field(default=20, ge=1, alias="SAKU_MICRO_BATCH_FROM")
    # ... and so is every poll while the stream runs at this many messages/s or more (a
    # workflow per transaction cannot keep up with a busy stream); busy polls wait up to the
    # linger for more
    micro_batch_rate: float = Field(default=80.0, gt=0, alias="SAKU_MICRO_BATCH_RATE")
    # every batch costs about the same whatever its size (a workflow, a dozen statements), so
    # a busy stream's batches are given time to fill
    micro_batch_linger_ms: int = Field(default=150, ge=0, alias="SAKU_MICRO_BATCH_LINGER_MS")
    # the most records one batch takes; under a backlog batches grow to it, and each batch's
    # fixed costs (a workflow, a dozen statements) spread over more transactions
    consumer_max_batch: int = Field(default=1000, ge=1, alias="SAKU_CONSUMER_MAX_BATCH")
    # how long the broker may hold a fetch that finds no new records. The embedded broker
    # holds it that long even when records arrive meanwhile, so it bounds the stream's
    # latency (Kafka's default is 500 ms); shorter waits cost CPU when idle.
    consumer_fetch_wait_ms: int = Field(default=50, ge=1, alias="SAKU_CONSUMER_FETCH_WAIT_MS")
    # the largest Kafka record the consumer reads; larger ones are dead-lettered unread
    # (an ISO 20022 message is a few KB, a top-up event a few hundred bytes)
    kafka_max_record_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=64 * 1024 * 1024, alias="SAKU_KAFKA_MAX_RECORD_BYTES"
    )
    log_level: str = Field(default="INFO", alias="SAKU_LOG_LEVEL")
    # the OpenAPI schema and its pages (/docs, /redoc, /openapi.json) hold no data; turn
    # them off where even the shape of the API should not be public
    api_docs: bool = Field(default=True, alias="SAKU_API_DOCS")
    # the largest request body the API reads (413 beyond it): an offline upload of 1,000
    # journal entries, the largest legitimate body, is about 400 KB
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024, alias="SAKU_API_MAX_BODY_BYTES")
    # the web pages' session cookies are sent over https only (set it where a TLS proxy
    # serves Saku; a request that arrives over https gets them so anyway)
    web_secure_cookies: bool = Field(default=False, alias="SAKU_WEB_SECURE_COOKIES")
    # the Temporal UI the case console links workflows to; unset: the embedded one
    temporal_ui_url: str | None = Field(default=None, alias="SAKU_TEMPORAL_UI_URL")

    # --- wallet ---
    # payments one API process decides at once; more get 503 "busy" at once (kiosks retry)
    payments_in_flight: int = Field(default=24, ge=1, alias="SAKU_PAYMENTS_IN_FLIGHT")
    # the e-money cap on a wallet's balance (IDR); a school may set a lower one
    balance_cap: float = Field(default=2_000_000, gt=0, alias="SAKU_BALANCE_CAP")
    # a signed kiosk request older or newer than this is refused (replays, bad clocks)
    kiosk_clock_skew_s: int = Field(default=30, ge=1, alias="SAKU_KIOSK_CLOCK_SKEW_S")
    # after a rotation the old kiosk key still verifies this long (in-flight requests)
    kiosk_key_grace_s: int = Field(default=300, ge=0, alias="SAKU_KIOSK_KEY_GRACE_S")
    # guardian notifications: tries per webhook delivery before it is dead-lettered
    webhook_max_attempts: int = Field(default=8, ge=1, alias="SAKU_WEBHOOK_MAX_ATTEMPTS")
    webhook_timeout_s: float = Field(default=5.0, gt=0, alias="SAKU_WEBHOOK_TIMEOUT_S")
    # hosts (name or name:port, comma-separated) webhooks may reach although they are not
    # public https endpoints: development receivers only. Empty in production.
    webhook_allow_hosts: str = Field(default="", alias="SAKU_WEBHOOK_ALLOW_HOSTS")
    # HMAC key that signs webhook bodies; unset: generated once into var/secrets/
    webhook_secret: SecretStr | None = Field(default=None, alias="SAKU_WEBHOOK_SECRET")

    # --- alert hand-off (a tenant's SIEM: signed webhook, syslog/CEF) ---
    # seals the tenants' alert webhook secrets in the database (every process that configures
    # or delivers needs the same value); unset: generated once into var/secrets/
    alert_handoff_key: SecretStr | None = Field(default=None, alias="SAKU_ALERT_HANDOFF_KEY")
    # how long a case keeps trying to deliver its alert to a receiver (with backoff from 1 s
    # to 5 min) before it records the delivery as failed; each try is bounded by
    # SAKU_WEBHOOK_TIMEOUT_S
    alert_handoff_retry_s: int = Field(
        default=6 * 3600, ge=1, le=7 * 24 * 3600, alias="SAKU_ALERT_HANDOFF_RETRY_S"
    )

    # --- biometrics ---
    # the key-encryption keys wrapping students' template keys, outside the database (a
    # KMS/HSM in production); unset: var/secrets/biometric-kek.json, mode 0600
    biometric_kek_file: Path | None = Field(default=None, alias="SAKU_BIOMETRIC_KEK_FILE")

    # --- disaster recovery ---
    # where base backups, the WAL archive and the backup catalogue live; unset: var/backups.
    # Production mounts storage that outlives the database's disk here (infra/README.md).
    backup_dir: Path | None = Field(default=None, alias="SAKU_BACKUP_DIR")
    # base backups kept (the newest verified one always is, whatever this says)
    backup_keep: int = Field(default=7, ge=1, alias="SAKU_BACKUP_KEEP")
    # when the Backup and RestoreDrill schedules run (cron, in the schools' time zone)
    backup_cron: str = Field(default="0 1 * * *", alias="SAKU_BACKUP_CRON")
    drill_cron: str = Field(default="30 3 * * 0", alias="SAKU_DRILL_CRON")
    # a WAL segment is archived at the latest this long after its first write: the bound
    # on what a lost disk loses (each early switch still archives a whole segment)
    wal_archive_timeout_s: int = Field(default=60, ge=1, alias="SAKU_WAL_ARCHIVE_TIMEOUT_S")
    # the replication connection pg_basebackup uses; unset: the embedded superuser
    backup_database_url: SecretStr | None = Field(default=None, alias="SAKU_BACKUP_DATABASE_URL")
    # how often closed workflow histories are archived (and the embedded Temporal server's
    # store copied), on a Temporal schedule
    history_archive_every_min: int = Field(
        default=60, ge=1, le=24 * 60, alias="SAKU_HISTORY_ARCHIVE_EVERY_MIN"
    )

    # --- security ---
    # Unset: a random secret is generated once into var/secrets/ (never into the repository).
    jwt_secret: SecretStr | None = Field(default=None, alias="SAKU_JWT_SECRET")
    jwt_issuer: str = Field(default="saku", alias="SAKU_JWT_ISSUER")
    token_ttl_seconds: int = Field(default=3600, alias="SAKU_TOKEN_TTL_SECONDS")
    # failed sign-ins before a username, or a client address, must wait out the window
    sign_in_failures_per_user: int = Field(default=5, ge=1, alias="SAKU_SIGN_IN_FAILURES_PER_USER")
    sign_in_failures_per_address: int = Field(
        default=30, ge=1, alias="SAKU_SIGN_IN_FAILURES_PER_ADDRESS"
    )
    sign_in_window_s: int = Field(default=900, ge=1, alias="SAKU_SIGN_IN_WINDOW_S")
    # argon2id checks (64 MiB each) one API process runs at once, and how many may wait
    password_checks_at_once: int = Field(default=2, ge=1, alias="SAKU_PASSWORD_CHECKS_AT_ONCE")
    password_checks_queue: int = Field(default=16, ge=0, alias="SAKU_PASSWORD_CHECKS_QUEUE")

    # --- workflow payloads (core/temporal/codec.py) ---
    # the keys sealing workflow payloads, `id:base64key,...` (32-byte keys, the first one
    # writes); unset: a key file with mode 0600, created on first use
    payload_keys: SecretStr | None = Field(default=None, alias="SAKU_PAYLOAD_KEYS")
    payload_key_file: Path | None = Field(default=None, alias="SAKU_PAYLOAD_KEY_FILE")
    # the codec endpoint as the Temporal UI's browser reaches it; unset: this API's /codec
    codec_endpoint: str | None = Field(default=None, alias="SAKU_CODEC_ENDPOINT")
    # the origins (comma-separated) of the Temporal UI pages that may call the codec
    # endpoint from the browser; unset: the embedded UI's
    temporal_ui_origin: str | None = Field(default=None, alias="SAKU_TEMPORAL_UI_ORIGIN")

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("SAKU_JWT_SECRET must be at least 32 characters (HS256 key)")
        return value

    @field_validator("alert_handoff_key")
    @classmethod
    def _key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("SAKU_ALERT_HANDOFF_KEY must be at least 32 characters")
        return value

    # --- derived addresses -------------------------------------------------------------
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        password = self.embedded_secret("postgres-saku.password")
        if self.pg_replica_port is None:
            return f"postgresql://saku:{password}@{EMBEDDED_HOST}:{self.pg_port}/saku"
        # libpq tries the hosts in order and keeps the first that accepts writes, so after
        # a failover new connections reach the promoted standby without a restart
        return (
            f"postgresql://saku:{password}@{EMBEDDED_HOST}:{self.pg_port},"
            f"{EMBEDDED_HOST}:{self.pg_replica_port}/saku?target_session_attrs=read-write"
        )

    def resolved_backup_database_url(self) -> str:
        if self.backup_database_url is not None:
            return self.backup_database_url.get_secret_value()
        password = self.embedded_secret("postgres-superuser.password")
        return f"postgresql://postgres:{password}@{EMBEDDED_HOST}:{self.pg_port}/postgres"

    def resolved_backup_dir(self) -> Path:
        return self.backup_dir or self.var_dir / "backups"

    def resolved_temporal_ui_url(self) -> str:
        return (self.temporal_ui_url or f"http://{EMBEDDED_HOST}:{self.temporal_ui_port}").rstrip(
            "/"
        )

    def resolved_valkey_url(self) -> str:
        if self.valkey_url:
            return self.valkey_url
        password = self.embedded_secret("valkey.password")
        return f"redis://:{password}@{EMBEDDED_HOST}:{self.valkey_port}/0"

    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"{EMBEDDED_HOST}:{self.temporal_port}"

    def resolved_kafka_bootstrap(self) -> str:
        return self.kafka_bootstrap_servers or f"{EMBEDDED_HOST}:{self.kafka_port}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}.{name}"

    def as_environment(self) -> dict[str, str]:
        """This process's environment with these settings in it, for `saku` subprocesses."""
        urls = {"DATABASE_URL", "VALKEY_URL", "TEMPORAL_ADDRESS", "KAFKA_BOOTSTRAP_SERVERS"}
        env = {k: v for k, v in os.environ.items() if k not in urls}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None or field.alias is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[field.alias] = str(value)
        return env

    @property
    def secrets_dir(self) -> Path:
        return self.var_dir / "secrets"

    @property
    def temporal_db_file(self) -> Path:
        """The embedded Temporal server's SQLite store."""
        return self.var_dir / "temporal" / "temporal.db"

    def resolved_jwt_secret(self) -> str:
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        return self.embedded_secret("jwt.key")

    @property
    def balance_cap_decimal(self) -> Decimal:
        return Decimal(str(self.balance_cap))

    def resolved_kek_file(self) -> Path:
        return self.biometric_kek_file or self.secrets_dir / "biometric-kek.json"

    def resolved_payload_key_file(self) -> Path:
        return self.payload_key_file or self.secrets_dir / "payload-keys.json"

    def resolved_codec_endpoint(self) -> str:
        if self.codec_endpoint:
            return self.codec_endpoint.rstrip("/")
        host = EMBEDDED_HOST if self.api_host in ("0.0.0.0", "::", "") else self.api_host
        return f"http://{host}:{self.api_port}/codec"

    @property
    def temporal_ui_origins(self) -> tuple[str, ...]:
        if self.temporal_ui_origin:
            return tuple(
                o.strip().rstrip("/") for o in self.temporal_ui_origin.split(",") if o.strip()
            )
        port = self.temporal_ui_port
        return (f"http://{EMBEDDED_HOST}:{port}", f"http://localhost:{port}")

    @property
    def webhook_allowed_hosts(self) -> tuple[str, ...]:
        return tuple(h.strip() for h in self.webhook_allow_hosts.split(",") if h.strip())

    def resolved_webhook_secret(self) -> str:
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        return self.embedded_secret("webhook.key")

    def resolved_alert_handoff_key(self) -> str:
        if self.alert_handoff_key is not None:
            return self.alert_handoff_key.get_secret_value()
        return self.embedded_secret("alert-handoff.key")

    def embedded_secret(self, name: str) -> str:
        """A random secret generated once under var/secrets/ (mode 0600), never in the repo."""
        path = self.secrets_dir / name
        if not path.exists():
            self.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            # written aside, then linked into place: concurrent first runs agree on one value
            draft = path.with_name(f".{name}.{os.getpid()}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
            try:
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
