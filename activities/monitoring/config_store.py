"""Versioned monitoring configuration in PostgreSQL, validated on write.

Rule configs, typology configs and network maps are immutable once stored (a change is a
new `cfg`), so every evaluation can name the exact versions it used. One network map is
active per tenant; activating another takes effect on the next evaluation, no restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from core.db import Pool
from core.monitoring.config import (
    ConfigError,
    EventFlowCondition,
    NetworkMap,
    RuleConfig,
    TypologyConfig,
    check_network_map,
    check_typology_weights,
    document,
)

Key = tuple[str, str]


@dataclass(frozen=True)
class ActiveConfig:
    """The active network map with every rule and typology config it names."""

    network_map: NetworkMap
    rules: dict[Key, RuleConfig]
    typologies: dict[Key, TypologyConfig]


def changed(what: str) -> ConfigError:
    return ConfigError(
        f"{what} already exists with different content: stored configurations never change, "
        "so store the new version under a new cfg"
    )


def _document(model: RuleConfig | TypologyConfig | NetworkMap | EventFlowCondition) -> Jsonb:
    return Jsonb(document(model))


class ConfigStore:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def _put_immutable(
        self, table: str, keys: dict[str, str], tenant: str, document: Jsonb, what: str
    ) -> bool:
        """Insert a document; if its key exists, it must be the same document."""
        columns = ", ".join(keys)
        match = " AND ".join(f"{column} = %s" for column in keys)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"INSERT INTO {table} (tenant_id, {columns}, document) "
                f"VALUES (%s, {', '.join(['%s'] * len(keys))}, %s) ON CONFLICT DO NOTHING",
                (tenant, *keys.values(), document),
            )
            if cur.rowcount == 1:
                return True
            cur = await conn.execute(
                f"SELECT document FROM {table} WHERE tenant_id = %s AND {match}",
                (tenant, *keys.values()),
            )
            row = await cur.fetchone()
        if row is None or row["document"] != document.obj:
            raise changed(what)
        return False

    async def put_rule(self, tenant: str, config: RuleConfig) -> bool:
        """Store a rule config; returns False if the identical one was already stored."""
        return await self._put_immutable(
            "rule_configs",
            {"rule_id": config.id, "cfg": config.cfg},
            tenant,
            _document(config),
            f"{config.id} cfg {config.cfg}",
        )

    async def put_typology(self, tenant: str, config: TypologyConfig) -> bool:
        rules = await self.rule_configs(tenant, {(r.id, r.cfg) for r in config.rules})
        check_typology_weights(config, rules)
        return await self._put_immutable(
            "typology_configs",
            {"typology_id": config.id, "cfg": config.cfg},
            tenant,
            _document(config),
            f"{config.id} cfg {config.cfg}",
        )

    async def put_network_map(self, tenant: str, network_map: NetworkMap) -> bool:
        rules, typologies = await self._referenced(tenant, network_map)
        check_network_map(network_map, rules, typologies)
        return await self._put_immutable(
            "network_maps",
            {"cfg": network_map.cfg},
            tenant,
            _document(network_map),
            f"network map cfg {network_map.cfg}",
        )

    async def network_map_documents(self, tenant: str) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT cfg, document FROM network_maps WHERE tenant_id = %s", (tenant,)
            )
            return {row["cfg"]: row["document"] for row in await cur.fetchall()}

    async def activate(self, tenant: str, cfg: str) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT 1 FROM network_maps WHERE tenant_id = %s AND cfg = %s FOR UPDATE",
                (tenant, cfg),
            )
            if await cur.fetchone() is None:
                raise ConfigError(f"no network map cfg {cfg!r} for tenant {tenant!r}")
            await conn.execute(
                "UPDATE network_maps SET active = false WHERE tenant_id = %s AND active",
                (tenant,),
            )
            await conn.execute(
                "UPDATE network_maps SET active = true, activated_at = now() "
                "WHERE tenant_id = %s AND cfg = %s",
                (tenant, cfg),
            )

    async def active_cfg(self, tenant: str) -> str | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT cfg FROM network_maps WHERE tenant_id = %s AND active", (tenant,)
            )
            row = await cur.fetchone()
        return None if row is None else str(row["cfg"])

    async def load_active(self, tenant: str) -> ActiveConfig | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT document FROM network_maps WHERE tenant_id = %s AND active", (tenant,)
            )
            row = await cur.fetchone()
        if row is None:
            return None
        network_map = NetworkMap.model_validate(row["document"])
        rules, typologies = await self._referenced(tenant, network_map)
        return ActiveConfig(network_map, rules, typologies)

    async def rule_configs(self, tenant: str, keys: set[Key]) -> dict[Key, RuleConfig]:
        rows = await self._documents("rule_configs", "rule_id", tenant, keys)
        return {key: RuleConfig.model_validate(doc) for key, doc in rows.items()}

    async def _referenced(
        self, tenant: str, network_map: NetworkMap
    ) -> tuple[dict[Key, RuleConfig], dict[Key, TypologyConfig]]:
        typology_keys = {(t.id, t.cfg) for m in network_map.messages for t in m.typologies}
        rule_keys = {
            (r.id, r.cfg) for m in network_map.messages for t in m.typologies for r in t.rules
        }
        typology_rows = await self._documents(
            "typology_configs", "typology_id", tenant, typology_keys
        )
        typologies = {k: TypologyConfig.model_validate(d) for k, d in typology_rows.items()}
        return await self.rule_configs(tenant, rule_keys), typologies

    async def _documents(
        self, table: str, id_column: str, tenant: str, keys: set[Key]
    ) -> dict[Key, Any]:
        if not keys:
            return {}
        ids = [k[0] for k in keys]
        cfgs = [k[1] for k in keys]
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {id_column} AS id, cfg, document FROM {table} "
                f"WHERE tenant_id = %s AND ({id_column}, cfg) IN "
                "(SELECT * FROM unnest(%s::text[], %s::text[]))",
                (tenant, ids, cfgs),
            )
            return {(row["id"], row["cfg"]): row["document"] for row in await cur.fetchall()}

    # --- event-flow conditions ---------------------------------------------------------

    async def put_condition(self, condition: EventFlowCondition) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                """INSERT INTO event_flow_conditions
                       (tenant_id, id, document, subject_id, expires_at)
                   VALUES (%s, %s, %s, %s, to_timestamp(%s / 1000.0))
                   ON CONFLICT (tenant_id, id) DO UPDATE
                       SET document = excluded.document, subject_id = excluded.subject_id,
                           expires_at = excluded.expires_at, revoked_at = NULL""",
                (
                    condition.tenant_id,
                    condition.id,
                    _document(condition),
                    condition.subject_id,
                    condition.expires_at_ms,
                ),
            )

    async def revoke_condition(self, tenant: str, condition_id: str) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE event_flow_conditions SET revoked_at = now() "
                "WHERE tenant_id = %s AND id = %s AND revoked_at IS NULL",
                (tenant, condition_id),
            )
        return cur.rowcount == 1

    async def conditions_for(self, tenant: str, subjects: list[str]) -> list[EventFlowCondition]:
        """Unrevoked, unexpired conditions on any of these accounts or entities."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """SELECT document FROM event_flow_conditions
                   WHERE tenant_id = %s AND subject_id = ANY(%s) AND revoked_at IS NULL
                     AND (expires_at IS NULL OR expires_at > now())""",
                (tenant, subjects),
            )
            return [EventFlowCondition.model_validate(r["document"]) for r in await cur.fetchall()]


async def import_bundle(store: ConfigStore, tenant: str, bundle: dict[str, Any]) -> list[str]:
    """Store a bundle {rules, typologies, networkMaps, activate?}; returns what changed.

    Everything is validated before anything is stored, so a bad bundle changes nothing.
    """
    try:
        rules = [RuleConfig.model_validate(r) for r in bundle.get("rules", [])]
        typologies = [TypologyConfig.model_validate(t) for t in bundle.get("typologies", [])]
        maps = [NetworkMap.model_validate(m) for m in bundle.get("networkMaps", [])]
    except ValueError as err:
        raise ConfigError(f"invalid configuration bundle: {err}") from err
    await _check_bundle(store, tenant, rules, typologies, maps, bundle.get("activate"))
    changes = [f"rule {r.id} cfg {r.cfg}" for r in rules if await store.put_rule(tenant, r)]
    changes += [
        f"typology {t.id} cfg {t.cfg}" for t in typologies if await store.put_typology(tenant, t)
    ]
    changes += [f"network map {m.cfg}" for m in maps if await store.put_network_map(tenant, m)]
    if activate := bundle.get("activate"):
        await store.activate(tenant, str(activate))
        changes.append(f"activated network map {activate}")
    return changes


async def _check_bundle(
    store: ConfigStore,
    tenant: str,
    rules: list[RuleConfig],
    typologies: list[TypologyConfig],
    maps: list[NetworkMap],
    activate: object,
) -> None:
    """Everything import_bundle would check while storing, checked before anything is."""
    known_rules = {(r.id, r.cfg): r for r in rules}
    known_typologies = {(t.id, t.cfg): t for t in typologies}
    wanted_rules = {(r.id, r.cfg) for t in typologies for r in t.rules}
    wanted_rules |= {
        (r.id, r.cfg) for m in maps for msg in m.messages for t in msg.typologies for r in t.rules
    }
    wanted_typologies = {(t.id, t.cfg) for m in maps for msg in m.messages for t in msg.typologies}
    known_rules |= await store.rule_configs(tenant, wanted_rules - set(known_rules))
    stored = await store._documents(
        "typology_configs", "typology_id", tenant, wanted_typologies - set(known_typologies)
    )
    known_typologies |= {k: TypologyConfig.model_validate(d) for k, d in stored.items()}
    for typology in typologies:
        check_typology_weights(typology, known_rules)
    for network_map in maps:
        check_network_map(network_map, known_rules, known_typologies)
    # stored configurations never change: a same (id, cfg) with other content is refused now
    for table, column, models in (
        ("rule_configs", "rule_id", rules),
        ("typology_configs", "typology_id", typologies),
    ):
        existing = await store._documents(table, column, tenant, {(m.id, m.cfg) for m in models})
        for model in models:
            document = existing.get((model.id, model.cfg))
            if document is not None and document != _document(model).obj:
                raise changed(f"{model.id} cfg {model.cfg}")
    stored_maps = await store.network_map_documents(tenant)
    for network_map in maps:
        document = stored_maps.get(network_map.cfg)
        if document is not None and document != _document(network_map).obj:
            raise changed(f"network map cfg {network_map.cfg}")
    if activate is not None and str(activate) not in {m.cfg for m in maps} | set(stored_maps):
        raise ConfigError(f"cannot activate network map {activate!r}: it is not in the bundle")


async def export_bundle(store: ConfigStore, tenant: str) -> dict[str, Any]:
    """Every stored configuration of the tenant, in the bundle format import_bundle reads."""
    async with store.pool.connection() as conn:
        rules = await (
            await conn.execute(
                "SELECT document FROM rule_configs WHERE tenant_id = %s ORDER BY rule_id, cfg",
                (tenant,),
            )
        ).fetchall()
        typologies = await (
            await conn.execute(
                "SELECT document FROM typology_configs WHERE tenant_id = %s "
                "ORDER BY typology_id, cfg",
                (tenant,),
            )
        ).fetchall()
        maps = await (
            await conn.execute(
                "SELECT document, active FROM network_maps WHERE tenant_id = %s ORDER BY cfg",
                (tenant,),
            )
        ).fetchall()
    bundle: dict[str, Any] = {
        "rules": [r["document"] for r in rules],
        "typologies": [t["document"] for t in typologies],
        "networkMaps": [m["document"] for m in maps],
    }
    active = [m["document"]["cfg"] for m in maps if m["active"]]
    if active:
        bundle["activate"] = active[0]
    return bundle
