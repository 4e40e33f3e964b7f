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

Reading is most of the time (issue 17). Each line is read as bytes and decoded by msgspec into
just the fields a response needs: the message text and tool output are checked to be
well-formed JSON (a corrupt line is still reported) but never built as Python objects. A line
the fast path cannot take as it is (not starting with `{`, more brackets than the depth limit,
a count written `3.0`, a NaN, a lone surrogate, a string where an object belongs, a UTF-16
file) goes through the standard json decoder and the checks on plain dicts, which define the
outcome: the fast path is only ever a shortcut to the same outcome
(tests/test_claude_code_fast.py compares the two line by line).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

# msgspec decodes a line into the few fields a response needs without building the rest. It is
# imported with this module, which only `--source claude-code` loads.
import msgspec

from tokcli.errors import InputError
from tokcli.importers.fields import RowError, stable_key, text_or_none, tokens, utc_time
from tokcli.importers.format import APPEND_ONLY, Format, Options, Parsed
from tokcli.importers.input_files import Source, check_row_count, deeper_than, limit_hint
from tokcli.importers.normalise import service_tier
from tokcli.store.usage import UsageRecord

NAME = "claude-code"
SYNTHETIC_MODEL = "<synthetic>"
NOT_A_RESPONSE = "not an API response"
REPEATED = "repeated line of one API response"
_MAX_TOKENS = 10**15  # what `tokens` accepts without a closer look (values.MAX_MAGNITUDE)
_BLOCK_BYTES = 1 << 16  # at most; a block and its lines stay small beside the reader's buffer
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

Counts = tuple[int, int, int, int, int]  # input, cache read, output, cache write 5m, 1h


# What the fast path decodes of a line; every other field is checked and skipped. A field
# holding another JSON type than the one declared fails the decode: the line takes the slow path.
class _CacheCreation(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class _Usage(msgspec.Struct, gc=False):
    input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_creation: _CacheCreation | None = None
    service_tier: str | None = None
    speed: str | None = None


class _Message(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None
    content: msgspec.Raw = msgspec.Raw()  # read only for a kept line (tool-call fingerprint)


class _Line(msgspec.Struct, gc=False):
    message: _Message | None = None
    requestId: str | None = None  # the transcripts spell fields in camelCase
    timestamp: str | None = None
    isSidechain: bool | None = None
    isApiErrorMessage: bool | None = None
    cwd: str | None = None
    sessionId: str | None = None
    gitBranch: str | None = None


_FAST_DECODER = msgspec.json.Decoder(_Line)
# The slow path's decoder, one for every line (json.loads with parse_float builds one per call).
_DECODER = json.JSONDecoder(parse_float=Decimal)


@dataclass(slots=True)
class _Pending:
    """What a record needs of its line beyond the counts, until `_record` has run."""

    model: str
    moment: dt.datetime
    counts: Counts
    tier: object
    fast: bool  # usage.speed == "fast"
    tag_values: tuple[object, object, object]  # cwd, sessionId, gitBranch
    content: object  # message.content, decoded (slow path)
    raw_content: msgspec.Raw | None = None  # or its JSON text, not decoded yet (fast path)


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
    pending: _Pending | None = None  # what `_record` needs, until it has run

    def key(self) -> tuple[str, str] | tuple[str, int]:
        return (self.message_id, self.request_id) if self.message_id else (self.path, self.line)


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    best: dict[tuple[str, str] | tuple[str, int], _Entry] = {}  # the largest line so far
    order = itertools.count()
    for path in _transcripts(source):
        yield from _read_transcript(path, source, best, order)
    yield from _deduplicated(best)


def _transcripts(source: Source) -> list[Path]:
    if source.is_dir:
        return sorted(p for p in source.path.rglob("*.jsonl") if p.is_file())
    return [source.path]


def _read_transcript(
    path: Path,
    source: Source,
    best: dict[tuple[str, str] | tuple[str, int], _Entry],
    order: Iterator[int],
) -> Iterator[Parsed]:
    """Each line's outcome as it is read, except an API response's: the largest line of each
    response waits in `best` (counts only grow while a response streams); a line that is not,
    or stops being, the largest is a repeated line of that response. Lines that are no API
    response (most of a transcript) are counted, and reported as one outcome per file."""
    shown = str(path) if source.is_dir else None
    where = str(path)
    inner = Source(path, source.limits)
    depth, most_rows = source.limits.json_depth, source.limits.rows
    fast = not inner.magic.startswith(_UTF16_BOMS)
    not_responses, first_not_response = 0, 0
    for number, raw in _utf8_lines(inner) if fast else _utf16_lines(inner):
        if not raw.startswith(b"{") and _blank(raw):
            continue
        if number > most_rows:
            check_row_count(number, inner, number)
        try:
            entry = _entry_of(raw, fast, depth, where, number, 0)
        except json.JSONDecodeError as exc:
            error = RowError(f"invalid JSON: {exc.msg} (column {exc.colno})")
            yield Parsed(number, error=error, raw=_text(raw).rstrip("\n"), path=shown)
            continue
        except RowError as error:
            yield Parsed(number, error=error, raw=_text(raw).rstrip("\n"), path=shown)
            continue
        if entry is NOT_A_RESPONSE:
            not_responses += 1
            first_not_response = first_not_response or number
            continue
        if isinstance(entry, str):
            yield Parsed(number, skipped=entry, path=shown)
            continue
        entry.order = next(order)
        key = entry.key()
        current = best.get(key)
        if current is not None and entry.total <= current.total:
            entry.pending = None
            yield Parsed(number, skipped=REPEATED, path=entry.path)
            continue
        entry.record = _record(entry)
        best[key] = entry
        if current is not None:
            yield Parsed(current.line, skipped=REPEATED, path=current.path)
    if not_responses:
        yield Parsed(first_not_response, skipped=NOT_A_RESPONSE, path=shown, lines=not_responses)


def _entry_of(
    raw: bytes, fast: bool, depth: int, path: str, number: int, order: int
) -> _Entry | str:
    """The line's entry (or why it is none): through msgspec when the line allows it, through
    the standard decoder otherwise (see the module docstring)."""
    if fast and raw.startswith(b"{") and len(raw) - len(raw.translate(None, b"{[")) <= depth:
        try:
            line = _FAST_DECODER.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):  # ValidationError is a DecodeError
            pass
        else:
            message = line.message  # most lines are no API response: say so without a call
            if message is None or message.usage is None:
                return NOT_A_RESPONSE
            return _fast_entry(line, path, number, order)
    return _entry(_json_line(_text(raw), depth), path, number, order)


def _text(raw: bytes) -> str:
    # The lines are valid UTF-8 (checked as read); a UTF-16 file's lines may hold lone
    # surrogates, carried through as they were read.
    return raw.decode("utf-8", "surrogatepass")


def _blank(raw: bytes) -> bool:
    return not _text(raw).strip()


def _utf8_lines(inner: Source) -> Iterator[tuple[int, bytes]]:
    """(number, line with its line end) for each line of a UTF-8 file, numbered and checked as
    `Source.lines` does: a line ends at LF, CR LF or a lone CR; a leading BOM is dropped; a
    line longer than the limit or holding a byte that is not UTF-8 stops the file when reached.
    Read in blocks: a line is a slice of a block, never a decoded string."""
    limit = inner.limits.line_length
    number = 0
    with inner.open_binary() as handle:
        read = _block_reader(handle)
        block = _first_block(read)
        partial: list[bytes] = []  # the start of a line that goes on in the next block
        held = 0
        while block:
            if b"\n" not in block and b"\r" not in block:  # inside one long line
                partial.append(block)
                held += len(block)
                if held > 4 * limit + 4:  # over `limit` characters, however encoded
                    _too_long(inner, number + 1, limit)
                block = read()
                continue
            data = b"".join((*partial, block)) if partial else block
            # bytes split at LF, CR LF and CR only. A last line without its LF may go on in the
            # next block (a CR there may be the first half of CR LF).
            lines = data.splitlines(keepends=True)
            partial = [] if lines[-1].endswith(b"\n") else [lines.pop()]
            held = len(partial[0]) if partial else 0
            # One check of the block's text; a line is checked alone only when the block fails
            # it (which may be a character cut at its end) or the line is long.
            utf8 = data.isascii() or _is_utf8(data)
            for raw in lines:
                number += 1
                if not utf8 or len(raw) > limit:
                    _check_line(raw, number, inner, limit)
                yield number, raw
            block = read()
        for raw in b"".join(partial).splitlines(keepends=True):
            number += 1
            _check_line(raw, number, inner, limit)
            yield number, raw


def _block_reader(handle: BinaryIO) -> Callable[[], bytes]:
    """The next block of the file, empty at its end: read1 where the reader has it (a block
    from its buffer, not a second copy of it)."""
    if isinstance(handle, io.BufferedIOBase):
        buffered = handle
        return lambda: buffered.read1(_BLOCK_BYTES)
    return lambda: handle.read(_BLOCK_BYTES)


def _first_block(read: Callable[[], bytes]) -> bytes:
    """The first block without its BOM, empty only at the end of the file."""
    block = read()
    while 0 < len(block) < len(_UTF8_BOM) and (more := read()):
        block += more
    return block.removeprefix(_UTF8_BOM) or read()


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_line(raw: bytes, number: int, inner: Source, limit: int) -> None:
    if len(raw) > limit and len(raw.decode("utf-8", "surrogateescape")) > limit:
        _too_long(inner, number, limit)
    if raw.isascii():
        return
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); convert the file to UTF-8",
            path=inner.name,
            line=number,
        ) from None


def _too_long(inner: Source, number: int, limit: int) -> None:
    raise InputError(
        f"a line longer than {limit:,} characters",
        path=inner.name,
        line=number,
        hint=limit_hint("line_length"),
    )


def _utf16_lines(inner: Source) -> Iterator[tuple[int, bytes]]:
    """A UTF-16 file's lines (read as text, as every importer reads one), as UTF-8 bytes."""
    for number, line in enumerate(inner.lines(), start=1):
        yield number, line.encode("utf-8", "surrogatepass")


def _json_line(raw: str, max_depth: int) -> object:
    if raw.startswith("\ufeff"):  # as json.loads says it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
    try:
        line = _DECODER.decode(raw)
    except RecursionError:
        raise _too_deep(max_depth) from None
    # Nesting is at most the number of brackets: most lines need no walk to know.
    if raw.count("{") + raw.count("[") > max_depth and deeper_than(line, max_depth):
        raise _too_deep(max_depth)
    return line


def _too_deep(max_depth: int) -> RowError:
    return RowError(f"JSON nested deeper than {max_depth} levels", hint=limit_hint("json_depth"))


def _entry(line: object, path: str, number: int, order: int) -> _Entry | str:
    """The line checked (a bad timestamp or count is a row error on every line, kept or not)
    and what de-duplication compares; the record is built by `_record` only for a line that
    is the largest of its response so far. `_fast_entry` is the same on a decoded `_Line`."""
    if not isinstance(line, dict):
        return NOT_A_RESPONSE
    message = line.get("message")
    usage = message.get("usage") if isinstance(message, dict) else None
    if not isinstance(message, dict) or not isinstance(usage, dict):
        return NOT_A_RESPONSE
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
    tag_values = (line.get("cwd"), line.get("sessionId"), line.get("gitBranch"))
    fast = usage.get("speed") == "fast"
    content = message.get("content")
    entry.pending = _Pending(
        model, moment, counts, usage.get("service_tier"), fast, tag_values, content
    )
    return entry


def _fast_entry(line: _Line, path: str, number: int, order: int) -> _Entry | str:
    message = line.message
    usage = message.usage if message is not None else None
    if message is None or usage is None:
        return NOT_A_RESPONSE
    model = text_or_none(message.model)
    if model is None or model == SYNTHETIC_MODEL:
        return "synthetic or model-less message"
    if line.isApiErrorMessage is True:
        return "API error message"
    message_id = text_or_none(message.id) or ""
    request_id = text_or_none(line.requestId) or ""
    moment = utc_time(line.timestamp, "timestamp")
    counts = _fast_token_counts(usage)
    sidechain = line.isSidechain is True
    entry = _Entry(path, number, order, None, message_id, request_id, sidechain, sum(counts))
    tag_values = (line.cwd, line.sessionId, line.gitBranch)
    fast = usage.speed == "fast"
    content = message.content
    entry.pending = _Pending(
        model, moment, counts, usage.service_tier, fast, tag_values, None, content
    )
    return entry


def _record(entry: _Entry) -> UsageRecord:
    pending = entry.pending
    assert pending is not None, "set by _entry"
    entry.pending = None  # what the line held is not kept
    message_id, request_id = entry.message_id, entry.request_id
    record = UsageRecord(
        record_key=stable_key(NAME, message_id, request_id)
        if message_id
        else stable_key(NAME, entry.path, entry.line),
        source=NAME,
        period_start=pending.moment,
        period_end=pending.moment,
        provider="anthropic",
        model_raw=pending.model,
        service_tier=service_tier(pending.tier),
        requests=1,
        tags=_tags(pending),
    )
    (
        record.input_tokens,
        record.cache_read_tokens,
        record.output_tokens,
        record.cache_write_5m_tokens,
        record.cache_write_1h_tokens,
    ) = pending.counts
    return record


def _token_counts(usage: dict[str, object]) -> Counts:
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


def _fast_token_counts(usage: _Usage) -> Counts:
    """`_token_counts` of a decoded `_Usage`, in the same order (the first bad count is the
    row error)."""
    input_tokens = _count(usage.input_tokens, "message.usage.input_tokens")
    cache_read = _count(usage.cache_read_input_tokens, "message.usage.cache_read_input_tokens")
    output = _count(usage.output_tokens, "message.usage.output_tokens")
    split = usage.cache_creation
    if split is not None:
        write_5m = _count(split.ephemeral_5m_input_tokens, "message.usage.cache_creation.5m")
        write_1h = _count(split.ephemeral_1h_input_tokens, "message.usage.cache_creation.1h")
    else:
        write_5m = _count(
            usage.cache_creation_input_tokens, "message.usage.cache_creation_input_tokens"
        )
        write_1h = 0
    return input_tokens, cache_read, output, write_5m, write_1h


def _count(value: int | None, field: str) -> int:
    """`tokens(value, field)` for a decoded int: a plain count passes as it is, anything else
    (negative, beyond 1e15) gets its error from `tokens` itself."""
    if value is None:
        return 0
    if 0 <= value <= _MAX_TOKENS:
        return value
    return tokens(value, field)


def _tags(pending: _Pending) -> dict[str, str]:
    tags = {}
    for value, tag in zip(pending.tag_values, ("project", "session", "git_branch"), strict=True):
        text = text_or_none(value)
        if text:
            tags[tag] = text
    if pending.fast:
        tags["speed"] = "fast"
    content = pending.content
    if pending.raw_content:  # the fast path's content, b"" when the line has none
        content = _decoded_content(pending.raw_content)
    tool_call = _tool_call_fingerprint(content)
    if tool_call:
        tags["tool_call"] = tool_call
    return tags


def _decoded_content(raw: msgspec.Raw) -> object:
    """message.content as the slow path decodes it (exact decimals), or None when it cannot hold
    a tool call: `tool_use` is spelled out, or escaped (\\u), in any block that is one."""
    text = bytes(raw)
    if b"tool_use" not in text and b"\\u" not in text:
        return None
    return _DECODER.decode(_text(text))


def _tool_call_fingerprint(content: object) -> str | None:
    """`name:hash` of each tool call in the response (sorted, `+`-joined): enough for `advise` to
    see the same call with the same arguments repeat, without storing the arguments."""
    import hashlib

    if not isinstance(content, list):
        return None
    calls = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "tool_use":
            arguments = json.dumps(block.get("input"), sort_keys=True, default=str)
            digest = hashlib.sha256(arguments.encode()).hexdigest()[:12]
            calls.append(f"{block.get('name')}:{digest}")
    return "+".join(sorted(calls)) or None


def _deduplicated(best: dict[tuple[str, str] | tuple[str, int], _Entry]) -> Iterator[Parsed]:
    """One row per API response, in the order of the lines kept; a sidechain replay of a
    message a main-chain line already has is dropped."""
    main_chain = {e.message_id for e in best.values() if not e.sidechain and e.message_id}
    for entry in sorted(best.values(), key=lambda e: e.order):
        if entry.sidechain and entry.message_id in main_chain:
            yield Parsed(entry.line, skipped=REPEATED, path=entry.path)
        else:
            assert entry.record is not None, "built when it entered `best`"
            yield Parsed(entry.line, records=[entry.record], path=entry.path)


FORMAT = Format(NAME, "Claude Code transcripts (JSONL)", parse, APPEND_ONLY, "anthropic")
