"""The fast path of the Claude Code importer (issue 17) changes nothing but the speed.

Each line is decoded by msgspec into the fields a response needs; a line it cannot take goes
through the standard json decoder and the checks on plain dicts, which were the importer's only
path before. These tests hold the two paths to the same outcome line by line (entry, skip reason
or error, and the record built) on the real transcripts in
tests/fixtures/samples/claude-code-jsonl (see its SOURCES.md), on those lines changed in the ways
a transcript can surprise (`usage` in message text, escaped keys, duplicate keys, NaN, counts
written 3.0 or "3", deep nesting, lone surrogates, tool calls with decimals), and on generated
values. The byte reader is held to `Source.lines`, the reader every other importer uses.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLES
from tokcli.errors import InputError
from tokcli.importers.format import Options
from tokcli.importers.input_files import Limits, Source
from tokcli.importers.sources import claude_code

TRANSCRIPTS = SAMPLES / "claude-code-jsonl"
DEPTH = Limits().json_depth


def _real_lines() -> list[str]:
    lines = []
    for path in sorted(TRANSCRIPTS.glob("*.jsonl")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def _assistant() -> dict:
    for text in _real_lines():
        line = json.loads(text)
        if line.get("type") == "assistant" and "usage" in line.get("message", {}):
            return line
    raise AssertionError("no assistant line in the samples")


def _outcome(raw: bytes, fast: bool) -> object:
    """What one line comes to: the skip reason, the error, or the entry with its record."""
    try:
        entry = claude_code._entry_of(raw, fast, DEPTH, 7)
    except json.JSONDecodeError as exc:
        return ("invalid JSON", exc.msg, exc.colno)
    except claude_code.RowError as exc:
        return ("row error", str(exc), exc.field)
    if isinstance(entry, str):
        return entry
    fields = (entry.message_id, entry.request_id, entry.sidechain, entry.total, entry.key("t"))
    held = claude_code._held(claude_code._record_parts(entry, "t.jsonl"), {})
    return fields, claude_code._usage_record(held)


def _same_both_ways(raw: bytes) -> object:
    fast, slow = _outcome(raw, True), _outcome(raw, False)
    assert fast == slow, raw[:300]
    return fast


def _changed(**changes) -> bytes:
    """The real assistant line with `changes` applied (dotted paths, None deletes)."""
    line = copy.deepcopy(_assistant())
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = line
        for key in parents:
            target = target[key]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return json.dumps(line).encode()


def test_every_real_line_has_the_same_outcome_on_both_paths():
    outcomes = [_same_both_ways(text.encode()) for text in _real_lines()]
    records = [o for o in outcomes if isinstance(o, tuple) and len(o) == 2]
    # The samples' API responses (counted independently: lines whose message has usage).
    expected = sum(1 for t in _real_lines() if "usage" in json.loads(t).get("message", {}))
    assert len(records) == expected > 0
    taken_fast = 0
    for text in _real_lines():
        try:
            claude_code._FAST_DECODER.decode(text.encode())
            taken_fast += 1
        except Exception:
            pass
    assert taken_fast == len(_real_lines())  # every real line goes the fast way


@pytest.mark.parametrize(
    "raw",
    [
        # "usage" in the text of a message that has none, and in a tool result
        b'{"type":"user","message":{"role":"user","content":"what is \\"usage\\": {} ?"}}',
        b'{"type":"user","message":{"content":[{"type":"tool_result","content":"usage: 5"}]}}',
        # escaped keys spell the same names
        b'{"message":{"\\u0075sage":{"input_tokens":5},"model":"claude-opus-4-6","id":"m"},'
        b'"timestamp":"2026-02-10T22:57:51.291Z"}',
        b'{"\\u006dessage":{"usage":{"output_tokens":5},"model":"claude-opus-4-6"},'
        b'"timestamp":"2026-02-10T22:57:51.291Z"}',
        # duplicate keys: the last wins, in both decoders
        b'{"message":{"usage":{"input_tokens":5},"usage":null,"model":"m"}}',
        b'{"message":"text","message":{"usage":{"input_tokens":5},"model":"claude-opus-4-6"},'
        b'"timestamp":"2026-02-10T22:57:51.291Z"}',
        b'{"message":{"usage":{"input_tokens":5},"model":"claude-opus-4-6"},"message":"x"}',
        # numbers only the standard decoder reads
        b'{"message":{"usage":{"input_tokens":NaN},"model":"claude-opus-4-6"},'
        b'"timestamp":"2026-02-10T22:57:51.291Z"}',
        b'{"type":"user","x":Infinity}',
        b'{"type":"user","x":"\\ud800"}',
        # not an object, not a line that starts with one, a BOM, and nested past the limit
        b"[1, 2]",
        b'  {"type":"user"}',
        b'\xef\xbb\xbf{"type":"user"}',
        b'{"type":"user","deep":' + b"[" * 250 + b"]" * 250 + b"}",
        b'{"type":"user","deep":' + b"[" * 1500 + b"]" * 1500 + b"}",
        b'{"type":"user","text":"' + b"[" * 250 + b'"}',  # brackets in a string: not deep
        # broken lines
        b'{"type": "assistant"',
        b'{"type":"user",}',
        b'{"a":"\x01"}',
        b'{"message":{"usage":5,"model":"claude-opus-4-6"}}',
        b'{"message":{"usage":{},"model":"<synthetic>"}}',
        b'{"message":{"usage":{},"model":"claude-opus-4-6"},"isApiErrorMessage":true}',
        b'{"message":{"usage":{},"model":"claude-opus-4-6"},"isApiErrorMessage":"true",'
        b'"timestamp":"2026-02-10T22:57:51.291Z"}',
    ],
)
def test_crafted_lines_have_the_same_outcome_on_both_paths(raw):
    _same_both_ways(raw)


@pytest.mark.parametrize(
    "changes",
    [
        {"message__usage__output_tokens": 3.0},
        {"message__usage__output_tokens": 2.5},
        {"message__usage__output_tokens": "3"},
        {"message__usage__output_tokens": "1,234"},
        {"message__usage__output_tokens": -1},
        {"message__usage__output_tokens": 10**15},
        {"message__usage__output_tokens": 10**15 + 1},
        {"message__usage__output_tokens": 10**30},
        {"message__usage__output_tokens": True},
        {"message__usage__input_tokens": -5, "message__usage__output_tokens": -1},
        {"message__usage__cache_creation": None},
        {"message__usage__cache_creation": "5m"},
        {"message__usage__cache_creation__ephemeral_1h_input_tokens": 7},
        {"message__usage__service_tier": "batch"},
        {"message__usage__service_tier": 3},
        {"message__usage__speed": "fast"},
        {"message__model": "  "},
        {"message__model": 42},
        {"message__id": None},
        {"message__id": "null"},
        {"requestId": 5},
        {"timestamp": "2026-02-10 22:57:51"},
        {"timestamp": "yesterday"},
        {"timestamp": None},
        {"timestamp": 1770764271},
        {"isSidechain": True},
        {"isSidechain": "true"},
        {"cwd": None, "gitBranch": "  ", "sessionId": 7},
        {"message__content": None},
        {"message__content": "plain text"},
        {
            "message__content": [
                {"type": "tool_use", "name": "Edit", "input": {"x": 1.50, "y": [1e-7, "é"]}},
                {"type": "text", "text": "tool_use"},
                {"type": "tool_use", "name": "Bash", "input": {"command": "ls"}},
            ]
        },
    ],
)
def test_changed_real_lines_have_the_same_outcome_on_both_paths(changes):
    _same_both_ways(_changed(**changes))


def test_an_escaped_tool_use_type_is_still_a_tool_call():
    raw = _changed(message__content=[{"type": "tool_use", "name": "Read", "input": {"a": 1}}])
    escaped = raw.replace(b'"tool_use"', b'"tool\\u005fuse"')
    assert escaped != raw
    _, record = _same_both_ways(escaped)
    assert record.tags["tool_call"].startswith("Read:")


def test_decimals_in_tool_input_are_fingerprinted_as_written():
    # 1.50 and 1.5 are different arguments as written; the fast path decodes the content with
    # the same exact decimals as the slow path, so the fingerprint tells them apart.
    one = _changed(message__content=[{"type": "tool_use", "name": "T", "input": {"x": 1}}])
    a = one.replace(b'"x": 1', b'"x": 1.50')
    b = one.replace(b'"x": 1', b'"x": 1.5')
    tag_a = _same_both_ways(a)[1].tags["tool_call"]
    tag_b = _same_both_ways(b)[1].tags["tool_call"]
    assert tag_a != tag_b


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
_FIELDS = [
    "message__usage__input_tokens",
    "message__usage__output_tokens",
    "message__usage__cache_read_input_tokens",
    "message__usage__cache_creation",
    "message__usage__cache_creation_input_tokens",
    "message__usage__service_tier",
    "message__usage__speed",
    "message__usage",
    "message__model",
    "message__id",
    "message__content",
    "message",
    "requestId",
    "timestamp",
    "isSidechain",
    "isApiErrorMessage",
    "cwd",
    "sessionId",
    "gitBranch",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_FIELDS), _JSON_VALUES, min_size=1, max_size=4))
def test_any_values_in_the_fields_read_have_the_same_outcome_on_both_paths(changes):
    line = copy.deepcopy(_assistant())
    for path, value in sorted(changes.items(), key=lambda item: item[0].count("__")):
        *parents, last = path.split("__")
        target = line
        for key in parents:
            target = target.get(key) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target[last] = value
    _same_both_ways(json.dumps(line).encode())


# The reader: the same lines, numbers and errors as Source.lines.


def _reference_lines(path: Path, limits: Limits) -> list[tuple[int, str]]:
    return list(enumerate(Source(path, limits).lines(), start=1))


def _fast_lines(path: Path, limits: Limits) -> list[tuple[int, str]]:
    return [(n, raw.decode()) for n, raw in claude_code._utf8_lines(Source(path, limits))]


_LINE_PIECES = st.lists(
    st.sampled_from(["a", "{}", "é", "日本", "\u2028", "\x85", " ", "\n", "\r", "\r\n", "\ufeff"]),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(pieces=_LINE_PIECES, bom=st.booleans(), block=st.sampled_from([1, 2, 3, 5, 64]))
def test_the_byte_reader_cuts_lines_as_the_text_reader_does(tmp_path_factory, pieces, bom, block):
    path = tmp_path_factory.mktemp("r") / "t.jsonl"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "".join(pieces).encode())
    original = claude_code._BLOCK_BYTES
    claude_code._BLOCK_BYTES = block  # blocks that cut lines, CR LF pairs and characters
    try:
        assert _fast_lines(path, Limits()) == _reference_lines(path, Limits())
    finally:
        claude_code._BLOCK_BYTES = original


@pytest.mark.parametrize(
    "content",
    [
        b'{"a":1}\n{"b":2}\n\xff{"c":3}\n',  # a byte that is never UTF-8
        b'{"a":1}\r\n{"b":"\xed\xa0\x80"}\r\n',  # an encoded surrogate
        b'{"a":1}\r{"b":2}\r{"c":"caf\xc3"}',  # a character cut short at the end
    ],
)
def test_a_byte_that_is_not_utf8_stops_the_file_at_its_line(tmp_path, content):
    path = tmp_path / "t.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError) as expected:
        _reference_lines(path, Limits())
    with pytest.raises(InputError) as got:
        _fast_lines(path, Limits())
    assert str(got.value) == str(expected.value)
    assert "not UTF-8" in str(got.value)


@pytest.mark.parametrize("text", ["x" * 30 + "\n", "y" * 31, "é" * 20 + "\n" + "z" * 40 + "\n"])
def test_a_line_over_the_length_limit_stops_the_file_at_its_line(tmp_path, text):
    path = tmp_path / "t.jsonl"
    path.write_text('{"a":1}\n' + text, encoding="utf-8")
    limits = Limits(line_length=30)
    with pytest.raises(InputError) as expected:
        _reference_lines(path, limits)
    original = claude_code._BLOCK_BYTES
    claude_code._BLOCK_BYTES = 4  # the long line spans many blocks
    try:
        with pytest.raises(InputError) as got:
            _fast_lines(path, limits)
    finally:
        claude_code._BLOCK_BYTES = original
    assert str(got.value) == str(expected.value)


# Whole transcripts: the same rows and counts, and every line counted once.


def _rows(path: Path, *, fast: bool, monkeypatch) -> list:
    if not fast:
        monkeypatch.setattr(claude_code, "_entry_of", _slow_entry_of)
        monkeypatch.setattr(claude_code, "_decoded_block", lambda lines, depth: None)
    try:
        return list(claude_code.parse(Source(path), Options()))
    finally:
        monkeypatch.undo()


_ENTRY_OF = claude_code._entry_of


def _slow_entry_of(raw, fast, depth, number):
    return _ENTRY_OF(raw, False, depth, number)


def _summary(rows: list) -> tuple:
    records = [(r.line, r.path, r.records) for r in rows if r.records]
    skips: dict[str, int] = {}
    for r in rows:
        if r.skipped:
            skips[r.skipped] = skips.get(r.skipped, 0) + r.lines
    errors = [(r.line, str(r.error)) for r in rows if r.error is not None]
    return records, skips, errors, sum(r.lines for r in rows)


def test_a_transcript_folder_gives_the_same_rows_on_both_paths(tmp_path, monkeypatch):
    folder = tmp_path / "projects"
    (folder / "p").mkdir(parents=True)
    for path in TRANSCRIPTS.glob("*.jsonl"):
        text = path.read_text(encoding="utf-8")
        (folder / "p" / path.name).write_text(text + "\n{broken\n\n", encoding="utf-8")
    fast = _summary(_rows(folder, fast=True, monkeypatch=monkeypatch))
    slow = _summary(_rows(folder, fast=False, monkeypatch=monkeypatch))
    assert fast == slow
    # Counted independently: every non-blank line once; the lines without message.usage.
    lines = [line for p in folder.rglob("*.jsonl") for line in p.read_text().splitlines()]
    lines = [line for line in lines if line.strip()]
    assert fast[3] == len(lines)
    no_usage = 0
    for line in lines:
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if not isinstance(parsed.get("message"), dict) or "usage" not in parsed["message"]:
            no_usage += 1
    assert fast[1]["not an API response"] == no_usage
    assert len(fast[2]) == 4  # the four broken lines, one per file


def test_the_import_counts_each_skipped_line(cli, tmp_path):
    store = tmp_path / "s.db"
    result = cli("import", TRANSCRIPTS, "--source", "claude-code", "--store", store, "-f", "json")
    summary = result.json()["files"][0]
    lines = [
        json.loads(line)
        for p in TRANSCRIPTS.glob("*.jsonl")
        for line in p.read_text().splitlines()
        if line.strip()
    ]
    no_usage = sum(1 for line in lines if "usage" not in line.get("message", {}))
    assert summary["rows_read"] == len(lines)
    assert summary["skip_reasons"]["not an API response"] == no_usage
    assert summary["skipped"] + summary["inserted"] == len(lines)
    # Re-importing adds nothing.
    again = cli("import", TRANSCRIPTS, "--source", "claude-code", "--store", store, "-f", "json")
    assert again.json()["files"][0]["inserted"] == 0


def test_decimal_is_what_the_slow_path_decodes_floats_to():
    # The fingerprint of a tool call depends on it (see test_decimals_in_tool_input_...).
    assert isinstance(claude_code._DECODER.decode("1.50"), Decimal)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"message":{"\\u0075sage":{"input_tokens":5},"model":"m"}}',
        b'{"message":{"usage":{"input_tokens":5},"usage":null,"model":"m"}}',
        b'{"type":"user","deep":' + b"[" * 150 + b"]" * 150 + b"}",
        _changed(message__content=[{"type": "tool_use", "name": "T", "input": {"x": 1.5}}]),
    ],
)
def test_the_fast_path_takes_escaped_and_repeated_keys_itself(raw):
    # So the comparisons above compare two paths, not the slow path with itself.
    assert isinstance(claude_code._FAST_DECODER.decode(raw), claude_code._Line)
