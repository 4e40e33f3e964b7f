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
(tests/test_claude_code_fast.py compares the two line by line). A block of lines that are each
one JSON object is decoded by one msgspec call (`_decoded_block`; tests/test_claude_code_parallel
holds it to the line-by-line outcome).

Each file is read to a compact result (`_read_file`: the outcome of each line in order, the
record of each response's largest line within the file), which the main process replays in
file order against the responses of earlier files, so the outcomes and rows do not depend on
where a file was read. A folder of 8 MB and more is read in worker processes (one per core, at
most four) while the main process replays; the store is written by the main process alone, in
the import's one transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

# msgspec decodes a line into the few fields a response needs without building the rest. It is
# imported with this module, which only `--source claude-code` loads.
import msgspec

from tokcli.errors import InputError
from tokcli.importers.fields import NULLS, RowError, stable_key, text_or_none, tokens, utc_time
from tokcli.importers.format import APPEND_ONLY, Format, Options, Parsed
from tokcli.importers.input_files import (
    Limits,
    Source,
    check_row_count,
    deeper_than,
    limit_hint,
)
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


# One block of message.content, as `_tool_call_fingerprint` reads it (a kept line's only).
class _ContentBlock(msgspec.Struct, gc=False):
    type: str | None = None
    name: str | None = None
    input: msgspec.Raw = msgspec.Raw()


_CONTENT_DECODER = msgspec.json.Decoder(list[_ContentBlock] | str | None)
# The slow path's decoder, one for every line (json.loads with parse_float builds one per call).
_DECODER = json.JSONDecoder(parse_float=Decimal)


@dataclass(slots=True)
class _Pending:
    """What a record needs of its line beyond the counts, until `_record_parts` has run."""

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
    """What de-duplication needs of one API-response line. The parsed line itself (message
    text, tool output) is not kept: memory grows with the number of responses, not with the
    size of the transcripts."""

    line: int
    message_id: str
    request_id: str
    sidechain: bool
    total: int
    pending: _Pending | None  # what `_record_parts` needs, until it has run

    def key(self, path: str) -> Key:
        return (self.message_id, self.request_id) if self.message_id else (path, self.line)


Key = tuple[str, str] | tuple[str, int]
# A record as plain values (cheap to send from a worker process): record key, time, model,
# service tier, counts, tags.
RecordParts = tuple[str, dt.datetime, str, str, Counts, dict[str, str]]
# A record as the main process holds it until the end of the import (`_held`): its model, tier
# and its tags but the tool call are objects shared with the other records that have the same;
# the tool call (different in each response that has one) apart.
HeldRecord = tuple[str, dt.datetime, str, str, Counts, tuple[tuple[str, str], ...], str | None]
TOOL_CALL = "tool_call"  # the tag `_tags` adds last

# What reading one transcript file comes to, in line order (see `_read_file`):
_RESPONSE, _SKIPPED, _BAD = 0, 1, 2
Event = tuple[Any, ...]  # (_RESPONSE, line, message id, request id, total, sidechain),
# (_SKIPPED, line, reason) or (_BAD, line, RowError, line text)


@dataclass(slots=True)
class _FileResult:
    events: list[Event]
    # The record of each line that is the largest of its response within the file.
    records: dict[int, RecordParts]
    not_responses: int = 0
    first_not_response: int = 0
    failure: InputError | None = None  # what stopped the file, after its events


@dataclass(slots=True)
class _Best:
    """The largest line of one response so far, over all files. One is held for each response
    until every file is read: it holds no more than that needs (about a kilobyte with its
    key, on the bench corpus)."""

    file: int  # the file's place in the import: rows keep the order of (file, line)
    line: int
    path: str
    total: int
    sidechain: bool
    message_id: str
    record: HeldRecord | None  # None only until a later line of the same file replaces it


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    """Each line's outcome, file by file, then one row per API response (`_deduplicated`).
    The files are read in worker processes when there are enough of them (`_file_results`);
    the outcomes, and the rows, are the same either way."""
    files = _transcripts(source)
    best: dict[Key, _Best] = {}  # the largest line of each response so far
    shared: dict[Any, Any] = {}  # one object for each model, tier and set of tags (`_held`)
    results = _file_results(files, source)
    for index, (path, result) in enumerate(zip(files, results, strict=True)):
        shown = str(path) if source.is_dir else None
        yield from _replay(result, index, str(path), shown, best, shared)
    yield from _deduplicated(best)


def _transcripts(source: Source) -> list[Path]:
    if source.is_dir:
        return sorted(p for p in source.path.rglob("*.jsonl") if p.is_file())
    return [source.path]


def _file_results(files: list[Path], source: Source) -> Iterator[_FileResult]:
    """`_read_file` of each file, in order: in worker processes when it pays (several files,
    several cores, enough bytes), in this process otherwise."""
    jobs = [(str(path), source.limits) for path in files]
    workers = _worker_count(files)
    if workers < 2:
        for job in jobs:
            yield _read_file(*job)
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(workers, mp_context=_process_context())
    done = 0
    try:
        # Chunks of files per task: a task costs a round trip, a small transcript less.
        chunk = max(1, min(64, len(jobs) // (workers * 8)))
        for result in pool.map(_read_file_job, jobs, chunksize=chunk):
            yield result
            done += 1
    except BrokenProcessPool:  # a worker died (killed, out of memory): read the rest here
        for job in jobs[done:]:
            yield _read_file(*job)
    finally:
        # A file that stops the import stops the reading of the rest.
        pool.shutdown(wait=True, cancel_futures=True)


# Worker processes pay off from this many bytes of transcripts on (below it, starting them
# costs about what they save).
POOL_MIN_BYTES = 8 * 1024 * 1024
MAX_WORKERS = 4


def _worker_count(files: list[Path]) -> int:
    if len(files) < 2 or _process_context() is None:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    if cores < 2:
        return 1
    size = 0
    for path in files:
        size += path.stat().st_size
        if size >= POOL_MIN_BYTES:
            return min(cores, MAX_WORKERS, len(files))
    return 1


def _process_context() -> Any:
    """fork where it is safe (Linux, no other thread running: a progress bar's thread would
    leave its locks held in the children), forkserver where fork is not; None elsewhere."""
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver")
    return None


def _read_file_job(job: tuple[str, Limits]) -> _FileResult:
    return _read_file(*job)


def _replay(
    result: _FileResult,
    index: int,
    where: str,
    shown: str | None,
    best: dict[Key, _Best],
    shared: dict[Any, Any],
) -> Iterator[Parsed]:
    """The outcome of each line of one file, as it is read, except an API response's: the
    largest line of each response waits in `best` (counts only grow while a response
    streams); a line that is not, or stops being, the largest is a repeated line of that
    response. Lines that are no API response (most of a transcript) are counted, and reported
    as one outcome per file."""
    records = result.records
    for event in result.events:
        kind, number = event[0], event[1]
        if kind == _RESPONSE:
            _, _, message_id, request_id, total, sidechain = event
            key = (message_id, request_id) if message_id else (where, number)
            current = best.get(key)
            if current is not None and total <= current.total:
                yield Parsed(number, skipped=REPEATED, path=where)
                continue
            record = records.get(number)
            held = None if record is None else _held(record, shared)
            best[key] = _Best(index, number, where, total, sidechain, message_id, held)
            if current is not None:
                yield Parsed(current.line, skipped=REPEATED, path=current.path)
        elif kind == _SKIPPED:
            yield Parsed(number, skipped=event[2], path=shown)
        else:
            yield Parsed(number, error=event[2], raw=event[3], path=shown)
    if result.failure is not None:
        raise result.failure
    if result.not_responses:
        first = result.first_not_response
        yield Parsed(first, skipped=NOT_A_RESPONSE, path=shown, lines=result.not_responses)


def _read_file(path: str, limits: Limits) -> _FileResult:
    """Every line of one transcript read and checked: the events in line order, the record of
    the largest line of each response within the file, the lines that are no API response
    counted. An error that stops the file (not UTF-8, a line too long, too many rows) is kept
    with the events before it. A pure function of the file: it runs in a worker process."""
    inner = Source(Path(path), limits)
    reader = _FileReader(path, inner)
    try:
        reader.read_all()
    except InputError as error:
        reader.result.failure = error
    return reader.result


class _FileReader:
    def __init__(self, path: str, inner: Source):
        self.path = path
        self.inner = inner
        self.result = _FileResult([], {})
        self.largest: dict[Key, tuple[int, int]] = {}  # (total, line) within this file

    def read_all(self) -> None:
        inner = self.inner
        depth, most_rows = inner.limits.json_depth, inner.limits.rows
        fast = not inner.magic.startswith(_UTF16_BOMS)
        blocks = _utf8_blocks(inner) if fast else _utf16_blocks(inner)
        for first, lines in blocks:
            lines_read = first + len(lines) - 1
            values = _decoded_block(lines, depth) if fast and lines_read <= most_rows else None
            if values is None:
                self._lines(first, lines, fast)
            else:
                self._values(first, lines, values)

    def _values(self, first: int, lines: list[bytes], values: list[_Line]) -> None:
        """A block decoded whole: the same outcome per line as `_lines`, without a call per
        line that is no API response."""
        result = self.result
        for number, line in enumerate(values, first):
            message = line.message
            if message is None or message.usage is None:
                result.not_responses += 1
                result.first_not_response = result.first_not_response or number
                continue
            try:
                entry = _fast_entry(line, number)
            except RowError as error:
                raw = lines[number - first]
                result.events.append((_BAD, number, error, _text(raw).rstrip("\n")))
                continue
            self._take(entry, number)

    def _lines(self, first: int, lines: list[bytes], fast: bool) -> None:
        result, inner = self.result, self.inner
        depth, most_rows = inner.limits.json_depth, inner.limits.rows
        for number, raw in enumerate(lines, first):
            if not raw.startswith(b"{") and _blank(raw):
                continue
            if number > most_rows:
                check_row_count(number, inner, number)
            try:
                entry = _entry_of(raw, fast, depth, number)
            except json.JSONDecodeError as exc:
                error = RowError(f"invalid JSON: {exc.msg} (column {exc.colno})")
                result.events.append((_BAD, number, error, _text(raw).rstrip("\n")))
                continue
            except RowError as error:
                result.events.append((_BAD, number, error, _text(raw).rstrip("\n")))
                continue
            if entry is NOT_A_RESPONSE:
                result.not_responses += 1
                result.first_not_response = result.first_not_response or number
                continue
            self._take(entry, number)

    def _take(self, entry: _Entry | str, number: int) -> None:
        """An API response's line (or why it is skipped); its record is built when it is the
        largest line of its response so far in this file."""
        result = self.result
        if isinstance(entry, str):
            result.events.append((_SKIPPED, number, entry))
            return
        total = entry.total
        event = (_RESPONSE, number, entry.message_id, entry.request_id, total, entry.sidechain)
        result.events.append(event)
        key = entry.key(self.path)
        current = self.largest.get(key)
        if current is not None and total <= current[0]:
            entry.pending = None
            return
        self.largest[key] = (total, number)
        result.records[number] = _record_parts(entry, self.path)
        if current is not None:
            del result.records[current[1]]


_CLOSED = (b"}\n", b"}\r\n", b"}\r", b"}")  # how a line that is one JSON object ends
# Every byte but `{` and `[`: deleting them leaves a line's brackets, counted in one pass.
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"{[")))


def _decoded_block(lines: list[bytes], depth: int) -> list[_Line] | None:
    """The lines of a block decoded by msgspec in one call, or None when one of them needs a
    line-by-line look (`_entry_of`). Each line starts with `{` and ends with `}` (before its
    line end): a `}` line end `{` cannot be inside a JSON value (a comma would have to be
    there; a string cannot hold a raw line end), so each value is within one line, and as
    many values as lines means one per line, each decoded as `_entry_of` decodes it alone."""
    for raw in lines:
        if raw[:1] != b"{" or not raw.endswith(_CLOSED):
            return None
        if len(raw.translate(None, _NOT_BRACKETS)) > depth:
            return None
    try:
        values = _FAST_DECODER.decode_lines(b"".join(lines))
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    return values if len(values) == len(lines) else None


def _entry_of(raw: bytes, fast: bool, depth: int, number: int) -> _Entry | str:
    """The line's entry (or why it is none): through msgspec when the line allows it, through
    the standard decoder otherwise (see the module docstring)."""
    if fast and raw.startswith(b"{") and raw.count(b"{") + raw.count(b"[") <= depth:
        try:
            line = _FAST_DECODER.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):  # ValidationError is a DecodeError
            pass
        else:
            message = line.message  # most lines are no API response: say so without a call
            if message is None or message.usage is None:
                return NOT_A_RESPONSE
            return _fast_entry(line, number)
    return _entry(_json_line(_text(raw), depth), number)


def _text(raw: bytes) -> str:
    # The lines are valid UTF-8 (checked as read); a UTF-16 file's lines may hold lone
    # surrogates, carried through as they were read.
    return raw.decode("utf-8", "surrogatepass")


def _blank(raw: bytes) -> bool:
    return not _text(raw).strip()


def _utf8_lines(inner: Source) -> Iterator[tuple[int, bytes]]:
    """(number, line with its line end) for each line of a UTF-8 file: `_utf8_blocks` a line
    at a time."""
    for first, lines in _utf8_blocks(inner):
        yield from enumerate(lines, first)


def _utf8_blocks(inner: Source) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines with their line ends) for each block of a UTF-8 file,
    numbered and checked as `Source.lines` does: a line ends at LF, CR LF or a lone CR; a
    leading BOM is dropped; a line longer than the limit or holding a byte that is not UTF-8
    stops the file when reached (the lines before it come first). Read in blocks: a line is a
    slice of a block, never a decoded string."""
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
            if lines:
                # One check of the block's text; a line is checked alone only when the block
                # fails it (which may be a character cut at its end) or the line is long.
                utf8 = data.isascii() or _is_utf8(data)
                yield from _checked(lines, number, inner, utf8)
                number += len(lines)
            block = read()
        tail = b"".join(partial).splitlines(keepends=True)
        if tail:
            yield from _checked(tail, number, inner, False)


def _checked(
    lines: list[bytes], number: int, inner: Source, utf8: bool
) -> Iterator[tuple[int, list[bytes]]]:
    """The lines after line `number`, as one block when they pass; up to the first that fails,
    then its error, when one does not."""
    limit = inner.limits.line_length
    if not utf8 or max(map(len, lines)) > limit:
        for index, raw in enumerate(lines):
            if not utf8 or len(raw) > limit:
                try:
                    _check_line(raw, number + index + 1, inner, limit)
                except InputError:
                    if index:
                        yield number + 1, lines[:index]
                    raise
    yield number + 1, lines


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


def _utf16_blocks(inner: Source) -> Iterator[tuple[int, list[bytes]]]:
    """A UTF-16 file's lines (read as text, as every importer reads one), as UTF-8 bytes, one
    line a block."""
    for number, line in enumerate(inner.lines(), start=1):
        yield number, [line.encode("utf-8", "surrogatepass")]


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


def _entry(line: object, number: int) -> _Entry | str:
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
    tag_values = (line.get("cwd"), line.get("sessionId"), line.get("gitBranch"))
    fast = usage.get("speed") == "fast"
    content = message.get("content")
    pending = _Pending(model, moment, counts, usage.get("service_tier"), fast, tag_values, content)
    return _Entry(number, message_id, request_id, sidechain, sum(counts), pending)


def _fast_entry(line: _Line, number: int) -> _Entry | str:
    message = line.message
    usage = message.usage if message is not None else None
    if message is None or usage is None:
        return NOT_A_RESPONSE
    model = _text_or_none(message.model)
    if model is None or model == SYNTHETIC_MODEL:
        return "synthetic or model-less message"
    if line.isApiErrorMessage is True:
        return "API error message"
    message_id = _text_or_none(message.id) or ""
    request_id = _text_or_none(line.requestId) or ""
    moment = utc_time(line.timestamp, "timestamp")
    counts = _fast_token_counts(usage)
    sidechain = line.isSidechain is True
    tag_values = (line.cwd, line.sessionId, line.gitBranch)
    fast = usage.speed == "fast"
    content = message.content
    pending = _Pending(model, moment, counts, usage.service_tier, fast, tag_values, None, content)
    return _Entry(number, message_id, request_id, sidechain, sum(counts), pending)


def _text_or_none(value: str | None) -> str | None:
    """`text_or_none` of a decoded string (the fast path's fields are str or None)."""
    if value is None:
        return None
    text = value.strip()
    return None if text in NULLS else text


def _record_parts(entry: _Entry, path: str) -> RecordParts:
    pending = entry.pending
    assert pending is not None, "set by _entry"
    entry.pending = None  # what the line held is not kept
    message_id = entry.message_id
    record_key = (
        stable_key(NAME, message_id, entry.request_id)
        if message_id
        else stable_key(NAME, path, entry.line)
    )
    tier = service_tier(pending.tier)
    return record_key, pending.moment, pending.model, tier, pending.counts, _tags(pending)


def _held(parts: RecordParts, shared: dict[Any, Any]) -> HeldRecord:
    """A record as it waits for the end of the import: a heavy user's transcripts hold hundreds
    of thousands of responses, most of them of a few models in a few sessions, each with its
    own copies of those strings and its own dict of tags (read in another process, or from
    another line); one object of each is kept (`shared`)."""
    record_key, moment, model, tier, counts, tags = parts
    tool_call = tags.get(TOOL_CALL)
    common = tuple([item for item in tags.items() if item[0] != TOOL_CALL])
    keep = shared.setdefault
    return (record_key, moment, keep(model, model), keep(tier, tier), counts,
            keep(common, common), tool_call)  # fmt: skip


def _usage_record(held: HeldRecord) -> UsageRecord:
    record_key, moment, model, tier, counts, common, tool_call = held
    tags = dict(common)  # a new dict for each record: the writer changes a record's tags
    if tool_call is not None:
        tags[TOOL_CALL] = tool_call  # last, as `_tags` adds it
    record = UsageRecord(
        record_key=record_key,
        source=NAME,
        period_start=moment,
        period_end=moment,
        provider="anthropic",
        model_raw=model,
        service_tier=tier,
        requests=1,
        tags=tags,
    )
    (
        record.input_tokens,
        record.cache_read_tokens,
        record.output_tokens,
        record.cache_write_5m_tokens,
        record.cache_write_1h_tokens,
    ) = counts
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
        tags[TOOL_CALL] = tool_call
    return tags


def _decoded_content(raw: msgspec.Raw) -> object:
    """message.content as the slow path decodes it, as far as `_tool_call_fingerprint` reads it
    (the tool-use blocks; their input with exact decimals), or None when it cannot hold a tool
    call: `tool_use` is spelled out, or escaped (\\u), in any block that is one. The text of
    the other blocks is checked and skipped by msgspec; content it cannot take as
    `_ContentBlock`s (a name that is no string, a NaN) goes through the standard decoder."""
    text = bytes(raw)
    if b"tool_use" not in text and b"\\u" not in text:
        return None
    try:
        blocks = _CONTENT_DECODER.decode(text)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return _DECODER.decode(_text(text))
    if not isinstance(blocks, list):
        return None
    return [
        {"type": block.type, "name": block.name, "input": _decoded_input(block.input)}
        for block in blocks
        if block.type == "tool_use"
    ]


def _decoded_input(raw: msgspec.Raw) -> object:
    """A tool call's input as the standard decoder reads it (None when there is none)."""
    return _DECODER.decode(_text(bytes(raw))) if raw else None


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


def _deduplicated(best: dict[Key, _Best]) -> Iterator[Parsed]:
    """One row per API response, in the order of the lines kept; a sidechain replay of a
    message a main-chain line already has is dropped."""
    main_chain = {e.message_id for e in best.values() if not e.sidechain and e.message_id}
    for entry in sorted(best.values(), key=lambda e: (e.file, e.line)):
        if entry.sidechain and entry.message_id in main_chain:
            yield Parsed(entry.line, skipped=REPEATED, path=entry.path)
        else:
            # The largest line of a response over all files is the largest within its file.
            assert entry.record is not None, "read with its file"
            yield Parsed(entry.line, records=[_usage_record(entry.record)], path=entry.path)


FORMAT = Format(NAME, "Claude Code transcripts (JSONL)", parse, APPEND_ONLY, "anthropic")
