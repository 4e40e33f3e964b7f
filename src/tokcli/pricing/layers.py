"""The generated price layer under the curated registry, and the user's updated copy of it.

Stacking, highest first:
  1. override files (`--pricing`, `pricing` in tokcli.toml) change curated or generated models;
  2. curated pricing/*.yaml (reviewed by hand, verdicts between sources recorded);
  3. the user's updated layer, $XDG_DATA_HOME/tokcli/pricing/generated.json, written by
     `tokcli pricing update`: per model, it replaces the shipped generated model (it holds
     that model's whole dated history, so old usage keeps its old price);
  4. the shipped generated layer, pricing/generated/litellm.json (scripts/generate_price_layer.py).

The layers are JSON, parsed only when a curated lookup misses, and a Model is built (and
validated with the YAML loader's rules) only for the ids actually looked up.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from tokcli.errors import InputError
from tokcli.pricing.model import Model

SHIPPED_LAYER = "generated/litellm.json"


def shipped_layer_path(pricing_dir: Path) -> Path:
    return pricing_dir / SHIPPED_LAYER


def user_layer_path(environ=None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get("TOKCLI_PRICE_LAYER"):
        return Path(environ["TOKCLI_PRICE_LAYER"])
    base = environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "tokcli" / "pricing" / "generated.json"


def read_layer(path: Path) -> dict:
    """The whole layer document (`pricing update` and tests; lookups use `_LazyLayer`)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no such price layer file", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict):
        raise InputError("a price layer needs a 'models' object", path=str(path))
    return doc


def _lazy_read(path: Path) -> tuple[dict, dict[str, str | dict]]:
    """Header fields and each model's unparsed JSON text.

    Layers are written one model per line (generate.dump_layer), so a lookup parses one line,
    not the whole megabyte: that keeps `tokcli pricing show` fast. Any other JSON layout is
    parsed whole.
    """
    text = path.read_text(encoding="utf-8")
    start = text.find('\n"models":{\n')
    if start < 0:
        doc = read_layer(path)
        return {k: v for k, v in doc.items() if k != "models"}, dict(doc["models"])
    try:
        head = json.loads(text[:start].rstrip().removesuffix(",") + "}")
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    models: dict[str, str | dict] = {}
    body = text[start + len('\n"models":{\n') :]
    for line in body.split("\n"):
        if not line or line == "}}":
            continue
        key_end = line.find('":')
        if not line.startswith('"') or key_end < 0:
            raise InputError("not a price layer line", path=str(path))
        key = line[1:key_end]
        if "\\" in key:  # an escaped character: let json decode it
            key = json.loads(line[: key_end + 1])
        models[key] = line[key_end + 2 :].removesuffix(",")
    return head, models


class GeneratedLayer:
    """Raw model specs of the shipped layer with the user's updated models on top."""

    def __init__(self, shipped: Path | None, user: Path | None):
        self.shipped_path = shipped
        self.user_path = user
        self.specs: dict[str, str | dict] = {}  # JSON text until first used
        self.origin: dict[str, str] = {}  # model id -> "generated" or "updated"
        self.documents: dict[str, dict] = {}
        self._models: dict[str, Model] = {}
        for layer, path in (("generated", shipped), ("updated", user)):
            if path is None or not path.is_file():
                continue
            head, models = _lazy_read(path)
            self.documents[layer] = {**head, "path": str(path)}
            for model_id, spec in models.items():
                self.specs[model_id] = spec
                self.origin[model_id] = layer

    def __contains__(self, model_id: str) -> bool:
        return model_id in self.specs

    def spec(self, model_id: str) -> dict:
        raw = self.specs[model_id]
        return json.loads(raw) if isinstance(raw, str) else raw

    def ids(self) -> list[str]:
        return sorted(self.specs)

    def model(self, model_id: str) -> Model:
        cached = self._models.get(model_id)
        if cached is None:
            cached = self._build(model_id)
            self._models[model_id] = cached
        return cached

    def _build(self, model_id: str) -> Model:
        from tokcli.pricing.loader import _model, _Reader

        layer = self.origin[model_id]
        path = self.user_path if layer == "updated" else self.shipped_path
        reader = _Reader(path or Path(SHIPPED_LAYER))
        raw = self.specs[model_id]
        try:
            spec = json.loads(raw) if isinstance(raw, str) else dict(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON for {model_id}: {exc.msg}", path=str(path)) from None
        removed = spec.pop("removed", None)
        node = {"id": model_id, "tier": "mid", **spec}
        model = _model(reader, node, f"models.{model_id}", spec.get("provider", ""),
                       origin=None, partial=False)  # fmt: skip
        # The generated layer carries no tier judgement: clear the placeholder the loader needs.
        notes = f"removed from the source on {removed}; history kept" if removed else None
        return dataclasses.replace(model, tier=None, layer=layer, notes=notes)
