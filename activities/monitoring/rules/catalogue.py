"""All rules, found by module name (`r<code>_<name>.py`, each exporting RULE)."""

from __future__ import annotations

import importlib
import pkgutil

import activities.monitoring.rules as package
from activities.monitoring.rules.base import Rule


def _discover() -> dict[str, Rule]:
    found: dict[str, Rule] = {}
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module_info.name.startswith(("r0", "r9", "s")):
            continue
        rule: Rule = importlib.import_module(f"{package.__name__}.{module_info.name}").RULE
        if rule.code in found:
            raise RuntimeError(f"two modules define rule {rule.code}")
        found[rule.code] = rule
    return found


RULES: dict[str, Rule] = _discover()
