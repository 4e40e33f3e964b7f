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
from pathlib import Path
from typing import Any

from tokcli.errors import InputError
from tokcli.pricing.model import Model

SHIPPED_LAYER = "generated/litellm.json"


def shipped_layer_path(pricing_dir: Path) -> Path:
    return pricing_dir / SHIPPED_LAYER


def read_layer(path: Path) -> dict[str, Any]:
    """The whole layer document (`pricing update` and tests; lookups use `_LazyLayer`)."""
    import json  # here, not at start-up: most commands read no layer file

    try:
        doc: object = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no such price layer file", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict):
        raise InputError("a price layer needs a 'models' object", path=str(path))
    return doc


MODELS_START = '\n"models":{\n'


class _LayerFile:
    """One layer file. Layers are written one model per line (generate.dump_layer), so a
    lookup is a C-speed `str.find` for the model's key and one line parsed: that keeps
    `tokcli pricing show` fast with 3,500 models. Any other JSON layout is parsed whole."""

    def __init__(self, path: Path):
        import json

        self.path = path
        text = path.read_text(encoding="utf-8")
        start = text.find(MODELS_START)
        self.parsed: dict[str, Any] | None = None
        if start < 0:
            doc = read_layer(path)
            self.head = {k: v for k, v in doc.items() if k != "models"}
            self.parsed = dict(doc["models"])
            self.text = ""
            return
        try:
            self.head = json.loads(text[:start].rstrip().removesuffix(",") + "}")
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from None
        # From the newline before the first model line: every model line follows a newline.
        self.text = text[start + len(MODELS_START) - 1 :]
        # Lines up to and including the `"models":{` line; the first model follows.
        self.head_lines = text.count("\n", 0, start + len(MODELS_START) - 1)

    def offset(self, model_id: str) -> int | None:
        import json

        if self.parsed is not None:
            return 0 if model_id in self.parsed else None
        key = "\n" + json.dumps(model_id) + ":"
        found = self.text.find(key)
        return None if found < 0 else found + len(key)

    def line_of(self, model_id: str) -> int | None:
        """The file line a model is written on (one model per line), if the layout is known."""
        start = self.offset(model_id)
        if self.parsed is not None or start is None:
            return None
        return self.head_lines + 1 + self.text.count("\n", 0, start)

    def spec(self, model_id: str) -> dict[str, Any]:
        import json

        if self.parsed is not None:
            spec: dict[str, Any] = self.parsed[model_id]
            return spec
        start = self.offset(model_id)
        if start is None:
            raise KeyError(model_id)
        end = self.text.find("\n", start)
        line = self.text[start : end if end >= 0 else None].rstrip().removesuffix(",")
        try:
            parsed: dict[str, Any] = json.loads(line)
            return parsed
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON for {model_id}: {exc.msg}", path=str(self.path)
            ) from None

    def ids(self) -> list[str]:
        import json

        if self.parsed is not None:
            return list(self.parsed)
        ids = []
        for line in self.text.split("\n"):
            if line.startswith('"') and '":{' in line:
                ids.append(json.loads(line[: line.index('":{') + 1]))
        return ids


class GeneratedLayer:
    """The shipped layer with the user's updated models on top (per model)."""

    def __init__(self, shipped: Path | None, user: Path | None):
        self.shipped_path = shipped
        self.user_path = user
        self.files: dict[str, _LayerFile] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self._models: dict[str, Model] = {}
        self._where: dict[str, str | None] = {}
        for layer, path in (("updated", user), ("generated", shipped)):
            if path is not None and path.is_file():
                self.files[layer] = _LayerFile(path)
                self.documents[layer] = {**self.files[layer].head, "path": str(path)}

    def layer_of(self, model_id: str) -> str | None:
        """ "updated" or "generated": the layer that prices `model_id`; None if neither."""
        if model_id not in self._where:
            found = None
            for layer, file in self.files.items():  # updated first
                if file.offset(model_id) is not None:
                    found = layer
                    break
            self._where[model_id] = found
        return self._where[model_id]

    def __contains__(self, model_id: str) -> bool:
        return self.layer_of(model_id) is not None

    def spec(self, model_id: str) -> dict[str, Any]:
        layer = self.layer_of(model_id)
        if layer is None:
            raise KeyError(model_id)
        return self.files[layer].spec(model_id)

    def ids(self) -> list[str]:
        every: set[str] = set()
        for file in self.files.values():
            every.update(file.ids())
        return sorted(every)

    def model(self, model_id: str) -> Model:
        cached = self._models.get(model_id)
        if cached is None:
            cached = self._build(model_id)
            self._models[model_id] = cached
        return cached

    def _build(self, model_id: str) -> Model:
        from tokcli.pricing.loader import _model, _Reader

        layer = self.layer_of(model_id)
        if layer is None:  # neither layer prices it
            raise KeyError(model_id)
        path = self.user_path if layer == "updated" else self.shipped_path
        file = self.files[layer]
        reader = _Reader(path or Path(SHIPPED_LAYER), lambda: file.line_of(model_id))
        spec = dict(self.spec(model_id))
        removed = spec.pop("removed", None)
        node = {"id": model_id, "tier": "mid", **spec}
        model = _model(reader, node, f"models.{model_id}", spec.get("provider", ""),
                       origin=None, partial=False)  # fmt: skip
        # The generated layer carries no tier judgement: clear the placeholder the loader needs.
        notes = f"removed from the source on {removed}; history kept" if removed else None
        return dataclasses.replace(model, tier=None, layer=layer, notes=notes)
