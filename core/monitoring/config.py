"""Tazama's configuration model: rule configs, typology configs, network maps, event-flow
conditions. Validated on write, with errors that say what to fix."""

from __future__ import annotations

import itertools
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RESERVED_OUTCOMES = (".x00", ".x01", ".x03", ".x04", ".err")
ERROR_OUTCOME = ".err"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def document(model: BaseModel) -> dict[str, Any]:
    """A configuration as it is stored and shown: Tazama's field names, no empty fields."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- rules -------------------------------------------------------------------------------


class Outcome(_Model):
    sub_rule_ref: str = Field(alias="subRuleRef", pattern=r"^\.[0-9a-z]{2,3}$")
    reason: str = Field(min_length=1)


class Band(Outcome):
    """[lowerLimit, upperLimit): lower inclusive, upper exclusive, missing = unbounded.
    0 is a real limit (Tazama treats it as missing; Saku does not)."""

    lower_limit: float | None = Field(default=None, alias="lowerLimit")
    upper_limit: float | None = Field(default=None, alias="upperLimit")


class CaseExpression(Outcome):
    value: str | float


class Cases(_Model):
    expressions: list[CaseExpression] = Field(min_length=1)
    alternative: Outcome


class RuleConfigBody(_Model):
    parameters: dict[str, Any] = Field(default_factory=dict)
    exit_conditions: list[Outcome] = Field(default_factory=list, alias="exitConditions")
    bands: list[Band] | None = None
    cases: Cases | None = None

    @model_validator(mode="after")
    def _bands_xor_cases(self) -> RuleConfigBody:
        if (self.bands is None) == (self.cases is None):
            raise ValueError("a rule config needs either `bands` or `cases` (exactly one)")
        if self.bands is not None:
            if not self.bands:
                raise ValueError("`bands` must not be empty")
            ordered = sorted(
                self.bands,
                key=lambda b: float("-inf") if b.lower_limit is None else b.lower_limit,
            )
            for band in ordered:
                if (
                    band.lower_limit is not None
                    and band.upper_limit is not None
                    and band.lower_limit >= band.upper_limit
                ):
                    raise ValueError(
                        f"band {band.sub_rule_ref}: lowerLimit {band.lower_limit} must be "
                        f"below upperLimit {band.upper_limit}"
                    )
            for before, after in itertools.pairwise(ordered):
                if before.upper_limit is None or (
                    after.lower_limit is not None and after.lower_limit < before.upper_limit
                ):
                    raise ValueError(
                        f"bands {before.sub_rule_ref} and {after.sub_rule_ref} overlap"
                    )
        refs = [o.sub_rule_ref for o in self.outcomes()]
        duplicates = sorted({r for r in refs if refs.count(r) > 1})
        if duplicates:
            raise ValueError(f"outcome(s) {', '.join(duplicates)} defined more than once")
        return self

    @cached_property
    def band_table(self) -> tuple[tuple[float, float, str, str], ...]:
        """The bands as (lower, upper, subRuleRef, reason), a missing limit as infinity:
        classification runs for every rule of every transaction, and plain tuples are
        several times faster to walk than the models."""
        return tuple(
            (
                float("-inf") if band.lower_limit is None else band.lower_limit,
                float("inf") if band.upper_limit is None else band.upper_limit,
                band.sub_rule_ref,
                band.reason,
            )
            for band in self.bands or ()
        )

    @cached_property
    def reasons(self) -> dict[str, str]:
        """subRuleRef -> reason, for every configured outcome (each is defined once)."""
        return {o.sub_rule_ref: o.reason for o in self.outcomes()}

    def outcomes(self) -> list[Outcome]:
        """Every outcome this config can produce, except `.err` (always possible)."""
        found: list[Outcome] = list(self.exit_conditions)
        if self.bands is not None:
            found += self.bands
        if self.cases is not None:
            found += [*self.cases.expressions, self.cases.alternative]
        return found


class RuleConfig(_Model):
    id: str = Field(pattern=r"^[0-9a-z-]+@[0-9][0-9A-Za-z.+-]*$", description="e.g. 001@1.0.0")
    cfg: str = Field(min_length=1)
    desc: str = ""
    config: RuleConfigBody

    @property
    def rule_code(self) -> str:
        """The implementation this config drives: '001@1.0.0' -> '001'."""
        return self.id.split("@", 1)[0]

    def possible_outcomes(self) -> set[str]:
        return {o.sub_rule_ref for o in self.config.outcomes()} | {ERROR_OUTCOME}


# --- typologies --------------------------------------------------------------------------


class Weight(_Model):
    ref: str
    wght: float


class TypologyRule(_Model):
    id: str
    cfg: str
    term_id: str = Field(alias="termId", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    wghts: list[Weight] = Field(min_length=1)

    @cached_property
    def weight_of(self) -> dict[str, float]:
        """Outcome -> weight, worked out once: every evaluation scores with it."""
        return {w.ref: w.wght for w in self.wghts}


Operator = Literal["Add", "Subtract", "Multiply", "Divide"]


class Expression(_Model):
    """`{"operator": "Add", "terms": ["v001", 2, {"operator": "Multiply", ...}]}`."""

    operator: Operator
    terms: list[Annotated[str | float | Expression, Field(union_mode="left_to_right")]] = Field(
        min_length=1
    )

    def term_ids(self) -> set[str]:
        ids: set[str] = set()
        for term in self.terms:
            if isinstance(term, str):
                ids.add(term)
            elif isinstance(term, Expression):
                ids |= term.term_ids()
        return ids


class TypologyWorkflow(_Model):
    alert_threshold: float = Field(alias="alertThreshold")
    interdiction_threshold: float | None = Field(default=None, alias="interdictionThreshold")
    flow_processor: str | None = Field(default=None, alias="flowProcessor")

    @model_validator(mode="after")
    def _ordered(self) -> TypologyWorkflow:
        if (
            self.interdiction_threshold is not None
            and self.interdiction_threshold < self.alert_threshold
        ):
            raise ValueError("interdictionThreshold must not be below alertThreshold")
        return self


class TypologyConfig(_Model):
    id: str
    cfg: str
    desc: str = ""
    rules: list[TypologyRule] = Field(min_length=1)
    expression: Expression
    workflow: TypologyWorkflow

    @model_validator(mode="after")
    def _terms_resolve(self) -> TypologyConfig:
        declared = [r.term_id for r in self.rules]
        if len(set(declared)) != len(declared):
            raise ValueError(f"typology {self.key}: termIds must be unique")
        unknown = self.expression.term_ids() - set(declared)
        if unknown:
            raise ValueError(
                f"typology {self.key}: expression uses undeclared term(s) {sorted(unknown)}"
            )
        return self

    @property
    def key(self) -> str:
        return f"{self.id}/{self.cfg}"


# --- network map -------------------------------------------------------------------------


class RuleRef(_Model):
    id: str
    cfg: str


class TypologyRef(_Model):
    id: str
    cfg: str
    rules: list[RuleRef] = Field(min_length=1)


class MessageRoute(_Model):
    id: str
    cfg: str
    tx_tp: str = Field(alias="txTp")
    typologies: list[TypologyRef] = Field(min_length=1)


class NetworkMap(_Model):
    cfg: str
    messages: list[MessageRoute] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_route_per_type(self) -> NetworkMap:
        types = [m.tx_tp for m in self.messages]
        repeated = sorted({t for t in types if types.count(t) > 1})
        if repeated:
            raise ValueError(f"network map routes {repeated} more than once")
        return self

    def route(self, tx_type: str) -> MessageRoute | None:
        return next((m for m in self.messages if m.tx_tp == tx_type), None)


# --- event-flow conditions ---------------------------------------------------------------

ConditionType = Literal["non-overridable-block", "overridable-block", "override"]


class EventFlowCondition(_Model):
    """A block or override on an account or entity, from one or both perspectives."""

    id: str
    tenant_id: str = Field(alias="tenantId")
    cond_type: ConditionType = Field(alias="condTp")
    perspective: Literal["debtor", "creditor", "both"] = Field(alias="prsptv")
    subject_kind: Literal["account", "entity"] = Field(alias="ntty")
    subject_id: str = Field(alias="subjectId", min_length=1)
    event_types: list[str] = Field(default_factory=list, alias="evtTp")  # empty: all types
    starts_at_ms: int = Field(alias="incptnDtTm")
    expires_at_ms: int | None = Field(default=None, alias="xprtnDtTm")
    reason: str = Field(min_length=1)

    def active_at(self, at_ms: int) -> bool:
        return self.starts_at_ms <= at_ms and (
            self.expires_at_ms is None or at_ms < self.expires_at_ms
        )


# --- cross-document validation -----------------------------------------------------------


class ConfigError(ValueError):
    """A configuration that must not be stored or activated; the message says why."""


def check_typology_weights(
    typology: TypologyConfig, rules: dict[tuple[str, str], RuleConfig]
) -> None:
    """Every outcome a rule can produce, `.err` included, must carry a weight."""
    for rule in typology.rules:
        config = rules.get((rule.id, rule.cfg))
        if config is None:
            raise ConfigError(
                f"typology {typology.key} uses rule {rule.id} cfg {rule.cfg}, which has no config"
            )
        weighted = {w.ref for w in rule.wghts}
        missing = sorted(config.possible_outcomes() - weighted)
        if missing:
            raise ConfigError(
                f"typology {typology.key}: rule {rule.id} cfg {rule.cfg} has no weight for "
                f"outcome(s) {', '.join(missing)} (every outcome, .err included, needs one)"
            )
        unknown = sorted(weighted - config.possible_outcomes())
        if unknown:
            raise ConfigError(
                f"typology {typology.key}: rule {rule.id} cfg {rule.cfg} weights outcome(s) "
                f"{', '.join(unknown)} that the rule config cannot produce"
            )


def check_network_map(
    network_map: NetworkMap,
    rules: dict[tuple[str, str], RuleConfig],
    typologies: dict[tuple[str, str], TypologyConfig],
) -> None:
    """Every rule and typology the map names exists, and typologies list the same rules."""
    for message in network_map.messages:
        for ref in message.typologies:
            typology = typologies.get((ref.id, ref.cfg))
            if typology is None:
                raise ConfigError(f"network map names typology {ref.id} cfg {ref.cfg}: not found")
            for rule in ref.rules:
                if (rule.id, rule.cfg) not in rules:
                    raise ConfigError(f"network map names rule {rule.id} cfg {rule.cfg}: not found")
            mapped = {(r.id, r.cfg) for r in ref.rules}
            scored = {(r.id, r.cfg) for r in typology.rules}
            if mapped != scored:
                raise ConfigError(
                    f"typology {typology.key} scores rules {sorted(scored)} but the network map "
                    f"routes {sorted(mapped)} to it"
                )
