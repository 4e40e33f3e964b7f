"""Running `tokcli import`: detect each input, import it, and build the summary document."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokcli.errors import InputError, OptionError
from tokcli.importers import get_format
from tokcli.importers.detect import detect
from tokcli.importers.format import BY_BILLING_PERIOD, Format, Options
from tokcli.importers.input_files import Limits, Source
from tokcli.importers.part_sets import (
    DATA_SUFFIXES,
    PlannedSet,
    check_exists,
    group_parts,
    transcript_folder,
    walk,
)
from tokcli.importers.pricer import Pricer
from tokcli.importers.write import (
    FileResult,
    ImportSettings,
    PartSet,
    ProgressCallback,
    import_set,
)
from tokcli.money import MONEY_CONTEXT, plain
from tokcli.tags import TagMap

if TYPE_CHECKING:
    from tokcli.context import Context
    from tokcli.store.connection import Connection


@dataclass
class ImportJob:
    paths: list[Path] = field(default_factory=list)
    source_name: str | None = None
    all_services: bool = False
    skip_bad_rows: bool = False
    reject_path: Path | None = None
    mapping: str | None = None
    pull: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    part_of: str | None = None  # --part-of KEY: the inputs are parts of one export
    replace_window: bool = False  # --replace-window
    limits: dict[str, str] = field(default_factory=dict)  # NAME=VALUE (the CLI's --limit)


# (file name, bytes in all) -> a context whose value is told the bytes done as rows are read.
ProgressFactory = Callable[[str, int], AbstractContextManager[ProgressCallback | None]]


def run_imports(
    rt: Context,
    job: ImportJob,
    progress_factory: ProgressFactory | None = None,
    describe: Callable[[InputError], str] = str,
) -> dict[str, Any]:
    """Import every input of `job` (each file or part set in its own transaction) and return
    the summary. A bad input is reported in `errors` and the run goes on with the others;
    `describe` words each error there (the command line: options spelt as its flags)."""
    settings = ImportSettings(
        pricer=Pricer(rt.registry),
        tag_map=TagMap.from_config(rt.config.section("tags")),
        options=Options(all_services=job.all_services, mapping=_mapping(rt, job.mapping)),
        skip_bad_rows=job.skip_bad_rows,
        reject_path=job.reject_path,
        now=rt.now(),
        limits=_limits(rt, job),
        replace_window=job.replace_window,
    )
    if job.mapping and job.source_name is None:
        job.source_name = "mapped"
    results: list[FileResult] = []
    errors: list[InputError] = []
    warnings: list[str] = []
    conn = rt.open_store()
    try:
        if job.pull and job.pull.startswith(("postgresql://", "postgres://")):
            from tokcli.importers.remote.litellm_db import pull_litellm

            if job.source_name not in (None, "litellm"):
                raise OptionError(
                    "{pull} postgresql://…: the database read is LiteLLM's ({source_name} litellm)"
                )
            results.append(pull_litellm(conn, job.pull, settings))
        elif job.pull:
            from tokcli.importers.remote.admin_api import pull_into

            results += pull_into(conn, rt, job.pull, (job.since, job.until), settings)
        for planned, fmt in plan_inputs(job, settings.limits, errors):
            try:
                results.append(_import_set(conn, planned, fmt, settings, progress_factory))
            except InputError as error:
                errors.append(error)
                continue
            if not planned.complete:
                warnings.append(_incomplete_warning(planned))
    finally:
        conn.close()
    document = summary(results, warnings + list(settings.pricer.warnings.values()))
    document["errors"] = [describe(error) for error in errors]
    return document


def _limits(rt: Context, job: ImportJob) -> Limits:
    limits = Limits().updated(rt.config.section("import").get("limits") or {}, "import.limits")
    return limits.updated(job.limits, "{limits}")


def _incomplete_warning(planned: PlannedSet) -> str:
    return (
        f"{planned.label}: not known to be a complete export ({planned.why_incomplete}): its "
        "rows were added and nothing was replaced; import every part together (the folder, "
        "or --part-of KEY) to replace the billing period"
    )


def expand_paths(paths: list[Path], source_name: str | None) -> list[Path]:
    """Folders of exports become their data files, in name order. A folder whose data files
    are all .jsonl is a Claude Code transcript folder (`~/.claude/projects`), imported whole."""
    expanded: list[Path] = []
    for path in paths:
        check_exists(path)
        if not path.is_dir() or source_name == "claude-code" or transcript_folder(path):
            expanded.append(path)
            continue
        files = walk(path)
        if not files:
            raise InputError(
                f"the folder holds no data files ({', '.join(sorted(DATA_SUFFIXES))})",
                path=str(path),
            )
        expanded += files
    return expanded


def plan_inputs(
    job: ImportJob, limits: Limits, errors: list[InputError]
) -> list[tuple[PlannedSet, Format]]:
    """Each input's format, and the inputs in sets: the parts of one billing export together
    (see importers/part_sets.py), everything else alone. Unreadable inputs go to `errors`."""
    by_format: dict[str, list[Path]] = {}
    for given in job.paths:
        try:
            paths = expand_paths([given], job.source_name)
        except InputError as error:
            errors.append(error)
            continue
        for path in paths:
            try:
                name = job.source_name or detect(Source(path, limits))
            except InputError as error:
                errors.append(error)
                continue
            by_format.setdefault(name, []).append(path)
    planned: list[tuple[PlannedSet, Format]] = []
    for name, paths in by_format.items():
        fmt = get_format(name)
        if job.part_of is not None or fmt.replace == BY_BILLING_PERIOD:
            sets = group_parts(paths, job.part_of)
        else:
            sets = [PlannedSet([path], str(path)) for path in paths]
        planned += [(each, fmt) for each in sets]
    return planned


def _import_set(
    conn: Connection,
    planned: PlannedSet,
    fmt: Format,
    settings: ImportSettings,
    progress_factory: ProgressFactory | None,
) -> FileResult:
    sources = [Source(path, settings.limits) for path in planned.paths]
    parts = PartSet(sources, planned.label, planned.complete, planned.key, planned.why_incomplete)
    size = sum(source.size for source in sources)
    bar = progress_factory(planned.paths[0].name, size) if progress_factory else None
    with bar or contextlib.nullcontext() as callback:
        settings.progress = callback
        return import_set(conn, parts, fmt, settings)


def _mapping(rt: Context, spec: str | None) -> dict[str, str | bool] | None:
    if spec is None:
        return None
    from tokcli.importers.sources.mapped import parse_mapping

    return parse_mapping(spec, rt.config)


def summary(results: list[FileResult], warnings: list[str]) -> dict[str, Any]:
    """The JSON summary (README, `tokcli import`, "JSON summary"): per file, totals, per source."""
    counts = ("rows_read", "inserted", "replaced", "duplicates", "rejected", "skipped")
    totals = {name: sum(getattr(r, name) for r in results) for name in counts}
    return {
        "version": 1,
        "files": [r.to_dict() for r in results],
        "totals": totals,
        "by_source": _by_source(results),
        "warnings": warnings,
    }


def _by_source(results: list[FileResult]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str | None], dict[str, Any]] = {}
    for result in results:
        for entry in result.to_dict()["by_source"]:
            key = (entry["source"], entry["currency"])
            if key not in merged:
                merged[key] = entry
                continue
            merged[key] = _merge_entries(merged[key], entry)
    return [merged[key] for key in sorted(merged, key=lambda k: (k[0], k[1] or ""))]


def _merge_entries(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    def add(x: str | None, y: str | None) -> str | None:
        if x is None and y is None:
            return None
        with decimal.localcontext(MONEY_CONTEXT):
            return plain(Decimal(x or 0) + Decimal(y or 0))

    tokens = dict(a["tokens"])
    for bucket, value in b["tokens"].items():
        tokens[bucket] = tokens.get(bucket, 0) + value
    return {
        "source": a["source"],
        "currency": a["currency"],
        "rows": a["rows"] + b["rows"],
        "billed": add(a["billed"], b["billed"]),
        "list": add(a["list"], b["list"]),
        "billed_where_priced": add(a["billed_where_priced"], b["billed_where_priced"]),
        "billed_minus_list": add(a["billed_minus_list"], b["billed_minus_list"]),
        "tokens": tokens,
    }
