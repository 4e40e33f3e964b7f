"""What a prompt's front matter says about how it is called: model, output cap, volume.

Prompty, Dotprompt, OpenAI-style request bodies and tokcli's own keys put these in different
places; this module knows them all so commands do not have to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokcli.errors import InputError
from tokcli.frozen import Frozen

if TYPE_CHECKING:  # a type only: reading prompts (YAML) is not needed to hold their settings
    from tokcli.prompts.source import PromptSource

_MAX_TOKEN_KEYS = ("max_tokens", "max_output_tokens", "max_completion_tokens", "maxOutputTokens")
PERIODS = ("day", "month")


# As @dataclass(frozen=True), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class PromptSettings(Frozen):
    """What a prompt file says about its own calls (front matter or config): model, output
    size and volume."""

    model: str | None = None
    max_tokens: int | None = None
    requests: int | None = None
    per: str | None = None  # "day" | "month"

    def __init__(
        self,
        model: str | None = None,
        max_tokens: int | None = None,
        requests: int | None = None,
        per: str | None = None,
    ) -> None:
        self.__dict__.update(model=model, max_tokens=max_tokens, requests=requests, per=per)


def _table(value: object) -> dict[str, Any]:
    """A front-matter table, or an empty one when the key is absent or not a table."""
    return value if isinstance(value, dict) else {}


def prompt_settings(source: PromptSource) -> PromptSettings:
    meta = source.front_matter
    own = _table(meta.get("tokcli"))
    volume = _table(meta.get("volume"))
    return PromptSettings(
        model=_model(meta, own),
        max_tokens=_max_tokens(source, meta, own),
        requests=_whole(
            source, "requests", own.get("requests", volume.get("requests", meta.get("requests")))
        ),
        per=_period(source, own.get("per", volume.get("per", meta.get("per")))),
    )


def _model(meta: dict, own: dict) -> str | None:
    model = own.get("model", meta.get("model"))
    if isinstance(model, dict):  # Prompty: model.configuration.{name,azure_deployment,model}
        configuration = model.get("configuration") or {}
        for key in ("name", "model", "azure_deployment"):
            if isinstance(configuration, dict) and isinstance(configuration.get(key), str):
                return configuration[key]
        model = model.get("id") or model.get("name")
    return model if isinstance(model, str) and model.strip() else None


def _max_tokens(source: PromptSource, meta: dict, own: dict) -> int | None:
    places: list[dict] = [own, meta]
    for key in ("config", "parameters"):  # Dotprompt config, Prompty-style parameters
        if isinstance(meta.get(key), dict):
            places.append(meta[key])
    model = meta.get("model")
    if isinstance(model, dict) and isinstance(model.get("parameters"), dict):
        places.append(model["parameters"])
    for place in places:
        for key in _MAX_TOKEN_KEYS:
            if place.get(key) is not None:
                return _whole(source, key, place[key])
    return None


def _whole(source: PromptSource, key: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(
            f"must be a whole number >= 0, not {value!r}",
            path=source.label,
            line=source.line_of(key),
            field=key,
        )
    return value


def _period(source: PromptSource, value: Any) -> str | None:
    if value is None:
        return None
    if value not in PERIODS:
        raise InputError(
            f"must be one of {', '.join(PERIODS)}, not {value!r}",
            path=source.label,
            line=source.line_of("per"),
            field="per",
        )
    return value
