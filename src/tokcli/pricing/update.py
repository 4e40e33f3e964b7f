"""`tokcli pricing update`: refresh the generated layer offline from a newer price file.

Two public formats are read: LiteLLM's `model_prices_and_context_window.json` (an object of
models, USD per token) and genai-prices' `data.json` (pydantic/genai-prices, v1 `prices/` or v2
`prices/new_data/v2/`: a list of providers, USD per million tokens, effective-dated).

Effective-dated: a model whose price in force on the update's date changed gets a new entry
from that date, after its old entries (old usage keeps its old price); price changes the source
schedules for later dates are kept with their dates; a model the newer file drops keeps its
history and is marked removed (only a model that came from the same family of source: a
genai-prices file says nothing about LiteLLM's models); a new model starts on the update's date,
or, from genai-prices, with the dated history the source records. Every price-changing field is
reported (tiers, long-context bands and removals included) before anything is written, and so
is every model the source lists that tokcli cannot price exactly.

The result is the user's layer (registry.user_layer_path()): only the models that differ from the
shipped layer, each with its whole history; per model it replaces the shipped one.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokcli.errors import InputError, TokcliError
from tokcli.pricing.diff import FieldChange, diff_entries, effective_fields, entry_from_dict
from tokcli.pricing.generate import Spec, dump_layer, models_from_litellm
from tokcli.pricing.layers import GeneratedLayer
from tokcli.pricing.model import PriceEntry

PACKAGED_FILE = "model_prices_and_context_window_backup.json"
LITELLM = "LiteLLM"
GENAI_PRICES = "genai-prices"
_SERVICE_TIER_FIELD = re.compile(r"^(long_context\.)?(batch|flex|priority)\.")


@dataclass
class NewPrices:
    """A newer price file converted to layer models."""

    family: str  # LITELLM or GENAI_PRICES
    source: str  # written into every new entry's `source`
    models: dict[str, Spec]
    unmapped: list[tuple[str, str]] = field(default_factory=list)  # (model, why), not priced
    partial: list[tuple[str, str]] = field(default_factory=list)  # (model, prices left out)


@dataclass
class UpdatePlan:
    source: str
    effective_from: dt.date
    changes: list[FieldChange] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unmapped: list[tuple[str, str]] = field(default_factory=list)
    partial: list[tuple[str, str]] = field(default_factory=list)
    layer: Spec = field(default_factory=dict)  # the user layer document to write


def installed_litellm_file() -> Path:
    """The price file inside an installed `litellm` package, found without importing it."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise TokcliError(
            "no SOURCE given and the litellm package is not installed: give the path or URL of "
            "a LiteLLM model_prices_and_context_window.json or a genai-prices data.json"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / PACKAGED_FILE
    if not path.is_file():
        raise TokcliError(f"the installed litellm package has no {PACKAGED_FILE}")
    return path


def read_source(location: str | Path, timeout: float = 30.0) -> Any:
    """The parsed file (every number a Decimal, never a float). A URL needs the network."""
    import json

    where = str(location)
    if re.match(r"^https?://", where):
        import httpx

        try:
            response = httpx.get(where, timeout=timeout, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise TokcliError(f"{where}: cannot download: {exc}") from None
        text = response.text
    else:
        try:
            text = Path(where).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError("no such file", path=where) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read: {exc}", path=where) from None
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg}", path=where, line=exc.lineno, column=exc.colno
        ) from None


def convert_source(data: object, origin: str, today: dt.date) -> NewPrices:
    """Which format `data` is (by its shape) and its models as layer models."""
    from tokcli.pricing import genai_prices

    day = today.isoformat()
    if isinstance(data, dict):
        source = f"LiteLLM model_prices_and_context_window.json ({origin}), pricing update {day}"
        return NewPrices(LITELLM, source, models_from_litellm(data, source, effective_from=day))
    if genai_prices.looks_like_genai_prices(data):
        source = (
            f"genai-prices data.json (MIT, pydantic/genai-prices; {origin}), pricing update {day}"
        )
        converted = genai_prices.convert(data, source)
        return NewPrices(
            GENAI_PRICES, source, converted.models, converted.unmapped, converted.partial
        )
    raise InputError(
        "neither a LiteLLM price file (an object of models) nor genai-prices data "
        "(a list of providers with models)",
        path=origin,
    )


def plan_update(layer: GeneratedLayer, data: object, origin: str, today: dt.date) -> UpdatePlan:
    return plan_from(layer, convert_source(data, origin, today), today)


def plan_from(layer: GeneratedLayer, newer: NewPrices, today: dt.date) -> UpdatePlan:
    day = today.isoformat()
    plan = UpdatePlan(
        source=newer.source,
        effective_from=today,
        unmapped=list(newer.unmapped),
        partial=list(newer.partial),
    )
    mine = layer.files.get("updated")
    updated: dict[str, Spec] = {m: mine.spec(m) for m in mine.ids()} if mine else {}
    for model_id in sorted(set(newer.models) | set(layer.ids())):
        new_spec = newer.models.get(model_id)
        old_spec = layer.spec(model_id) if model_id in layer else None
        if old_spec is None:
            assert new_spec is not None  # every id comes from one side or the other
            plan.added.append(model_id)
            plan.changes.extend(_history_changes(model_id, None, new_spec["prices"], today))
            updated[model_id] = new_spec
            continue
        old_prices = list(old_spec["prices"])
        if new_spec is None:
            if old_spec.get("removed") or not _same_family(old_prices, newer.family):
                continue
            plan.removed.append(model_id)
            plan.changes.extend(diff_entries(model_id, _entry(old_prices[-1]), None))
            updated[model_id] = {**old_spec, "removed": day}
            continue
        history, changes = _merge_history(model_id, old_prices, new_spec["prices"], newer, today)
        if not changes and not old_spec.get("removed"):
            continue
        plan.changed.append(model_id)
        plan.changes.extend(changes)
        spec = {**old_spec, **{k: v for k, v in new_spec.items() if k != "prices"}}
        spec.pop("removed", None)
        spec["prices"] = history
        updated[model_id] = spec
    plan.layer = {
        "version": 1,
        "layer": "updated",
        "source": newer.source,
        "updated": day,
        "based_on": (layer.documents.get("generated") or {}).get("source"),
        "models": dict(sorted(updated.items())),
    }
    return plan


def _merge_history(
    model_id: str,
    old_prices: list[Spec],
    new_prices: list[Spec],
    newer: NewPrices,
    today: dt.date,
) -> tuple[list[Spec], list[FieldChange]]:
    """The model's new history and the changes it makes.

    The past stays as it is. If the price the newer file puts in force on `today` differs from
    the one the layer has in force, it becomes a new entry from `today`; the newer file's
    later-dated entries (scheduled changes) replace the layer's later-dated ones.
    """
    day = today.isoformat()
    old_now, old_later = _split(old_prices, today)
    new_now, new_later = _split(new_prices, today)
    if newer.family == GENAI_PRICES and old_now is not None and new_now is not None:
        new_now = _keep_unstated(new_now, old_now)
        new_later = [_keep_unstated(spec, old_now) for spec in new_later]
    changes = []
    if new_now is not None:  # None: the newer file's first price starts after `today`
        changes = diff_entries(model_id, _entry(old_now) if old_now else None, _entry(new_now))
    if (
        newer.family == GENAI_PRICES
        and old_now is not None
        and new_now is not None
        and _billing(_entry(old_now)) == _billing(_entry(new_now))
    ):
        changes = []  # only fields genai-prices does not express differ: no price changed
    history = [p for p in old_prices if str(p["effective_from"]) <= day]
    if changes and new_now is not None:
        history = [p for p in history if str(p["effective_from"]) != day]
        history.append({**new_now, "effective_from": day})
    later_changes = []
    if _fields(old_later) != _fields(new_later):
        later_changes = _later_changes(model_id, new_now, new_later, old_later)
    history.extend(new_later if later_changes or not old_later else old_later)
    return history, changes + later_changes


def _billing(entry: PriceEntry) -> dict[str, Decimal | int]:
    """The standard-tier prices a call is billed at: a reasoning price that is absent is the
    output price, an absent cache price is the input price (pricing/SCHEMA.md, rule 4)."""
    fields = {k: v for k, v in effective_fields(entry).items() if not _SERVICE_TIER_FIELD.match(k)}
    for prefix in ("", "long_context."):
        if f"{prefix}input" not in fields or f"{prefix}output" not in fields:
            continue
        fields.setdefault(f"{prefix}reasoning", fields[f"{prefix}output"])
        for dim in ("cache_read", "cache_write_5m", "cache_write_1h"):
            fields.setdefault(f"{prefix}{dim}", fields[f"{prefix}input"])
    return fields


def _keep_unstated(new: Spec, old: Spec) -> Spec:
    """Keep what genai-prices cannot state from the old entry, where it still holds exactly.

    genai-prices lists no service tiers (batch, flex, priority) and, in v1 and for most v2
    models, no 1-hour cache-write price. A tier of the old entry that is one multiple of its
    standard prices is kept as that multiplier; an old 1-hour write price is kept where the
    input price it goes with is unchanged. Anything else is dropped, and the diff shows it
    removed.
    """
    kept: list[str] = []
    new = _keep_one_hour_writes(new, old, kept)
    new = _keep_tiers(new, old, kept)
    if kept:
        note = f"kept from the previous entry ({'; '.join(kept)}): genai-prices does not list it"
        new = {**new, "notes": note}
    return new


def _keep_one_hour_writes(new: Spec, old: Spec, kept: list[str]) -> Spec:
    new = dict(new)
    for band in ("standard", "long_context"):
        old_band = old if band == "standard" else old.get("long_context") or {}
        new_band = new if band == "standard" else dict(new.get("long_context") or {})
        if not new_band or "cache_write_1h" in new_band or old_band.get("cache_write_1h") is None:
            continue
        if _same_price(old_band.get("input"), new_band.get("input")) and _same_price(
            old_band.get("above_input_tokens"), new_band.get("above_input_tokens")
        ):
            new_band["cache_write_1h"] = old_band["cache_write_1h"]
            kept.append(f"{band} cache_write_1h")
            if band == "long_context":
                new["long_context"] = new_band
    return new


def _same_price(old: object, new: object) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return Decimal(str(old)) == Decimal(str(new))


def _keep_tiers(new: Spec, old: Spec, kept: list[str]) -> Spec:
    if "tiers" in new or not old.get("tiers"):
        return new
    fields = effective_fields(_entry(old))
    tiers = {}
    for tier in old["tiers"]:
        ratios = {
            value / fields[key.replace(f"{tier}.", "", 1)]
            for key, value in fields.items()
            if re.match(rf"^(long_context\.)?{tier}\.", key)
            and fields.get(key.replace(f"{tier}.", "", 1))
        }
        if len(ratios) == 1:
            tiers[tier] = {"multiplier": str(ratios.pop())}
    if not tiers:
        return new
    kept.append(f"service tiers {', '.join(tiers)} as multipliers of these prices")
    return {**new, "tiers": tiers}


def _history_changes(
    model_id: str, old: PriceEntry | None, prices: list[Spec], today: dt.date
) -> list[FieldChange]:
    now, later = _split(prices, today)
    changes = diff_entries(model_id, old, _entry(now)) if now else []
    return changes + _later_changes(model_id, now, later, [])


def _later_changes(
    model_id: str, now: Spec | None, later: list[Spec], old_later: list[Spec]
) -> list[FieldChange]:
    """Changes the source schedules after the update's date, as `field (from DATE)`."""
    changes = []
    previous = _entry(now) if now else None
    for spec in later:
        entry = _entry(spec)
        for change in diff_entries(model_id, previous, entry):
            changes.append(
                FieldChange(
                    model_id,
                    f"{change.field} (from {spec['effective_from']})",
                    change.old,
                    change.new,
                )
            )
        previous = entry
    if old_later and not later:
        for spec in old_later:
            for change in diff_entries(model_id, _entry(spec), None):
                field_name = f"{change.field} (from {spec['effective_from']})"
                changes.append(FieldChange(model_id, field_name, change.old, None))
    return changes


def _split(prices: list[Spec], today: dt.date) -> tuple[Spec | None, list[Spec]]:
    """The entry in force on `today` (None if the first starts later) and the later ones."""
    day = today.isoformat()
    now = None
    later = []
    for spec in prices:
        if str(spec["effective_from"])[:10] <= day:
            now = spec
        else:
            later.append(spec)
    return now, later


def _fields(prices: list[Spec]) -> list[Any]:
    return [(str(p["effective_from"]), effective_fields(_entry(p))) for p in prices]


def _same_family(prices: list[Spec], family: str) -> bool:
    return str(prices[-1].get("source", "")).startswith(family)


def _entry(spec: Spec) -> PriceEntry:
    return entry_from_dict(dict(spec), "price layer")


def write_layer(plan: UpdatePlan, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temp.write_text(dump_layer(plan.layer), encoding="utf-8")
    os.replace(temp, path)
