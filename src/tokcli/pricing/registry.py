"""The pricing registry: every shipped model, merged with the user's overrides, found by any id."""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tokcli import __version__
from tokcli.errors import InputError, UnknownModelError
from tokcli.lazyre import lazy
from tokcli.pricing.model import Band, Model, PriceEntry, TierPricing

if TYPE_CHECKING:  # the generated layers are read only when a curated lookup misses
    from tokcli.pricing.layers import GeneratedLayer

# Prefixes that gateways and clouds put in front of a provider's own id.
_PREFIXES = (
    "bedrock/converse/",
    "bedrock/",
    "bedrock_converse/",
    "vertex_ai/",
    "vertex/",
    "azure/",
    "azure_ai/",
    "openrouter/",
    "openai/",
    "anthropic/",
    "gemini/",
    "google/",
    "deepseek/",
    "mistral/",
    "models/",
    "converse/",
)
# Sellers whose own listing of a model may carry its own price (a cloud, a cloud region):
# their literal entry in the generated layer beats the curated model found by stripping them.
_SELLER_FORM = lazy(
    r"^(azure/|azure_ai/|((bedrock|bedrock_converse)/(converse/)?)?(us|eu|apac|jp|au|us-gov|ca|global)\.)"
)
_BEDROCK_REGION = lazy(r"^(us|eu|apac|global|us-gov|jp|au|ca)\.")
# Geographic cross-Region inference profiles; `global.` is the global one.
_BEDROCK_GEO = lazy(r"^(?:bedrock/)?(us|eu|apac|us-gov|jp|au|ca)\.")
# AWS prices geographic cross-Region inference about 10% above global for the Claude models
# that have a global profile (Sonnet 4.5, released 2025-09-29, and later); PRICING-FACTS,
# and LiteLLM's us./eu. Bedrock rows (e.g. us.anthropic.claude-opus-4-7 $5.50 vs $5.00).
GEO_PREMIUM = Decimal("1.1")
GEO_PREMIUM_FROM = dt.date(2025, 9, 29)
_BEDROCK_SUFFIX = lazy(r"-v\d+(:\d+)?$")
_SNAPSHOT_DATE = lazy(r"(-|@)(20\d{2}-?\d{2}-?\d{2})$")
_MMDD = lazy(r"-(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")  # Azure meters: gpt-4o-mini-0718
# Azure deployment names often end with the deployment type: gpt-4o-2024-08-06-global.
_DEPLOYMENT_TYPE = lazy(r"-(global|global-?standard|standard|data-?zone|provisioned|ptu)$")
_VERTEX_PATH = lazy(r"^(projects/[^/]+/locations/[^/]+/)?publishers/[^/]+/models/")
_VERSION_TAG = lazy(r"@[a-z0-9._-]+$")
# Bedrock FOCUS / CUR product names: Claude4.6Sonnet, Claude3.5Haiku, ClaudeSonnet4.6.
_FOCUS_NAME = lazy(r"^claude\s*(\d+)(?:\.(\d+))?\s*(opus|sonnet|haiku|fable)$")
_FOCUS_NAME_2 = lazy(r"^claude\s*(opus|sonnet|haiku|fable)\s*(\d+)(?:\.(\d+))?$")
_DOTTED_VERSION = lazy(r"(?<=\d)\.(?=\d)")


def shipped_pricing_dir() -> Path:
    """The registry inside the installed wheel, or pricing/ at the repository root in a checkout."""
    package = Path(os.path.dirname(os.path.dirname(__file__)))  # not resolve(): start-up
    packaged = package / "_pricing"
    if packaged.is_dir():
        return packaged
    checkout = package.parents[1] / "pricing"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parents[3] / "pricing"


class Models(MutableMapping[str, Model]):
    """The curated models by id, in the order they were added. In the parsed-registry cache
    each model is pickled on its own and stays bytes until it is first looked up: `pricing
    show` and `estimate --model X` use one model of sixty, and building every model was most
    of reading the cache (start-up)."""

    def __init__(self) -> None:
        self._entries: dict[str, Model | bytes] = {}

    def __getitem__(self, model_id: str) -> Model:
        entry = self._entries[model_id]
        if isinstance(entry, bytes):
            entry = self._entries[model_id] = _unpickle(entry)
        return entry

    def __setitem__(self, model_id: str, model: Model) -> None:
        self._entries[model_id] = model

    def __delitem__(self, model_id: str) -> None:
        del self._entries[model_id]

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._entries  # without building the model

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def _built_ids(self) -> list[str]:
        """The ids of the models built so far (the rest are still pickled)."""
        return [
            model_id for model_id, entry in self._entries.items() if not isinstance(entry, bytes)
        ]

    def __getstate__(self) -> dict[str, bytes]:
        import pickle

        return {
            model_id: entry if isinstance(entry, bytes) else pickle.dumps(entry, protocol=5)
            for model_id, entry in self._entries.items()
        }

    def __setstate__(self, state: dict[str, bytes]) -> None:
        self._entries = dict(state)


def _loads(data: bytes) -> object:
    try:  # the C unpickler itself: pickle.py in front of it costs more than the unpickling
        from _pickle import loads
    except ImportError:  # not CPython
        from pickle import loads
    return loads(data)


def _unpickle(data: bytes) -> Model:
    model = _loads(data)
    assert isinstance(model, Model)
    return model


class Registry:
    def __init__(self, models: Iterable[Model], sources: dict[str, str] | None = None):
        self.models = Models()
        self.sources = dict(sources or {})
        self._index: dict[str, str] = {}
        self.pricing_dir: Path | None = None
        self.user_layer: Path | None = None
        self.user_aliases: dict[str, str] = {}
        self._generated: GeneratedLayer | None = None
        self._pending_overrides: dict[str, list[Path]] = {}
        for model in models:
            self._add(model)

    def __getstate__(self) -> dict[str, Any]:  # the pickled cache holds the curated registry
        state = dict(self.__dict__)
        state["_generated"] = None
        return state

    # -- building -------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        overrides: Iterable[Path] = (),
        directory: Path | None = None,
        *,
        use_cache: bool = True,
    ) -> Registry:
        directory = directory or shipped_pricing_dir()
        files = _yaml_files(directory)
        if not files:
            raise InputError("no pricing files found", path=str(directory))
        registry = _read_cache(files) if use_cache else None
        if registry is None:
            registry = cls._parse(files)
            if use_cache:
                _write_cache(files, registry)
        registry.pricing_dir = directory
        registry.user_layer = _default_user_layer()
        for path in overrides:
            registry.apply_override(Path(path))
        return registry

    def generated(self) -> GeneratedLayer:
        """The generated layer (shipped, with the user's updated models on top), read lazily."""
        if self._generated is None:
            from tokcli.pricing.layers import GeneratedLayer, shipped_layer_path

            shipped = shipped_layer_path(self.pricing_dir or shipped_pricing_dir())
            self._generated = GeneratedLayer(shipped, self.user_layer)
        return self._generated

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
    def _checked(cls, models: list[Model], sources: dict[str, str], files: list[Path]) -> Registry:
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
            if existing is not None and existing.layer in ("generated", "updated"):
                self._pending_overrides.setdefault(existing.id, []).append(path)
                continue
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
        """The model for any id, alias, display name or cloud/gateway form of them; else None.

        Order: user aliases; a curated id or alias as written; a cloud's own listing in the
        generated layer (Bedrock regions, Azure, Vertex carry their own prices); the curated
        model under a normalised form (Bedrock geographic profiles get their premium); then the
        generated layer under every form.
        """
        key = name.strip().lower()
        if key in self.user_aliases:
            return self._resolve_alias(key)
        model_id = self._index.get(" ".join(key.split()))  # _candidates(name)[0], the literal
        if model_id is not None:  # the usual case: no other form is worked out (start-up)
            return self.models[model_id]
        forms = _candidates(name)
        generated = self.generated()
        if _SELLER_FORM.match(key):
            for form in _seller_forms(key):
                if form in generated:
                    return self._overridden(generated.model(form))
        for form in forms[1:]:
            model_id = self._index.get(form)
            if model_id is not None:
                return _geographic(self.models[model_id], key)
        for form in forms:
            if form in generated:
                return self._overridden(generated.model(form))
        return None

    def _overridden(self, model: Model) -> Model:
        """A generated model, changed by an override file that names it."""
        for path in self._pending_overrides.get(model.id, ()):
            from tokcli.pricing.loader import load_pricing_file

            overrides, _ = load_pricing_file(path, override=True)
            for override in overrides:
                if override.id == model.id:
                    model = dataclasses.replace(
                        _merge_model(model, override, str(path)), layer="override"
                    )
        return model

    def set_user_aliases(
        self,
        aliases: Mapping[str, str],
        where: Callable[[str], tuple[str | None, int | None]] | None = None,
    ) -> None:
        """Aliases from tokcli.toml `[pricing.aliases]`; `where(alias)` gives (file, line)."""
        self.user_aliases = {str(k).strip().lower(): str(v) for k, v in aliases.items()}
        self._alias_where = where
        for alias in self.user_aliases:
            self._resolve_alias(alias)  # cycles and dangling targets fail now, not mid-run

    def _resolve_alias(self, alias: str) -> Model:
        seen = [alias]
        target = self.user_aliases[alias]
        while target.strip().lower() in self.user_aliases:
            target = target.strip().lower()
            if target in seen:
                self._alias_error(alias, f"alias cycle: {' -> '.join([*seen, target])}")
            seen.append(target)
            target = self.user_aliases[target]
        model = self.find(target)
        if model is None:
            hints = self.suggest(target)
            hint = f"; closest: {', '.join(hints)}" if hints else ""
            self._alias_error(alias, f"target {target!r} is not a known model{hint}")
        return model

    def _alias_error(self, alias: str, message: str) -> NoReturn:
        where = getattr(self, "_alias_where", None)
        path, line = where(alias) if where else (None, None)
        raise InputError(message, path=path, line=line, field=f"pricing.aliases.{alias}")

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
        if len(ids) < limit:
            generated = self.generated().ids()
            for match in difflib.get_close_matches(key, generated, n=limit, cutoff=0.6):
                if match not in ids:
                    ids.append(match)
        return ids[:limit]

    def list(self, provider: str | None = None, tier: str | None = None) -> list[Model]:
        chosen = [
            m
            for m in self.models.values()
            if (provider is None or m.provider == provider.lower())
            and (tier is None or m.tier == tier.lower())
        ]
        return sorted(chosen, key=lambda m: (m.provider, m.id))

    def providers(self) -> builtins.list[str]:  # `list` here is the method above
        return sorted({m.provider for m in self.models.values()})


# -- parsed-registry cache ---------------------------------------------------------------
# Parsing a dozen YAML files costs ~35 ms; `tokcli pricing show` must answer in well under
# 150 ms. The parsed registry is pickled in the user's cache folder, keyed by tokcli's version
# and every file's name, size and modification time, so any edit invalidates it.


def _yaml_files(directory: Path) -> list[Path]:
    """The folder's *.yaml files, sorted. Not `directory.glob("*.yaml")`: that compiles a
    pattern on every command (start-up)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(directory / name for name in names if name.endswith(".yaml"))


def _cache_path(files: list[Path]) -> Path | None:
    # crc32, not sha256: importing hashlib alone costs ~8 ms, and this key only has to change
    # when a file does (it names a cache file, it guards nothing).
    import zlib

    if os.environ.get("TOKCLI_NO_CACHE"):
        return None
    fingerprint = __version__
    # The classes pickled are part of the key too: a changed model.py must not unpickle stale.
    here = os.path.dirname(__file__)
    code: list[str | Path] = [__file__, os.path.join(here, "model.py")]
    code.append(os.path.join(here, "..", "frozen.py"))
    for path in [*files, *code]:
        # The file's device and inode name it as its resolved path would, without a system
        # call per folder of the path (start-up).
        stat = os.stat(path)
        fingerprint += f"|{stat.st_dev}:{stat.st_ino}|{stat.st_size}|{stat.st_mtime_ns}"
    key = f"{zlib.crc32(fingerprint.encode()):08x}{len(fingerprint):x}"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tokcli" / f"registry-{key}.pickle"


def _read_cache(files: list[Path]) -> Registry | None:
    path = _cache_path(files)
    if path is None:
        return None
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:  # no cache yet
        return None
    try:
        registry = _loads(data)
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
        _share_prices(registry)
        temp.write_bytes(pickle.dumps(registry, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temp, path)
    except OSError:
        pass


def _share_prices(registry: Registry) -> None:
    """Make equal prices (same digits) one Decimal object in the price tables, so the cache
    pickles each once and unpickling builds each once: most of reading the cache is building
    Decimals (start-up). Equal digits are the same value, so no price changes."""
    shared: dict[str, Decimal] = {}
    for model in registry.models.values():
        for entry in model.prices:
            for band in (entry.standard, entry.long_context):
                tables: list[dict[str, Any]] = []
                if band is not None:
                    tables = [band.prices, *(t.prices for t in band.tiers.values())]
                for table in tables:
                    for key, price in table.items():
                        if price is not None:
                            table[key] = shared.setdefault(str(price), price)


def _keys_of(model: Model) -> list[str]:
    keys = [model.id, *model.aliases]
    if model.name:
        keys.append(model.name.lower())
    return keys


def _candidates(name: str) -> list[str]:
    """Forms of `name` to look up, most literal first."""
    key = " ".join(name.strip().lower().split())
    forms = [key]
    focus = _focus_form(key)
    if focus:
        forms.append(focus)
    stripped = _VERTEX_PATH.sub("", key)
    for prefix in _PREFIXES:
        if stripped.startswith(prefix):
            stripped = stripped[len(prefix) :]
            break
    forms.append(stripped)
    stripped = _BEDROCK_REGION.sub("", stripped)
    if stripped.startswith("anthropic."):
        stripped = stripped[len("anthropic.") :]
    stripped = _BEDROCK_SUFFIX.sub("", stripped)
    if "/" in stripped:  # OpenRouter and other gateways: vendor/model
        forms.append(stripped)
        stripped = stripped.rsplit("/", 1)[1]
    forms.append(stripped.replace("@", "-"))
    untagged = _VERSION_TAG.sub("", stripped)  # Vertex @default, @001, @20250219
    forms.append(untagged)
    # An unknown dated snapshot (gpt-5-2025-08-07, an Azure meter's -0718) falls back to its
    # undated model.
    for form in list(forms[1:]):
        undeployed = _DEPLOYMENT_TYPE.sub("", form)
        forms.append(undeployed)
        forms.append(_SNAPSHOT_DATE.sub("", undeployed.replace("@", "-")))
        forms.append(_MMDD.sub("", undeployed))
    if untagged.startswith("claude"):  # OpenRouter writes claude-sonnet-4.5
        forms.append(_DOTTED_VERSION.sub("-", untagged))
    return list(dict.fromkeys(f for f in forms if f))


def _focus_form(key: str) -> str | None:
    """claude4.6sonnet / claude sonnet 4.6 (Bedrock FOCUS and CUR names) -> claude-sonnet-4-6."""
    compact = key.replace(" ", "")
    match = _FOCUS_NAME.match(compact)
    if match:
        major, minor, family = match.groups()
    else:
        match = _FOCUS_NAME_2.match(compact)
        if not match:
            return None
        family, major, minor = match.groups()
    version = f"{major}-{minor}" if minor else major
    if int(major) < 4:  # the Claude 3 family put the version first: claude-3-5-haiku
        return f"claude-{version}-{family}"
    return f"claude-{family}-{version}"


def _seller_forms(key: str) -> list[str]:
    forms = [key]
    for prefix in ("bedrock/converse/", "bedrock/", "bedrock_converse/"):
        if key.startswith(prefix):
            forms.append(key[len(prefix) :])
    for form in list(forms):
        forms.append(_BEDROCK_SUFFIX.sub("", form))
        forms.append(f"{form}-v1:0" if not _BEDROCK_SUFFIX.search(form) else form)
    return list(dict.fromkeys(forms))


def _geographic(model: Model, key: str) -> Model:
    """A Bedrock geographic cross-Region profile of a curated Claude model: 10% above global."""
    match = _BEDROCK_GEO.match(key)
    if not match or model.provider != "anthropic":
        return model
    # Release date, else the first recorded price, tells whether the model has a global profile.
    since = model.released or (model.prices[0].effective_from.date() if model.prices else None)
    if since is None or since < GEO_PREMIUM_FROM:
        return model
    note = (
        f"Bedrock geographic cross-Region profile ({match.group(1)}.): {model.id}'s prices x"
        f"{GEO_PREMIUM} (AWS prices geographic routing about 10% above global)"
    )
    prices = tuple(
        dataclasses.replace(
            _scaled(entry, GEO_PREMIUM), source=f"{entry.source}; x{GEO_PREMIUM} geographic"
        )
        for entry in model.prices
    )
    return dataclasses.replace(
        model, id=key.removeprefix("bedrock/"), prices=prices, notes=note, aliases=()
    )


def _scaled(entry: PriceEntry, factor: Decimal) -> PriceEntry:
    def band(b: Band) -> Band:
        return Band(
            prices={d: None if p is None else p * factor for d, p in b.prices.items()},
            tiers={
                name: TierPricing(t.multiplier, {d: p * factor for d, p in t.prices.items()})
                for name, t in b.tiers.items()
            },
        )

    return dataclasses.replace(
        entry,
        standard=band(entry.standard),
        long_context=None if entry.long_context is None else band(entry.long_context),
    )


def _default_user_layer() -> Path:
    return user_layer_path()


def user_layer_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where `pricing update` keeps the user's generated layer (TOKCLI_PRICE_LAYER, else in
    XDG_DATA_HOME). Here rather than in layers.py, which a curated lookup never imports."""
    environ = os.environ if environ is None else environ
    if environ.get("TOKCLI_PRICE_LAYER"):
        return Path(environ["TOKCLI_PRICE_LAYER"])
    base = environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "tokcli" / "pricing" / "generated.json"


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
