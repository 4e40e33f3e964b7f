"""The pricing registry: every shipped model, merged with the user's overrides, found by any id."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from pathlib import Path

from tokcli import __version__
from tokcli.errors import InputError, UnknownModelError
from tokcli.pricing.model import Model, PriceEntry

# Prefixes that gateways and clouds put in front of a provider's own id.
_PREFIXES = (
    "bedrock/",
    "vertex_ai/",
    "vertex/",
    "azure/",
    "openai/",
    "anthropic/",
    "gemini/",
    "google/",
    "deepseek/",
    "mistral/",
    "models/",
    "converse/",
)
_BEDROCK_REGION = re.compile(r"^(us|eu|apac|global|us-gov|jp|au)\.")
_BEDROCK_SUFFIX = re.compile(r"-v\d+(:\d+)?$")
_SNAPSHOT_DATE = re.compile(r"(-|@)(20\d{2}-?\d{2}-?\d{2})$")


def shipped_pricing_dir() -> Path:
    """The registry inside the installed wheel, or pricing/ at the repository root in a checkout."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_pricing"
    if packaged.is_dir():
        return packaged
    return package.parents[1] / "pricing"


class Registry:
    def __init__(self, models: Iterable[Model], sources: dict[str, str] | None = None):
        self.models: dict[str, Model] = {}
        self.sources = dict(sources or {})
        self._index: dict[str, str] = {}
        for model in models:
            self._add(model)

    # -- building -------------------------------------------------------------------------

    @classmethod
    def load(
        cls, overrides: Iterable[Path] = (), directory: Path | None = None, *, use_cache=True
    ) -> Registry:
        directory = directory or shipped_pricing_dir()
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise InputError("no pricing files found", path=str(directory))
        registry = _read_cache(files) if use_cache else None
        if registry is None:
            registry = cls._parse(files)
            if use_cache:
                _write_cache(files, registry)
        for path in overrides:
            registry.apply_override(Path(path))
        return registry

    @classmethod
    def _parse(cls, files: list[Path]) -> Registry:
        from tokcli.pricing.loader import load_pricing_file

        models: list[Model] = []
        sources: dict[str, str] = {}
        for path in files:
            file_models, file_sources = load_pricing_file(path)
            models.extend(file_models)
            sources.update(file_sources)
        return cls._checked(models, sources, files)

    @classmethod
    def _checked(cls, models, sources, files) -> Registry:
        seen: dict[str, str] = {}
        for model in models:
            for key in _keys_of(model):
                if key in seen and seen[key] != model.id:
                    raise InputError(
                        f"id or alias {key!r} is used by both {seen[key]} and {model.id}",
                        path=", ".join(str(f.name) for f in files),
                    )
                seen[key] = model.id
        return cls(models, sources)

    def _add(self, model: Model) -> None:
        self.models[model.id] = model
        for key in _keys_of(model):
            self._index.setdefault(key, model.id)

    def apply_override(self, path: Path) -> None:
        """Merge a user's override file: new models are added, known ones changed field by field.

        An override price entry with an effective_from joins the model's history (replacing an
        entry of the same date); one without it changes the given fields of every entry.
        """
        from tokcli.pricing.loader import load_pricing_file

        models, sources = load_pricing_file(path, override=True)
        self.sources.update(sources)
        for override in models:
            existing = self.find(override.id)
            if existing is None:
                if override.tier is None and not override.prices:
                    raise InputError(
                        f"unknown model {override.id!r} needs tier and prices", path=str(path)
                    )
                if not override.provider:
                    raise InputError(f"new model {override.id!r} needs a provider", path=str(path))
                self._add(override)
                continue
            self._add(_merge_model(existing, override, str(path)))

    # -- lookup ---------------------------------------------------------------------------

    def find(self, name: str) -> Model | None:
        """The model for any id, alias, display name or gateway/cloud form of them; else None."""
        for candidate in _candidates(name):
            model_id = self._index.get(candidate)
            if model_id is not None:
                return self.models[model_id]
        return None

    def get(self, name: str) -> Model:
        model = self.find(name)
        if model is None:
            raise UnknownModelError(name, self.suggest(name))
        return model

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        import difflib

        key = name.strip().lower()
        matches = difflib.get_close_matches(key, self._index.keys(), n=limit * 3, cutoff=0.5)
        ids: list[str] = []
        for match in matches:
            model_id = self._index[match]
            if model_id not in ids:
                ids.append(model_id)
        return ids[:limit]

    def list(self, provider: str | None = None, tier: str | None = None) -> list[Model]:
        chosen = [
            m
            for m in self.models.values()
            if (provider is None or m.provider == provider.lower())
            and (tier is None or m.tier == tier.lower())
        ]
        return sorted(chosen, key=lambda m: (m.provider, m.id))

    def providers(self) -> list[str]:
        return sorted({m.provider for m in self.models.values()})


# -- parsed-registry cache ---------------------------------------------------------------
# Parsing a dozen YAML files costs ~35 ms; `tokcli pricing show` must answer in well under
# 150 ms. The parsed registry is pickled in the user's cache folder, keyed by tokcli's version
# and every file's name, size and modification time, so any edit invalidates it.


def _cache_path(files: list[Path]) -> Path | None:
    # crc32, not sha256: importing hashlib alone costs ~8 ms, and this key only has to change
    # when a file does (it names a cache file, it guards nothing).
    import zlib

    if os.environ.get("TOKCLI_NO_CACHE"):
        return None
    fingerprint = __version__
    # The classes pickled are part of the key too: a changed model.py must not unpickle stale.
    code = [Path(__file__), Path(__file__).with_name("model.py")]
    for path in [*files, *code]:
        stat = path.stat()
        fingerprint += f"|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    key = f"{zlib.crc32(fingerprint.encode()):08x}{len(fingerprint):x}"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tokcli" / f"registry-{key}.pickle"


def _read_cache(files: list[Path]) -> Registry | None:
    path = _cache_path(files)
    if path is None or not path.is_file():
        return None
    import pickle

    try:
        registry = pickle.loads(path.read_bytes())
    except Exception:  # a stale or damaged cache is only a lost shortcut
        return None
    return registry if isinstance(registry, Registry) else None


def _write_cache(files: list[Path], registry: Registry) -> None:
    path = _cache_path(files)
    if path is None:
        return
    import pickle

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temp.write_bytes(pickle.dumps(registry, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temp, path)
    except OSError:
        pass


def _keys_of(model: Model) -> list[str]:
    keys = [model.id, *model.aliases]
    if model.name:
        keys.append(model.name.lower())
    return keys


def _candidates(name: str) -> list[str]:
    """Forms of `name` to look up, most literal first."""
    key = name.strip().lower()
    forms = [key]
    stripped = key
    for prefix in _PREFIXES:
        if stripped.startswith(prefix):
            stripped = stripped[len(prefix) :]
            break
    stripped = _BEDROCK_REGION.sub("", stripped)
    if stripped.startswith("anthropic."):
        stripped = stripped[len("anthropic.") :]
    stripped = _BEDROCK_SUFFIX.sub("", stripped).replace("@", "-")
    forms.append(stripped)
    # An unknown dated snapshot (gpt-5-2025-08-07) falls back to its undated model.
    undated = _SNAPSHOT_DATE.sub("", stripped)
    forms.append(undated)
    return list(dict.fromkeys(forms))


def _merge_model(base: Model, override: Model, origin: str) -> Model:
    changes = {
        f.name: getattr(override, f.name)
        for f in dataclasses.fields(Model)
        if f.name not in ("id", "provider", "prices", "aliases", "origin")
        and getattr(override, f.name) is not None
    }
    prices = list(base.prices)
    for entry in override.prices:
        if entry.effective_from is None:
            prices = [_merge_entry(p, entry) for p in prices]
            continue
        in_force = [p for p in prices if p.effective_from <= entry.effective_from]
        merged = _merge_entry(in_force[-1], entry) if in_force else entry
        merged = dataclasses.replace(merged, effective_from=entry.effective_from)
        prices = [p for p in prices if p.effective_from != entry.effective_from] + [merged]
        prices.sort(key=lambda p: p.effective_from)
    return dataclasses.replace(
        base,
        **changes,
        aliases=tuple(dict.fromkeys(base.aliases + override.aliases)),
        prices=tuple(prices),
        origin=origin,
    )


def _merge_entry(base: PriceEntry, override: PriceEntry) -> PriceEntry:
    """`base` with every field the override file set replaced by the override's value."""
    fields = override.overridden
    standard = dict(base.standard.prices)
    for dim, price in override.standard.prices.items():
        if dim in fields:
            standard[dim] = price
    tiers = dict(base.standard.tiers)
    tiers.update(override.standard.tiers)
    return dataclasses.replace(
        base,
        source=override.source,
        standard=dataclasses.replace(base.standard, prices=standard, tiers=tiers),
        long_context=override.long_context if "long_context" in fields else base.long_context,
        long_context_above=(
            override.long_context_above if "long_context" in fields else base.long_context_above
        ),
        time_of_day=override.time_of_day if "time_of_day" in fields else base.time_of_day,
        min_cacheable_tokens=override.min_cacheable_tokens or base.min_cacheable_tokens,
        notes=override.notes or base.notes,
        overridden=base.overridden | fields,
        origin=override.origin,
    )
