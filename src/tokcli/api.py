"""tokcli as a library: price usage, count tokens, estimate prompts, import exports into a store,
and query it, without the command line. Nothing here imports Typer or rich.

    >>> import datetime as dt
    >>> import tokcli
    >>> usage = tokcli.Usage(input_tokens=1_000, output_tokens=200)
    >>> cost = tokcli.price("claude-sonnet-4-6", usage, at=dt.date(2026, 11, 1))
    >>> cost.total
    Decimal('0.006')
    >>> tokcli.count_tokens("hello world", "gpt-5").tokens
    2

Every figure is a `Decimal` in USD (list prices) or in the currency an export states. Errors are
`tokcli.TokcliError` subclasses whose message speaks of the input, never of a CLI flag.
Semantic versioning applies to the names exported by `tokcli` from 0.2 on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from tokcli.context import Context
from tokcli.cost import CostBreakdown, Usage, compute_cost
from tokcli.tokens import TokenCount

StorePath = str | PathLike[str]


def context(store: StorePath | None = None, pricing: Sequence[StorePath] = ()) -> Context:
    """The config (tokcli.toml found from the current folder), registry and store a call uses."""
    return Context(
        store_flag=str(store) if store is not None else None,
        pricing_flags=[Path(p) for p in pricing],
    )


def registry(pricing: Sequence[StorePath] = ()):
    """The pricing registry: curated prices, the generated layer, your overrides and aliases."""
    return context(pricing=pricing).registry


def price(
    model: str,
    usage: Usage,
    at: dt.date | dt.datetime | None = None,
    service_tier: str = "standard",
    *,
    pricing: Sequence[StorePath] = (),
) -> CostBreakdown:
    """What `usage` costs on `model` at list prices, on a date (default today, UTC)."""
    found = registry(pricing).get(model)
    return compute_cost(usage, found, at or dt.datetime.now(dt.UTC).date(), service_tier)


def count_tokens(text: str, model: str | None = None) -> TokenCount:
    """Tokens of `text` as `model` counts them: exact for OpenAI models (offline), otherwise a
    stated approximation (`exact` is False and `method` says how)."""
    from tokcli.tokens import count_tokens as count

    if model is None:
        return count(text)
    found = registry().get(model)
    return count(text, found.id, found.provider)


def estimate_prompt(
    path: StorePath,
    models: Sequence[str] = (),
    *,
    at: dt.date | None = None,
    variables: dict[str, Any] | None = None,
    requests_per_month: int | None = None,
) -> list[dict[str, Any]]:
    """Price one prompt file (text, chat JSON/YAML, Prompty, Dotprompt, Jinja) per call and,
    with a volume, per month: one result per model, cheapest first (the `estimate` JSON rows)."""
    from tokcli.estimate.counting import TokenCounter
    from tokcli.estimate.prompt import CallOptions
    from tokcli.estimate.run import PromptRequest, estimate_files
    from tokcli.estimate.volume import Volume

    ctx = context()
    volume = Volume(requests_per_month, "month", origin="caller") if requests_per_month else None
    request = PromptRequest(
        at=at or ctx.today(),
        options=CallOptions(),
        model_names=list(models),
        volume=volume,
        variables=dict(variables or {}),
    )
    return estimate_files([(Path(path), None)], request, ctx.registry, TokenCounter())


@dataclass(frozen=True)
class ImportResult:
    """What an import did: counts over every file, each file's own entry, and the warnings."""

    rows_read: int
    inserted: int
    replaced: int
    duplicates: int
    rejected: int
    skipped: int
    files: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)


def import_files(
    paths: Iterable[StorePath],
    store: StorePath | None = None,
    *,
    source: str | None = None,
    part_of: str | None = None,
    skip_bad_rows: bool = False,
) -> ImportResult:
    """Import billing or usage exports into a store (a path; default: the configured store).
    Each file, or each set of export parts, is one transaction: all of it or nothing."""
    from tokcli.importers.job import ImportJob, run_imports

    job = ImportJob(
        paths=[Path(p) for p in paths],
        source_name=source,
        part_of=part_of,
        skip_bad_rows=skip_bad_rows,
    )
    summary = run_imports(context(store), job)
    totals = summary["totals"]
    return ImportResult(
        rows_read=totals["rows_read"],
        inserted=totals["inserted"],
        replaced=totals["replaced"],
        duplicates=totals["duplicates"],
        rejected=totals["rejected"],
        skipped=totals["skipped"],
        files=summary["files"],
        warnings=summary["warnings"],
        errors=summary.get("errors", []),
    )


def report(
    store: StorePath | None = None,
    by: Sequence[str] = (),
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    where: dict[str, str] | None = None,
    cost: str = "auto",
) -> dict[str, Any]:
    """Spend grouped by tags and dimensions (the `report --format json` document, with Decimal
    money): `rows`, per-currency `totals`, `daily`. Currencies are never added together."""
    from tokcli.reporting.document import report_document
    from tokcli.reporting.query import Selection
    from tokcli.reporting.views import ReportOptions

    ctx = context(store)
    selection = Selection(
        group_by=tuple(by), since=since, until=until, where=tuple((where or {}).items())
    )
    doc, _, _ = report_document(ctx, ReportOptions(selection, ctx.today(), cost))
    return doc


def open_store(store: StorePath | None = None):
    """A connection to the usage store (created and migrated if new)."""
    return context(store).open_store()


__all__ = [
    "CostBreakdown",
    "ImportResult",
    "TokenCount",
    "Usage",
    "context",
    "count_tokens",
    "estimate_prompt",
    "import_files",
    "open_store",
    "price",
    "registry",
    "report",
]
