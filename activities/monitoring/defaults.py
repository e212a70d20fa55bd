"""Saku's default monitoring configuration, generated from the rule catalogue.

`infra/config/default.json` is this bundle written out (`saku config defaults`); a test keeps
the two identical. Each rule outcome gets a risk weight from 0 to 100: by default the bands
rise in risk (.01 least risky), `DESCENDING` rules fall, and `EXPLICIT` ones are listed.
Exits and `.err` weigh 0: "cannot tell" is not evidence.
"""

from __future__ import annotations

from typing import Any

from activities.monitoring.rules.base import Rule
from activities.monitoring.rules.catalogue import RULES
from core.monitoring.config import document
from core.monitoring.transactions import TxType

# lower band = riskier: new accounts, new payees, first transactions, rapid repeats, weak matches
DESCENDING = frozenset({"001", "007", "030", "044", "045", "076", "s04", "s12"})
EXPLICIT: dict[str, dict[str, float]] = {
    "028": {".01": 60, ".02": 40, ".03": 10, ".04": 0, ".05": 30},  # minors and seniors
    "078": {".00": 50},  # an unknown message type; known types carry no risk
    "s03": {".01": 0, ".02": 100},
    "s06": {".01": 0, ".02": 100},
}
TAZAMA_RULES = [code for code in RULES if not code.startswith("s")]

TYPOLOGIES: list[dict[str, Any]] = [
    # Tazama's "complete coverage": every catalogue rule in one typology
    {
        "id": "typology-processor@1.0.0",
        "cfg": "999@1.0.0",
        "desc": "Complete coverage",
        "rules": TAZAMA_RULES,
        "alert": 1500,
        "interdict": 2200,
        "txTp": TxType.PACS_002,
    },
    {
        "id": "mule-account@1.0.0",
        "cfg": "1.0.0",
        "desc": "Money mule account",
        "rules": ["001", "002", "016", "024", "026", "044"],
        "alert": 250,
        "interdict": 400,
        "txTp": TxType.PACS_002,
    },
    {
        "id": "account-takeover@1.0.0",
        "cfg": "1.0.0",
        "desc": "Account takeover",
        "rules": ["004", "030", "074", "075", "076"],
        "alert": 250,
        "interdict": 400,
        "txTp": TxType.PACS_002,
    },
    {
        "id": "structuring@1.0.0",
        "cfg": "1.0.0",
        "desc": "Structuring / smurfing",
        "rules": ["006", "021", "091", "901"],
        "alert": 200,
        "interdict": 300,
        "txTp": TxType.PACS_002,
    },
    {
        "id": "canteen-misuse@1.0.0",
        "cfg": "1.0.0",
        "desc": "Canteen purchase misuse",
        "rules": ["s01", "s02", "s03", "s04", "s05", "s06", "s07", "s10", "s12"],
        "alert": 150,
        "interdict": 250,
        "txTp": TxType.KIOSK_PURCHASE,
    },
    # each kiosk enforces the offline cap for its own sales; only the replay sees them all
    {
        "id": "offline-cap-evasion@1.0.0",
        "cfg": "1.0.0",
        "desc": "Offline cap evasion",
        "rules": ["s10"],
        "alert": 60,
        "interdict": 1000,
        "txTp": TxType.KIOSK_PURCHASE,
    },
    {
        "id": "topup-abuse@1.0.0",
        "cfg": "1.0.0",
        "desc": "Top-up abuse",
        "rules": ["s08", "s09", "s11", "018"],
        "alert": 150,
        "interdict": 250,
        "txTp": TxType.TOP_UP,
    },
]
NETWORK_MAP_CFG = "1.0.0"


def risk_weights(rule: Rule) -> dict[str, float]:
    body = rule.default_config.config
    weights = {o.sub_rule_ref: 0.0 for o in body.outcomes()} | {".err": 0.0}
    if rule.code in EXPLICIT:
        return weights | EXPLICIT[rule.code]
    bands = [b.sub_rule_ref for b in body.bands or []]
    if rule.code in DESCENDING:
        bands.reverse()
    for index, ref in enumerate(bands):
        weights[ref] = round(100 * index / max(1, len(bands) - 1))
    return weights


def _typology(spec: dict[str, Any]) -> dict[str, Any]:
    rules = [RULES[code] for code in spec["rules"]]
    return {
        "id": spec["id"],
        "cfg": spec["cfg"],
        "desc": spec["desc"],
        "rules": [
            {
                "id": rule.config_id,
                "cfg": rule.default_config.cfg,
                "termId": f"v{rule.code}",
                "wghts": [{"ref": ref, "wght": w} for ref, w in sorted(risk_weights(rule).items())],
            }
            for rule in rules
        ],
        "expression": {"operator": "Add", "terms": [f"v{rule.code}" for rule in rules]},
        "workflow": {"alertThreshold": spec["alert"], "interdictionThreshold": spec["interdict"]},
    }


def default_bundle() -> dict[str, Any]:
    """Rule configs, typologies and the network map, in the import/export bundle format."""
    routes: dict[str, list[dict[str, Any]]] = {}
    for spec in TYPOLOGIES:
        routes.setdefault(spec["txTp"], []).append(
            {
                "id": spec["id"],
                "cfg": spec["cfg"],
                "rules": [
                    {"id": RULES[c].config_id, "cfg": RULES[c].default_config.cfg}
                    for c in spec["rules"]
                ],
            }
        )
    return {
        "rules": [document(rule.default_config) for rule in RULES.values()],
        "typologies": [_typology(spec) for spec in TYPOLOGIES],
        "networkMaps": [
            {
                "cfg": NETWORK_MAP_CFG,
                "messages": [
                    {"id": f"{tx_type}@1.0.0", "cfg": "1.0.0", "txTp": tx_type, "typologies": t}
                    for tx_type, t in routes.items()
                ],
            }
        ],
        "activate": NETWORK_MAP_CFG,
    }
