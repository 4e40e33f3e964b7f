"""TC302 reasoning-model-for-simple-task: a reasoning-tier model on a template that classifies
or extracts into fixed labels, with what the provider's cheapest tier would cost instead."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule

if TYPE_CHECKING:
    from tokcli.audit.costing import Pricing
    from tokcli.pricing.model import Model
    from tokcli.pricing.registry import Registry

INFO = RuleInfo(
    "TC302",
    "reasoning-model-for-simple-task",
    Severity.warning,
    "A reasoning-tier model on a template that only classifies or extracts into fixed labels.",
)
TASK = re.compile(
    r"\b(?:classify|classifies|categori[sz]e|label each|label the|tag each|extract)\b", re.I
)
FIXED_OUTPUT = re.compile(
    r"\bone of\b|\byes or no\b|\btrue or false\b|\"enum\"\s*:|\blabels?\s*:|\bcategories\s*:|"
    r"\b(?:respond|reply|answer|return|output)\b[^.\n]{0,30}\bjson\b|\bjson schema\b",
    re.I,
)
CHEAPER_TIERS = ("cheap", "mid")


def check(ctx: Context):
    pricing, registry = ctx.pricing, ctx.registry
    if pricing is None or pricing.model.tier != "reasoning" or registry is None:
        return
    task = TASK.search(ctx.prompt)
    if task is None or not FIXED_OUTPUT.search(ctx.prompt):
        return
    model = pricing.model
    cheaper = _cheapest_alternative(pricing, registry)
    tokens = ctx.total_stable_tokens
    verb = "extracts" if task.group().lower().startswith("extract") else "classifies"
    message = (
        f"{model.id} is a reasoning-tier model (input ${_input_price(model, pricing.at)}/MTok); "
        f"this "
        f"template {verb} into fixed labels, which a cheaper tier does as well"
    )
    saving = None
    if cheaper is not None:
        ours = pricing.monthly_input_cost(tokens)
        theirs = pricing.monthly_input_cost_on(cheaper, tokens)
        if ours is not None and theirs is not None:
            saving = ours - theirs
        message += (
            f"; {cheaper.id} ({cheaper.tier} tier) costs ${_input_price(cheaper, pricing.at)}"
            "/MTok input"
        )
    yield Finding(
        INFO,
        message,
        f"Try {cheaper.id if cheaper else 'a cheap or mid-tier model'} on a sample of inputs; "
        "the saving shown counts the prompt's input tokens only (reasoning and output tokens "
        "would add to it).",
        task.start(),
        task.end(),
        tokens=tokens,
        monthly_cost=saving,
    )


def _input_price(model: Model, at: dt.date) -> str | None:
    from tokcli.cost import resolved_prices
    from tokcli.money import plain

    return plain(resolved_prices(model, at).prices["input"])


def _cheapest_alternative(pricing: Pricing, registry: Registry) -> Model | None:
    from tokcli.cost import resolved_prices
    from tokcli.errors import TokcliError

    provider = pricing.model.provider
    for tier in CHEAPER_TIERS:
        priced = []
        for model in registry.list(provider, tier):
            if model.deprecated is not None and model.deprecated <= pricing.at:
                continue
            try:
                price = resolved_prices(model, pricing.at).prices["input"]
            except TokcliError:
                continue
            priced.append((price, model.id, model))
        if priced:
            return min(priced, key=lambda p: (p[0], p[1]))[2]
    return None


RULE = Rule(INFO, check)
