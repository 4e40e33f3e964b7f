"""Running `tokcli import`: detect each input, import it, and build the summary document."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tokcli.errors import TokcliError
from tokcli.importers import get_format
from tokcli.importers.base import Options
from tokcli.importers.detect import detect
from tokcli.importers.pipeline import FileResult, ImportSettings, import_source
from tokcli.importers.pricer import Pricer
from tokcli.importers.reading import Source
from tokcli.money import MONEY_CONTEXT, plain
from tokcli.tags import TagMap


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


def run_imports(rt, job: ImportJob, progress_factory=None) -> dict:
    """Import every input of `job` (each in its own transaction) and return the summary."""
    settings = ImportSettings(
        pricer=Pricer(rt.registry),
        tag_map=TagMap.from_config(rt.config.section("tags")),
        options=Options(all_services=job.all_services, mapping=_mapping(rt, job.mapping)),
        skip_bad_rows=job.skip_bad_rows,
        reject_path=job.reject_path,
        now=rt.now(),
    )
    if job.mapping and job.source_name is None:
        job.source_name = "mapped"
    results: list[FileResult] = []
    conn = rt.open_store()
    try:
        if job.pull:
            from tokcli.importers.pull import pull_into

            results += pull_into(conn, rt, job, settings)
        for path in expand_paths(job.paths, job.source_name):
            results.append(_import_path(conn, path, job, settings, progress_factory))
    finally:
        conn.close()
    return summary(results, list(settings.pricer.warnings.values()))


# Files a folder walk imports; anything else in the folder (README, scripts) is passed over.
DATA_SUFFIXES = frozenset({".csv", ".json", ".jsonl", ".ndjson", ".gz", ".zip"})


def expand_paths(paths: list[Path], source_name: str | None) -> list[Path]:
    """Folders of exports become their data files, in name order. A folder whose data files
    are all .jsonl is a Claude Code transcript folder (`~/.claude/projects`), imported whole."""
    expanded: list[Path] = []
    for path in paths:
        if not path.is_dir() or source_name == "claude-code" or _transcript_folder(path):
            expanded.append(path)
            continue
        for child in sorted(path.iterdir()):
            if child.name.startswith("."):
                continue
            if child.is_dir() or child.suffix.lower() in DATA_SUFFIXES:
                expanded += expand_paths([child], source_name)
    return expanded


def _transcript_folder(folder: Path) -> bool:
    data = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in DATA_SUFFIXES
    ]
    return bool(data) and all(p.suffix.lower() == ".jsonl" for p in data)


def _import_path(conn, path: Path, job: ImportJob, settings, progress_factory) -> FileResult:
    if not path.exists():
        raise TokcliError(f"{path}: no such file or folder")
    source = Source(path)
    fmt = get_format(job.source_name or detect(source))
    bar = progress_factory(path.name, source.size) if progress_factory else None
    with bar or contextlib.nullcontext() as callback:
        settings.progress = callback
        return import_source(conn, source, fmt, settings)


def _mapping(rt, spec: str | None) -> dict[str, str] | None:
    if spec is None:
        return None
    from tokcli.importers.mapped import parse_mapping

    return parse_mapping(spec, rt.config)


def summary(results: list[FileResult], warnings: list[str]) -> dict:
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


def _by_source(results: list[FileResult]) -> list[dict]:
    merged: dict[tuple[str, str | None], dict] = {}
    for result in results:
        for entry in result.to_dict()["by_source"]:
            key = (entry["source"], entry["currency"])
            if key not in merged:
                merged[key] = entry
                continue
            merged[key] = _merge_entries(merged[key], entry)
    return [merged[key] for key in sorted(merged, key=lambda k: (k[0], k[1] or ""))]


def _merge_entries(a: dict, b: dict) -> dict:
    def add(x, y):
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
