"""Convert genai-prices data (pydantic/genai-prices, MIT) into price-layer models.

genai-prices publishes `prices/data.json` (v1, frozen) and `prices/new_data/v2/data.json` (the
live feed): a JSON list of providers, each with models whose `prices` are USD per million
tokens, either one set or a list of conditional sets (a start date, or a daily time interval).
A price may be tiered (`{"base": 3, "tiers": [{"start": 200000, "price": 6}]}`): above `start`
total input tokens the whole request pays the tier price, which is tokcli's long-context band.

Numbers are parsed to Decimal from their text (never through float); they are already per
million tokens, so they are written unchanged. Whatever tokcli cannot represent exactly (audio,
image or per-request prices, several tiers, off-peak prices that are not one multiple of the
peak prices) is reported, one line per model, and never priced approximately.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeGuard

from tokcli.money import plain
from tokcli.pricing.generate import UNDATED, Spec

# genai-prices price keys and the tokcli dimension each one is. Where two keys name the same
# dimension (v2's cache_write_5m_mtok and the generic cache_write_mtok), the first listed wins
# and a disagreement is reported.
PRICE_KEYS: dict[str, tuple[str, ...]] = {
    "input": ("input_mtok", "input_text_mtok"),
    "output": ("output_mtok", "output_text_mtok"),
    "reasoning": ("output_reasoning_mtok",),
    "cache_read": ("cache_read_mtok", "cache_text_read_mtok"),
    "cache_write_5m": (
        "cache_write_5m_mtok",
        "cache_write_mtok",
        "cache_text_write_5m_mtok",
        "cache_text_write_mtok",
    ),
    "cache_write_1h": ("cache_write_1h_mtok", "cache_text_write_1h_mtok"),
}
KNOWN_KEYS = {key for keys in PRICE_KEYS.values() for key in keys}
# A fee on every request is part of each call's price: without it a call would be priced low,
# so a model that has one is not mapped. Other keys (audio, image, video tokens, web searches)
# price usage tokcli does not count: the token prices are mapped and the rest reported.
PER_CALL_KEYS = ("requests_kcount",)
# Providers whose model ids are their own API ids: listed bare (gpt-4o, claude-opus-4-6,
# anthropic.claude-…-v1:0 on AWS). Every other provider's ids are prefixed with the provider,
# as LiteLLM writes them (azure/gpt-4o, groq/llama-3.3-70b-versatile), so they do not collide.
BARE_PROVIDERS = (
    "anthropic",
    "openai",
    "google",
    "aws",
    "deepseek",
    "mistral",
    "cohere",
    "x-ai",
    "moonshotai",
    "minimax",
    "zhipuai",
    "zai",
    "perplexity",
    "voyageai",
)
PREFIXES = {
    "google": "vertex_ai",
    "aws": "bedrock",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
    "x-ai": "xai",
    "moonshotai": "moonshot",
}


@dataclass
class Converted:
    models: dict[str, Spec] = field(default_factory=dict)  # layer key -> layer model spec
    unmapped: list[tuple[str, str]] = field(default_factory=list)  # (provider/model, why)
    partial: list[tuple[str, str]] = field(default_factory=list)  # mapped, some prices left out


def looks_like_genai_prices(data: object) -> TypeGuard[list[Any]]:
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(p, dict) and "id" in p and "models" in p for p in data)
    )


def layer_key(provider: str, model_id: str, taken: set[str]) -> str:
    model_id = model_id.strip().lower()
    if provider in BARE_PROVIDERS and model_id not in taken:
        return model_id
    prefix = PREFIXES.get(provider) or provider.replace("huggingface_", "huggingface/")
    return f"{prefix}/{model_id}"


class Unmappable(Exception):
    """A model (or one of its price sets) tokcli cannot represent exactly."""


def convert(data: list[Any], source: str) -> Converted:
    """Every model of a genai-prices data file that tokcli can price exactly."""
    out = Converted()
    for provider in data:
        provider_id = str(provider.get("id", "")).lower()
        for info in provider.get("models") or []:
            model_id = str(info.get("id", "")).strip()
            name = f"{provider_id}/{model_id}"
            try:
                prices, left_out = _history(info.get("prices"), source)
            except Unmappable as exc:
                out.unmapped.append((name, str(exc)))
                continue
            key = layer_key(provider_id, model_id, set(out.models))
            if key in out.models:
                out.unmapped.append((name, f"listed twice (as {key}); the first kept"))
                continue
            if left_out:
                out.partial.append((key, f"not mapped: {', '.join(sorted(left_out))}"))
            model: Spec = {"provider": provider_id}
            if isinstance(info.get("context_window"), int):
                model["context_window"] = info["context_window"]
            model["prices"] = prices
            out.models[key] = model
    return out


def _history(prices: object, source: str) -> tuple[list[Spec], set[str]]:
    """The model's dated price entries, oldest first, and the price keys left out."""
    if isinstance(prices, dict):
        entry, left_out = _entry(prices)
        return [{"effective_from": UNDATED, "source": source, **entry}], left_out
    if not isinstance(prices, list) or not prices:
        raise Unmappable("no prices")
    constraints = [(c or {}).get("constraint") or {} for c in prices]
    if any("start_time" in c for c in constraints):
        return _time_of_day(prices, constraints, source)
    history: list[Spec] = []
    left: set[str] = set()
    for index, (conditional, constraint) in enumerate(zip(prices, constraints, strict=True)):
        if index and "start_date" not in constraint:
            raise Unmappable("a later price set without a start date")
        # genai-prices uses the first set for any time before every start date.
        day = UNDATED if index == 0 else str(constraint["start_date"])
        if history and day <= history[-1]["effective_from"]:
            raise Unmappable(f"start dates not increasing ({day})")
        entry, left_out = _entry(conditional.get("prices"))
        left |= left_out
        history.append({"effective_from": day, "source": source, **entry})
    return history, left


def _time_of_day(
    prices: list[Any], constraints: list[Any], source: str
) -> tuple[list[Spec], set[str]]:
    """[off-peak set, {daily interval: peak set}] -> the peak prices with tokcli's time_of_day.

    tokcli multiplies every price by one off-peak multiplier; a model whose off-peak prices are
    not one multiple of its peak prices cannot be represented and is reported instead.
    """
    if len(prices) != 2 or constraints[0] or "start_time" not in constraints[1]:
        raise Unmappable("time-of-day prices other than one off-peak set and one peak interval")
    off_peak, off_left = _entry(prices[0].get("prices"))
    peak, peak_left = _entry(prices[1].get("prices"))
    if "long_context" in off_peak or "long_context" in peak:
        raise Unmappable("time-of-day prices with a long-context tier")
    if set(off_peak) != set(peak):
        raise Unmappable("off-peak and peak sets price different fields")
    ratios = {Decimal(off_peak[d]) / Decimal(peak[d]) for d in peak if Decimal(peak[d])}
    exact = len(ratios) == 1 and all(
        Decimal(peak[d]) * next(iter(ratios)) == Decimal(off_peak[d]) for d in peak
    )  # a ratio such as 1/3 is rounded: the off-peak prices would come out inexact
    if not exact:
        raise Unmappable(
            "off-peak prices are not one exact multiple of the peak prices "
            "(tokcli applies a single off-peak multiplier)"
        )
    start = _clock(constraints[1]["start_time"])
    end = _clock(constraints[1]["end_time"])
    spans = [f"{start}-{end}"] if start < end else [f"{start}-24:00", f"00:00-{end}"]
    spans = [s for s in spans if s != "00:00-00:00"]
    peak["time_of_day"] = {"peak_hours_utc": spans, "off_peak_multiplier": plain(ratios.pop())}
    return [{"effective_from": UNDATED, "source": source, **peak}], off_left | peak_left


def _clock(value: object) -> str:
    text = str(value).strip().removesuffix("Z").removesuffix("+00:00")
    try:
        clock = dt.time.fromisoformat(text)
    except ValueError:
        raise Unmappable(f"time {value!r} is not HH:MM[:SS] UTC") from None
    if clock.second or clock.microsecond:
        raise Unmappable(f"time {value!r} is not on a whole minute")
    return f"{clock.hour:02d}:{clock.minute:02d}"


def _entry(prices: object) -> tuple[Spec, set[str]]:
    """One tokcli price entry (per-MTok decimal strings) and the keys it leaves out."""
    if not isinstance(prices, dict):
        raise Unmappable("a price set is not an object")
    standard: dict[str, str] = {}
    above: dict[str, Decimal] = {}
    thresholds: set[int] = set()
    for dim, keys in PRICE_KEYS.items():
        given = [(k, prices[k]) for k in keys if prices.get(k) is not None]
        if not given:
            continue
        values = {_value(v) for _, v in given}
        if len(values) > 1:
            raise Unmappable(f"{' and '.join(k for k, _ in given)} disagree")
        key, value = given[0]
        base, tier = _tiered(key, value)
        standard[dim] = plain(base)
        if tier is not None:
            thresholds.add(tier[0])
            above[dim] = tier[1]
    for key in PER_CALL_KEYS:
        if prices.get(key):
            raise Unmappable(f"{key} (a fee per request) has no tokcli field")
    if "input" not in standard or "output" not in standard:
        raise Unmappable("no input and output token price (not a text model tokcli prices)")
    if len(thresholds) > 1:
        raise Unmappable(f"tiers start at different sizes ({sorted(thresholds)})")
    entry: Spec = dict(standard)
    if thresholds:
        # Above the threshold the whole request pays the tier prices; an untiered field keeps
        # its one price in both bands.
        band: Spec = {"above_input_tokens": thresholds.pop()}
        for dim, price in standard.items():
            band[dim] = plain(above[dim]) if dim in above else price
        entry["long_context"] = band
    left_out = {k for k, v in prices.items() if k not in KNOWN_KEYS and v is not None}
    return entry, left_out


def _value(value: object) -> str:
    """A comparable form of a price: numbers compared as decimals (2.5 equals 2.50)."""

    def number(x: object) -> str:
        if isinstance(x, bool) or not isinstance(x, int | float | str | Decimal):
            return repr(x)
        try:
            return str(Decimal(x).normalize())
        except (ValueError, ArithmeticError):
            return repr(x)

    if isinstance(value, dict):
        tiers = [(t.get("start"), number(t.get("price"))) for t in value.get("tiers") or []]
        return json.dumps([number(value.get("base")), tiers], default=str)
    return number(value)


def _tiered(key: str, value: object) -> tuple[Decimal, tuple[int, Decimal] | None]:
    if isinstance(value, dict):
        base = _price(key, value.get("base"))
        tiers = value.get("tiers") or []
        if not tiers:
            return base, None
        if len(tiers) > 1:
            raise Unmappable(f"{key} has {len(tiers)} tiers; tokcli holds one long-context band")
        start = tiers[0].get("start")
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise Unmappable(f"{key} tier start {start!r} is not a token count")
        return base, (start, _price(key, tiers[0].get("price")))
    return _price(key, value), None


def _price(key: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise Unmappable(f"{key} {value!r} is not a number")
    price = Decimal(value)
    if not price.is_finite() or price < 0:
        raise Unmappable(f"{key} {value} is not a price")
    return price


def read_text(text: str) -> Any:
    """Parse genai-prices JSON with every number as Decimal (no float on the way)."""
    return json.loads(text, parse_float=Decimal)
