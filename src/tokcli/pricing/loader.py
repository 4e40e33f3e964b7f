"""Turn a pricing YAML file into Model objects; every error names file, line and field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from tokcli.errors import InputError
from tokcli.money import to_decimal
from tokcli.pricing.model import (
    DIMENSIONS,
    SERVICE_TIERS,
    TIERS,
    Band,
    Model,
    PriceEntry,
    TierPricing,
    TimeOfDay,
)

MODEL_KEYS = {
    "id",
    "name",
    "tier",
    "aliases",
    "released",
    "deprecated",
    "context_window",
    "max_output",
    "min_cacheable_tokens",
    "host",
    "notes",
    "prices",
    "provider",
}
ENTRY_KEYS = {
    *DIMENSIONS,
    "effective_from",
    "source",
    "tiers",
    "long_context",
    "time_of_day",
    "min_cacheable_tokens",
    "cache_storage_per_hour",
    "notes",
}
TIER_KEYS = {"multiplier", *DIMENSIONS}
LONG_CONTEXT_KEYS = {"above_input_tokens", "tiers", *DIMENSIONS}
# A mapping read from a pricing file, once checked to be one.
Node = dict[str, Any]

_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class _Reader:
    """Validation helpers bound to one file, so every error names it."""

    def __init__(self, path: Path, line_of_model: Callable[[], int | None] | None = None):
        self.path = str(path)
        # A JSON price layer: gives the line of the model being read, asked only on an error.
        self.line_of_model = line_of_model

    def fail(self, message: str, node: object, key: str | None, where: str) -> NoReturn:
        # YAML mappings know their lines (yamlfile.LocatedDict); a JSON layer model is one line.
        line_of = getattr(node, "line_of", None)
        line = line_of(key) if line_of is not None and key else None
        if line is None and line_of is not None:
            line = getattr(node, "line", None)
        if line is None and self.line_of_model is not None:
            line = self.line_of_model()
        raise InputError(message, path=self.path, line=line, field=where)

    def mapping(
        self, node: object, where: str, parent: object = None, key: str | None = None
    ) -> Node:
        if not isinstance(node, dict):
            self.fail("must be a mapping", parent, key, where)
        return node

    def unknown_keys(self, node: Node, allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.fail(
                    f"unknown field (allowed: {', '.join(sorted(allowed))})",
                    node,
                    key,
                    f"{where}.{key}",
                )

    def price(self, node: Node, key: str, where: str) -> Decimal | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, float):
            self.fail(
                f'write prices as quoted decimal strings ("{value}"), not YAML floats',
                node,
                key,
                f"{where}.{key}",
            )
        try:
            amount = to_decimal(value, field=key)
        except ValueError as exc:
            self.fail(str(exc), node, key, f"{where}.{key}")
        if amount < 0:
            self.fail("must not be negative", node, key, f"{where}.{key}")
        return amount

    def integer(self, node: Node, key: str, where: str) -> int | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail("must be a whole number >= 0", node, key, f"{where}.{key}")
        return value

    def text(self, node: Node, key: str, where: str) -> str | None:
        if node.get(key) is None:
            return None
        return self.required_text(node, key, where)

    def required_text(self, node: Node, key: str, where: str) -> str:
        value = node.get(key)
        if value is None:
            self.fail("is required", node, key, f"{where}.{key}")
        if not isinstance(value, str) or not value.strip():
            self.fail("must be a non-empty string", node, key, f"{where}.{key}")
        return value.strip()

    def date(self, node: Node, key: str, where: str) -> dt.date | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail("must be a date YYYY-MM-DD", node, key, f"{where}.{key}")

    def moment(self, node: Node, key: str, where: str) -> dt.datetime:
        value = node.get(key)
        try:
            return parse_moment(value)
        except ValueError:
            self.fail(
                "must be a date YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (UTC)", node, key, f"{where}.{key}"
            )


def parse_moment(value: object) -> dt.datetime:
    """A date or 'YYYY-MM-DD HH:MM[:SS]' (UTC) as an aware datetime. Raises ValueError."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip().replace("T", " ").removesuffix("Z").removesuffix(" UTC")
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _tiers(r: _Reader, node: object, where: str) -> dict[str, TierPricing]:
    if node is None:
        return {}
    node = r.mapping(node, where)
    tiers = {}
    for name, spec in node.items():
        here = f"{where}.{name}"
        if name not in SERVICE_TIERS or name == "standard":
            r.fail("service tier must be batch, flex or priority", node, name, here)
        spec = r.mapping(spec, here, node, name)
        r.unknown_keys(spec, TIER_KEYS, here)
        prices = {d: p for d in DIMENSIONS if (p := r.price(spec, d, here)) is not None}
        multiplier = r.price(spec, "multiplier", here)
        if multiplier is None and not prices:
            r.fail("needs a multiplier or at least one price", node, name, here)
        tiers[name] = TierPricing(multiplier=multiplier, prices=prices)
    return tiers


def _band(r: _Reader, node: Node, where: str) -> Band:
    prices = {d: r.price(node, d, where) for d in DIMENSIONS}
    return Band(prices=prices, tiers=_tiers(r, node.get("tiers"), f"{where}.tiers"))


def _time_of_day(r: _Reader, node: object, where: str) -> TimeOfDay | None:
    if node is None:
        return None
    node = r.mapping(node, where)
    r.unknown_keys(node, {"peak_hours_utc", "off_peak_multiplier"}, where)
    spans = []
    for text in node.get("peak_hours_utc") or []:
        match = _HOURS.match(str(text))
        if not match:
            r.fail(
                "hours must look like 01:00-04:00",
                node,
                "peak_hours_utc",
                f"{where}.peak_hours_utc",
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        end = dt.time.max if (h2, m2) == (24, 0) else dt.time(h2, m2)
        spans.append((dt.time(h1, m1), end))
    multiplier = r.price(node, "off_peak_multiplier", where)
    if multiplier is None or not spans:
        r.fail("needs peak_hours_utc and off_peak_multiplier", node, None, where)
    return TimeOfDay(peak_hours_utc=tuple(spans), off_peak_multiplier=multiplier)


def _entry(
    r: _Reader, node: object, where: str, *, origin: str | None, partial: bool = False
) -> PriceEntry:
    node = r.mapping(node, where)
    r.unknown_keys(node, ENTRY_KEYS, where)
    long_node = node.get("long_context")
    long_band = long_above = None
    if long_node is not None:
        long_node = r.mapping(long_node, f"{where}.long_context", node, "long_context")
        r.unknown_keys(long_node, LONG_CONTEXT_KEYS, f"{where}.long_context")
        long_above = r.integer(long_node, "above_input_tokens", f"{where}.long_context")
        if long_above is None:
            r.fail(
                "is required",
                long_node,
                "above_input_tokens",
                f"{where}.long_context.above_input_tokens",
            )
        long_band = _band(r, long_node, f"{where}.long_context")
    effective = (
        r.moment(node, "effective_from", where)
        if node.get("effective_from") is not None or not partial
        else None
    )
    return PriceEntry(
        effective_from=effective,  # type: ignore[arg-type]  # None only inside overrides
        source=r.required_text(node, "source", where),
        standard=_band(r, node, where),
        long_context=long_band,
        long_context_above=long_above,
        time_of_day=_time_of_day(r, node.get("time_of_day"), f"{where}.time_of_day"),
        min_cacheable_tokens=r.integer(node, "min_cacheable_tokens", where),
        cache_storage_per_hour=r.price(node, "cache_storage_per_hour", where),
        notes=r.text(node, "notes", where),
        overridden=frozenset(k for k in node if k not in ("source", "notes"))
        if origin
        else frozenset(),
        origin=origin,
    )


def _model(
    r: _Reader, node: object, where: str, provider: str, *, origin: str | None, partial: bool
) -> Model:
    node = r.mapping(node, where)
    r.unknown_keys(node, MODEL_KEYS, where)
    model_id = r.required_text(node, "id", where).lower()
    where = f"{where}({model_id})"
    tier = r.text(node, "tier", where) if partial else r.required_text(node, "tier", where)
    if tier is not None and tier not in TIERS:
        r.fail(f"must be one of {', '.join(TIERS)}", node, "tier", f"{where}.tier")
    aliases = node.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        r.fail("must be a list of strings", node, "aliases", f"{where}.aliases")
    raw_prices = node.get("prices")
    if raw_prices is None and not partial:
        r.fail(
            "is required (use [] for a model with no known price)",
            node,
            "prices",
            f"{where}.prices",
        )
    if raw_prices is not None and not isinstance(raw_prices, list):
        r.fail("must be a list of price entries", node, "prices", f"{where}.prices")
    entries: list[PriceEntry] = []
    for index, entry_node in enumerate(raw_prices or []):
        entry = _entry(r, entry_node, f"{where}.prices[{index}]", origin=origin, partial=partial)
        previous = entries[-1].effective_from if entries else None
        current = entry.effective_from
        if previous is not None and current is not None and current <= previous:
            r.fail(
                "effective_from must increase from one entry to the next",
                entry_node,
                "effective_from",
                f"{where}.prices[{index}].effective_from",
            )
        entries.append(entry)
    return Model(
        id=model_id,
        provider=(r.text(node, "provider", where) or provider).lower(),
        name=r.text(node, "name", where),
        tier=tier,
        aliases=tuple(a.strip().lower() for a in aliases),
        context_window=r.integer(node, "context_window", where),
        max_output=r.integer(node, "max_output", where),
        min_cacheable_tokens=r.integer(node, "min_cacheable_tokens", where),
        prices=tuple(entries),
        released=r.date(node, "released", where),
        deprecated=r.date(node, "deprecated", where),
        host=r.text(node, "host", where),
        notes=r.text(node, "notes", where),
        origin=origin,
        layer="override" if origin else "curated",
    )


def load_pricing_file(
    path: Path, *, override: bool = False, text: str | None = None
) -> tuple[list[Model], dict[str, str]]:
    """Models and the named sources of one file. `override` relaxes what a user file must give."""
    from tokcli.pricing.yamlfile import load_yaml

    r = _Reader(path)
    doc = load_yaml(path, text)
    doc = r.mapping(doc, "(top level)")
    r.unknown_keys(doc, {"provider", "currency", "sources", "models", "unit"}, "(top level)")
    provider = (
        r.text(doc, "provider", "(top level)")
        if override
        else r.required_text(doc, "provider", "(top level)")
    ) or ""
    currency = doc.get("currency", "USD")
    if currency != "USD":
        r.fail("only USD prices are supported", doc, "currency", "currency")
    if not isinstance(doc.get("models"), list):
        r.fail("must be a list of models", doc, "models", "models")
    origin = str(path) if override else None
    models = [
        _model(r, node, f"models[{i}]", provider, origin=origin, partial=override)
        for i, node in enumerate(doc["models"])
    ]
    if not override:
        for model, node in zip(models, doc["models"], strict=True):
            if model.provider != provider:
                r.fail("must match the file's provider", node, "provider", "provider")
    sources = doc.get("sources") or {}
    return models, {str(k): str(v) for k, v in sources.items()}
