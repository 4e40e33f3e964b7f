"""Convert LiteLLM's `model_prices_and_context_window.json` into a tokcli override file.

LiteLLM prices are USD per token, written as JSON numbers (3e-06). They are parsed straight to
Decimal from their text, never through float, then scaled to per million tokens.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tokcli.errors import InputError, PriceNotAvailableError
from tokcli.pricing.generate import CHAT_MODES
from tokcli.pricing.registry import Registry, _merge_entry


@dataclass
class Difference:
    model: str
    field: str
    registry: Decimal | None
    litellm: Decimal | None


@dataclass
class Conversion:
    override: dict[str, Any]  # the YAML document to write
    differences: list[Difference] = field(default_factory=list)
    known: int = 0
    unknown: list[str] = field(default_factory=list)
    duplicates: int = 0


def read_litellm(location: str, timeout: float = 30.0) -> tuple[dict[str, Any], str]:
    """The parsed file (numbers as Decimal) and a label for its origin. URLs need the network."""
    from tokcli.pricing.update import read_source

    data = read_source(location, timeout)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object of models", path=location)
    return data, location


def entry_from_litellm(spec: dict[str, Any]) -> dict[str, Any]:
    """One override price entry (strings per MTok) from a LiteLLM model spec."""
    from tokcli.pricing.generate import entry_from_litellm as convert_entry

    return convert_entry(spec)


def convert(
    data: dict[str, Any],
    registry: Registry,
    *,
    origin: str,
    effective_from: dt.date,
    include_unknown: bool = False,
) -> Conversion:
    source = f"LiteLLM model_prices_and_context_window.json ({origin}), imported {effective_from}"
    chosen: dict[str, tuple[str, dict[str, Any]]] = {}
    conversion = Conversion(override={})
    unknown_models = []
    for key, spec in data.items():
        if key in ("sample_spec", "fallback_generalizations") or not isinstance(spec, dict):
            continue
        if spec.get("mode") not in CHAT_MODES or "input_cost_per_token" not in spec:
            continue
        model = registry.find(key)
        if model is None:
            conversion.unknown.append(key)
            if include_unknown:
                unknown_models.append(_new_model(key, spec, source, effective_from))
            continue
        previous = chosen.get(model.id)
        # Prefer the key that is the canonical id itself over gateway or regional forms.
        if previous is None or (key.lower() == model.id and previous[0].lower() != model.id):
            if previous is not None:
                conversion.duplicates += 1
            chosen[model.id] = (key, spec)
        else:
            conversion.duplicates += 1
    models = []
    moment = dt.datetime(
        effective_from.year, effective_from.month, effective_from.day, tzinfo=dt.UTC
    )
    for model_id, (_key, spec) in sorted(chosen.items()):
        conversion.known += 1
        entry = entry_from_litellm(spec)
        diffs = _differences(registry, model_id, entry, moment)
        conversion.differences.extend(diffs)
        if diffs:
            models.append(
                {
                    "id": model_id,
                    "prices": [{"effective_from": str(effective_from), "source": source, **entry}],
                }
            )
    models.extend(unknown_models)
    conversion.override = {"sources": {"litellm": source}, "models": models}
    return conversion


def _new_model(
    key: str, spec: dict[str, Any], source: str, effective_from: dt.date
) -> dict[str, Any]:
    model = {
        "id": key.lower(),
        "provider": str(spec.get("litellm_provider") or "unknown"),
        "prices": [
            {"effective_from": str(effective_from), "source": source, **entry_from_litellm(spec)}
        ],
    }
    if isinstance(spec.get("max_input_tokens"), int):
        model["context_window"] = spec["max_input_tokens"]
    if isinstance(spec.get("max_output_tokens"), int):
        model["max_output"] = spec["max_output_tokens"]
    return model


def _differences(
    registry: Registry, model_id: str, entry: dict[str, Any], moment: dt.datetime
) -> list[Difference]:
    """Every price that differs, long-context bands and fields LiteLLM drops included."""
    from tokcli.pricing.diff import diff_entries, entry_from_dict

    model = registry.models[model_id]
    try:
        current = model.entry_at(moment)
    except PriceNotAvailableError:
        current = None
    theirs = entry_from_dict(
        {"effective_from": moment, "source": "LiteLLM", **entry}, f"LiteLLM {model_id}"
    )
    # What applying the override would change: fields LiteLLM omits stay, but a long-context
    # band or a tier it lists replaces the registry's whole band or tier (removals shown).
    theirs = dataclasses.replace(theirs, overridden=frozenset(entry), origin="LiteLLM")
    after = _merge_entry(current, theirs) if current is not None else theirs
    return [
        Difference(model_id, c.field, c.old, c.new)  # type: ignore[arg-type]
        for c in diff_entries(model_id, current, after)
    ]
