"""Prompt mode from start to end: which prompts, which models, which volume -> result dicts.

Each prompt is read, rendered, measured and priced, then dropped: only its small result
dicts are kept, so memory stays flat in the number of files.
"""

from __future__ import annotations

import datetime as dt
import decimal
import fnmatch
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokcli.errors import InputError, TokcliError, UnknownModelError
from tokcli.estimate.prompt import (
    CallOptions,
    MeasuredPrompt,
    estimate_prompt,
    measure_source,
    measure_tokens,
    result_dict,
)
from tokcli.estimate.volume import Volume
from tokcli.frozen import Record
from tokcli.money import MONEY_CONTEXT, plain

RATIO_PLACES = Decimal("0.0001")


# As @dataclass(), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class PromptRequest(Record):
    """Everything the command line and config say about a prompt-mode run."""

    at: dt.date
    options: CallOptions
    model_names: list[str] = field(default_factory=list)
    volume: Volume | None = None  # --requests/--per: wins over front matter and config
    days_per_month: int = 30
    variables: dict = field(default_factory=dict)
    config_prompts: list[dict] = field(default_factory=list)  # [[prompts]] entries
    limits: Any = None  # RenderLimits: how much and how long a template may render

    def __init__(
        self,
        at: dt.date,
        options: CallOptions,
        model_names: list[str] | None = None,
        volume: Volume | None = None,
        days_per_month: int = 30,
        variables: dict | None = None,
        config_prompts: list[dict] | None = None,
        limits: Any = None,
    ) -> None:
        self.at, self.options, self.volume, self.limits = at, options, volume, limits
        self.model_names = [] if model_names is None else model_names
        self.days_per_month = days_per_month
        self.variables = {} if variables is None else variables
        self.config_prompts = [] if config_prompts is None else config_prompts


def local_files(paths: list[str], exclude: list[str]) -> Iterator[tuple[Path, str | None]]:
    """(path, None) for each prompt file on disk: the text is read when it is estimated."""
    from tokcli.prompts import iter_prompt_files

    for path in iter_prompt_files(paths, exclude):
        yield path, None


class UnknownPromptModel(InputError):
    """A prompt names a model the registry does not know."""

    def __init__(self, exc: UnknownModelError, **where):
        self.model, self.suggestions = exc.model, exc.suggestions
        super().__init__(str(exc), **where)


def estimate_files(
    files: Iterable[tuple[Path, str | None]],
    request: PromptRequest,
    registry,
    counter,
    unknown=None,
    left_out: list[InputError] | None = None,
    named: frozenset[Path] = frozenset(),
    not_prompts: list[Path] | None = None,
) -> list[dict]:
    """Estimate every file. With `unknown` (an UnknownModels), a prompt naming an unknown model
    is left out and recorded there (one warning per id), and the rest of the run goes on.
    With `left_out` (a list), a file that cannot be read, parsed or rendered (a variable with
    no sample value, a template error, no model) is recorded there and the run goes on: a run
    over many prompts never stops on one of them. A JSON/YAML file found by walking a folder
    (not in `named`) that holds no prompt at all is counted in `not_prompts`, as audit skips it.
    """
    from tokcli.prompts import load_prompt
    from tokcli.prompts.source import NotAPromptFile

    not_prompts = not_prompts if not_prompts is not None else []
    results: list[dict] = []
    for path, text in files:
        try:
            source = load_prompt(path, text)
            measured = measure_source(source, request.variables, request.limits)
            results.extend(estimate_measured(measured, request, registry, counter))
        except UnknownPromptModel as exc:
            if unknown is None:
                raise
            where = f"{exc.path}:{exc.line}" if exc.line else exc.path
            unknown.add(exc.model, exc.suggestions, where)
        except NotAPromptFile:
            if left_out is None or path in named:
                raise
            not_prompts.append(path)  # a settings file found by the walk: not a prompt
        except InputError as exc:
            if left_out is None:
                raise
            if exc.path is None:
                exc = InputError(exc.problem, path=str(path), field=exc.field, hint=exc.hint)
            left_out.append(exc)
    return results


def left_out_dict(error: InputError, name_of: Callable[[str], str] | None = None) -> dict:
    """A prompt left out of the run, as the JSON output reports it (options the error names
    spelt by `name_of`: the command line gives its flags)."""
    text = error.render(name_of) if name_of else str(error)
    return {"path": error.path, "line": error.line, "error": text}


def estimate_text(text: str, label: str, request, registry, counter, path=None) -> list[dict]:
    """--text TEXT or stdin: a prompt with no file. `path` is what the JSON reports."""
    from tokcli.prompts import load_prompt

    measured = measure_source(load_prompt(Path(label), text), request.variables, request.limits)
    measured.path = path
    return estimate_measured(measured, request, registry, counter)


def estimate_tokens(input_tokens: int, request, registry, counter) -> list[dict]:
    return estimate_measured(measure_tokens(input_tokens), request, registry, counter)


def estimate_measured(measured: MeasuredPrompt, request: PromptRequest, registry, counter):
    entry = config_entry(measured.path, request.config_prompts)
    options = request.options
    models = resolve_models(measured, request, registry, entry)
    volume = prompt_volume(measured, request, entry)
    monthly = volume.monthly_requests if volume else None
    estimates = [
        estimate_prompt(measured, model, request.at, options, monthly, counter) for model in models
    ]
    results = [result_dict(e) for e in estimates]
    for result in results:
        if volume is not None:
            result["volume"] = volume.describe()
    return rank(results)


def resolve_models(measured: MeasuredPrompt, request: PromptRequest, registry, entry) -> list:
    if request.model_names:
        return [registry.get(name) for name in request.model_names]
    source = measured.source
    name = measured.settings.model
    line = source.line_of("model") if source is not None else None
    where = measured.path
    if name is None and entry.get("model"):
        name, line, where = str(entry["model"]), None, "config [[prompts]]"
    if name is None:
        raise InputError(
            "no model: give -m MODEL, `model:` in front matter, or a [[prompts]] entry",
            path=measured.path or "(prompt)",
        )
    try:
        return [registry.get(name)]
    except UnknownModelError as exc:
        # Dotprompt and gateways write provider/model (googleai/gemini-2.5-flash).
        if "/" in name:
            try:
                return [registry.get(name.rsplit("/", 1)[1])]
            except UnknownModelError:
                pass
        raise UnknownPromptModel(exc, path=where, line=line, field="model") from None


def prompt_volume(measured: MeasuredPrompt, request: PromptRequest, entry: dict):
    if request.volume is not None:
        return request.volume
    settings = measured.settings
    if settings.requests is not None:
        if settings.per is None:
            raise InputError(
                "requests needs per: day or month",
                path=measured.path,
                field="per",
                line=measured.source.line_of("requests") if measured.source else None,
            )
        return Volume(settings.requests, settings.per, request.days_per_month, "front matter")
    if entry.get("requests") is not None:
        per = entry.get("per", "month")
        if per not in ("day", "month"):
            raise TokcliError(f"config [[prompts]] {entry.get('path')}: per must be day or month")
        return Volume(_entry_int(entry, "requests"), per, request.days_per_month, "config")
    return None


def config_entry(path: str | None, entries: list[dict]) -> dict:
    """The [[prompts]] entry for a prompt file: same path, or a glob matching it."""
    if path is None:
        return {}
    key = Path(path).as_posix()
    for entry in entries:
        pattern = entry.get("path") if isinstance(entry, dict) else None
        if isinstance(pattern, str):
            pattern = Path(pattern).as_posix()
            if key == pattern or fnmatch.fnmatch(key, pattern):
                return entry
    return {}


def rank(results: list[dict]) -> list[dict]:
    """Cheapest first, each with its ratio to the dearest model for the same prompt."""
    key = "monthly_cost" if all("monthly_cost" in r for r in results) else "cost_per_call"
    results.sort(key=lambda r: Decimal(r[key]))
    dearest = max((Decimal(r[key]) for r in results), default=Decimal(0))
    for position, result in enumerate(results, start=1):
        result["rank"] = position
        ratio = None
        if dearest > 0:
            with decimal.localcontext(MONEY_CONTEXT):
                ratio = (Decimal(result[key]) / dearest).quantize(RATIO_PLACES)
        result["ratio_to_dearest"] = plain(ratio)
    return results


def _entry_int(entry: dict, key: str) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TokcliError(
            f"config [[prompts]] {entry.get('path')}: {key} must be a whole number >= 0"
        )
    return value
