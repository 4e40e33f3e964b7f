"""Build the generated price layer from LiteLLM's `model_prices_and_context_window.json`.

The layer is compact JSON (pricing/generated/litellm.json), not YAML: it holds thousands of
models and is read only when a curated lookup misses. Its entries use the same field names as a
pricing YAML price entry (pricing/SCHEMA.md), so one loader validates both.

LiteLLM prices are USD per token written as JSON numbers; they are parsed to Decimal from their
text (never through float) and scaled to per million tokens.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from tokcli.money import MILLION, plain

LAYER_VERSION = 1
# Models priced per token for text in and out; images, audio, embeddings are out of scope.
CHAT_MODES = {"chat", "completion", "responses", None}
BASE_FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "output_cost_per_reasoning_token": "reasoning",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write_5m",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
}
TIER_SUFFIXES = {"_batches": "batch", "_flex": "flex", "_priority": "priority"}
_ABOVE = re.compile(r"^(?P<base>.+)_above_(?P<k>\d+)k_tokens(?P<tier>_batches|_flex|_priority)?$")
# A date for entries whose start LiteLLM does not record: "in force since an unknown date".
UNDATED = "1970-01-01"
# A JSON object of a price layer: the layer document, a model or a price entry.
Spec = dict[str, Any]


def per_million(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value) * MILLION
    return None


def _split_tier(key: str) -> tuple[str, str | None]:
    for suffix, tier in TIER_SUFFIXES.items():
        if key.endswith(suffix):
            return key.removesuffix(suffix), tier
    return key, None


def entry_from_litellm(spec: dict[str, Any]) -> dict[str, Any]:
    """One price entry (per-MTok decimal strings, YAML schema field names) from a LiteLLM spec.

    Long-context prices (`…_above_272k_tokens`, with their tier forms) form the long-context
    band; only the lowest threshold is kept. A long-context price for a dimension the standard
    band does not price is dropped: LiteLLM's gemini-2.5-pro lists a >200K cache-write price
    with no standard one, which would make a write cost more than input only above 200K.
    """
    entry: dict[str, Any] = {}
    tiers: dict[str, dict[str, Any]] = {}
    long_prices: dict[str, tuple[int, dict[str, Any], dict[str, Any]]] = {}
    for key, value in spec.items():
        price = per_million(value)
        if price is None:
            continue
        above = _ABOVE.match(key)
        if above:
            dim = BASE_FIELDS.get(above.group("base"))
            if dim is None:
                continue
            threshold = int(above.group("k")) * 1000
            tier = TIER_SUFFIXES.get(above.group("tier") or "")
            band = long_prices.setdefault(str(threshold), (threshold, {}, {}))
            if tier is None:
                band[1][dim] = plain(price)
            else:
                band[2].setdefault(tier, {})[dim] = plain(price)
            continue
        base, tier = _split_tier(key)
        dim = BASE_FIELDS.get(base)
        if dim is None:
            continue
        if tier is None:
            entry[dim] = plain(price)
        else:
            tiers.setdefault(tier, {})[dim] = plain(price)
    if tiers:
        entry["tiers"] = {t: tiers[t] for t in sorted(tiers)}
    if long_prices:
        threshold, prices, long_tiers = min(long_prices.values(), key=lambda b: b[0])
        prices = {d: p for d, p in prices.items() if d in entry}
        long_tiers = {
            t: {d: p for d, p in ps.items() if d in entry}
            for t, ps in long_tiers.items()
            if t in tiers
        }
        long_tiers = {t: ps for t, ps in long_tiers.items() if ps}
        if prices:
            long_band: dict[str, Any] = {
                "above_input_tokens": threshold,
                **dict(sorted(prices.items())),
            }
            if long_tiers:
                long_band["tiers"] = {t: long_tiers[t] for t in sorted(long_tiers)}
            entry["long_context"] = long_band
    return entry


def usable(spec: object) -> bool:
    """A chat/completion model with both an input and an output price."""
    return (
        isinstance(spec, dict)
        and spec.get("mode") in CHAT_MODES
        and per_million(spec.get("input_cost_per_token")) is not None
        and per_million(spec.get("output_cost_per_token")) is not None
    )


def models_from_litellm(
    data: dict[str, Any], source: str, effective_from: str = UNDATED
) -> dict[str, Any]:
    """Every usable model of a LiteLLM price file, keyed by its lower-cased LiteLLM key."""
    models: dict[str, dict[str, Any]] = {}
    for key in sorted(data):
        spec = data[key]
        if key in ("sample_spec", "fallback_generalizations") or not usable(spec):
            continue
        model_id = key.strip().lower()
        if model_id in models:
            continue  # two keys differing only in case: keep the first in sorted order
        model: dict[str, Any] = {"provider": str(spec.get("litellm_provider") or "unknown").lower()}
        if isinstance(spec.get("max_input_tokens"), int):
            model["context_window"] = spec["max_input_tokens"]
        if isinstance(spec.get("max_output_tokens"), int):
            model["max_output"] = spec["max_output_tokens"]
        entry = {"effective_from": effective_from, "source": source}
        entry.update(entry_from_litellm(spec))
        model["prices"] = [entry]
        models[model_id] = model
    return models


def build_layer(
    data: dict[str, Any], *, source: str, package: str, license_note: str
) -> dict[str, Any]:
    return {
        "version": LAYER_VERSION,
        "layer": "generated",
        "source": source,
        "package": package,
        "license": license_note,
        "generator": "scripts/generate_price_layer.py",
        "models": models_from_litellm(data, source),
    }


def dump_layer(layer: dict[str, Any]) -> str:
    """Deterministic, compact text: one model per line so diffs stay readable."""
    models = layer["models"]
    head = {k: v for k, v in layer.items() if k != "models"}
    lines = ["{"]
    for key, value in head.items():
        lines.append(f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=False)},")
    lines.append('"models":{')
    body = [
        f"{json.dumps(model_id)}:{json.dumps(spec, separators=(',', ':'), sort_keys=True)}"
        for model_id, spec in models.items()
    ]
    lines.append(",\n".join(body))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def read_litellm_text(text: str) -> dict[str, Any]:
    """Parse a LiteLLM price file with every number as Decimal (no float on the way)."""
    data = json.loads(text, parse_float=Decimal)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object of models")
    return data
