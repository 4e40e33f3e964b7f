"""Claude Code local transcripts (`~/.claude/projects/**.jsonl`), one row per API response.

Claude Code logs one API response on several lines (streaming snapshots, then the final one),
so lines are grouped by (message.id, requestId) and the one with the largest token total is
kept: the final count, as counts only grow while a response streams. ccusage keeps the first
line of each group instead, which can undercount output tokens
(docs/concepts/claude-code-import.md). A sub-agent (sidechain) replay of a parent's message
(same message id, new request id) is dropped in favour of the parent. `input_tokens` excludes
cache reads and writes (Anthropic semantics), so the buckets are already disjoint. Costs in
transcripts are local estimates at best (2.x writes none): the rows carry no billed cost, only
the registry's list cost.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tokcli.importers.base import APPEND_ONLY, Format, Options, Parsed
from tokcli.importers.common import service_tier
from tokcli.importers.reading import Source, check_row_count, json_depth_error
from tokcli.importers.values import RowError, stable_key, text_or_none, tokens, utc_time
from tokcli.store.usage import UsageRecord

NAME = "claude-code"
SYNTHETIC_MODEL = "<synthetic>"


@dataclass
class _Entry:
    path: str
    line: int
    record: UsageRecord
    message_id: str
    request_id: str
    sidechain: bool
    raw: dict

    @property
    def total(self) -> int:
        r = self.record
        return (
            r.input_tokens
            + r.cache_read_tokens
            + r.cache_write_5m_tokens
            + r.cache_write_1h_tokens
            + r.output_tokens
        )


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    entries: list[_Entry] = []
    for path in _transcripts(source):
        yield from _read_transcript(path, source, entries)
    yield from _deduplicated(entries)


def _transcripts(source: Source) -> list[Path]:
    if source.is_dir:
        return sorted(p for p in source.path.rglob("*.jsonl") if p.is_file())
    return [source.path]


def _read_transcript(path: Path, source: Source, entries: list[_Entry]) -> Iterator[Parsed]:
    shown = str(path) if source.is_dir else None
    inner = Source(path, source.limits)
    for number, raw in enumerate(inner.lines(), start=1):
        if not raw.strip():
            continue
        check_row_count(number, inner, number)
        try:
            line = _json_line(raw, source.limits.json_depth)
            entry = _entry(line, str(path), number)
        except json.JSONDecodeError as exc:
            error = RowError(f"invalid JSON: {exc.msg} (column {exc.colno})")
            yield Parsed(number, error=error, raw=raw.rstrip("\n"), path=shown)
            continue
        except RowError as error:
            yield Parsed(number, error=error, raw=raw.rstrip("\n"), path=shown)
            continue
        if isinstance(entry, str):
            yield Parsed(number, skipped=entry, path=shown)
        else:
            entries.append(entry)


def _json_line(raw: str, max_depth: int) -> object:
    try:
        line = json.loads(raw, parse_float=Decimal)
    except RecursionError:
        raise RowError(f"JSON nested deeper than {max_depth} levels") from None
    problem = json_depth_error(line, max_depth)
    if problem:
        raise RowError(problem)
    return line


def _entry(line: object, path: str, number: int) -> _Entry | str:
    message = line.get("message") if isinstance(line, dict) else None
    usage = message.get("usage") if isinstance(message, dict) else None
    if not isinstance(usage, dict):
        return "not an API response"
    model = text_or_none(message.get("model"))
    if model is None or model == SYNTHETIC_MODEL:
        return "synthetic or model-less message"
    if line.get("isApiErrorMessage") is True:
        return "API error message"
    message_id = text_or_none(message.get("id")) or ""
    request_id = text_or_none(line.get("requestId")) or ""
    moment = utc_time(line.get("timestamp"), "timestamp")
    record = UsageRecord(
        record_key=stable_key(NAME, message_id, request_id) if message_id else "",
        source=NAME,
        period_start=moment,
        period_end=moment,
        provider="anthropic",
        model_raw=model,
        service_tier=service_tier(usage.get("service_tier")),
        requests=1,
        tags=_tags(line, usage),
    )
    _fill_tokens(record, usage)
    if not message_id:
        record.record_key = stable_key(NAME, path, number)
    return _Entry(
        path, number, record, message_id, request_id, line.get("isSidechain") is True, line
    )


def _fill_tokens(record: UsageRecord, usage: dict) -> None:
    record.input_tokens = tokens(usage.get("input_tokens"), "message.usage.input_tokens")
    record.cache_read_tokens = tokens(
        usage.get("cache_read_input_tokens"), "message.usage.cache_read_input_tokens"
    )
    record.output_tokens = tokens(usage.get("output_tokens"), "message.usage.output_tokens")
    split = usage.get("cache_creation")
    if isinstance(split, dict):
        record.cache_write_5m_tokens = tokens(
            split.get("ephemeral_5m_input_tokens"), "message.usage.cache_creation.5m"
        )
        record.cache_write_1h_tokens = tokens(
            split.get("ephemeral_1h_input_tokens"), "message.usage.cache_creation.1h"
        )
    else:  # older transcripts: one figure, billed at the 5-minute rate (as ccusage does)
        record.cache_write_5m_tokens = tokens(
            usage.get("cache_creation_input_tokens"), "message.usage.cache_creation_input_tokens"
        )


def _tags(line: dict, usage: dict) -> dict[str, str]:
    tags = {}
    for key, tag in (("cwd", "project"), ("sessionId", "session"), ("gitBranch", "git_branch")):
        value = text_or_none(line.get(key))
        if value:
            tags[tag] = value
    if usage.get("speed") == "fast":
        tags["speed"] = "fast"
    tool_call = _tool_call_fingerprint(line.get("message"))
    if tool_call:
        tags["tool_call"] = tool_call
    return tags


def _tool_call_fingerprint(message: object) -> str | None:
    """`name:hash` of each tool call in the response (sorted, `+`-joined): enough for `advise` to
    see the same call with the same arguments repeat, without storing the arguments."""
    import hashlib

    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return None
    calls = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "tool_use":
            arguments = json.dumps(block.get("input"), sort_keys=True, default=str)
            digest = hashlib.sha256(arguments.encode()).hexdigest()[:12]
            calls.append(f"{block.get('name')}:{digest}")
    return "+".join(sorted(calls)) or None


def _deduplicated(entries: list[_Entry]) -> Iterator[Parsed]:
    """One row per API response: the largest snapshot of (message id, request id); a
    sidechain replay of a message a main-chain line already has is dropped."""
    best: dict[tuple[str, str], _Entry] = {}
    for entry in entries:
        key = (entry.message_id, entry.request_id) if entry.message_id else (entry.path, entry.line)
        current = best.get(key)
        if current is None or entry.total > current.total:
            best[key] = entry
    main_chain = {e.message_id for e in best.values() if not e.sidechain and e.message_id}
    kept = {id(e) for e in best.values() if not (e.sidechain and e.message_id in main_chain)}
    for entry in entries:
        shown = entry.path
        if id(entry) in kept:
            yield Parsed(entry.line, records=[entry.record], raw=entry.raw, path=shown)
        else:
            yield Parsed(entry.line, skipped="repeated line of one API response", path=shown)


FORMAT = Format(NAME, "Claude Code transcripts (JSONL)", parse, APPEND_ONLY, "anthropic")
