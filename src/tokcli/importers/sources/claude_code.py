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

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokcli.importers.fields import RowError, stable_key, text_or_none, tokens, utc_time
from tokcli.importers.format import APPEND_ONLY, Format, Options, Parsed
from tokcli.importers.input_files import Source, check_row_count, deeper_than, limit_hint
from tokcli.importers.normalise import service_tier
from tokcli.store.usage import UsageRecord

NAME = "claude-code"
SYNTHETIC_MODEL = "<synthetic>"
# (message id, request id); (file, line) for a line without a message id
ResponseKey = tuple[str, str] | tuple[str, int]


@dataclass(slots=True)
class _Entry:
    """What de-duplication needs of one API-response line: its record and where it is. The
    parsed line itself (message text, tool output) is not kept: memory grows with the number
    of responses, not with the size of the transcripts."""

    path: str
    line: int
    order: int  # position among the lines read: rows keep the order of their lines
    record: UsageRecord | None  # built once the line is the largest of its response
    message_id: str
    request_id: str
    sidechain: bool
    total: int = 0
    pending: tuple[Any, ...] | None = None  # what `_record` needs, until it has run

    def key(self) -> ResponseKey:
        return (self.message_id, self.request_id) if self.message_id else (self.path, self.line)


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    best: dict[ResponseKey, _Entry] = {}  # one entry per API response: the largest line so far
    order = itertools.count()
    for path in _transcripts(source):
        yield from _read_transcript(path, source, best, order)
    yield from _deduplicated(best)


def _transcripts(source: Source) -> list[Path]:
    if source.is_dir:
        return sorted(p for p in source.path.rglob("*.jsonl") if p.is_file())
    return [source.path]


def _read_transcript(
    path: Path, source: Source, best: dict[ResponseKey, _Entry], order: Iterator[int]
) -> Iterator[Parsed]:
    """Each line's outcome as it is read, except an API response's: the largest line of each
    response waits in `best` (counts only grow while a response streams); a line that is not,
    or stops being, the largest is a repeated line of that response."""
    shown = str(path) if source.is_dir else None
    inner = Source(path, source.limits)
    depth = source.limits.json_depth
    repeated = "repeated line of one API response"
    for number, raw in enumerate(inner.lines(), start=1):
        if not raw.strip():
            continue
        check_row_count(number, inner, number)
        try:
            entry = _entry(_json_line(raw, depth), str(path), number, next(order))
        except json.JSONDecodeError as exc:
            error = RowError(f"invalid JSON: {exc.msg} (column {exc.colno})")
            yield Parsed(number, error=error, raw=raw.rstrip("\n"), path=shown)
            continue
        except RowError as error:
            yield Parsed(number, error=error, raw=raw.rstrip("\n"), path=shown)
            continue
        if isinstance(entry, str):
            yield Parsed(number, skipped=entry, path=shown)
            continue
        key = entry.key()
        current = best.get(key)
        if current is not None and entry.total <= current.total:
            entry.pending = None
            yield Parsed(number, skipped=repeated, path=entry.path)
            continue
        entry.record = _record(entry)
        best[key] = entry
        if current is not None:
            yield Parsed(current.line, skipped=repeated, path=current.path)


# One decoder for every line (json.loads with parse_float builds a new one per call).
_DECODER = json.JSONDecoder(parse_float=Decimal)


def _json_line(raw: str, max_depth: int) -> object:
    if raw.startswith("\ufeff"):  # as json.loads says it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
    try:
        line = _DECODER.decode(raw)
    except RecursionError:  # deeper than the decoder itself can go
        raise _too_deep(max_depth) from None
    # Nesting is at most the number of brackets: most lines need no walk to know.
    if raw.count("{") + raw.count("[") > max_depth and deeper_than(line, max_depth):
        raise _too_deep(max_depth)
    return line


def _too_deep(max_depth: int) -> RowError:
    return RowError(f"JSON nested deeper than {max_depth} levels", hint=limit_hint("json_depth"))


def _entry(line: Any, path: str, number: int, order: int) -> _Entry | str:
    """The line checked (a bad timestamp or count is a row error on every line, kept or not)
    and what de-duplication compares; the record is built by `_record` only for a line that
    is the largest of its response so far."""
    message: Any = line.get("message") if isinstance(line, dict) else None
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
    counts = _token_counts(usage)
    sidechain = line.get("isSidechain") is True
    entry = _Entry(path, number, order, None, message_id, request_id, sidechain, sum(counts))
    entry.pending = (line, usage, model, moment, counts)
    return entry


def _record(entry: _Entry) -> UsageRecord:
    assert entry.pending is not None, "set by _entry"
    line, usage, model, moment, counts = entry.pending
    entry.pending = None  # the parsed line is not kept
    message_id, request_id = entry.message_id, entry.request_id
    record = UsageRecord(
        record_key=stable_key(NAME, message_id, request_id)
        if message_id
        else stable_key(NAME, entry.path, entry.line),
        source=NAME,
        period_start=moment,
        period_end=moment,
        provider="anthropic",
        model_raw=model,
        service_tier=service_tier(usage.get("service_tier")),
        requests=1,
        tags=_tags(line, usage),
    )
    (
        record.input_tokens,
        record.cache_read_tokens,
        record.output_tokens,
        record.cache_write_5m_tokens,
        record.cache_write_1h_tokens,
    ) = counts
    return record


def _token_counts(usage: dict[str, Any]) -> tuple[int, int, int, int, int]:
    """input, cache read, output, cache write 5m, cache write 1h."""
    input_tokens = tokens(usage.get("input_tokens"), "message.usage.input_tokens")
    cache_read = tokens(
        usage.get("cache_read_input_tokens"), "message.usage.cache_read_input_tokens"
    )
    output = tokens(usage.get("output_tokens"), "message.usage.output_tokens")
    split = usage.get("cache_creation")
    if isinstance(split, dict):
        write_5m = tokens(split.get("ephemeral_5m_input_tokens"), "message.usage.cache_creation.5m")
        write_1h = tokens(split.get("ephemeral_1h_input_tokens"), "message.usage.cache_creation.1h")
    else:  # older transcripts: one figure, billed at the 5-minute rate (as ccusage does)
        write_5m = tokens(
            usage.get("cache_creation_input_tokens"), "message.usage.cache_creation_input_tokens"
        )
        write_1h = 0
    return input_tokens, cache_read, output, write_5m, write_1h


def _tags(line: dict[str, Any], usage: dict[str, Any]) -> dict[str, str]:
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


def _deduplicated(best: dict[ResponseKey, _Entry]) -> Iterator[Parsed]:
    """One row per API response, in the order of the lines kept; a sidechain replay of a
    message a main-chain line already has is dropped."""
    main_chain = {e.message_id for e in best.values() if not e.sidechain and e.message_id}
    for entry in sorted(best.values(), key=lambda e: e.order):
        if entry.sidechain and entry.message_id in main_chain:
            yield Parsed(entry.line, skipped="repeated line of one API response", path=entry.path)
        else:
            assert entry.record is not None, "built when it entered `best`"
            yield Parsed(entry.line, records=[entry.record], path=entry.path)


FORMAT = Format(NAME, "Claude Code transcripts (JSONL)", parse, APPEND_ONLY, "anthropic")
