"""`tokcli pricing update`: refresh the generated layer offline from a newer LiteLLM price file.

Effective-dated: a model whose prices changed gets a new entry from the update's date, after
its old entries (old usage keeps its old price); a model the newer file drops keeps its history
and is marked removed; a new model starts on the update's date. Every price-changing field is
reported (tiers, long-context bands and removals included) before anything is written.

The result is the user's layer (layers.user_layer_path()): only the models that differ from the
shipped layer, each with its whole history; per model it replaces the shipped one.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

from tokcli.errors import InputError, TokcliError
from tokcli.pricing.diff import FieldChange, diff_entries, entry_from_dict
from tokcli.pricing.generate import dump_layer, models_from_litellm, read_litellm_text
from tokcli.pricing.layers import GeneratedLayer

PACKAGED_FILE = "model_prices_and_context_window_backup.json"


@dataclass
class UpdatePlan:
    source: str
    effective_from: dt.date
    changes: list[FieldChange] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    layer: dict = field(default_factory=dict)  # the user layer document to write


def installed_litellm_file() -> Path:
    """The price file inside an installed `litellm` package, found without importing it."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise TokcliError(
            "no SOURCE given and the litellm package is not installed: give the path of a "
            "model_prices_and_context_window.json you downloaded"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / PACKAGED_FILE
    if not path.is_file():
        raise TokcliError(f"the installed litellm package has no {PACKAGED_FILE}")
    return path


def read_source(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from None
    import json

    try:
        return read_litellm_text(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    except ValueError as exc:
        raise InputError(str(exc), path=str(path)) from None


def plan_update(layer: GeneratedLayer, data: dict, origin: str, today: dt.date) -> UpdatePlan:
    day = today.isoformat()
    source = f"LiteLLM model_prices_and_context_window.json ({origin}), pricing update {day}"
    plan = UpdatePlan(source=source, effective_from=today)
    newer = models_from_litellm(data, source, effective_from=day)
    mine = layer.files.get("updated")
    updated: dict[str, dict] = {m: mine.spec(m) for m in mine.ids()} if mine else {}
    for model_id in sorted(set(newer) | set(layer.ids())):
        new_spec = newer.get(model_id)
        old_spec = layer.spec(model_id) if model_id in layer else None
        if old_spec is None:
            plan.added.append(model_id)
            plan.changes.extend(diff_entries(model_id, None, _entry(new_spec["prices"][-1])))
            updated[model_id] = new_spec
            continue
        old_prices = list(old_spec["prices"])
        last = _entry(old_prices[-1])
        if new_spec is None:
            if old_spec.get("removed"):
                continue
            plan.removed.append(model_id)
            plan.changes.extend(diff_entries(model_id, last, None))
            updated[model_id] = {**old_spec, "removed": day}
            continue
        changes = diff_entries(model_id, last, _entry(new_spec["prices"][-1]))
        if not changes and not old_spec.get("removed"):
            continue
        plan.changed.append(model_id)
        plan.changes.extend(changes)
        history = [p for p in old_prices if str(p["effective_from"]) != day]
        spec = {**old_spec, **{k: v for k, v in new_spec.items() if k != "prices"}}
        spec.pop("removed", None)
        spec["prices"] = [*history, new_spec["prices"][-1]]
        updated[model_id] = spec
    plan.layer = {
        "version": 1,
        "layer": "updated",
        "source": source,
        "updated": day,
        "based_on": (layer.documents.get("generated") or {}).get("source"),
        "models": dict(sorted(updated.items())),
    }
    return plan


def _entry(spec: dict):
    return entry_from_dict(dict(spec), "price layer")


def write_layer(plan: UpdatePlan, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temp.write_text(dump_layer(plan.layer), encoding="utf-8")
    os.replace(temp, path)
